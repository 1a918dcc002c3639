/*
 * vc_math.h - branch-free float32 exp, tanh, log1p and sigmoid, and the
 * per-feature likelihood terms and bounded log-variance built from them.
 *
 * libm's tanhf/expf are calls the compiler cannot vectorize, and in the
 * elementwise parts of a training step (activations, bounded log-variances,
 * the gaussian and bernoulli likelihoods) they cost more than all the GEMMs
 * of a KDD-sized network together.  These are straight-line polynomial
 * versions that loops vectorize (AVX2/AVX-512 at -O3), accurate to a few
 * ulp over the ranges used here (the loops' vectorization is checked with
 * -fopt-info-vec; see vc_select).  They are plain C, so any host (the GPU
 * worker's CPU backend included) computes exactly the same bits.
 *
 * They are also the CUDA engine's element functions: under nvcc every
 * function here is VC_HOSTDEV (__host__ __device__), and the kernels
 * (src/gpu/cuda/vgp_kernels.cuh) call these definitions, so the GPU computes
 * the same expressions (only FMA contraction may differ; docs/gpu-engine.md).
 * Everything here must therefore stay valid C (gnu11), C++ (the host
 * emulation of the engine) and device code: memcpy is fine on the device, a
 * libc-only function or a host-only builtin would need an #ifdef
 * __CUDA_ARCH__ branch inside the one definition.
 */
#ifndef VC_MATH_H
#define VC_MATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#ifdef __CUDACC__
#define VC_HOSTDEV __host__ __device__
#else
#define VC_HOSTDEV
#endif

/* the float whose bit pattern is i (memcpy: no aliasing through pointer casts) */
VC_HOSTDEV static inline float
vc_bits_to_float(int32_t i)
{
	float		f;

	memcpy(&f, &i, sizeof(f));
	return f;
}

/*
 * cond ? a : b through bit masks.  GCC (12) turns a plain ?: into a branch
 * whenever one side folds to a constant or holds a division, and then
 * refuses to vectorize the loop ("control flow in loop"); the masks keep the
 * selection data flow.  Same value as ?:, NaNs and signed zeros included.
 */
VC_HOSTDEV static inline float
vc_select(int cond, float a, float b)
{
	int32_t		ia,
				ib,
				mask = -(int32_t) (cond != 0);

	memcpy(&ia, &a, sizeof(ia));
	memcpy(&ib, &b, sizeof(ib));
	return vc_bits_to_float((ia & mask) | (ib & ~mask));
}

/* e^x, x clamped to [-87, 88] so the result stays a normal float (Cephes coefficients) */
VC_HOSTDEV static inline float
vc_expf(float x)
{
	float		k,
				r,
				p;

	x = vc_select(x < -87.0f, -87.0f, x);
	x = vc_select(x > 88.0f, 88.0f, x);
	/* nearest integer by truncation (libm's floorf is a call the loop cannot vectorize) */
	k = x * 1.44269504088896341f;
	k = (float) (int32_t) (k + (k >= 0.0f ? 0.5f : -0.5f));
	r = x - k * 0.693359375f;
	r = r + k * 2.12194440e-4f;
	p = 1.9875691500e-4f;
	p = p * r + 1.3981999507e-3f;
	p = p * r + 8.3334519073e-3f;
	p = p * r + 4.1665795894e-2f;
	p = p * r + 1.6666665459e-1f;
	p = p * r + 5.0000001201e-1f;
	p = p * r * r + r + 1.0f;
	return p * vc_bits_to_float(((int32_t) k + 127) << 23);
}

/*
 * tanh: 1 - 2 / (e^2x + 1), with an odd Taylor polynomial near zero where
 * that form would lose relative precision.  Both are computed and one is
 * selected, which keeps the function branch-free.
 */
VC_HOSTDEV static inline float
vc_tanhf(float x)
{
	float		x2 = x * x;
	float		small = x * (1.0f + x2 * (-0.333333333f + x2 * (0.133333333f + x2 * (-0.0539682540f))));
	float		large = 1.0f - 2.0f / (vc_expf(2.0f * x) + 1.0f);

	return vc_select(x2 < 0.0625f, small, large);
}

/* log(1 + y) for y in [0, 1]: 2 atanh(s), s = y / (2 + y) <= 1/3 */
VC_HOSTDEV static inline float
vc_log1pf_unit(float y)
{
	float		s = y / (2.0f + y);
	float		s2 = s * s;

	return 2.0f * s * (1.0f + s2 * (0.333333333f + s2 * (0.2f + s2 * (0.142857143f +
																	  s2 * (0.111111111f + s2 * 0.0909090909f)))));
}

/* softplus(-|l|) = log(1 + e^-|l|), the stable tail of the logistic loss */
VC_HOSTDEV static inline float
vc_softplus_neg_abs(float l)
{
	float		a = vc_select(l < 0.0f, -l, l);

	return vc_log1pf_unit(vc_expf(-a));
}

/* the logistic function 1 / (1 + e^-v) */
VC_HOSTDEV static inline float
vc_sigmoidf(float v)
{
	return 1.0f / (1.0f + vc_expf(-v));
}

/*
 * Per-feature negative log-likelihood terms, in float32 so that loops over
 * features vectorize; callers add them up in double.
 *   gaussian:  nll = 0.5 * (log 2pi + vc_gauss_term)
 *   bernoulli: nll = vc_bernoulli_nll (binary cross-entropy with logits)
 */
#define VC_LOG_2PI 1.8378770664093453

/* lv + (x - mean)^2 / e^lv, for the log-variance lv (the gaussian term above) */
VC_HOSTDEV static inline float
vc_gauss_term(float x, float mean, float lv)
{
	float		r = x - mean;

	return lv + r * r * vc_expf(-lv);
}

/* cross-entropy of target x and logit l as max(l, 0) - l x + log(1 + e^-|l|) */
VC_HOSTDEV static inline float
vc_bernoulli_nll(float x, float logit)
{
	return vc_select(logit > 0.0f, logit, 0.0f) - logit * x + vc_softplus_neg_abs(logit);
}

/* a log-variance bounded to (-bound, bound): bound * tanh(raw / bound) */
VC_HOSTDEV static inline float
vc_bound_logvar(float raw, float bound)
{
	return bound * vc_tanhf(raw / bound);
}

/* 1 when every element of p[0, n) is finite (host only: parameter and score checks) */
static inline int
vc_all_finite(const float *p, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
		if (!isfinite(p[i]))
			return 0;
	return 1;
}

#endif							/* VC_MATH_H */
