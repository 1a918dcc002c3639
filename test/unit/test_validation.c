/*
 * test_validation.c - early stopping's validation loss.
 *
 * vc_validation_criterion is the mean per-row loss of the held-out rows
 * without the worst 1% (vc_train.c says why); the CPU engine's
 * validation_loss must hand it every row's loss, in idx order, the same
 * numbers its forward pass sums.  And end to end: how badly the model
 * fits one held-out row, beyond the worst 1%, must not matter to which epoch
 * it keeps (a plain mean lets that one row decide).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vc_nn.h"
#include "vc_train.h"

/* vc_validation_criterion on hand-made losses: the 1% trim, few rows, negatives, non-finite */
static void
CheckCriterion(void)
{
	double		v[1000];
	int			i;

	/* 0..99 and one huge row: 101 rows trim one, the mean of 0..99 stays */
	for (i = 0; i < 100; i++)
		v[i] = (double) ((i * 37) % 100);	/* a permutation of 0..99 */
	v[100] = 1e12;
	ok(vc_validation_criterion(v, 101, NULL) == 49.5,
	   "101 rows: the worst one is left out (mean 49.5)");

	/* fewer than 100 rows: the plain mean, outlier included */
	for (i = 0; i < 9; i++)
		v[i] = 1.0;
	v[9] = 91.0;
	ok(vc_validation_criterion(v, 10, NULL) == 10.0, "10 rows: nothing is left out (mean 10)");

	/* 1000 rows: exactly the 10 largest go, wherever they are */
	for (i = 0; i < 1000; i++)
		v[i] = (i % 100 == 7) ? 1e9 + i : 2.0;
	ok(vc_validation_criterion(v, 1000, NULL) == 2.0, "1000 rows: the 10 worst are left out");

	/* negative losses (densities above 1) are ordinary values */
	for (i = 0; i < 200; i++)
		v[i] = -100.0 - i;
	ok(vc_validation_criterion(v, 200, NULL) == -100.0 - (2.0 + 199.0) / 2.0,
	   "negative losses: the two largest go (mean -200.5)");

	/* a non-finite row loss is divergence, not an outlier to drop */
	for (i = 0; i < 500; i++)
		v[i] = 1.0;
	v[250] = NAN;
	ok(isnan(vc_validation_criterion(v, 500, NULL)), "a NaN row loss gives NaN");
	v[250] = INFINITY;
	ok(isnan(vc_validation_criterion(v, 500, NULL)), "an infinite row loss gives NaN");
	ok(isnan(vc_validation_criterion(v, 0, NULL)), "no rows give NaN");
}

/* n rows of d gaussian-ish features, deterministic */
static float *
MakeRows(int n, int d, uint64_t key)
{
	float	   *x = malloc(sizeof(float) * n * d);

	vc_normals(key, 0, x, (size_t) n * d);
	return x;
}

/* the CPU engine's per-row validation losses against one forward pass */
static void
CheckEngineRowLosses(void)
{
	enum
	{
		N = 300, D = 7
	};
	float	   *x = MakeRows(N, D, 11);
	VcRowRef   *refs = malloc(sizeof(VcRowRef) * N);
	int64_t    *idx = malloc(sizeof(int64_t) * N);
	double	   *rl = malloc(sizeof(double) * N);
	double		sum = 0.0,
				fwd = 0.0;
	VcOptions	opt;
	VcModel    *m = NULL;
	VcEngine	e;
	VcNet		net;
	char		err[VC_ERRMSG_LEN];
	int			i,
				bad = 0,
				batch = 64;

	vc_options_init(&opt);
	opt.hidden[0] = 5;
	opt.n_hidden = 1;
	opt.latent_dim = 2;
	ok(vc_options_resolve(&opt, N, D, err) == VC_OK && vc_model_create(&m, &opt, D, err) == VC_OK,
	   "a small model (%s)", err);
	vc_model_init_params(m);
	for (i = 0; i < N; i++)
	{
		refs[i].row = x + (size_t) i * D;
		refs[i].hash = 0;
		idx[i] = (i * 113) % N;	/* not the identity: row_loss follows idx */
	}
	vc_engine_cpu_init(&e);
	ok(e.begin(&e, m, refs, N, batch, err) == VC_OK, "engine begins (%s)", err);
	ok(e.validation_loss(&e, idx, N, 5, rl, NULL, err) == VC_OK, "validation pass (%s)", err);
	e.end(&e);

	/*
	 * Reference: the same chunks through vc_net_forward, with the eps of vc.h's
	 * contract (validation rows [at, at + batch) draw from counter at * latent).
	 */
	ok(vc_net_init(&net, m, batch, 0) == VC_OK, "reference net");
	for (int at = 0; at < N; at += batch)
	{
		int			nb = N - at < batch ? N - at : batch;

		for (i = 0; i < nb; i++)
			memcpy(net.x + (size_t) i * D, refs[idx[at + i]].row, sizeof(float) * D);
		vc_train_normals(5, (uint64_t) at * opt.latent_dim, net.eps, (size_t) nb * opt.latent_dim);
		fwd += vc_net_forward(&net, nb, opt.beta);
		for (i = 0; i < nb; i++)
		{
			double		want = net.row_recon[i] + opt.beta * net.row_kl[i];

			/* the engine splits each chunk in halves: the same per-row arithmetic */
			if (rl[at + i] != want)
				bad++;
			sum += rl[at + i];
		}
	}
	vc_net_free(&net);
	ok(bad == 0, "every row's validation loss equals the forward pass's (%d differ)", bad);
	ok(fabs(sum - fwd) <= 1e-9 * fabs(fwd), "and they add up to its summed loss (%.6f vs %.6f)",
	   sum, fwd);
	vc_model_free(m);
	free(x);
	free(refs);
	free(idx);
	free(rl);
}

/*
 * A CPU engine whose validation pass adds `spike` nats to its first row on
 * even epochs: a held-out row the model gets catastrophically wrong, now
 * and then, as the rare-category rows of KDD Cup 99 do.
 */
typedef struct SpikyEngine
{
	VcEngine	cpu;
	double		spike;			/* 0: a plain CPU engine */
	int			passes;
	double		plain_mean[64];	/* what a plain mean would have said */
} SpikyEngine;

static SpikyEngine spiky;

/* the spiky engine's callbacks other than SpValidate hand over to its CPU engine */
static VcStatus
SpBegin(VcEngine *e, const VcModel *m, const VcRowRef *refs, int64_t n, int batch, char *err)
{
	(void) e;
	return spiky.cpu.begin(&spiky.cpu, m, refs, n, batch, err);
}

static VcStatus
SpTrain(VcEngine *e, const int64_t *idx, int64_t n, uint64_t key, int64_t *step, double *loss,
		const VcCallbacks *cb, char *err)
{
	(void) e;
	return spiky.cpu.train_epoch(&spiky.cpu, idx, n, key, step, loss, cb, err);
}

/* the CPU engine's validation pass, row 0 spiked on even passes; notes each pass's plain mean */
static VcStatus
SpValidate(VcEngine *e, const int64_t *idx, int64_t n, uint64_t key, double *row_loss,
		   const VcCallbacks *cb, char *err)
{
	VcStatus	st = spiky.cpu.validation_loss(&spiky.cpu, idx, n, key, row_loss, cb, err);
	double		sum = 0.0;

	(void) e;
	spiky.passes++;
	if (st == VC_OK && spiky.spike && spiky.passes % 2 == 0)
		row_loss[0] += spiky.spike;
	for (int64_t i = 0; i < n; i++)
		sum += row_loss[i];
	if (spiky.passes <= 64)
		spiky.plain_mean[spiky.passes - 1] = sum / n;
	return st;
}

static VcStatus
SpSaveBest(VcEngine *e, char *err)
{
	(void) e;
	return spiky.cpu.save_best(&spiky.cpu, err);
}

static VcStatus
SpGetParams(VcEngine *e, float *dst, char *err)
{
	(void) e;
	return spiky.cpu.get_params(&spiky.cpu, dst, err);
}

static void
SpEnd(VcEngine *e)
{
	(void) e;
	spiky.cpu.end(&spiky.cpu);
}

/*
 * Trains 12 epochs without early stopping on a copy of x through the spiky
 * engine adding `spike`; returns the model (NULL if training failed) and in
 * *plain_best the epoch a plain mean of the validation losses would keep.
 */
static VcModel *
TrainSpiky(const float *x, int n, int d, double spike, int *plain_best)
{
	VcRowRef   *refs = malloc(sizeof(VcRowRef) * n);
	float	   *copy = malloc(sizeof(float) * n * d);	/* training normalizes in place */
	VcOptions	opt;
	VcEngine	e;
	VcModel    *m = NULL;
	char		err[VC_ERRMSG_LEN];

	memcpy(copy, x, sizeof(float) * n * d);
	for (int i = 0; i < n; i++)
	{
		refs[i].row = copy + (size_t) i * d;
		refs[i].hash = vc_hash_row(refs[i].row, d, 0);
	}
	vc_options_init(&opt);
	opt.epochs = 12;
	opt.patience = 0;
	memset(&spiky, 0, sizeof(spiky));
	spiky.spike = spike;
	vc_engine_cpu_init(&spiky.cpu);
	memset(&e, 0, sizeof(e));
	e.name = "spiky";
	e.begin = SpBegin;
	e.train_epoch = SpTrain;
	e.validation_loss = SpValidate;
	e.save_best = SpSaveBest;
	e.get_params = SpGetParams;
	e.end = SpEnd;
	if (vc_train_engine(refs, n, d, &opt, NULL, &e, &m, err) != VC_OK)
		diag("training failed: %s", err);
	*plain_best = 1;
	for (int k = 1; k < spiky.passes && k < 64; k++)
		if (spiky.plain_mean[k] < spiky.plain_mean[*plain_best - 1])
			*plain_best = k + 1;
	free(refs);
	free(copy);
	return m;
}

/*
 * End to end: a spike's size does not matter once the row is among the worst
 * 1% -- 1e7 or 1e12 nats give the same validation losses, kept epoch and
 * weights -- while a plain mean would move its choice to an unspiked epoch.
 */
static void
CheckSpikesBounded(void)
{
	enum
	{
		N = 3000, D = 6
	};
	float	   *x = MakeRows(N, D, 23);
	int			plain_quiet,
				plain_spiky,
				plain_huge,
				same_odd = 1;
	VcModel    *quiet,
			   *spiky7,
			   *spiky12;

	/* a correlated column gives the model something to learn for 12 epochs */
	for (int i = 0; i < N; i++)
		x[i * D + 5] = x[i * D] + 0.1f * x[i * D + 5];
	quiet = TrainSpiky(x, N, D, 0.0, &plain_quiet);
	spiky7 = TrainSpiky(x, N, D, 1e7, &plain_spiky);
	spiky12 = TrainSpiky(x, N, D, 1e12, &plain_huge);
	ok(quiet && spiky7 && spiky12, "three runs train");
	if (quiet && spiky7 && spiky12)
	{
		diag("kept epoch %d of %d, %d with spikes; a plain mean keeps %d, %d with spikes",
			 quiet->best_epoch, quiet->epochs_run, spiky7->best_epoch, plain_quiet,
			 plain_spiky);
		for (int k = 0; k < quiet->epochs_run; k += 2)
			same_odd &= quiet->val_loss[k] == spiky7->val_loss[k];
		ok(same_odd, "unspiked (odd) epochs have the unspiked validation loss");
		ok(plain_spiky % 2 == 1 && plain_huge % 2 == 1 && plain_quiet % 2 == 0,
		   "a plain mean would let the spiked row decide (epoch %d, not %d)",
		   plain_spiky, plain_quiet);
		ok(memcmp(spiky7->val_loss, spiky12->val_loss,
				  sizeof(double) * spiky7->epochs_run) == 0,
		   "a spike of 1e7 or 1e12 nats gives the same validation losses");
		ok(spiky7->best_epoch == spiky12->best_epoch &&
		   memcmp(spiky7->params, spiky12->params, sizeof(float) * spiky7->n_params) == 0,
		   "...the same kept epoch (%d) and the same weights", spiky12->best_epoch);
	}
	vc_model_free(quiet);
	vc_model_free(spiky7);
	vc_model_free(spiky12);
	free(x);
}

/* TAP: the trimmed validation criterion, the engine's per-row losses and bounded spikes */
int
main(void)
{
	CheckCriterion();
	CheckEngineRowLosses();
	CheckSpikesBounded();
	return done_testing();
}
