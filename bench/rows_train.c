/*
 * bench/rows_train.c - a row model against the array path on the same data,
 * without PostgreSQL: training throughput (vc_train_rows on compact rows vs
 * vc_train on the same rows already expanded into the network input) and
 * scoring throughput (vc_score_row per row, both kinds of model).  The
 * issue's goal: training >= 0.8x and scoring >= 0.7x the array path.
 *
 * The data: 8 numbers (two with NULLs), 2 categorical columns of 6 and 12
 * categories (one with NULLs), 2 booleans; the array path gets the expanded
 * input of the same rows (one-hot categories, NULL flags) as gaussian
 * features, with the same network widths.
 *
 *   gcc -O3 -march=native -Isrc/core -o /tmp/rows_train bench/rows_train.c \
 *       src/core/vc_*.c -lopenblas -lm -lpthread      (every core source)
 *   /tmp/rows_train [rows] [epochs] [rows-only]
 * (a third argument stops after the row model's training: for profiling it)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vc.h"
#include "vc_schema.h"

#define N_NUM	8
#define N_CAT	2
#define N_BOOL	2
#define N_COLS	(N_NUM + N_CAT + N_BOOL)

static const int n_cats[N_CAT] = {6, 12};

/* the schema of the benchmark's columns; category texts "k0", "k1", ... */
static void
BuildSchema(VcSchema *s, VcColumn *cols, char names[][16], char *cats[][16])
{
	static char texts[N_CAT][16][16];
	int			i;

	memset(s, 0, sizeof(*s));
	memset(cols, 0, sizeof(VcColumn) * N_COLS);
	for (i = 0; i < N_COLS; i++)
	{
		snprintf(names[i], 16, "c%d", i);
		cols[i].name = cols[i].attribute = names[i];
		cols[i].scale = 1.0f;
		cols[i].kind = i < N_NUM ? VC_COL_CONTINUOUS :
			i < N_NUM + N_CAT ? VC_COL_CATEGORICAL : VC_COL_BOOLEAN;
		if (cols[i].kind == VC_COL_CATEGORICAL)
		{
			int			c = i - N_NUM;

			cols[i].n_categories = n_cats[c];
			for (int k = 0; k < n_cats[c] - 1; k++)
			{
				snprintf(texts[c][k], 16, "k%d", k);
				cats[c][k] = texts[c][k];
			}
			cols[i].categories = cats[c];
		}
	}
	s->n_columns = N_COLS;
	s->columns = cols;
	s->max_categories = 32;
}

/* compact row i: correlated numbers, categories following them, a few NULLs */
static void
MakeRow(int64_t i, float *r)
{
	float		base = vc_normal(1, (uint64_t) i);

	for (int j = 0; j < N_NUM; j++)
		r[j] = 3.0f * j + base * (1 + j % 3) + 0.3f * vc_normal(2 + j, (uint64_t) i);
	r[N_NUM] = (float) ((int) (fabsf(base) * 2) % n_cats[0]);
	r[N_NUM + 1] = (float) ((uint64_t) (vc_uniform(9, (uint64_t) i) * (n_cats[1] - 1)));
	r[N_NUM + 2] = base > 0;
	r[N_NUM + 3] = vc_uniform(10, (uint64_t) i) < 0.2;
	if (i % 17 == 0)
		r[1] = vc_null_value();
	if (i % 29 == 0)
		r[5] = vc_null_value();
	if (i % 13 == 0)
		r[N_NUM + 1] = vc_null_value();
}

/* both models' options: hidden layer of 32, 4 latent units, seed 1, no validation set */
static void
Options(VcOptions *o, int epochs)
{
	vc_options_init(o);
	o->epochs = epochs;
	o->n_hidden = 1;
	o->hidden[0] = 32;
	o->latent_dim = 4;
	o->validation_fraction = 0.0;
	o->patience = 0;
	o->seed = 1;
}

/* rows per second of vc_score_row over the first n rows (raw: compact or expanded) */
static double
ScoreRate(const VcModel *m, const float *rows, int stride, int64_t n, double *sum)
{
	VcScratch  *s = vc_scratch_create(m);
	double		out[VC_N_METHODS],
				t0 = vc_now();
	char		err[VC_ERRMSG_LEN];

	*sum = 0;
	for (int64_t i = 0; i < n; i++)
	{
		if (vc_score_row(m, s, rows + i * stride, 1u << VC_METHOD_RECON_PROB, out, err) != VC_OK)
		{
			fprintf(stderr, "score: %s\n", err);
			exit(1);
		}
		*sum += out[VC_METHOD_RECON_PROB];
	}
	vc_scratch_free(s);
	return (double) n / (vc_now() - t0);
}

/*
 * Trains the row model on argv[1] rows (default 100000) for argv[2] epochs
 * (default 3), stopping there given a third argument; otherwise trains the
 * array model on the same rows expanded by the row model's schema and prints
 * the training and scoring rates of both (scoring over at most 20,000 rows)
 * and their ratios.
 */
int
main(int argc, char **argv)
{
	int64_t		n = argc > 1 ? atoll(argv[1]) : 100000;
	int			epochs = argc > 2 ? atoi(argv[2]) : 3;
	int64_t		n_score = n < 20000 ? n : 20000;
	VcSchema	s;
	VcColumn	cols[N_COLS];
	char		names[N_COLS][16];
	char	   *cats[N_CAT][16];
	VcOptions	o;
	VcModel    *rm = NULL,
			   *am = NULL;
	char		err[VC_ERRMSG_LEN];
	float	   *compact = malloc(sizeof(float) * n * N_COLS);
	float	   *raw = malloc(sizeof(float) * n * N_COLS);
	float	   *expanded;
	VcRowRef   *refs = malloc(sizeof(VcRowRef) * n);
	double		t0,
				t_rows,
				t_array,
				r_rows,
				r_array,
				sum_rows,
				sum_array;
	int			d;
	VcSchema   *laid;

	BuildSchema(&s, cols, names, cats);
	for (int64_t i = 0; i < n; i++)
		MakeRow(i, raw + i * N_COLS);

	/* the row model */
	memcpy(compact, raw, sizeof(float) * n * N_COLS);
	Options(&o, epochs);
	for (int64_t i = 0; i < n; i++)
	{
		refs[i].row = compact + i * N_COLS;
		refs[i].hash = vc_hash_row(refs[i].row, N_COLS, o.seed);
	}
	t0 = vc_now();
	if (vc_train_rows(refs, n, &s, &o, NULL, &rm, err) != VC_OK)
	{
		fprintf(stderr, "vc_train_rows: %s\n", err);
		return 1;
	}
	t_rows = vc_now() - t0;
	if (argc > 3)
	{
		printf("row model: %.0f rows/s (%.2f s)\n", n * epochs / t_rows, t_rows);
		return 0;
	}

	/* the same rows, expanded by the trained schema, for the array path */
	laid = rm->schema;
	d = laid->input_width;
	expanded = malloc(sizeof(float) * n * d);
	for (int64_t i = 0; i < n; i++)
	{
		float		xn[N_COLS];

		vc_schema_normalize(laid, raw + i * N_COLS, xn);
		vc_schema_expand(laid, xn, expanded + i * d);
	}
	free(refs);
	refs = malloc(sizeof(VcRowRef) * n);
	{
		float	   *copy = malloc(sizeof(float) * n * d);

		memcpy(copy, expanded, sizeof(float) * n * d);
		for (int64_t i = 0; i < n; i++)
		{
			refs[i].row = copy + i * d;
			refs[i].hash = vc_hash_row(refs[i].row, d, o.seed);
		}
		Options(&o, epochs);
		t0 = vc_now();
		if (vc_train(refs, n, d, &o, NULL, &am, err) != VC_OK)
		{
			fprintf(stderr, "vc_train: %s\n", err);
			return 1;
		}
		t_array = vc_now() - t0;
		free(copy);
	}

	r_rows = ScoreRate(rm, raw, N_COLS, n_score, &sum_rows);
	r_array = ScoreRate(am, expanded, d, n_score, &sum_array);
	printf("%lld rows, %d columns -> %d input units (%d head units), %d epochs\n",
		   (long long) n, N_COLS, d, rm->head_dim, epochs);
	printf("training: row model %.0f rows/s (%.2f s), array path %.0f rows/s (%.2f s): ratio %.2f\n",
		   n * epochs / t_rows, t_rows, n * epochs / t_array, t_array, t_array / t_rows);
	printf("scoring (recon_prob, %lld rows): row model %.0f rows/s, array path %.0f rows/s: ratio %.2f\n",
		   (long long) n_score, r_rows, r_array, r_rows / r_array);
	printf("(mean scores: row model %.3f, array path %.3f)\n", sum_rows / n_score, sum_array / n_score);
	vc_model_free(rm);
	vc_model_free(am);
	free(compact);
	free(raw);
	free(expanded);
	free(refs);
	return 0;
}
