/*
 * vc_adam.c - the Adam optimizer with decoupled (AdamW) weight decay.
 *
 * A step is split into begin (bias corrections) and updates over parameter
 * ranges, so that the two members of a training team can each update half
 * of the parameters; the vector code below makes that split bit-neutral.
 */
#include <math.h>
#include <string.h>

#ifdef __AVX__
#include <immintrin.h>
#endif

#include "vc_adam.h"

#define ADAM_BETA1 0.9
#define ADAM_BETA2 0.999
#define ADAM_EPS 1e-8

/* zeroed moments for n_params parameters, at step 0; VC_ENOMEM if an allocation fails */
VcStatus
vc_adam_init(VcAdam *adam, size_t n_params)
{
	adam->t = 0;
	adam->m1 = vc_alloc0(sizeof(float) * n_params);
	adam->m2 = vc_alloc0(sizeof(float) * n_params);
	return adam->m1 && adam->m2 ? VC_OK : VC_ENOMEM;
}

/* release the moment vectors (safe to repeat: they are left NULL) */
void
vc_adam_free(VcAdam *adam)
{
	vc_free(adam->m1);
	vc_free(adam->m2);
	adam->m1 = adam->m2 = NULL;
}

/* Adam with decoupled (AdamW) weight decay on weight matrices, not biases */
void
vc_adam_step(VcModel *m, VcAdam *adam, const float *g)
{
	vc_adam_begin_step(adam, m->opt.learning_rate);
	vc_adam_update(m, adam, g, NULL, 0, m->n_params);
}

/*
 * Start step t + 1: its bias corrections c1 and c2, and the rate lr / c1
 * that vc_adam_update then applies.
 */
void
vc_adam_begin_step(VcAdam *adam, double learning_rate)
{
	adam->t++;
	adam->c1 = 1.0 - pow(ADAM_BETA1, (double) adam->t);
	adam->c2 = 1.0 - pow(ADAM_BETA2, (double) adam->t);
	adam->lr = (float) (learning_rate / adam->c1);
}

/*
 * One pass over a range of params: moments, update, decay (1 for biases:
 * multiplying by 1 changes no bits).  sqrtf keeps GCC from vectorizing
 * (its errno path is a call), so with AVX the loop is written with
 * intrinsics, and the tail of a range goes through the same vector code on
 * a padded copy: every element gets the same operations wherever the range
 * boundaries fall, so splitting the parameters between threads cannot change
 * a bit.  (A scalar tail would not: GCC contracts it into FMAs.)
 */
#ifdef __AVX__
/* the step for 8 consecutive parameters, with the gradient g0 + g1 (g1 may be NULL) */
static inline void
AdamVec8(float *p, float *m1v, float *m2v, const float *g0, const float *g1,
		 float lr, float c2, float decay)
{
	__m256		g = _mm256_loadu_ps(g0);
	__m256		m1,
				m2,
				den,
				v;

	if (g1)
		g = _mm256_add_ps(g, _mm256_loadu_ps(g1));
	m1 = _mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps((float) ADAM_BETA1), _mm256_loadu_ps(m1v)),
					   _mm256_mul_ps(_mm256_set1_ps((float) (1 - ADAM_BETA1)), g));
	m2 = _mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps((float) ADAM_BETA2), _mm256_loadu_ps(m2v)),
					   _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps((float) (1 - ADAM_BETA2)), g), g));
	_mm256_storeu_ps(m1v, m1);
	_mm256_storeu_ps(m2v, m2);
	den = _mm256_add_ps(_mm256_sqrt_ps(_mm256_div_ps(m2, _mm256_set1_ps(c2))),
						_mm256_set1_ps((float) ADAM_EPS));
	v = _mm256_sub_ps(_mm256_loadu_ps(p),
					  _mm256_div_ps(_mm256_mul_ps(_mm256_set1_ps(lr), m1), den));
	_mm256_storeu_ps(p, _mm256_mul_ps(v, _mm256_set1_ps(decay)));
}
#endif

/* the step for n consecutive parameters, all with the same decay factor */
static void
AdamRange(float *restrict p, float *restrict m1v, float *restrict m2v,
		  const float *restrict g0, const float *restrict g1, size_t n,
		  float lr, float c2, float decay)
{
	size_t		i = 0;

#ifdef __AVX__
	for (; i + 8 <= n; i += 8)
		AdamVec8(p + i, m1v + i, m2v + i, g0 + i, g1 ? g1 + i : NULL, lr, c2, decay);
	if (i < n)
	{
		float		tp[8] = {0},
					t1[8] = {0},
					t2[8] = {0},
					tg0[8] = {0},
					tg1[8] = {0};
		size_t		k = n - i;

		memcpy(tp, p + i, k * sizeof(float));
		memcpy(t1, m1v + i, k * sizeof(float));
		memcpy(t2, m2v + i, k * sizeof(float));
		memcpy(tg0, g0 + i, k * sizeof(float));
		if (g1)
			memcpy(tg1, g1 + i, k * sizeof(float));
		AdamVec8(tp, t1, t2, tg0, g1 ? tg1 : NULL, lr, c2, decay);
		memcpy(p + i, tp, k * sizeof(float));
		memcpy(m1v + i, t1, k * sizeof(float));
		memcpy(m2v + i, t2, k * sizeof(float));
	}
#else
	for (; i < n; i++)
	{
		float		g = g1 ? g0[i] + g1[i] : g0[i];
		float		m1 = m1v[i] = (float) ADAM_BETA1 * m1v[i] + (float) (1 - ADAM_BETA1) * g;
		float		m2 = m2v[i] = (float) ADAM_BETA2 * m2v[i] + (float) (1 - ADAM_BETA2) * g * g;

		p[i] = (p[i] - lr * m1 / (sqrtf(m2 / c2) + (float) ADAM_EPS)) * decay;
	}
#endif
}

/*
 * Apply the step begun by vc_adam_begin_step to parameters [lo, hi), with
 * the gradient g0 + g1 (g1 may be NULL): each layer's weight matrix gets the
 * AdamW decay, its biases do not.  Disjoint ranges may run in parallel.
 */
void
vc_adam_update(VcModel *m, VcAdam *adam, const float *g0, const float *g1,
			   size_t lo, size_t hi)
{
	const VcOptions *o = &m->opt;
	float		decay = o->weight_decay > 0 ? (float) (1.0 - o->learning_rate * o->weight_decay) : 1.0f;
	int			l;

	/* each layer is its weights then its biases; only the weights decay */
	for (l = 0; l < m->n_layers; l++)
	{
		const VcLayer *ly = &m->layers[l];
		size_t		seg[2][2] = {{ly->w_off, ly->w_off + (size_t) ly->in * ly->out},
		{ly->b_off, ly->b_off + (size_t) ly->out}};
		int			k;

		for (k = 0; k < 2; k++)
		{
			size_t		a = seg[k][0] > lo ? seg[k][0] : lo,
						b = seg[k][1] < hi ? seg[k][1] : hi;

			if (a < b)
				AdamRange(m->params + a, adam->m1 + a, adam->m2 + a, g0 + a,
						  g1 ? g1 + a : NULL, b - a, adam->lr, (float) adam->c2,
						  k == 0 ? decay : 1.0f);
		}
	}
}
