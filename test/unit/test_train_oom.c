/*
 * test_train_oom.c - training when memory runs out.
 *
 * Every allocation of vc_train goes through vc_alloc; with the allocator
 * made to fail from its k-th call on, for every k until training no longer
 * needs a failing call, vc_train must return VC_ENOMEM with no model and
 * give back everything it allocated (no partial model, no leak), and the
 * first k that succeeds must train the model the unrestricted allocator
 * trains.  Two shapes cover the paths: a 1,200-row table (validation split,
 * the 16-64-64-8 network whose helper keeps a replica of the weights), a
 * 60-row one (no split: weight decay and the out-of-fold score sample,
 * which trains four more networks), and a row model (vc_train_rows: a
 * number with NULLs, a boolean and a category).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counting_alloc.h"
#include "tap.h"
#include "vc.h"
#include "vc_schema.h"

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

/* what a sweep trains: an array table (schema NULL) or a row model's */
typedef struct Case
{
	const char *name;
	int			n;
	int			dim;			/* array features; ignored for a row model */
	VcOptions	opt;
	const VcSchema *schema;
} Case;

static char *roles[] = {"web", "db", "cache"};

/* the row model's columns: x (continuous, NULL in 5% of rows), ok, role */
static const VcSchema *
RowSchema(void)
{
	static VcColumn cols[3];
	static VcSchema s;

	memset(cols, 0, sizeof(cols));
	cols[0].name = cols[0].attribute = "x";
	cols[0].kind = VC_COL_CONTINUOUS;
	cols[1].name = cols[1].attribute = "ok";
	cols[1].kind = VC_COL_BOOLEAN;
	cols[2].name = cols[2].attribute = "role";
	cols[2].kind = VC_COL_CATEGORICAL;
	cols[2].n_categories = 4;
	cols[2].categories = roles;
	for (int i = 0; i < 3; i++)
		cols[i].scale = 1.0f;
	memset(&s, 0, sizeof(s));
	s.n_columns = 3;
	s.columns = cols;
	s.max_categories = 32;
	return &s;
}

/* vc_train(_rows) on fresh rows with the allocator failing after `budget` calls */
static VcStatus
Train(const Case *c, long budget, VcModel **m, char *err)
{
	int			w = c->schema ? c->schema->n_columns : c->dim;
	VcRowRef   *refs = malloc(sizeof(VcRowRef) * c->n);
	float	   *x;
	VcStatus	st;

	if (c->schema)
	{
		x = malloc(sizeof(float) * (size_t) c->n * w);
		for (int i = 0; i < c->n; i++)
		{
			float	   *r = x + (size_t) i * w;

			r[0] = i % 20 == 3 ? vc_null_value() : (float) vc_normal(12, (uint64_t) i);
			r[1] = i % 3 == 0 ? 1.0f : 0.0f;
			r[2] = (float) (i % 3);
			refs[i].row = r;
			refs[i].hash = vc_hash_row(r, w, c->opt.seed);
		}
	}
	else
		x = MakeRows(c->n, w, refs);
	*m = NULL;
	fail_after = budget;
	st = c->schema ? vc_train_rows(refs, c->n, c->schema, &c->opt, NULL, m, err)
		: vc_train(refs, c->n, w, &c->opt, NULL, m, err);
	fail_after = -1;
	free(refs);
	free(x);
	return st;
}

static void
Sweep(const Case *c)
{
	const char *name = c->name;
	VcModel    *ref,
			   *m;
	char		err[VC_ERRMSG_LEN];
	long		k,
				failures = 0,
				bad = 0,
				leaked = 0;
	VcStatus	st;

	err[0] = '\0';
	if (!ok(Train(c, -1, &ref, err) == VC_OK, "%s: trains%s%s", name,
			err[0] ? ": " : "", err))
		return;
	for (k = 0;; k++)
	{
		long		before = live_allocs;

		st = Train(c, k, &m, err);
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
	Case		big = {.name = "1,200 rows, 16-64-64-8, validation split", .n = 1200, .dim = 16},
				small = {.name = "60 rows, out-of-fold sample", .n = 60, .dim = 6},
				rows = {.name = "row model, 300 rows", .n = 300};

	vc_set_allocator(CountingAlloc, CountingFree);

	vc_options_init(&big.opt);
	big.opt.seed = 5;
	big.opt.epochs = 1;
	big.opt.latent_dim = 8;
	big.opt.n_hidden = 2;
	big.opt.hidden[0] = big.opt.hidden[1] = 64;
	Sweep(&big);

	vc_options_init(&small.opt);
	small.opt.seed = 5;
	small.opt.epochs = 3;
	Sweep(&small);

	vc_options_init(&rows.opt);
	rows.opt.seed = 5;
	rows.opt.epochs = 3;
	rows.schema = RowSchema();
	Sweep(&rows);
	return done_testing();
}
