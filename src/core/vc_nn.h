/*
 * vc_nn.h - batched forward and backward passes of the VAE (core-internal).
 *
 * Activations are row-major [rows x width] float32 matrices; every layer is
 * one cblas_sgemm over the whole minibatch.  All buffers live in a VcNet
 * workspace allocated once per training run (or per scoring scratch), so the
 * inner loop never allocates.
 */
#ifndef VC_NN_H
#define VC_NN_H

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>

#include "vc.h"
#include "vc_math.h"

typedef struct VcNet
{
	const VcModel *m;
	int			cap;			/* rows the buffers hold */
	int			latent;
	float	   *x;				/* [cap x dim] normalized input */
	float	   *out[VC_MAX_LAYERS];	/* layer outputs (post-activation for hidden) */
	float	   *eps;			/* [cap x latent] standard normals */
	float	   *z;				/* [cap x latent] */
	float	   *lvz;			/* [cap x latent] bounded latent log-variance */
	float	   *lvx;			/* [cap x dim] bounded decoder log-variance (gaussian) */
	float	   *delta[2];		/* [cap x max width] backward ping-pong */
	float	   *grads;			/* [n_params] */
	double	   *row_recon;		/* [cap] per-row reconstruction NLL */
	double	   *row_kl;			/* [cap] per-row KL */
} VcNet;

VcStatus	vc_net_init(VcNet *net, const VcModel *m, int cap, int with_grads);
void		vc_net_free(VcNet *net);

/* encoder on net->x rows [0, n): fills the encoder head, lvz */
void		vc_net_encode(VcNet *net, int n);
/* z = mu + sigma * eps (eps already in net->eps); or z = mu when eps is NULL */
void		vc_net_sample_z(VcNet *net, int n, int use_eps);
/* decoder from net->z rows [0, n); fills the decoder head and lvx */
void		vc_net_decode(VcNet *net, int n);
/* the two halves of vc_net_decode: layer outputs, then the gaussian head's lvx */
void		vc_net_decode_mean(VcNet *net, int n);
void		vc_net_decoder_logvar(VcNet *net, int n);
/*
 * Per-row reconstruction NLL of target rows xt (stride dim) against the
 * decoder head rows [0, n) -> row_recon; KL of rows' latent -> row_kl
 * (ignored when kl_rows is 0).
 */
void		vc_net_losses(VcNet *net, const float *xt, int n, int kl_rows);
/* the two terms for one row: NLL of x against decoder-head row r; KL of encoder row r */
double		vc_net_row_nll(const VcNet *net, int r, const float *x);
double		vc_net_row_kl(const VcNet *net, int r);
/*
 * The training forward pass on rows [0, n) of net->x with net->eps: returns
 * the summed loss, recon + beta * KL, leaving the state vc_net_backward needs.
 */
double		vc_net_forward(VcNet *net, int n, double beta);
/*
 * Gradients of mean over n rows of (recon + beta * KL) into net->grads
 * (overwritten).  Needs the forward state of the same rows.
 */
void		vc_net_backward(VcNet *net, int n, double beta);
/* the same for n rows that are part of a minibatch of n_total: grads of their share */
void		vc_net_backward_part(VcNet *net, int n, int n_total, double beta);

/* Adam state; the step applies decoupled (AdamW) decay to weight matrices */
typedef struct VcAdam
{
	float	   *m1;
	float	   *m2;
	int64_t		t;
	double		c1;				/* bias corrections of step t */
	double		c2;
	float		lr;				/* learning rate / c1 */
} VcAdam;

VcStatus	vc_adam_init(VcAdam *adam, size_t n_params);
void		vc_adam_free(VcAdam *adam);
void		vc_adam_step(VcModel *m, VcAdam *adam, const float *grads);
/*
 * The same step in pieces: begin_step once, then update any partition of
 * [0, n_params) into ranges (from any thread), with the gradient g0 + g1
 * (g1 may be NULL).
 */
void		vc_adam_begin_step(VcAdam *adam, double learning_rate);
void		vc_adam_update(VcModel *m, VcAdam *adam, const float *g0, const float *g1,
						   size_t lo, size_t hi);

/* early stopping's validation loss: the mean without the worst 1/VC_VAL_TRIM_DIVISOR */
#define VC_VAL_TRIM_DIVISOR 100
double		vc_validation_criterion(double *row_loss, int64_t n);

/*
 * Scores of the rows refs[order[i]] (normalized), i < min(n, 10000), sorted
 * per method into m->scores, for vae_threshold.
 */

VcStatus	vc_record_score_distribution(VcModel *m, const VcRowRef *refs,
										 const int64_t *order, int64_t n,
										 const VcCallbacks *cb, char *errmsg);

/* the score sample's batched scoring: rows per block, a workspace for it, one block */
int			vc_score_block_rows(const VcModel *m);
VcStatus	vc_score_block_init(VcNet *net, const VcModel *m);
void		vc_score_block(const VcModel *m, VcNet *net, const float *const *rows, int n,
						   double (*out)[VC_N_METHODS]);

/* scores of one already-normalized row (see vc_score_row) */
void		vc_score_normalized(const VcModel *m, VcScratch *s, const float *xn,
								unsigned methods, double *out);

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
 * memory allocated beforehand.  While the helper runs, OpenBLAS is set to
 * one thread per call.  If the thread cannot be created, vc_team_run runs
 * both members in the caller, one after the other, with the same results.
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
	int			blas_threads;	/* OpenBLAS's count to restore, or 0 */
	pthread_t	thread;
} VcTeam;

VcStatus	vc_team_init(VcTeam *t);
void		vc_team_destroy(VcTeam *t);
void		vc_team_start(VcTeam *t);
void		vc_team_stop(VcTeam *t);
/* fn(arg, 0) here and fn(arg, 1) in the helper; returns when both have */
void		vc_team_run(VcTeam *t, void (*fn) (void *arg, int member), void *arg);

static inline int
vc_all_finite(const float *p, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
		if (!isfinite(p[i]))
			return 0;
	return 1;
}

#endif							/* VC_NN_H */
