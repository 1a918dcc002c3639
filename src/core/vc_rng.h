/*
 * vc_rng.h - the element functions of the counter-based RNG (vc_rng.c):
 * the splitmix64 mixer and the standard normals of one (key, counter): the
 * double Box-Muller of scoring and generation (vc_normal) and the float one
 * of training (vc_train_normal_mixed).
 *
 * vc_rng.c's exported vc_mix64/vc_normal(s)/vc_train_normals/vc_uniform are
 * built on these, and
 * the CUDA kernels (src/gpu/cuda/vgp_kernels.cuh) call them on the device
 * (VC_HOSTDEV, see vc_math.h), so both draw eps from one definition.
 */
#ifndef VC_RNG_H
#define VC_RNG_H

#include <math.h>
#include <stdint.h>

#include "vc_math.h"

/* the splitmix64 finalizer; vc_mix64 */
VC_HOSTDEV static inline uint64_t
vc_splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* the 64 random bits of (key, counter), given mixed_key = vc_mix64(key) */
VC_HOSTDEV static inline uint64_t
vc_counter_bits(uint64_t mixed_key, uint64_t counter)
{
	return vc_splitmix64(mixed_key ^ (counter * 0xd1b54a32d192ed03ULL));
}

/*
 * vc_normal(key, counter) with mixed_key = vc_mix64(key) (hoisted out of
 * loops over counters).  Box-Muller from one 64-bit draw: two 32-bit
 * uniforms, the first in (0, 1].  Double precision; the products have no
 * additions, so no FMA contraction can change them, and sqrt is correctly
 * rounded everywhere: only log and cos may differ between libm and the
 * device in the last bit of a double, which survives the rounding to float
 * about once in 2^28 draws, by one ulp.
 */
VC_HOSTDEV static inline float
vc_normal_mixed(uint64_t mixed_key, uint64_t counter)
{
	uint64_t	r = vc_counter_bits(mixed_key, counter);
	double		u1 = ((double) (r >> 32) + 1.0) * (1.0 / 4294967296.0);
	double		u2 = (double) (r & 0xffffffffu) * (1.0 / 4294967296.0);

	return (float) (sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

/*
 * ln(i * 2^-24) for an integer i in [1, 2^24], in float32 (Cephes' logf on
 * the mantissa, in [sqrt(1/2), sqrt(2)), plus the exponent times ln 2 in two
 * parts).  Branch-free, and every multiply-add is an explicit fmaf, so no
 * compiler's FMA contraction can change a bit: the host and the device
 * compute the same float.  Error below 1e-7 absolute (relative for |ln| > 1)
 * over the whole domain.
 */
VC_HOSTDEV static inline float
vc_log_scaled24(int32_t i)
{
	float		x = (float) i;	/* exact: i <= 2^24 */
	int32_t		bits,
				mant,
				big;
	float		m,
				e,
				f,
				z,
				p,
				y;

	memcpy(&bits, &x, sizeof(bits));
	mant = bits & 0x7fffff;
	big = mant > 0x3504f3;		/* mantissa above sqrt(2): take half of it */
	m = vc_bits_to_float(mant | (0x3f800000 - (big << 23)));
	e = (float) ((bits >> 23) - 127 + big - 24);
	f = m - 1.0f;
	z = f * f;
	p = 7.0376836292e-2f;
	p = fmaf(p, f, -1.1514610310e-1f);
	p = fmaf(p, f, 1.1676998740e-1f);
	p = fmaf(p, f, -1.2420140846e-1f);
	p = fmaf(p, f, 1.4249322787e-1f);
	p = fmaf(p, f, -1.6668057665e-1f);
	p = fmaf(p, f, 2.0000714765e-1f);
	p = fmaf(p, f, -2.4999993993e-1f);
	p = fmaf(p, f, 3.3333331174e-1f);
	y = p * f * z;
	y = fmaf(e, -2.12194440e-4f, y);
	y = fmaf(-0.5f, z, y);
	return fmaf(e, 0.693359375f, f + y);
}

/*
 * cos(2 pi j 2^-24) for an integer j in [0, 2^24): the nearest quarter turn
 * n is taken off exactly in integers, then Cephes' sinf or cosf polynomial
 * on the rest (|angle| <= pi/4) with the quadrant's sign.  Branch-free and
 * contraction-proof like vc_log_scaled24; error below 1e-7.
 */
VC_HOSTDEV static inline float
vc_cos_turn24(int32_t j)
{
	int32_t		n = (j + (1 << 21)) >> 22;
	float		t = (float) (j - (n << 22)) * 3.74507028e-7f;	/* (pi / 2) 2^-22 */
	float		z = t * t;
	float		c = fmaf(fmaf(2.443315711809948e-5f, z, -1.388731625493765e-3f), z,
						 4.166664568298827e-2f);
	float		s = fmaf(fmaf(-1.9515295891e-4f, z, 8.3321608736e-3f), z, -1.6666654611e-1f);
	float		v;

	c = fmaf(-0.5f, z, c * z * z) + 1.0f;
	s = fmaf(s * z, t, t);
	v = vc_select(n & 1, s, c);
	return vc_select((n + 1) & 2, -v, v);	/* quadrants 1 and 2 are negative */
}

/*
 * The reparameterization noise of training (vc_train_normals), given
 * mixed_key = vc_mix64(key): Box-Muller in float32 from one 64-bit draw,
 * u1 = (k + 1) 2^-24 in (0, 1] from its top 24 bits and u2 = j 2^-24 from
 * its low 24.  It replaced vc_normal_mixed there in 1.1 because that one's
 * double log and cos were a fifth of a small network's training time: this
 * one has no call and no branch, so the engine's loop vectorizes (about 25x
 * faster), and the device computes exactly the host's bits.  The
 * distribution is the standard normal cut at |eps| < sqrt(48 ln 2) = 5.77
 * (a mass of 8e-9), on a grid no training can see.
 */
VC_HOSTDEV static inline float
vc_train_normal_mixed(uint64_t mixed_key, uint64_t counter)
{
	uint64_t	r = vc_counter_bits(mixed_key, counter);
	float		q = -2.0f * vc_log_scaled24((int32_t) (r >> 40) + 1);

	return sqrtf(vc_select(q > 0.0f, q, 0.0f)) * vc_cos_turn24((int32_t) (r & 0xffffff));
}

#endif							/* VC_RNG_H */
