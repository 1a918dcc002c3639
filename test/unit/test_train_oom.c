/*
 * test_train_oom.c - training when memory runs out.
 *
 * Every allocation of vc_train goes through vc_alloc; with the allocator
 * made to fail from its k-th call on, for every k until training no longer
 * needs a failing call, vc_train must return VC_ENOMEM with no model and
 * give back everything it allocated (no partial model, no leak), and the
 * first k that succeeds must train the model the unrestricted allocator
 * trains.  Two shapes cover the paths: a 1,200-row table (validation split,
 * the 16-64-64-8 network whose helper keeps a replica of the weights) and a
 * 60-row one (no split: weight decay and the out-of-fold score sample,
 * which trains four more networks).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vc.h"

static long fail_after = -1;	/* allocations left before they fail; -1: never */
static long live_allocs;

/* malloc, counted, failing once fail_after reaches 0 */
static void *
FailingAlloc(size_t size)
{
	void	   *p;

	if (fail_after == 0)
		return NULL;
	if (fail_after > 0)
		fail_after--;
	p = malloc(size);
	if (p)
		live_allocs++;
	return p;
}

static void
CountingFree(void *p)
{
	live_allocs--;
	free(p);
}

/* n rows of dim correlated gaussians in a few clusters, as refs into x */
static float *
MakeRows(int n, int dim, VcRowRef *refs)
{
	float	   *x = malloc(sizeof(float) * (size_t) n * dim);

	for (int i = 0; i < n; i++)
	{
		for (int j = 0; j < dim; j++)
			x[(size_t) i * dim + j] = (float) (vc_normal(11, (uint64_t) i * dim + j) + (i % 4));
		refs[i].row = x + (size_t) i * dim;
		refs[i].hash = 0;
	}
	return x;
}

/* vc_train on fresh rows with the allocator failing after `budget` calls */
static VcStatus
Train(int n, int dim, const VcOptions *opt, long budget, VcModel **m, char *err)
{
	VcRowRef   *refs = malloc(sizeof(VcRowRef) * n);
	float	   *x = MakeRows(n, dim, refs);
	VcStatus	st;

	*m = NULL;
	fail_after = budget;
	st = vc_train(refs, n, dim, opt, NULL, m, err);
	fail_after = -1;
	free(refs);
	free(x);
	return st;
}

static void
Sweep(const char *name, int n, int dim, const VcOptions *opt)
{
	VcModel    *ref,
			   *m;
	char		err[VC_ERRMSG_LEN];
	long		k,
				failures = 0,
				bad = 0,
				leaked = 0;
	VcStatus	st;

	err[0] = '\0';
	if (!ok(Train(n, dim, opt, -1, &ref, err) == VC_OK, "%s: trains%s%s", name,
			err[0] ? ": " : "", err))
		return;
	for (k = 0;; k++)
	{
		long		before = live_allocs;

		st = Train(n, dim, opt, k, &m, err);
		if (st == VC_OK)
			break;
		failures++;
		if (st != VC_ENOMEM || m != NULL)
		{
			if (bad++ == 0)
				diag("%s: allocation %ld failing: status %d, model %p: %s",
					 name, k, (int) st, (void *) m, err);
		}
		if (live_allocs != before)
		{
			if (leaked++ == 0)
				diag("%s: allocation %ld failing leaves %ld blocks", name, k,
					 live_allocs - before);
			live_allocs = before;
		}
	}
	diag("%s: training makes %ld allocations", name, k);
	ok(failures > 10 && bad == 0,
	   "%s: each of the %ld first allocations failing gives VC_ENOMEM and no model", name, failures);
	ok(leaked == 0, "%s: and gives back every block it allocated", name);
	ok(m && m->n_params == ref->n_params &&
	   memcmp(m->params, ref->params, sizeof(float) * ref->n_params) == 0,
	   "%s: with enough memory, the model of the unrestricted allocator", name);
	vc_model_free(m);
	vc_model_free(ref);
}

int
main(void)
{
	VcOptions	opt;

	vc_set_allocator(FailingAlloc, CountingFree);

	vc_options_init(&opt);
	opt.seed = 5;
	opt.epochs = 1;
	opt.latent_dim = 8;
	opt.n_hidden = 2;
	opt.hidden[0] = opt.hidden[1] = 64;
	Sweep("1,200 rows, 16-64-64-8, validation split", 1200, 16, &opt);

	vc_options_init(&opt);
	opt.seed = 5;
	opt.epochs = 3;
	Sweep("60 rows, out-of-fold sample", 60, 6, &opt);
	return done_testing();
}
