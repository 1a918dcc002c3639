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

#include "vc.h"
#include "vc_math.h"

#define VC_LOG_2PI 1.8378770664093453

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

/* Adam state; the step applies decoupled (AdamW) decay to weight matrices */
typedef struct VcAdam
{
	float	   *m1;
	float	   *m2;
	int64_t		t;
} VcAdam;

VcStatus	vc_adam_init(VcAdam *adam, size_t n_params);
void		vc_adam_free(VcAdam *adam);
void		vc_adam_step(VcModel *m, VcAdam *adam, const float *grads);

/*
 * Scores of the rows refs[order[i]] (normalized), i < min(n, 10000), sorted
 * per method into m->scores, for vae_threshold.
 */
VcStatus	vc_record_score_distribution(VcModel *m, const VcRowRef *refs,
										 const int64_t *order, int64_t n,
										 const VcCallbacks *cb, char *errmsg);

/* scores of one already-normalized row (see vc_score_row) */
void		vc_score_normalized(const VcModel *m, VcScratch *s, const float *xn,
								unsigned methods, double *out);

/*
 * Per-feature negative log-likelihood terms, in float32 so that loops over
 * features vectorize; callers add them up in double.
 *   gaussian:  nll = 0.5 * (log 2pi + vc_gauss_term)
 *   bernoulli: nll = vc_bernoulli_nll (binary cross-entropy with logits)
 */
static inline float
vc_gauss_term(float x, float mean, float lv)
{
	float		r = x - mean;

	return lv + r * r * vc_expf(-lv);
}

static inline float
vc_bernoulli_nll(float x, float logit)
{
	return (logit > 0.0f ? logit : 0.0f) - logit * x + vc_softplus_neg_abs(logit);
}

static inline float
vc_bound_logvar(float raw, float bound)
{
	return bound * vc_tanhf(raw / bound);
}

#endif							/* VC_NN_H */
