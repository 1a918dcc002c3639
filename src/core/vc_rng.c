/*
 * vc_rng.c - counter-based hashing and random numbers.
 *
 * Every random draw is a pure function of (key, counter): no generator state
 * travels between minibatches, threads or processes, so the CPU core, the GPU
 * worker and a parallel plan all reproduce the same numbers.  The mixer is
 * the splitmix64 finalizer, which passes BigCrush as a counter-based
 * generator.
 */
#include <string.h>

#include "vc.h"
#include "vc_rng.h"

/* the splitmix64 finalizer (vc_rng.h), for callers outside the core */
uint64_t
vc_mix64(uint64_t x)
{
	return vc_splitmix64(x);
}

/*
 * Seeded hash of a row's float32 bits.  -0.0 hashes like +0.0 so that rows
 * equal as values are equal as keys (the aggregate also stores +0.0).
 */
uint64_t
vc_hash_row(const float *x, int dim, uint64_t seed)
{
	uint64_t	h = vc_mix64(seed ^ 0x5641455f524f5753ULL);	/* "VAE_ROWS" */
	int			i;

	for (i = 0; i < dim; i++)
	{
		uint32_t	bits;
		float		v = x[i] == 0.0f ? 0.0f : x[i];

		memcpy(&bits, &v, sizeof(bits));
		h = vc_mix64(h ^ ((uint64_t) bits << 1 ^ (uint64_t) i << 33));
	}
	return vc_mix64(h ^ (uint64_t) dim);
}

/* a uniform double in [0, 1) from (key, counter) */
double
vc_uniform(uint64_t key, uint64_t counter)
{
	/* 53 random bits -> [0, 1) */
	return (double) (vc_counter_bits(vc_splitmix64(key), counter) >> 11) *
		(1.0 / 9007199254740992.0);
}

/* Box-Muller (vc_rng.h) */
float
vc_normal(uint64_t key, uint64_t counter)
{
	return vc_normal_mixed(vc_splitmix64(key), counter);
}

/* out[i] = vc_normal(key, counter0 + i) for i < n */
void
vc_normals(uint64_t key, uint64_t counter0, float *out, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
		out[i] = vc_normal(key, counter0 + i);
}

/*
 * out[i] = the training noise of (key, counter0 + i) (vc_train_normal_mixed
 * in vc_rng.h).  This loop vectorizes: the file is built with
 * -fno-math-errno (Makefile), without which sqrtf's errno path is a call
 * that keeps it scalar.  Vector or scalar, every operation is correctly
 * rounded, so the bits are the same.
 */
void
vc_train_normals(uint64_t key, uint64_t counter0, float *restrict out, size_t n)
{
	uint64_t	mixed_key = vc_splitmix64(key);
	size_t		i;

	for (i = 0; i < n; i++)
		out[i] = vc_train_normal_mixed(mixed_key, counter0 + i);
}
