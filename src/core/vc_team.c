/*
 * vc_team.c - a team of two threads for the batched work of one run.
 *
 * See vc_team.h for the rules that make a helper thread safe inside a
 * PostgreSQL backend.
 */
#include <sched.h>
#include <signal.h>
#include <string.h>

#include "vc_fpenv.h"
#include "vc_team.h"

/*
 * OpenBLAS's thread count, when the BLAS is OpenBLAS: weak references, so
 * that the core still links against another CBLAS (the team then simply
 * runs on top of whatever threading that library does).
 */
void		openblas_set_num_threads(int num_threads);
int			openblas_get_num_threads(void);

#pragma weak openblas_set_num_threads
#pragma weak openblas_get_num_threads

/*
 * A waiter spins this many rounds (about 0.25 ms at 12 ns a pause) before it
 * sleeps: the two halves of a step end within that of each other, and a
 * wake-up from sleep costs more than that on a virtual machine.  Every
 * TEAM_YIELD rounds the spinner yields, so that on a busy machine a
 * descheduled partner or another process gets the core.
 */
#define TEAM_SPIN 20000
#define TEAM_YIELD 1024

/* spin-wait hint to the CPU (x86 pause; nothing elsewhere) */
static inline void
CpuRelax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* wait until *word differs from seen: spin first, then sleep on the condvar */
static void
TeamWait(VcTeam *t, atomic_uint *word, unsigned seen)
{
	int			i;

	for (i = 0; i < TEAM_SPIN; i++)
	{
		if (atomic_load_explicit(word, memory_order_acquire) != seen)
			return;
		CpuRelax();
		if (i % TEAM_YIELD == TEAM_YIELD - 1)
			sched_yield();
	}
	pthread_mutex_lock(&t->mu);
	while (atomic_load_explicit(word, memory_order_acquire) == seen)
		pthread_cond_wait(&t->cv, &t->mu);
	pthread_mutex_unlock(&t->mu);
}

/* increment *word and wake every thread waiting on the condvar */
static void
TeamBump(VcTeam *t, atomic_uint *word)
{
	/* under the mutex, so a waiter between its check and its sleep cannot miss it */
	pthread_mutex_lock(&t->mu);
	atomic_fetch_add_explicit(word, 1, memory_order_release);
	pthread_cond_broadcast(&t->cv);
	pthread_mutex_unlock(&t->mu);
}

/* the helper thread: fn(arg, 1) for each bump of go, until quit is set */
static void *
TeamHelper(void *arg)
{
	VcTeam	   *t = arg;
	unsigned	seen = 0;

	/* the caller's floating-point setting (flush-to-zero while training) */
	vc_fp_set(t->fp_env);
	for (;;)
	{
		TeamWait(t, &t->go, seen);
		seen++;
		if (t->quit)
			break;
		t->fn(t->arg, 1);
		TeamBump(t, &t->done);
	}
	return NULL;
}

/* the team's mutex and condvar, no thread yet; VC_ENOMEM if they cannot be made */
VcStatus
vc_team_init(VcTeam *t)
{
	memset(t, 0, sizeof(*t));
	if (pthread_mutex_init(&t->mu, NULL) != 0)
		return VC_ENOMEM;
	if (pthread_cond_init(&t->cv, NULL) != 0)
	{
		pthread_mutex_destroy(&t->mu);
		return VC_ENOMEM;
	}
	t->initialized = 1;
	return VC_OK;
}

/* stop the helper if it runs, destroy the mutex and condvar (no-op if uninitialized) */
void
vc_team_destroy(VcTeam *t)
{
	if (!t->initialized)
		return;
	vc_team_stop(t);
	pthread_cond_destroy(&t->cv);
	pthread_mutex_destroy(&t->mu);
	t->initialized = 0;
}

/*
 * OpenBLAS at one thread per call until vc_blas_restore: the count to give
 * back (0 when there is nothing to restore: another BLAS, or one thread
 * already).  Two threads of ours calling a threaded BLAS would oversubscribe
 * the cores, and a threaded call does not always compute the bits of a
 * single-threaded one (OpenBLAS splits a large product into blocks that it
 * sums in another order), so a team's users hold it at one thread for the
 * whole of their work, with or without the helper.
 */
int
vc_blas_one_thread(void)
{
	int			n;

	if (!openblas_get_num_threads || !openblas_set_num_threads)
		return 0;
	n = openblas_get_num_threads();
	if (n <= 1)
		return 0;
	openblas_set_num_threads(1);
	return n;
}

/* give OpenBLAS back the thread count vc_blas_one_thread returned (no-op for 0) */
void
vc_blas_restore(int saved)
{
	if (saved > 1 && openblas_set_num_threads)
		openblas_set_num_threads(saved);
}

/*
 * Start the helper thread, with every signal blocked.  No-op when
 * uninitialized or already running; when the thread cannot be created, the
 * team runs without it.
 */
void
vc_team_start(VcTeam *t)
{
	sigset_t	all,
				old;

	if (!t->initialized || t->running)
		return;
	atomic_store(&t->go, 0);
	atomic_store(&t->done, 0);
	t->quit = 0;
	t->fn = NULL;
	t->fp_env = vc_fp_get();

	/*
	 * The helper takes no signals: the host's handlers (PostgreSQL's) must
	 * always run in the thread that called us.  It inherits the mask set
	 * here, which is then restored for this thread.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	t->running = pthread_create(&t->thread, NULL, TeamHelper, t) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* make the helper quit and join it (no-op without one) */
void
vc_team_stop(VcTeam *t)
{
	if (!t->running)
		return;
	t->quit = 1;
	TeamBump(t, &t->go);
	pthread_join(t->thread, NULL);
	t->running = 0;
}

/* fn(arg, 0) here, fn(arg, 1) in the helper (both here without one); waits for both */
void
vc_team_run(VcTeam *t, void (*fn) (void *arg, int member), void *arg)
{
	unsigned	done;

	if (!t->running)
	{
		/* no helper thread: the same two halves, one after the other */
		fn(arg, 0);
		fn(arg, 1);
		return;
	}
	done = atomic_load(&t->done);
	t->fn = fn;
	t->arg = arg;
	TeamBump(t, &t->go);
	fn(arg, 0);
	TeamWait(t, &t->done, done);
}
