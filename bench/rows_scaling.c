/*
 * bench/rows_scaling.c - why row models scale numbers robustly: detection
 * quality with and without a few wild training rows.
 *
 * Six continuous columns driven by two hidden factors.  The test rows are
 * 2,000 ordinary rows and 200 anomalies that break the correlation (one
 * column off by 10 noise standard deviations, within its usual range).  The
 * training rows are 20,000 ordinary rows, clean or with 0.5% of them
 * holding 1e6 in the first column (a sensor glitch), or with a first
 * column whose long tail is real (log-normal: its largest values lie 20 and
 * more robust standard deviations out, and must not be mistaken for
 * glitches).  A row model (median
 * and IQR scaling, vc_train_rows) and an array model of the same rows (mean
 * and standard deviation, vc_train) are trained on each, with the same
 * network, and the ROC AUC of their recon_prob scores on the test rows is
 * printed.
 *
 *   gcc -O3 -march=native -Isrc/core -o /tmp/rows_scaling bench/rows_scaling.c \
 *       src/core/vc_*.c -lopenblas -lm -lpthread      (every core source)
 *   /tmp/rows_scaling [epochs]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vc.h"
#include "vc_schema.h"

#define N_COLS	6
#define N_TRAIN 20000
#define N_OK	2000
#define N_BAD	200

/*
 * row i of stream `key`: two factors mixed into six columns, plus noise;
 * with heavy, the first column is log-normal in the first factor (a long
 * right tail that is data, not damage)
 */
static void
MakeRow(uint64_t key, int64_t i, int heavy, float *r)
{
	float		a = vc_normal(key, (uint64_t) i * 8),
				b = vc_normal(key, (uint64_t) i * 8 + 1);

	for (int j = 0; j < N_COLS; j++)
		r[j] = 10.0f * (j + 1) + (j % 2 ? a : b) * (1.0f + j) + 0.5f * (j < 3 ? a : -b) +
			0.2f * vc_normal(key, (uint64_t) i * 8 + 2 + j);
	if (heavy)
		r[0] = 10.0f * expf(1.2f * a) + 0.2f * vc_normal(key, (uint64_t) i * 8 + 2);
}

/* ROC AUC of scores where the last n_bad rows are the anomalies (ties count half) */
static double
Auc(const double *sc, int n_ok, int n_bad)
{
	double		wins = 0;

	for (int i = n_ok; i < n_ok + n_bad; i++)
		for (int j = 0; j < n_ok; j++)
			wins += sc[i] > sc[j] ? 1.0 : (sc[i] == sc[j] ? 0.5 : 0.0);
	return wins / ((double) n_ok * n_bad);
}

/* AUC of model m on the test rows */
static double
TestAuc(const VcModel *m, const float *test)
{
	VcScratch  *s = vc_scratch_create(m);
	double	   *sc = malloc(sizeof(double) * (N_OK + N_BAD)),
				out[VC_N_METHODS],
				auc;
	char		err[VC_ERRMSG_LEN];

	for (int i = 0; i < N_OK + N_BAD; i++)
	{
		if (vc_score_row(m, s, test + i * N_COLS, 1u << VC_METHOD_RECON_PROB, out, err) != VC_OK)
		{
			fprintf(stderr, "score: %s\n", err);
			exit(1);
		}
		sc[i] = out[VC_METHOD_RECON_PROB];
	}
	auc = Auc(sc, N_OK, N_BAD);
	vc_scratch_free(s);
	free(sc);
	return auc;
}

/*
 * Trains a row model and an array model on each of three training sets
 * (clean, 0.5% of rows at 1e6 in x0, x0 log-normal) and prints their ROC
 * AUC on that scenario's test rows; argv[1]: epochs (default 20).
 */
int
main(int argc, char **argv)
{
	int			epochs = argc > 1 ? atoi(argv[1]) : 20;
	float	   *test = malloc(sizeof(float) * (N_OK + N_BAD) * N_COLS);
	float	   *rows = malloc(sizeof(float) * N_TRAIN * N_COLS);
	VcRowRef   *refs = malloc(sizeof(VcRowRef) * N_TRAIN);
	VcColumn	cols[N_COLS];
	char		names[N_COLS][8];
	VcSchema	s;

	memset(&s, 0, sizeof(s));
	memset(cols, 0, sizeof(cols));
	for (int j = 0; j < N_COLS; j++)
	{
		snprintf(names[j], sizeof(names[j]), "x%d", j);
		cols[j].name = cols[j].attribute = names[j];
		cols[j].kind = VC_COL_CONTINUOUS;
		cols[j].scale = 1.0f;
	}
	s.n_columns = N_COLS;
	s.columns = cols;
	s.max_categories = 32;
	printf("ROC AUC of recon_prob, %d anomalies among %d test rows, %d training rows, %d epochs\n",
		   N_BAD, N_OK + N_BAD, N_TRAIN, epochs);
	printf("%-38s %12s %12s\n", "training rows", "robust (row)", "std (array)");
	for (int scenario = 0; scenario < 3; scenario++)
	{
		int			wild = scenario == 1,
					heavy = scenario == 2;
		VcOptions	o;
		VcModel    *rm = NULL,
				   *am = NULL;
		char		err[VC_ERRMSG_LEN];

		for (int i = 0; i < N_OK + N_BAD; i++)
		{
			MakeRow(77, i, heavy, test + i * N_COLS);
			if (i >= N_OK)
				test[i * N_COLS + 2 + i % 3] += 10 * 0.2f * (i % 2 ? 1 : -1);
		}
		for (int pass = 0; pass < 2; pass++)
		{
			for (int i = 0; i < N_TRAIN; i++)
			{
				MakeRow(11, i, heavy, rows + i * N_COLS);
				if (wild && i % 200 == 0)
					rows[i * N_COLS] = 1e6f;
				refs[i].row = rows + i * N_COLS;
				refs[i].hash = vc_hash_row(refs[i].row, N_COLS, 5);
			}
			/* the same small network for both kinds of model */
			vc_options_init(&o);
			o.n_hidden = 1;
			o.hidden[0] = 16;
			o.latent_dim = 2;
			/* a fixed seed, and epochs enough to converge */
			o.seed = 5;
			o.epochs = epochs;
			if (pass == 0 ? vc_train_rows(refs, N_TRAIN, &s, &o, NULL, &rm, err) != VC_OK
				: vc_train(refs, N_TRAIN, N_COLS, &o, NULL, &am, err) != VC_OK)
			{
				fprintf(stderr, "training: %s\n", err);
				return 1;
			}
		}
		printf("%-38s %12.3f %12.3f\n", wild ? "with 0.5% of rows at 1e6 in x0" :
			   heavy ? "clean, x0 log-normal (a real long tail)" : "clean",
			   TestAuc(rm, test), TestAuc(am, test));
		vc_model_free(rm);
		vc_model_free(am);
	}
	free(test);
	free(rows);
	free(refs);
	return 0;
}
