/*
 * gpu_bench.c - training throughput of a training engine through
 * vc_train_engine, on synthetic data of the two classic shapes.
 *
 *	gpu_bench --net mnist|kdd --batch N [--rows N] [--epochs N]
 *			  [--engine cuda|cpu] [--graphs 0|1] [--dump FILE]
 *
 * Prints one line of key=value pairs; "steady" is rows x epochs / s over
 * epochs 2..E (the first epoch pays for graph capture and cuBLAS's first
 * calls), "total" includes begin() (the upload) and the end of the run.
 * --dump writes the raw rows (float32, row-major) for bench/gpu_torch.py,
 * so PyTorch trains on the same values, then exits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vc.h"
#include "kdd_like.h"
#include "vgp_cuda.h"

/* binary rows from ten prototypes with 5% of the bits flipped (MNIST-like) */
static void
MakeMnistLike(float *v, int64_t n, int dim)
{
	for (int64_t r = 0; r < n; r++)
	{
		int			proto = (int) (vc_uniform(7, (uint64_t) r) * 10);

		for (int j = 0; j < dim; j++)
		{
			int			on = vc_uniform(8 + proto, (uint64_t) j) < 0.2;

			if (vc_uniform(107, (uint64_t) (r * dim + j)) < 0.05)
				on = !on;
			v[r * dim + j] = on ? 1.0f : 0.0f;
		}
	}
}

static double first_epoch_at = -1,
			last_epoch_at;
static int	epochs_seen;

/* epoch_done callback: notes when epoch 1 and the latest epoch ended; loss to stderr */
static void
EpochDone(void *arg, int epoch, double train_loss, double val_loss, double elapsed)
{
	(void) arg;
	(void) val_loss;
	if (epoch == 1)
		first_epoch_at = elapsed;
	last_epoch_at = elapsed;
	epochs_seen = epoch;
	fprintf(stderr, "epoch %d loss %.6f at %.3f s\n", epoch, train_loss, elapsed);
}

/* builds the rows, trains once and prints one key=value line (--dump: writes the rows) */
int
main(int argc, char **argv)
{
	const char *net = "kdd",
			   *engine = "cuda",
			   *dump = NULL;
	int64_t		rows = -1;
	int			batch = 128,
				epochs = 5,
				graphs = 1,
				dim;
	float	   *values;
	VcRowRef   *refs;
	VcOptions	o;
	VcEngine	e;
	VcModel    *m = NULL;
	VcCallbacks cb = {NULL, EpochDone, NULL, NULL};
	char		err[VC_ERRMSG_LEN] = "";
	VcStatus	st;
	double		t0,
				t1;

	for (int i = 1; i + 1 < argc; i += 2)
	{
		if (!strcmp(argv[i], "--net"))
			net = argv[i + 1];
		else if (!strcmp(argv[i], "--batch"))
			batch = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--rows"))
			rows = atoll(argv[i + 1]);
		else if (!strcmp(argv[i], "--epochs"))
			epochs = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--engine"))
			engine = argv[i + 1];
		else if (!strcmp(argv[i], "--graphs"))
			graphs = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--dump"))
			dump = argv[i + 1];
		else
		{
			fprintf(stderr, "unknown option %s\n", argv[i]);
			return 2;
		}
	}
	dim = !strcmp(net, "mnist") ? 784 : 118;
	if (rows < 0)
		rows = dim == 784 ? 60000 : 494021;
	values = malloc(sizeof(float) * rows * dim);
	refs = malloc(sizeof(VcRowRef) * rows);
	if (!values || !refs)
	{
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	if (dim == 784)
		MakeMnistLike(values, rows, dim);
	else
		MakeKddLike(values, rows, dim);
	if (dump)
	{
		FILE	   *f = fopen(dump, "wb");

		if (!f || fwrite(values, sizeof(float) * dim, rows, f) != (size_t) rows || fclose(f))
		{
			perror(dump);
			return 1;
		}
		return 0;
	}

	vc_options_init(&o);
	o.n_hidden = 1;
	o.hidden[0] = dim == 784 ? 400 : 60;
	o.latent_dim = dim == 784 ? 20 : 10;
	o.likelihood = dim == 784 ? VC_LIK_BERNOULLI : VC_LIK_GAUSSIAN;
	o.activation = dim == 784 ? VC_ACT_RELU : VC_ACT_TANH;
	o.epochs = epochs;
	o.batch_size = batch;
	o.learning_rate = 1e-3;
	o.seed = 1;
	o.validation_fraction = 0;	/* PyTorch's loop does not validate either */
	o.patience = 0;
	o.verbose = 1;

	if (!strcmp(engine, "cuda"))
	{
		if (vgp_engine_cuda_init(&e, 0, err) != VC_OK)
		{
			printf("engine=cuda skipped=\"%s\"\n", err);
			return 0;
		}
		vgp_engine_cuda_set_graphs(&e, graphs);
	}
	else
		vc_engine_cpu_init(&e);
	for (int64_t r = 0; r < rows; r++)
	{
		refs[r].row = values + r * dim;
		refs[r].hash = vc_hash_row(refs[r].row, dim, o.seed);
	}
	t0 = vc_now();
	st = vc_train_engine(refs, rows, dim, &o, &cb, &e, &m, err);
	t1 = vc_now();
	if (st != VC_OK)
	{
		fprintf(stderr, "training failed: %s\n", err);
		return 1;
	}
	printf("engine=%s net=%s batch=%d rows=%lld epochs=%d graphs=%d steady=%.1f total=%.1f "
		   "seconds=%.3f final_loss=%.6f\n",
		   engine, net, batch, (long long) rows, m->epochs_run, graphs,
		   epochs_seen > 1 ? (double) rows * (epochs_seen - 1) / (last_epoch_at - first_epoch_at) : 0.0,
		   (double) rows * m->epochs_run / (t1 - t0), t1 - t0,
		   m->train_loss[m->epochs_run - 1]);
	vc_model_free(m);
	if (!strcmp(engine, "cuda"))
		vgp_engine_cuda_destroy(&e);
	free(refs);
	free(values);
	return 0;
}
