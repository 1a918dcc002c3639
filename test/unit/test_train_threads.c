/*
 * test_train_threads.c - a model's bits do not depend on how the CPU
 * engine spread the work over threads.
 *
 * The engine times one thread against the helper at the start of a pass
 * and keeps the faster, so which of the two trained a model depends on the
 * machine's load.  Both must give the same bits:
 *
 *   - a small network (16-64-64-8, the 1.1 default of a 16-feature table),
 *     whose member 1 updates a replica of the weights while the helper runs
 *     and reads the caller's copy when it does not;
 *   - a large one (400-128-8): over the replica limit, so the two members
 *     split each Adam step; and with OpenBLAS at 2 threads, its 400-input
 *     layer's product is one that OpenBLAS, when it may use both threads,
 *     sums in other blocks than on one thread.  One-thread passes used to
 *     leave OpenBLAS its threads (the helper's held it to one), so a model
 *     with such a layer came out differently on a busy machine.
 *
 * And OpenBLAS gets its thread count back when training ends.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vc.h"
#include "vc_train.h"

void		openblas_set_num_threads(int num_threads);
int			openblas_get_num_threads(void);

/* n rows of dim correlated gaussians in a few clusters */
static float *
MakeRows(int n, int dim, VcRowRef *refs)
{
	float	   *x = malloc(sizeof(float) * (size_t) n * dim);

	for (int i = 0; i < n; i++)
	{
		for (int j = 0; j < dim; j++)
			x[(size_t) i * dim + j] = (float) (vc_normal(7, (uint64_t) i * dim + j) +
											   (i % 5) - (j ? 0.5 * x[(size_t) i * dim + j - 1] : 0));
		refs[i].row = x + (size_t) i * dim;
		refs[i].hash = 0;
	}
	return x;
}

/* train on fresh copies of the rows with the engine forced to mode (-1 or 1) */
static VcModel *
Train(int n, int dim, const int *hidden, int n_hidden, int mode)
{
	VcRowRef   *refs = malloc(sizeof(VcRowRef) * n);
	float	   *x = MakeRows(n, dim, refs);
	VcOptions	opt;
	VcModel    *m = NULL;
	char		err[VC_ERRMSG_LEN];

	vc_options_init(&opt);
	opt.seed = 3;
	opt.epochs = 2;
	opt.latent_dim = 8;
	opt.n_hidden = n_hidden;
	for (int i = 0; i < n_hidden; i++)
		opt.hidden[i] = hidden[i];
	opt.validation_fraction = 0.1;
	vc_engine_cpu_force_helper = mode;
	if (vc_train(refs, n, dim, &opt, NULL, &m, err) != VC_OK)
	{
		diag("training failed: %s", err);
		m = NULL;
	}
	vc_engine_cpu_force_helper = 0;
	free(refs);
	free(x);
	return m;
}

/* the weights and every method's score sample, bit for bit */
static int
SameBits(const VcModel *a, const VcModel *b)
{
	if (!a || !b || a->n_params != b->n_params || a->n_scores != b->n_scores)
		return 0;
	if (memcmp(a->params, b->params, sizeof(float) * a->n_params) != 0)
		return 0;
	for (int k = 0; k < VC_N_METHODS; k++)
		if (memcmp(a->scores[k], b->scores[k], sizeof(float) * a->n_scores) != 0)
			return 0;
	return 1;
}

static void
Check(const char *name, int n, int dim, const int *hidden, int n_hidden)
{
	VcModel    *one = Train(n, dim, hidden, n_hidden, -1),
			   *two = Train(n, dim, hidden, n_hidden, 1);

	ok(one && two, "%s: trains on one thread and with the helper", name);
	if (one)
		diag("%s: %zu parameters", name, one->n_params);
	ok(SameBits(one, two), "%s: the same weights and score samples either way", name);
	ok(openblas_get_num_threads() == 2, "%s: OpenBLAS has its 2 threads back", name);
	vc_model_free(one);
	vc_model_free(two);
}

int
main(void)
{
	static const int small[] = {64, 64},
				large[] = {128};

	openblas_set_num_threads(2);
	Check("16-64-64-8", 3000, 16, small, 2);
	Check("400-128-8", 1500, 400, large, 1);
	return done_testing();
}
