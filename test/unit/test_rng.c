/*
 * test_rng.c - the training noise (vc_train_normals, vc_rng.h).
 *
 * It replaced the double Box-Muller of vc_normal in training for speed, so
 * what must hold is what training relies on: the element functions are
 * accurate over their whole integer domains, the draws are standard normal
 * (moments, Kolmogorov-Smirnov, the documented cut at sqrt(48 ln 2)), the
 * stream is a pure function of (key, counter) that vc.h's eps contract
 * can index, and keys and counters give unrelated streams.  Every figure is
 * computed from fixed keys, so a check cannot pass or fail by chance.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vc.h"
#include "vc_rng.h"
#include "vc_sort.h"

#define N_DRAWS ((size_t) 1 << 22)

/* vc_log_scaled24 and vc_cos_turn24 against libm's double, every 3rd argument of the domain */
static void
CheckElementFunctions(void)
{
	double		worst_log = 0.0,
				worst_cos = 0.0;
	int32_t		i;

	for (i = 1; i <= (1 << 24); i += 3)
	{
		double		want = log((double) i / 16777216.0);
		double		err = fabs((double) vc_log_scaled24(i) - want) / fmax(1.0, fabs(want));

		worst_log = fmax(worst_log, err);
	}
	for (i = 0; i < (1 << 24); i += 3)
	{
		double		want = cos(6.283185307179586 * (double) i / 16777216.0);

		worst_cos = fmax(worst_cos, fabs((double) vc_cos_turn24(i) - want));
	}
	ok(worst_log < 2e-7, "ln(i 2^-24) within 2e-7 over [1, 2^24] (worst %.3g)", worst_log);
	ok(vc_log_scaled24(1 << 24) == 0.0f, "ln(1) is exactly 0, so the radius is never NaN");
	ok(worst_cos < 2e-7, "cos(2 pi j 2^-24) within 2e-7 over [0, 2^24) (worst %.3g)", worst_cos);
	ok(vc_cos_turn24(0) == 1.0f && vc_cos_turn24(1 << 23) == -1.0f &&
	   fabsf(vc_cos_turn24(1 << 22)) < 1e-7f && fabsf(vc_cos_turn24(3 << 22)) < 1e-7f,
	   "cos at the quarter turns: 1, 0, -1, 0");
}

/* the standard normal CDF */
static double
Phi(double x)
{
	return 0.5 * erfc(-x / sqrt(2.0));
}

/* moments, the KS distance to N(0, 1) and the tails of N_DRAWS draws */
static void
CheckDistribution(void)
{
	float	   *x = malloc(sizeof(float) * N_DRAWS);
	double		m1 = 0,
				m2 = 0,
				m3 = 0,
				m4 = 0,
				ks = 0,
				n = (double) N_DRAWS,
				far = 0;
	size_t		i;

	vc_train_normals(0x5eed, 0, x, N_DRAWS);
	for (i = 0; i < N_DRAWS; i++)
	{
		double		v = x[i];

		m1 += v;
		m2 += v * v;
		m3 += v * v * v;
		m4 += v * v * v * v;
		far = fmax(far, fabs(v));
	}
	m1 /= n;
	m2 /= n;
	m3 /= n;
	m4 /= n;

	/*
	 * Standard errors at n = 2^22: mean 0.0005, variance 0.0007, third
	 * moment 0.0012, fourth 0.005; the bars are about 4 of them.
	 */
	ok(fabs(m1) < 0.002 && fabs(m2 - 1.0) < 0.003 && fabs(m3) < 0.005 && fabs(m4 - 3.0) < 0.02,
	   "moments of N(0, 1): mean %.5f, E x^2 %.5f, E x^3 %.5f, E x^4 %.5f", m1, m2, m3, m4);
	vc_sort_floats(x, N_DRAWS);
	for (i = 0; i < N_DRAWS; i++)
	{
		double		f = Phi(x[i]);

		ks = fmax(ks, fmax(fabs((double) (i + 1) / n - f), fabs(f - (double) i / n)));
	}
	/* 1.63 / sqrt(n) is the KS test's 1% critical value */
	ok(ks < 1.63 / sqrt(n), "Kolmogorov-Smirnov distance to N(0, 1) %.3g (1%% critical value %.3g)",
	   ks, 1.63 / sqrt(n));
	ok(far <= sqrt(48.0 * log(2.0)) && far > 4.5,
	   "the tails reach %.3f, within the cut sqrt(48 ln 2) = %.3f", far, sqrt(48.0 * log(2.0)));
	free(x);
}

/* a pure function of (key, counter): any chunking of a stream gives its draws */
static void
CheckStream(void)
{
	float		whole[1000],
				part[1000],
				other[1000];
	uint64_t	mk = vc_mix64(77);
	int			i,
				same_elem = 1,
				equal_other = 0;

	vc_train_normals(77, 1000000, whole, 1000);
	vc_train_normals(77, 1000000, part, 333);
	vc_train_normals(77, 1000333, part + 333, 667);
	ok(memcmp(whole, part, sizeof(whole)) == 0, "a stream drawn in two chunks is the stream drawn at once");
	for (i = 0; i < 1000; i++)
		same_elem &= whole[i] == vc_train_normal_mixed(mk, 1000000 + (uint64_t) i);
	ok(same_elem, "vc_train_normals is vc_train_normal_mixed element by element");
	vc_train_normals(78, 1000000, other, 1000);
	for (i = 0; i < 1000; i++)
		equal_other += whole[i] == other[i];
	ok(equal_other < 3, "another key gives another stream (%d of 1000 equal)", equal_other);
}

int
main(void)
{
	CheckElementFunctions();
	CheckDistribution();
	CheckStream();
	return done_testing();
}
