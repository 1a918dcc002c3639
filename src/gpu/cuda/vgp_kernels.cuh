/*
 * vgp_kernels.cuh - device side of the CUDA training engine: the per-step
 * control block, the kernel bodies (shared with the host emulation), and the
 * launch wrappers of the kernels in vgp_kernels.cu.
 *
 * Every kernel that depends on "which minibatch is this" (row offset, eps
 * counter, Adam's bias correction) reads it from a step table in device
 * memory, indexed by a counter that the last kernel of a step advances.  So
 * a whole step has no per-step host arguments and can be captured once as a
 * CUDA graph and replayed for every full-size minibatch of the run.
 *
 * The element functions are the core's own: src/core/vc_math.h and
 * vc_rng.h are VC_HOSTDEV (__host__ __device__ under nvcc), so the GPU
 * computes the same expressions as the CPU core (bits may differ where the
 * compilers contract a * b + c into an FMA differently; the training noise,
 * vc_train_normal_mixed, leaves nothing to contract and computes the host's
 * bits exactly).
 */
#ifndef VGP_KERNELS_CUH
#define VGP_KERNELS_CUH

#include <math.h>
#include <stdint.h>

#include <cuda_runtime.h>

#include "vc_math.h"
#include "vc_rng.h"
#include "vgp_cuda.h"			/* vc.h: activations, log-variance bounds */

/* one minibatch of a step table (filled on the host, read on the device) */
typedef struct VgpStep
{
	uint64_t	key;			/* vc_mix64(eps key): the RNG's first mix, hoisted */
	uint64_t	c0;				/* counter of the minibatch's first eps */
	int32_t		at;				/* offset of its first row in the index array */
	int32_t		n;				/* rows */
	float		lr;				/* learning_rate / (1 - beta1^t) */
	float		c2;				/* 1 - beta2^t */
} VgpStep;

/* device-resident state of a step table run; reset before each table */
typedef struct VgpCtl
{
	int32_t		k;				/* current step of the table */
	int32_t		diverged;		/* a step's loss was not finite: no more updates */
	double		loss;			/* summed per-row loss of the steps so far */
} VgpCtl;

#define VGP_ACT_NONE (-1)		/* otherwise VcActivation */

/*
 * ---- kernel bodies ----
 *
 * What one thread does for element i (or one lane for row r), kept apart
 * from the launch shape so that the host emulation of the engine
 * (test/gpu/emu/) runs exactly this code.
 */

/* element i of the minibatch: x[r, c] = rows[idx[at + r], c] */
__host__ __device__ static inline void
VgpGatherAt(size_t i, const float *rows, int dim, const int32_t *idx, int32_t at, float *x)
{
	size_t		r = i / dim;
	size_t		c = i - r * dim;

	x[i] = rows[(size_t) idx[at + r] * dim + c];
}

/* element i of y = act(y + b); VGP_ACT_NONE adds the bias only */
__host__ __device__ static inline void
VgpBiasActAt(size_t i, float *y, const float *b, int width, int act)
{
	float		v = y[i] + b[i % width];

	if (act == VC_ACT_RELU)
		v = v > 0.0f ? v : 0.0f;
	else if (act == VC_ACT_TANH)
		v = vc_tanhf(v);
	y[i] = v;
}

/*
 * Element i of the latent layer: the bias added to the encoder head in
 * place (mu, raw log-variance), lvz = the bounded log-variance, eps =
 * vc_train_normal_mixed(key, c0 + i), z = mu + exp(lvz / 2) * eps.
 */
__host__ __device__ static inline void
VgpLatentAt(size_t i, float *head, const float *b, float *lvz, float *eps, float *z, int zd,
			uint64_t key, uint64_t c0)
{
	size_t		r = i / zd;
	int			j = (int) (i - r * zd);
	float	   *h = head + r * 2 * zd;
	float		mu = h[j] + b[j];
	float		raw = h[zd + j] + b[zd + j];
	float		lv = vc_bound_logvar(raw, VC_LATENT_LOGVAR_BOUND);
	float		e = vc_train_normal_mixed(key, c0 + i);

	h[j] = mu;
	h[zd + j] = raw;
	lvz[i] = lv;
	eps[i] = e;
	z[i] = mu + vc_expf(0.5f * lv) * e;
}

/*
 * Lane `lane` of `lanes` of row r of the decoder head: its share of the
 * reconstruction NLL and of the KL (summed by the caller), and its columns
 * of the head gradient when delta is not NULL.
 */
__host__ __device__ static inline void
VgpHeadLane(int r, int lane, int lanes, const float *head, const float *b, const float *x,
			int dim, int gaussian, const float *enc, const float *lvz, int zd, float scale,
			float *delta, double *nll_out, double *kl_out)
{
	const float *xr = x + (size_t) r * dim;
	double		nll = 0.0,
				kl = 0.0;

	if (gaussian)
	{
		const float *h = head + (size_t) r * 2 * dim;
		float	   *dm = delta ? delta + (size_t) r * 2 * dim : NULL;

		for (int j = lane; j < dim; j += lanes)
		{
			float		mean = h[j] + b[j];
			float		lv = vc_bound_logvar(h[dim + j] + b[dim + j], VC_DECODER_LOGVAR_BOUND);
			float		res = xr[j] - mean;
			float		inv = vc_expf(-lv);

			nll += 0.5 * (VC_LOG_2PI + vc_gauss_term(xr[j], mean, lv));
			if (dm)
			{
				float		t = lv / VC_DECODER_LOGVAR_BOUND;

				dm[j] = -res * inv * scale;
				dm[dim + j] = 0.5f * (1.0f - res * res * inv) * scale * (1.0f - t * t);
			}
		}
	}
	else
	{
		const float *h = head + (size_t) r * dim;
		float	   *dl = delta ? delta + (size_t) r * dim : NULL;

		for (int j = lane; j < dim; j += lanes)
		{
			float		logit = h[j] + b[j];

			nll += vc_bernoulli_nll(xr[j], logit);
			if (dl)
				dl[j] = (vc_sigmoidf(logit) - xr[j]) * scale;
		}
	}
	for (int j = lane; j < zd; j += lanes)
	{
		double		mu = enc[(size_t) r * 2 * zd + j];
		double		lv = lvz[(size_t) r * zd + j];

		kl += -0.5 * (1.0 + lv - mu * mu - exp(lv));
	}
	*nll_out = nll;
	*kl_out = kl;
}

/* element i of da *= act'(a), from the activation's output a (relu, else tanh) */
__host__ __device__ static inline void
VgpActBackAt(size_t i, const float *a, float *da, int act)
{
	if (act == VC_ACT_RELU)
	{
		if (a[i] <= 0.0f)
			da[i] = 0.0f;
	}
	else
		da[i] *= 1.0f - a[i] * a[i];
}

/*
 * Element i of the encoder head's gradient through z = mu + sigma * eps and
 * the KL (scaled by bs = beta / n): dmu = dz + bs * mu, and the log-variance
 * part through sigma = exp(lv / 2) and the tanh bound.
 */
__host__ __device__ static inline void
VgpReparamBackAt(size_t i, const float *dz, const float *enc, const float *lvz,
				 const float *eps, float *dhead, int zd, float bs)
{
	size_t		r = i / zd;
	int			j = (int) (i - r * zd);
	float		lv = lvz[i];
	float		sigma = vc_expf(0.5f * lv);
	float		t = lv / VC_LATENT_LOGVAR_BOUND;
	float		g = dz[i] * eps[i] * 0.5f * sigma + bs * 0.5f * (sigma * sigma - 1.0f);

	dhead[r * 2 * zd + j] = dz[i] + bs * enc[r * 2 * zd + j];
	dhead[r * 2 * zd + zd + j] = g * (1.0f - t * t);
}

/* vc_adam_step for one parameter */
__host__ __device__ static inline void
VgpAdamAt(size_t i, float *p, const float *g, float *m1, float *m2, const uint8_t *wmask,
		  float lr, float c2, float decay)
{
	float		gi = g[i];
	float		a = 0.9f * m1[i] + (float) (1.0 - 0.9) * gi;
	float		v = 0.999f * m2[i] + (float) (1.0 - 0.999) * gi * gi;
	float		w = p[i] - lr * a / (sqrtf(v / c2) + 1e-8f);

	m1[i] = a;
	m2[i] = v;
	/* AdamW's decay after the step, on weight matrices only (as the core) */
	if (decay != 1.0f && wmask[i])
		w *= decay;
	p[i] = w;
}

/* ---- launch wrappers (vgp_kernels.cu); all asynchronous on `s` ---- */

/* x[r, :] = rows[idx[step.at + r], :] for r < n */
void		vgp_launch_gather(cudaStream_t s, const float *rows, int dim, const int32_t *idx,
							  const VgpStep *steps, const VgpCtl *ctl, float *x, int n);

/* y = act(y + b) over [n x width] */
void		vgp_launch_bias_act(cudaStream_t s, float *y, const float *b, int n, int width,
								int act);

/*
 * Encoder head: adds the bias in place (head keeps mu and the raw
 * log-variance), lvz = bounded log-variance, eps from the step's counter,
 * z = mu + exp(lvz / 2) * eps.
 */
void		vgp_launch_latent(cudaStream_t s, float *head, const float *b, float *lvz,
							  float *eps, float *z, int n, int zd, const VgpStep *steps,
							  const VgpCtl *ctl);

/*
 * Decoder head: per-row reconstruction NLL + beta * KL into rowloss (double),
 * and, when delta is not NULL, the gradient of the batch-mean loss with
 * respect to the decoder head's pre-activation (scale = 1 / n).
 */
void		vgp_launch_head_loss(cudaStream_t s, const float *head, const float *b,
								 const float *x, int dim, int gaussian, const float *enc,
								 const float *lvz, int zd, double beta, float scale,
								 int n, double *rowloss, float *delta);

/* ctl->loss += sum(rowloss[0, n)) in a fixed order; flags a non-finite sum */
void		vgp_launch_reduce_loss(cudaStream_t s, const double *rowloss, int n, VgpCtl *ctl);

/* gb[j] = sum over rows of d[r, j], fixed order */
void		vgp_launch_col_sum(cudaStream_t s, const float *d, int n, int width, float *gb);

/* da *= act'(a) where a is the activation's output */
void		vgp_launch_act_back(cudaStream_t s, const float *a, float *da, size_t count, int act);

/* gradient through the reparameterization and the KL into the encoder head */
void		vgp_launch_reparam_back(cudaStream_t s, const float *dz, const float *enc,
									const float *lvz, const float *eps, float *dhead,
									int n, int zd, float beta_scale);

/*
 * Adam (vc_adam_step) with the step's lr and c2; decoupled decay of the
 * entries where wmask is set when decay != 1.  Skipped after divergence.
 */
void		vgp_launch_adam(cudaStream_t s, float *params, const float *g, float *m1,
							float *m2, const uint8_t *wmask, size_t n_params,
							const VgpStep *steps, const VgpCtl *ctl, float decay);

/* ctl->k++ */
void		vgp_launch_advance(cudaStream_t s, VgpCtl *ctl);

/* cudaSuccess when this build has code for the current device */
cudaError_t vgp_kernels_check(void);

/* out[i] = the training noise of (key, counter0 + i), as vc_train_normals (key not yet mixed) */
void		vgp_launch_normals(cudaStream_t s, uint64_t key, uint64_t counter0, float *out,
							   size_t n);

#endif							/* VGP_KERNELS_CUH */
