/*
 * vc_rng.h - the element functions of the counter-based RNG (vc_rng.c):
 * the splitmix64 mixer and the standard normal of one (key, counter).
 *
 * vc_rng.c's exported vc_mix64/vc_normal/vc_uniform are built on these, and
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

#endif							/* VC_RNG_H */
