/*
 * test_batch.c - batched scoring (vc_score_batch) against per-row scoring
 * (vc_score_row), for array models (gaussian and bernoulli, with and
 * without hidden layers, the KDD-like benchmark network) and a row model:
 *
 *   - a row's batched scores never depend on the rows scored with it: alone
 *     in a block, in a full block, in reversed order, the same bits;
 *   - they are vc_score_row's bits wherever the BLAS computes a row of each
 *     layer's product the same at the per-row and at the block's row count
 *     (probed here with the model's own layer shapes); where it does not
 *     (OpenBLAS's small-matrix kernels sum in another order), within a
 *     relative 1e-5 (docs/scoring.md);
 *   - a bad value is VC_EDATA naming the row and the column.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#include "tap.h"
#include "vc.h"
#include "../../bench/kdd_like.h"

#define N_SCORE 700				/* rows scored per model: a few blocks and a short one */

typedef struct Case
{
	const char *name;
	int			dim;
	int			hidden;			/* 0: none */
	int			latent;
	int			likelihood;
	int			activation;
	int			mc_samples;
	int			kdd;			/* rows from bench/kdd_like.h */
} Case;

/* row i of a case's data: correlated gaussians, or KDD-like, or 0/1 for bernoulli */
static void
MakeRows(const Case *c, float *x, int n, uint64_t seed)
{
	if (c->kdd)
	{
		MakeKddLike(x, n, c->dim);
		return;
	}
	for (int i = 0; i < n; i++)
		for (int j = 0; j < c->dim; j++)
		{
			float		v = vc_normal(seed, (uint64_t) (i * c->dim + j));

			if (c->likelihood == VC_LIK_BERNOULLI)
				x[i * c->dim + j] = v > 0.3f * (j % 3) ? 1.0f : 0.0f;
			else
				x[i * c->dim + j] = 2.0f * v + (j ? 0.5f * x[i * c->dim + j - 1] : 0.0f);
		}
}

static VcModel *
TrainCase(const Case *c, float *x, int n)
{
	VcRowRef   *refs = malloc(sizeof(VcRowRef) * n);
	VcOptions	opt;
	VcModel    *m = NULL;
	char		err[VC_ERRMSG_LEN];

	for (int i = 0; i < n; i++)
	{
		refs[i].row = x + (size_t) i * c->dim;
		refs[i].hash = vc_hash_row(refs[i].row, c->dim, 0);
	}
	vc_options_init(&opt);
	opt.epochs = 2;
	opt.latent_dim = c->latent;
	opt.likelihood = c->likelihood;
	opt.activation = c->activation;
	opt.mc_samples = c->mc_samples;
	opt.n_hidden = c->hidden ? 1 : 0;
	opt.hidden[0] = c->hidden;
	if (vc_train(refs, n, c->dim, &opt, NULL, &m, err) != VC_OK)
		diag("%s: training failed: %s", c->name, err);
	free(refs);
	return m;
}

/*
 * 1 when cblas_sgemm gives each row of X W the same bits for m1 and m2 rows
 * of X, for the (in, out) shapes of m's layers [from, to]
 */
static int
BlasRowIndependent(const VcModel *m, int from, int to, int m1, int m2)
{
	int			same = 1;

	for (int l = from; l <= to && same; l++)
	{
		int			k = m->layers[l].in,
					nn = m->layers[l].out,
					rows = m1 > m2 ? m1 : m2;
		float	   *a = malloc(sizeof(float) * rows * k);
		float	   *c1 = calloc((size_t) rows * nn, sizeof(float));
		float	   *c2 = calloc((size_t) rows * nn, sizeof(float));

		for (int i = 0; i < rows * k; i++)
			a[i] = vc_normal(77, (uint64_t) i);
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m1, nn, k, 1.0f, a, k,
					m->params + m->layers[l].w_off, nn, 1.0f, c1, nn);
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m2, nn, k, 1.0f, a, k,
					m->params + m->layers[l].w_off, nn, 1.0f, c2, nn);
		same = memcmp(c1, c2, sizeof(float) * (m1 < m2 ? m1 : m2) * nn) == 0;
		free(a);
		free(c1);
		free(c2);
	}
	return same;
}

/* the scores of rows x[0, n) in blocks of at most `block` rows, in order or reversed */
static void
ScoreBlocks(const VcModel *m, VcBatch *b, const float *x, int n, int block, int reversed,
			double *out)
{
	int			w = m->n_cols;
	float	   *buf = malloc(sizeof(float) * (size_t) block * w);
	double	   *o = malloc(sizeof(double) * (size_t) block * VC_N_METHODS);
	char		err[VC_ERRMSG_LEN];
	int			bad;

	for (int at = 0; at < n; at += block)
	{
		int			nb = n - at < block ? n - at : block;

		for (int r = 0; r < nb; r++)
		{
			int			i = reversed ? n - 1 - (at + r) : at + r;

			memcpy(buf + (size_t) r * w, x + (size_t) i * w, sizeof(float) * w);
		}
		if (vc_score_batch(m, b, buf, nb, 0x7, o, &bad, err) != VC_OK)
			diag("vc_score_batch: %s", err);
		for (int r = 0; r < nb; r++)
		{
			int			i = reversed ? n - 1 - (at + r) : at + r;

			memcpy(out + (size_t) i * VC_N_METHODS, o + (size_t) r * VC_N_METHODS,
				   sizeof(double) * VC_N_METHODS);
		}
	}
	free(buf);
	free(o);
}

/* batched against per-row scores of model m on rows x[0, n) */
static void
CheckModel(const char *name, const VcModel *m, const float *x, int n)
{
	VcBatch    *b = vc_batch_create(m);
	VcScratch  *s = vc_scratch_create(m);
	double	   *full = malloc(sizeof(double) * n * VC_N_METHODS);
	double	   *alone = malloc(sizeof(double) * n * VC_N_METHODS);
	double	   *rev = malloc(sizeof(double) * n * VC_N_METHODS);
	double	   *row = malloc(sizeof(double) * n * VC_N_METHODS);
	double		worst = 0.0;
	int			L = m->opt.mc_samples,
				rows,
				differ = 0,
				identical_blas;
	char		err[VC_ERRMSG_LEN];

	if (!ok(b && s, "%s: workspaces", name))
		return;
	rows = vc_batch_rows(b);
	ScoreBlocks(m, b, x, n, rows, 0, full);
	ScoreBlocks(m, b, x, n, 1, 0, alone);
	ScoreBlocks(m, b, x, n, rows - 3, 1, rev);
	ok(memcmp(full, alone, sizeof(double) * n * VC_N_METHODS) == 0 &&
	   memcmp(full, rev, sizeof(double) * n * VC_N_METHODS) == 0,
	   "%s: a row's batched scores are the same bits alone, in full blocks of %d and "
	   "in reversed blocks of %d", name, rows, rows - 3);

	for (int i = 0; i < n; i++)
		if (vc_score_row(m, s, x + (size_t) i * m->n_cols, 0x7, row + (size_t) i * VC_N_METHODS,
						 err) != VC_OK)
			diag("vc_score_row: %s", err);
	for (int i = 0; i < n * VC_N_METHODS; i++)
	{
		double		rel = fabs(full[i] - row[i]) / (fabs(row[i]) + 1e-30);

		if (memcmp(&full[i], &row[i], sizeof(double)) != 0)
			differ++;
		if (rel > worst)
			worst = rel;
	}
	/*
	 * Then batched and per-row scores must agree bit for bit.  Per row: the
	 * encoder and the mse decoder on 1 row, the draws on L rows; a block:
	 * rows, rows and rows * L.
	 */
	identical_blas = BlasRowIndependent(m, 0, m->n_layers - 1, 1, rows) &&
		BlasRowIndependent(m, m->enc_head + 1, m->dec_head, L, rows * L);
	if (identical_blas)
		ok(differ == 0, "%s: batched scores are vc_score_row's, bit for bit (%d of %d differ)",
		   name, differ, n * VC_N_METHODS);
	else
		ok(worst <= 1e-5, "%s: this BLAS sums some layer shape in another order at another "
		   "row count: batched within %.1e of vc_score_row (%d of %d scores differ)",
		   name, worst, differ, n * VC_N_METHODS);
	free(full);
	free(alone);
	free(rev);
	free(row);
	vc_scratch_free(s);
	vc_batch_free(b);
}

/* a bad value is VC_EDATA with the row's index and the feature named */
static void
CheckBadRow(const VcModel *m, const float *x)
{
	VcBatch    *b = vc_batch_create(m);
	int			w = m->n_cols,
				bad = -1;
	float	   *buf = malloc(sizeof(float) * 5 * w);
	double		out[5 * VC_N_METHODS];
	char		err[VC_ERRMSG_LEN] = "";
	VcStatus	st;

	memcpy(buf, x, sizeof(float) * 5 * w);
	buf[3 * w + 1] = NAN;
	st = vc_score_batch(m, b, buf, 5, 1u << VC_METHOD_MSE, out, &bad, err);
	ok(st == VC_EDATA && bad == 3 && strstr(err, "feature 2"),
	   "a NaN in row 3: VC_EDATA, row %d, \"%s\"", bad, err);
	ok(vc_score_batch(m, b, buf, vc_batch_rows(b) + 1, 1, out, &bad, err) == VC_EINVAL,
	   "more rows than a block holds: VC_EINVAL (%s)", err);
	free(buf);
	vc_batch_free(b);
}

int
main(void)
{
	static const Case cases[] = {
		{"gaussian tanh 8-16-2", 8, 16, 2, VC_LIK_GAUSSIAN, VC_ACT_TANH, 10, 0},
		{"gaussian relu 6-3 (no hidden layer)", 6, 0, 3, VC_LIK_GAUSSIAN, VC_ACT_RELU, 4, 0},
		{"bernoulli relu 64-32-4", 64, 32, 4, VC_LIK_BERNOULLI, VC_ACT_RELU, 10, 0},
		{"KDD-like 118-60-10 tanh gaussian", 118, 60, 10, VC_LIK_GAUSSIAN, VC_ACT_TANH, 10, 1},
		{"MNIST-sized 784-400-20 relu bernoulli", 784, 400, 20, VC_LIK_BERNOULLI, VC_ACT_RELU, 4, 0},
	};

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++)
	{
		const Case *c = &cases[k];
		/* the MNIST-sized case is slow under the sanitizers: fewer rows */
		int			n_train = c->dim > 200 ? 200 : 1500,
					n_score = c->dim > 200 ? 300 : N_SCORE;
		float	   *x = malloc(sizeof(float) * (n_train + n_score) * c->dim);
		VcModel    *m;

		MakeRows(c, x, n_train + n_score, 9 + k);
		m = TrainCase(c, x, n_train);
		if (!ok(m != NULL, "%s: trained", c->name))
			continue;
		/* scored: rows the model did not see (KDD-like: the same generator's first rows) */
		CheckModel(c->name, m, c->kdd ? x : x + (size_t) n_train * c->dim, n_score);
		if (k == 0)
			CheckBadRow(m, x);
		vc_model_free(m);
		free(x);
	}
	return done_testing();
}
