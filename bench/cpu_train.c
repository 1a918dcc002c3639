/*
 * bench/cpu_train.c - the core's training (vc_train) on the two networks of
 * bench/cpu.sh, without PostgreSQL: for profiling and for comparing the
 * phases (training loop, score sample) of two builds of src/core quickly.
 * Synthetic data of the same shape as cpu_bench.py's (not the same values).
 * Prints per-phase seconds and a checksum of the model (weights and score
 * sample), so a change of arithmetic shows up as a different checksum.
 *
 *   gcc -O3 -march=native -fno-math-errno -Isrc/core -o /tmp/cpu_train \
 *       bench/cpu_train.c src/core/vc_*.c -lopenblas -lm -lpthread
 *
 * (every core source; -fno-math-errno as the Makefile builds vc_rng.c, whose
 * training-noise loop is otherwise left scalar)
 *   /tmp/cpu_train mnist|mnist-dense|kdd|letters [rows] [epochs]
 *
 * mnist-dense: the MNIST-like network on dense rows, every pixel uniform in
 * [0, 1) instead of about 80% zeros (Adam's moments go subnormal more there;
 * see src/core/vc_fpenv.h).
 * letters: the 1.1 default options (16-64-64-8, 8 epochs, 10% held out on
 * 200,000 rows) on 16 features in 26 clusters, the shape of
 * bench/train_cost.sh's letters table, where the training time bar of
 * docs/detect.md is missed; [epochs] is ignored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include "vc.h"

static double last_epoch_at;

/* epoch_done callback: prints the epoch's loss and time, remembers when it ended */
static void
EpochDone(void *arg, int epoch, double loss, double val, double elapsed)
{
	(void) arg;
	(void) val;
	fprintf(stderr, "epoch %d: loss %.4f, %.3f s\n", epoch, loss, elapsed);
	last_epoch_at = elapsed;
}

/* a vc_mix64 chain over the bits of every weight and every method's score sample */
static uint64_t
Checksum(const VcModel *m)
{
	uint64_t	h = 0;
	size_t		i;
	int			k;

	for (i = 0; i < m->n_params; i++)
	{
		uint32_t	b;

		memcpy(&b, &m->params[i], 4);
		h = vc_mix64(h ^ b);
	}
	for (k = 0; k < VC_N_METHODS; k++)
		for (i = 0; i < (size_t) m->n_scores; i++)
		{
			uint32_t	b;

			memcpy(&b, &m->scores[k][i], 4);
			h = vc_mix64(h ^ b);
		}
	return h;
}

/* the mnist and kdd networks' options, fixed but for the epochs */
static void
FixedOptions(VcOptions *opt, int mnist, int epochs)
{
	opt->epochs = epochs;
	opt->batch_size = 128;
	opt->learning_rate = 1e-3;
	opt->validation_fraction = 0;
	opt->normalize = VC_NORM_NONE;
	opt->n_hidden = 1;
	if (mnist)
	{
		opt->hidden[0] = 400;
		opt->latent_dim = 20;
		opt->likelihood = VC_LIK_BERNOULLI;
		opt->activation = VC_ACT_RELU;
	}
	else
	{
		opt->hidden[0] = 60;
		opt->latent_dim = 10;
		opt->likelihood = VC_LIK_GAUSSIAN;
		opt->activation = VC_ACT_TANH;
		opt->mc_samples = 10;
	}
}

/* trains one of the networks on synthetic rows; prints phase times and the checksum */
int
main(int argc, char **argv)
{
	int			dense = argc > 1 && strcmp(argv[1], "mnist-dense") == 0;
	int			mnist = dense || (argc > 1 && strcmp(argv[1], "mnist") == 0);
	int			letters = argc > 1 && strcmp(argv[1], "letters") == 0;
	int64_t		n = argc > 2 ? atoll(argv[2]) : (mnist ? 60000 : 200000);
	int			dim = mnist ? 784 : letters ? 16 : 118;
	float	   *data;
	VcRowRef   *refs;
	VcOptions	opt;
	VcCallbacks cb = {NULL, EpochDone, NULL, NULL};
	VcModel    *m;
	char		err[VC_ERRMSG_LEN];
	double		t0,
				t1;
	int64_t		i;
	int			j;

	data = malloc(sizeof(float) * n * dim);
	refs = malloc(sizeof(VcRowRef) * n);
	for (i = 0; i < n; i++)
	{
		float	   *x = data + i * dim;

		for (j = 0; j < dim; j++)
		{
			double		u = vc_uniform(0x1234, (uint64_t) (i * dim + j));

			if (letters)
				x[j] = (float) (vc_normal(0x77, (uint64_t) (i * dim + j)) + (double) (i % 26));
			else if (dense)
				x[j] = (float) u;
			else if (mnist)
			{
				double		yy = j / 28 - 13.5,
							xx = j % 28 - 13.5;
				double		p = 0.75 * exp(-(yy * yy + xx * xx) / 72.0);

				x[j] = u < p ? (float) (1 + (int) (vc_uniform(0x99, i * dim + j) * 16)) / 16 : 0.0f;
			}
			else if (j < 84)
				x[j] = 0.0f;
			else
				x[j] = roundf(vc_normal(0x77, i * dim + j) * 32) / 32;
		}
		if (!mnist && !letters)
		{
			x[(int) (vc_uniform(0x55, i) * 3)] = 1.0f;
			x[3 + (int) (vc_uniform(0x56, i) * vc_uniform(0x57, i) * 70)] = 1.0f;
			x[73 + (int) (vc_uniform(0x58, i) * vc_uniform(0x59, i) * 11)] = 1.0f;
		}
		refs[i].row = x;
		refs[i].hash = vc_hash_row(x, dim, 1);
	}

	vc_options_init(&opt);
	opt.seed = 1;
	opt.verbose = 1;
	if (!letters)				/* letters: everything else as vc_train resolves it */
		FixedOptions(&opt, mnist, argc > 3 ? atoi(argv[3]) : 2);
	t0 = vc_now();
	if (vc_train(refs, n, dim, &opt, &cb, &m, err) != VC_OK)
	{
		fprintf(stderr, "vc_train: %s\n", err);
		return 1;
	}
	t1 = vc_now();
	printf("%s rows %lld: total %.3f s, loop %.3f s, after loop %.3f s, "
		   "rows*epochs/s (loop) %.0f, checksum %016llx, loss %.6f\n",
		   dense ? "mnist-dense" : mnist ? "mnist" : letters ? "letters" : "kdd", (long long) n,
		   t1 - t0, last_epoch_at, t1 - t0 - last_epoch_at, n * m->epochs_run / last_epoch_at,
		   (unsigned long long) Checksum(m), m->train_loss[m->epochs_run - 1]);
	vc_model_free(m);
	free(refs);
	free(data);
	return 0;
}
