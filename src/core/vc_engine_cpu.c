/*
 * vc_engine_cpu.c - the CPU training engine: gather a minibatch, one
 * batched forward/backward (cblas_sgemm per layer), one Adam step, on both
 * cores.
 *
 * The workspace and optimizer state are allocated once in begin(), so the
 * inner loop never allocates.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "vc_adam.h"
#include "vc_fpenv.h"
#include "vc_nn.h"
#include "vc_team.h"
#include "vc_train.h"

/*
 * Every minibatch is split into two fixed halves, rows [0, h) and [h, n)
 * with h = ceil(n / 2), each run by one member of a two-thread team with
 * its own workspace and gradient buffer; the Adam step then sums the two
 * gradients (half 0's first).  The split is the same on any machine, and
 * OpenBLAS is held at one thread per call for the whole pass, so the model
 * depends neither on the number of cores nor on which thread ran what.
 *
 * Where the Adam step runs depends on the network's size (see
 * REPLICA_MAX_PARAMS): a small one keeps a second copy of the weights and
 * moments for member 1, both members apply the whole step to their own copy
 * at the start of the next step, and a step is one hand-over between the
 * threads; a large one splits the step by parameter range between the
 * members, a second hand-over per step.  Adam is elementwise and every
 * element gets the same vector code wherever a range starts (vc_adam.c), so
 * both ways give the same bits.
 */
typedef struct CpuEngine
{
	VcModel    *m;				/* the run's model; its params are trained in place */
	const VcRowRef *refs;
	VcNet		half[2];
	VcAdam		adam;
	VcTeam		team;
	int			batch;			/* effective minibatch size */
	float	   *best;			/* NULL until save_best */
	int			solo;			/* small network: never the helper thread */
	int			helper;			/* the helper runs the second halves now */
	int			prefer_helper;	/* the last probe found the helper faster */
	int			blas_threads;	/* OpenBLAS's count to restore (vc_blas_one_thread) */

	/* small networks: member 1's copy of the weights and optimizer state */
	VcModel		replica;		/* *m but for params; params NULL: no replica */
	VcAdam		adam1;
	int			replica_fresh;	/* its weights and moments equal m's and adam's */
	float	   *grads[2][2];	/* [member][parity]: the last step's gradients
								 * stay readable while the next is computed */
	int			parity;			/* the buffers the next step writes */
	int			adam_pending;	/* the last step's update is still to apply */

	/* the minibatch in flight, read by both members */
	const int64_t *idx;			/* its rows */
	int			n;
	uint64_t	key;			/* eps stream and the counter of its first row */
	uint64_t	counter0;
	int			train;			/* 0: validation loss only */
	double	   *row_loss;		/* validation: the minibatch's per-row losses */
	double		loss[2];		/* summed loss of each half */
	VcFpEnv		host_fp;		/* the caller's FP setting, restored for callbacks */
} CpuEngine;

/*
 * Networks of at most this many parameters train with a replica for member
 * 1 (about 1.3 MB of extra state at most).  Splitting the Adam step between
 * the threads makes each read the gradient half the other computed and
 * update weights the other has cached, and then needs a second hand-over
 * before the next forward pass: on the 16-64-64-8 network (13,104
 * parameters) that was 14 microseconds of a 100-microsecond step, where the
 * whole step on a thread's own copy takes 6.  Above about 100,000
 * parameters the copies no longer fit the cores' caches and the doubled
 * update costs more than it saves (a 784-400-20 network: 5% slower).
 */
#define REPLICA_MAX_PARAMS ((size_t) 1 << 16)

/* tests only (vc_train.h); the extension never sets it */
int			vc_engine_cpu_force_helper = 0;

/* interrupt checks (with the helper stopped) at most this often */
#define CHECK_INTERVAL_S 0.02

/*
 * Below this many (minibatch rows x parameters) a step runs both halves in
 * the calling thread.  Handing half a step to the helper costs two wake-ups
 * per step (a few microseconds when both threads spin, tens when the partner
 * sleeps or the machine is busy) and a thread start per epoch; at 2^18 half
 * a step is about 0.8 MFLOP, some 50 microseconds of work, so below it the
 * handover costs about what it saves.  The halves and their order are the
 * same either way, so the model is the same bit for bit.
 */
#define SOLO_WORK ((size_t) 1 << 18)

/*
 * Above that size the helper pays off when it has a core of its own.  On a
 * machine whose cores are all busy it does not: each step then waits until
 * both threads have been scheduled, and a step took twice as long as on one
 * thread (a 16-64-64-8 network on the shared 2-core development machine).
 * So a pass of at least 4 x PROBE_STEPS minibatches times PROBE_STEPS of
 * them on one thread and PROBE_STEPS with the helper, and runs the rest the
 * faster way; shorter passes reuse the last finding.  Only the time
 * depends on it, never the bits.
 */
#define PROBE_STEPS 16

/*
 * Member's rows of an n-row minibatch: [0, h) for member 0, [h, n) for
 * member 1, h = ceil(n / 2)
 */
static void
HalfRange(int n, int member, int *r0, int *nr)
{
	int			h = (n + 1) / 2;

	*r0 = member == 0 ? 0 : h;
	*nr = member == 0 ? h : n - h;
}

/*
 * Rows idx[0, n) of refs into the n x d matrix x.  A plain loop, not a
 * memcpy per row: a small table's row is a few dozen bytes, and a library
 * call per row cost 4% of a 16-feature table's training.  GCC turns such a
 * copy loop back into memcpy calls wherever it gets inlined, so the loop
 * has a function of its own, with that pattern matching off.
 */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((noinline, optimize("no-tree-loop-distribute-patterns")))
#endif
static void
GatherRows(float *restrict x, const VcRowRef *refs, const int64_t *idx, int n, int d)
{
	int			r,
				j;

	for (r = 0; r < n; r++)
	{
		const float *restrict row = refs[idx[r]].row;

		for (j = 0; j < d; j++)
			x[(size_t) r * d + j] = row[j];
	}
}

/* member's half of the minibatch: gather, eps, forward, and backward when training */
static void
HalfStep(void *arg, int member)
{
	CpuEngine  *c = arg;
	VcNet	   *net = &c->half[member];
	int			d = c->m->dim,
				r0,
				nr,
				r;

	HalfRange(c->n, member, &r0, &nr);
	c->loss[member] = 0.0;
	if (nr == 0)
	{
		if (c->train)
			memset(net->grads, 0, sizeof(float) * c->m->n_params);
		return;
	}
	if (c->m->schema)
		for (r = 0; r < nr; r++)	/* compact rows: expanded, and the targets */
			vc_rows_gather(net, r, c->refs[c->idx[r0 + r]].row);
	else
		GatherRows(net->x, c->refs, c->idx + r0, nr, d);
	vc_train_normals(c->key, c->counter0 + (uint64_t) r0 * net->latent, net->eps,
					 (size_t) nr * net->latent);
	c->loss[member] = vc_net_forward(net, nr, c->m->opt.beta);
	if (c->train && isfinite(c->loss[member]))
		vc_net_backward_part(net, nr, c->n, c->m->opt.beta);
	else if (!c->train)
		for (r = 0; r < nr; r++)
			c->row_loss[r0 + r] = net->row_recon[r] + c->m->opt.beta * net->row_kl[r];
}

/* large networks: member's share of the parameters, the Adam step with the summed gradient */
static void
HalfAdam(void *arg, int member)
{
	CpuEngine  *c = arg;
	size_t		np = c->m->n_params,
				mid = (np / 2 + 15) & ~(size_t) 15;

	if (mid > np)
		mid = np;
	vc_adam_update(c->m, &c->adam, c->half[0].grads, c->half[1].grads,
				   member == 0 ? 0 : mid, member == 0 ? mid : np);
}

/*
 * Small networks: the pending step on member's copy of the weights, with
 * the gradients of the step before (the other parity).  Member 1 has none
 * of its own while it runs in this thread: it then reads m, which member 0
 * updates.
 */
static void
PendingAdam(void *arg, int member)
{
	CpuEngine  *c = arg;
	const float *g0 = c->grads[0][c->parity ^ 1],
			   *g1 = c->grads[1][c->parity ^ 1];

	if (!c->adam_pending)
		return;
	if (member == 0)
		vc_adam_update(c->m, &c->adam, g0, g1, 0, c->m->n_params);
	else if (c->helper)
		vc_adam_update(&c->replica, &c->adam1, g0, g1, 0, c->m->n_params);
}

/* one member's share of a step: the pending update (small networks), then its half */
static void
MemberStep(void *arg, int member)
{
	PendingAdam(arg, member);
	HalfStep(arg, member);
}

/* the pending update, if any, on both copies: before the weights are read from outside */
static void
FlushAdam(CpuEngine *c)
{
	if (!c->adam_pending)
		return;
	vc_team_run(&c->team, PendingAdam, c);
	c->adam_pending = 0;
}

/*
 * begin(): the Adam state, the two halves' workspaces of ceil(batch / 2)
 * rows each and the two-thread team; the caller's model is trained in place.
 */
static VcStatus
CpuBegin(VcEngine *e, const VcModel *m, const VcRowRef *refs, int64_t n, int batch,
		 char *errmsg)
{
	CpuEngine  *c = vc_alloc0(sizeof(CpuEngine));
	int			cap = (batch + 1) / 2;

	e->state = c;
	if (!c)
		goto oom;
	/* the CPU engine trains the caller's model in place: no copy of the weights */
	c->m = (VcModel *) m;
	c->refs = refs;
	c->batch = batch;
	c->solo = (size_t) batch * m->n_params < SOLO_WORK;
	c->prefer_helper = 1;
	(void) n;
	if (vc_adam_init(&c->adam, m->n_params) != VC_OK ||
		vc_net_init(&c->half[0], m, cap, 1) != VC_OK ||
		vc_net_init(&c->half[1], m, cap, 1) != VC_OK ||
		vc_team_init(&c->team) != VC_OK)
		goto oom;
	c->grads[0][0] = c->half[0].grads;
	c->grads[1][0] = c->half[1].grads;
	if (!c->solo && m->n_params <= REPLICA_MAX_PARAMS)
	{
		c->replica = *m;
		if (!(c->replica.params = vc_alloc(sizeof(float) * m->n_params)) ||
			vc_adam_init(&c->adam1, m->n_params) != VC_OK ||
			!(c->grads[0][1] = vc_alloc(sizeof(float) * m->n_params)) ||
			!(c->grads[1][1] = vc_alloc(sizeof(float) * m->n_params)))
			goto oom;
	}
	return VC_OK;
oom:
	snprintf(errmsg, VC_ERRMSG_LEN, "out of memory allocating the training workspace");
	return VC_ENOMEM;
}

static inline int
Interrupted(const VcCallbacks *cb)
{
	return cb && cb->check_interrupts && cb->check_interrupts(cb->arg);
}

static VcStatus
Canceled(char *errmsg)
{
	snprintf(errmsg, VC_ERRMSG_LEN, "training was canceled");
	return VC_ECANCELED;
}

/*
 * The host's interrupt check, at most every CHECK_INTERVAL_S, with the helper
 * thread stopped and the host's floating-point setting back around it (the
 * check may longjmp out of the core: the host must not go on with
 * flush-to-zero, vc_fpenv.h).
 */
static int
CheckInterrupts(CpuEngine *c, const VcCallbacks *cb, double *last)
{
	double		now;

	if (!cb || !cb->check_interrupts)
		return 0;
	now = vc_now();
	if (now - *last < CHECK_INTERVAL_S)
		return 0;
	vc_team_stop(&c->team);
	vc_fp_restore(c->host_fp);
	vc_blas_restore(c->blas_threads);
	c->blas_threads = 0;
	if (cb->check_interrupts(cb->arg))
		return 1;
	*last = vc_now();
	c->blas_threads = vc_blas_one_thread();
	(void) vc_fp_flush_denormals();
	if (c->helper)
		vc_team_start(&c->team);
	return 0;
}

/*
 * Second halves on the helper thread (on) or here (off) from the next step
 * on.  A small network's member 1 reads its replica while the helper runs,
 * brought up to date first when steps ran without it; m otherwise.
 */
static void
UseHelper(CpuEngine *c, int on)
{
	size_t		bytes = sizeof(float) * c->m->n_params;

	if (on && c->replica.params && !c->replica_fresh)
	{
		memcpy(c->replica.params, c->m->params, bytes);
		memcpy(c->adam1.m1, c->adam.m1, bytes);
		memcpy(c->adam1.m2, c->adam.m2, bytes);
		c->replica_fresh = 1;
	}
	if (!on)
		c->replica_fresh = 0;
	c->half[1].m = on && c->replica.params ? &c->replica : c->m;
	if (on)
		vc_team_start(&c->team);
	else
		vc_team_stop(&c->team);
	c->helper = on;
}

/*
 * Minibatches of idx[0, n_idx): training steps (step given: the summed loss
 * into *loss_sum), or validation losses (row_loss given: one per row).
 */
static VcStatus
RunBatches(CpuEngine *c, const int64_t *idx, int64_t n_idx, uint64_t key,
		   int64_t *step, double *loss_sum, double *row_loss,
		   const VcCallbacks *cb, char *errmsg)
{
	int			bs = c->batch;
	int			latent = c->m->opt.latent_dim;
	double		total = 0.0,
				last = -INFINITY,
				mark = 0.0,
				t_solo = 0.0;
	int64_t		at,
				b;
	int			force = vc_engine_cpu_force_helper,
				probe = !c->solo && !force && (n_idx + bs - 1) / bs >= 4 * PROBE_STEPS;

	c->train = step != NULL;
	/* flush-to-zero for the steps, here and in the helper (vc_fpenv.h) */
	c->host_fp = vc_fp_flush_denormals();
	c->blas_threads = vc_blas_one_thread();
	if (force)
		c->prefer_helper = force > 0;
	UseHelper(c, !c->solo && !probe && c->prefer_helper);
	if (probe)
		mark = vc_now();
	for (at = 0, b = 0; at < n_idx; at += bs, b++)
	{
		double		loss;

		if (probe && b == PROBE_STEPS)
		{
			t_solo = vc_now() - mark;
			UseHelper(c, 1);
			mark = vc_now();
		}
		else if (probe && b == 2 * PROBE_STEPS)
		{
			c->prefer_helper = vc_now() - mark < t_solo;
			UseHelper(c, c->prefer_helper);
		}
		if (CheckInterrupts(c, cb, &last))
			return Canceled(errmsg);	/* the helper stopped, the setting restored */
		c->idx = idx + at;
		c->n = (int) (n_idx - at < bs ? n_idx - at : bs);
		c->row_loss = row_loss ? row_loss + at : NULL;
		c->key = key;
		/* the eps contract of vc.h: by global step in training, by position in validation */
		c->counter0 = (uint64_t) (c->train ? *step * bs : at) * latent;
		c->half[0].grads = c->grads[0][c->parity];
		c->half[1].grads = c->grads[1][c->parity];
		vc_team_run(&c->team, MemberStep, c);
		c->adam_pending = 0;
		loss = c->loss[0] + c->loss[1];
		total += loss;
		if (!c->train)
			continue;
		if (!isfinite(loss))
			break;				/* the caller reports the divergence */
		vc_adam_begin_step(&c->adam, c->m->opt.learning_rate);
		if (c->replica.params)
		{
			/* applied at the start of the next step's halves, or by FlushAdam */
			c->adam1.t = c->adam.t;
			c->adam1.c1 = c->adam.c1;
			c->adam1.c2 = c->adam.c2;
			c->adam1.lr = c->adam.lr;
			c->adam_pending = 1;
			c->parity ^= 1;
		}
		else
			vc_team_run(&c->team, HalfAdam, c);
		(*step)++;
	}
	FlushAdam(c);
	UseHelper(c, 0);
	vc_blas_restore(c->blas_threads);
	c->blas_threads = 0;
	vc_fp_restore(c->host_fp);
	if (loss_sum)
		*loss_sum = total;
	return VC_OK;
}

static VcStatus
CpuTrainEpoch(VcEngine *e, const int64_t *idx, int64_t n_idx, uint64_t eps_key,
			  int64_t *step, double *loss_sum, const VcCallbacks *cb, char *errmsg)
{
	return RunBatches(e->state, idx, n_idx, eps_key, step, loss_sum, NULL, cb, errmsg);
}

static VcStatus
CpuValidationLoss(VcEngine *e, const int64_t *idx, int64_t n_idx, uint64_t val_key,
				  double *row_loss, const VcCallbacks *cb, char *errmsg)
{
	/* chunks of the minibatch size, as the eps contract in vc.h says */
	return RunBatches(e->state, idx, n_idx, val_key, NULL, NULL, row_loss, cb, errmsg);
}

/* save_best(): copy the current weights aside, allocating the copy the first time */
static VcStatus
CpuSaveBest(VcEngine *e, char *errmsg)
{
	CpuEngine  *c = e->state;

	if (!c->best && !(c->best = vc_alloc(sizeof(float) * c->m->n_params)))
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "out of memory keeping the best weights");
		return VC_ENOMEM;
	}
	memcpy(c->best, c->m->params, sizeof(float) * c->m->n_params);
	return VC_OK;
}

/* get_params(): the saved best weights into dst, or the current ones if none were saved */
static VcStatus
CpuGetParams(VcEngine *e, float *dst, char *errmsg)
{
	CpuEngine  *c = e->state;

	(void) errmsg;
	memmove(dst, c->best ? c->best : c->m->params, sizeof(float) * c->m->n_params);
	return VC_OK;
}

/* end(): release the team, the workspaces, the Adam state and the saved weights */
static void
CpuEnd(VcEngine *e)
{
	CpuEngine  *c = e->state;

	if (!c)
		return;
	vc_team_destroy(&c->team);
	/* each member's net owns its parity-0 buffer (NULL if begin() failed first) */
	if (c->grads[0][0])
		c->half[0].grads = c->grads[0][0];
	if (c->grads[1][0])
		c->half[1].grads = c->grads[1][0];
	vc_free(c->grads[0][1]);
	vc_free(c->grads[1][1]);
	vc_free(c->replica.params);
	vc_adam_free(&c->adam1);
	vc_net_free(&c->half[0]);
	vc_net_free(&c->half[1]);
	vc_adam_free(&c->adam);
	vc_free(c->best);
	vc_free(c);
	e->state = NULL;
}

/* fill e with the CPU engine's callbacks; its state is allocated by begin() */
void
vc_engine_cpu_init(VcEngine *e)
{
	memset(e, 0, sizeof(*e));
	e->name = "cpu";
	e->device = VC_DEVICE_CPU;
	e->begin = CpuBegin;
	e->train_epoch = CpuTrainEpoch;
	e->validation_loss = CpuValidationLoss;
	e->save_best = CpuSaveBest;
	e->get_params = CpuGetParams;
	e->end = CpuEnd;
}
