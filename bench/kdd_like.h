/*
 * bench/kdd_like.h - the KDD-like rows of the GPU benchmarks (gpu_bench.c,
 * gpu_e2e.c): the same generator, so both time the same data.  Needs vc.h.
 */
#ifndef BENCH_KDD_LIKE_H
#define BENCH_KDD_LIKE_H

#include <string.h>

/* 38 continuous columns (some heavy-tailed) and 80 one-hot (KDD-like) */
static void
MakeKddLike(float *v, int64_t n, int dim)
{
	for (int64_t r = 0; r < n; r++)
	{
		float	   *x = v + r * dim;
		int			cls = (int) (vc_uniform(11, (uint64_t) r) * 4);

		memset(x, 0, sizeof(float) * dim);
		for (int j = 0; j < 38; j++)
		{
			float		e = vc_normal(12, (uint64_t) (r * dim + j));

			x[j] = j % 5 == 0 ? (float) (e + cls) * (float) (e + cls) : e * (1 + j % 3) + cls * (j % 7);
		}
		x[38 + (int) (vc_uniform(13, (uint64_t) r) * 3) + 3 * cls] = 1.0f;
		x[60 + (int) (vc_uniform(14, (uint64_t) r) * 58)] = 1.0f;
	}
}

#endif							/* BENCH_KDD_LIKE_H */
