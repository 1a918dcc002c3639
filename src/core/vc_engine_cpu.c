/*
 * vc_engine_cpu.c - the CPU training engine: gather a minibatch, one
 * batched forward/backward (cblas_sgemm per layer), one Adam step.
 *
 * The workspace and optimizer state are allocated once in begin(), so the
 * inner loop never allocates.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "vc_nn.h"

typedef struct CpuEngine
{
	VcModel    *m;				/* the run's model; its params are trained in place */
	const VcRowRef *refs;
	VcNet		net;
	VcAdam		adam;
	int			batch;			/* effective minibatch size */
	float	   *best;			/* NULL until save_best */
} CpuEngine;

static void
Gather(VcNet *net, const VcRowRef *refs, const int64_t *idx, int n)
{
	int			d = net->m->dim,
				r;

	for (r = 0; r < n; r++)
		memcpy(net->x + (size_t) r * d, refs[idx[r]].row, sizeof(float) * d);
}

static VcStatus
CpuBegin(VcEngine *e, const VcModel *m, const VcRowRef *refs, int64_t n, int batch,
		 char *errmsg)
{
	CpuEngine  *c = vc_alloc0(sizeof(CpuEngine));

	e->state = c;
	if (!c)
		goto oom;
	/* the CPU engine trains the caller's model in place: no copy of the weights */
	c->m = (VcModel *) m;
	c->refs = refs;
	c->batch = batch;
	(void) n;
	if (vc_adam_init(&c->adam, m->n_params) != VC_OK ||
		vc_net_init(&c->net, m, batch, 1) != VC_OK)
		goto oom;
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

static VcStatus
CpuTrainEpoch(VcEngine *e, const int64_t *idx, int64_t n_idx, uint64_t eps_key,
			  int64_t *step, double *loss_sum, const VcCallbacks *cb, char *errmsg)
{
	CpuEngine  *c = e->state;
	VcNet	   *net = &c->net;
	int			bs = c->batch;
	double		total = 0.0;
	int64_t		at;

	for (at = 0; at < n_idx; at += bs)
	{
		int			nb = (int) (n_idx - at < bs ? n_idx - at : bs);
		double		loss;

		if (Interrupted(cb))
			return Canceled(errmsg);
		Gather(net, c->refs, idx + at, nb);
		vc_normals(eps_key, (uint64_t) *step * bs * net->latent, net->eps,
				   (size_t) nb * net->latent);
		loss = vc_net_forward(net, nb, c->m->opt.beta);
		total += loss;
		if (!isfinite(loss))
			break;				/* the caller reports the divergence */
		vc_net_backward(net, nb, c->m->opt.beta);
		vc_adam_step(c->m, &c->adam, net->grads);
		(*step)++;
	}
	*loss_sum = total;
	return VC_OK;
}

static VcStatus
CpuValidationLoss(VcEngine *e, const int64_t *idx, int64_t n_idx, uint64_t val_key,
				  double *loss_sum, const VcCallbacks *cb, char *errmsg)
{
	CpuEngine  *c = e->state;
	VcNet	   *net = &c->net;
	double		total = 0.0;
	int64_t		at;

	/* chunks of the minibatch size, as the eps contract in vc.h says */
	for (at = 0; at < n_idx; at += c->batch)
	{
		int			n = (int) (n_idx - at < c->batch ? n_idx - at : c->batch);

		if (Interrupted(cb))
			return Canceled(errmsg);
		Gather(net, c->refs, idx + at, n);
		vc_normals(val_key, (uint64_t) at * net->latent, net->eps, (size_t) n * net->latent);
		total += vc_net_forward(net, n, c->m->opt.beta);
	}
	*loss_sum = total;
	return VC_OK;
}

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

static VcStatus
CpuGetParams(VcEngine *e, float *dst, char *errmsg)
{
	CpuEngine  *c = e->state;

	(void) errmsg;
	memmove(dst, c->best ? c->best : c->m->params, sizeof(float) * c->m->n_params);
	return VC_OK;
}

static void
CpuEnd(VcEngine *e)
{
	CpuEngine  *c = e->state;

	if (!c)
		return;
	vc_net_free(&c->net);
	vc_adam_free(&c->adam);
	vc_free(c->best);
	vc_free(c);
	e->state = NULL;
}

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
