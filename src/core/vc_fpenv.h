/*
 * vc_fpenv.h - flush-to-zero for the training threads (core-internal).
 *
 * Adam's first moment of a weight whose gradient is exactly zero (a dead
 * relu unit, an input column that is always zero in a minibatch) decays by
 * 0.9 per step into the subnormal range and stays there: measured on
 * MNIST-like dense rows, 25% of the moments were subnormal after 4 epochs
 * (0.7% on sparse rows), and an AVX operation on a subnormal takes a
 * microcode assist: Adam's step alone took 0.72 ms instead of 0.28 ms with
 * 10% of the moments subnormal; in whole runs Adam's share of the time went
 * from 11.2% to 9.0% over 20 epochs.  With flush-to-zero (subnormal results
 * become 0) and denormals-are-zero (subnormal inputs read as 0) the
 * arithmetic runs at full speed whatever the data.  It
 * changes a weight only where a subnormal would have mattered: Adam's
 * update divides by sqrt(v) + 1e-8, so a subnormal moment moves no weight by
 * even one ulp, and the models of bench/cpu_train.c keep their checksums.
 *
 * Only training's minibatch steps run this way (vc_engine_cpu.c): the
 * backend's thread switches it on for the steps and back before every host
 * callback and at the end, since the rest of PostgreSQL must never run with
 * it (float8 arithmetic on subnormals would silently give 0).  Scoring,
 * including the score sample kept in the model, keeps IEEE subnormals, so
 * the stored scores stay those vae_score returns.  The team's helper takes
 * the calling thread's setting (vc_team.c).  On CPUs other than x86-64 these
 * are no-ops.
 */
#ifndef VC_FPENV_H
#define VC_FPENV_H

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define VC_MXCSR_FTZ 0x8000u	/* flush-to-zero */
#define VC_MXCSR_DAZ 0x0040u	/* denormals-are-zero */
#endif

typedef unsigned int VcFpEnv;

/* the calling thread's floating-point control word */
static inline VcFpEnv
vc_fp_get(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return _mm_getcsr();
#else
	return 0;
#endif
}

/* set the calling thread's floating-point control word (a no-op off x86) */
static inline void
vc_fp_set(VcFpEnv env)
{
#if defined(__x86_64__) || defined(__i386__)
	_mm_setcsr(env);
#else
	(void) env;
#endif
}

/* nonzero while flush-to-zero or denormals-are-zero is on */
static inline int
vc_fp_flushing(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return (vc_fp_get() & (VC_MXCSR_FTZ | VC_MXCSR_DAZ)) != 0;
#else
	return 0;
#endif
}

/*
 * back to a setting vc_fp_flush_denormals returned: its control bits (the
 * exception flags raised meanwhile stay raised, as they would have without
 * the flush)
 */
static inline void
vc_fp_restore(VcFpEnv saved)
{
#if defined(__x86_64__) || defined(__i386__)
	vc_fp_set((vc_fp_get() & 0x3fu) | (saved & ~0x3fu));
#else
	(void) saved;
#endif
}

/* switch on flush-to-zero and denormals-are-zero; returns the setting to restore */
static inline VcFpEnv
vc_fp_flush_denormals(void)
{
	VcFpEnv		old = vc_fp_get();

#if defined(__x86_64__) || defined(__i386__)
	vc_fp_set(old | VC_MXCSR_FTZ | VC_MXCSR_DAZ);
#endif
	return old;
}

#endif							/* VC_FPENV_H */
