/*
 * vc_team.h - two threads for the batched work of one run (core-internal;
 * vc_team.c).
 */
#ifndef VC_TEAM_H
#define VC_TEAM_H

#include <pthread.h>
#include <stdatomic.h>

#include "vc.h"

/*
 * Two threads for the batched work of one run: the calling thread is member
 * 0, a helper thread member 1.  Training splits every minibatch into two
 * fixed halves (whatever the number of cores, so that models do not depend
 * on the machine) and scoring splits blocks of rows.
 *
 * Rules that keep this safe inside a PostgreSQL backend: the helper exists
 * only between vc_team_start and vc_team_stop, and the caller never invokes
 * a host callback (which may longjmp) in that window; the helper blocks all
 * signals, calls no vc_alloc and nothing of the host, only arithmetic on
 * memory allocated beforehand.  The helper runs with the floating-point
 * setting (flush-to-zero or not) the caller had at vc_team_start.  The
 * caller holds OpenBLAS at one thread per call (vc_blas_one_thread) for the
 * whole of its work, helper or not, and gives it back around host
 * callbacks.  If the thread cannot be created, vc_team_run runs both
 * members in the caller, one after the other, with the same results.
 */
typedef struct VcTeam
{
	pthread_mutex_t mu;
	pthread_cond_t cv;
	atomic_uint go;				/* bumped by the caller: run fn (or quit) */
	atomic_uint done;			/* bumped by the helper: fn returned */
	void		(*fn) (void *arg, int member);
	void	   *arg;
	int			quit;
	int			running;
	int			initialized;
	unsigned int fp_env;		/* the caller's FP control word (vc_fpenv.h) at start */
	pthread_t	thread;
} VcTeam;

VcStatus	vc_team_init(VcTeam *t);
void		vc_team_destroy(VcTeam *t);
void		vc_team_start(VcTeam *t);
void		vc_team_stop(VcTeam *t);
/* fn(arg, 0) here and fn(arg, 1) in the helper; returns when both have */
void		vc_team_run(VcTeam *t, void (*fn) (void *arg, int member), void *arg);

/*
 * OpenBLAS held at one thread per call (returns what vc_blas_restore gives
 * back; 0: nothing), around a team's whole work
 */
int			vc_blas_one_thread(void);
void		vc_blas_restore(int saved);

#endif							/* VC_TEAM_H */
