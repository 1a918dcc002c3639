/*
 * test_cuda_engine.c - the CUDA training engine against the CPU core.
 *
 * Needs a CUDA device; without one it prints "# SKIP ..." and a plan of 0
 * (test/integration/cuda.sh counts that as skipped).
 *
 *	1. per-epoch train and validation losses of vc_train_engine on the CUDA
 *	   engine agree with the CPU engine to 1e-3 relative, for the two classic
 *	   networks (784-400-20 bernoulli relu, 118-60-10 gaussian tanh), at a
 *	   small and a large minibatch (short last batches included);
 *	2. a seed gives the same model bytes twice, and with and without graphs;
 *	3. the device RNG reproduces vc_train_normals bit for bit;
 *	4. a job that cannot get its memory fails cleanly (limit, and a real
 *	   cudaMalloc failure), a canceled job stops, and the engine then serves
 *	   the next job with the same result as before.
 *
 * Build: make gpu-tests (or test/gpu/build.sh).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vc.h"
#include "vgp_cuda.h"
#ifdef VGP_EMULATED
#include "cuda_runtime.h"		/* test/gpu/emu: emu_device_bytes_in_use() */
#endif

#define TOL 1e-3

typedef struct Data
{
	int64_t		n;
	int			dim;
	float	   *values;			/* pristine copy: training normalizes in place */
} Data;

/* binary rows: a few prototypes with 5% of the bits flipped */
static Data
MakeBinary(int64_t n, int dim, uint64_t seed)
{
	Data		d = {n, dim, malloc(sizeof(float) * n * dim)};
	int64_t		r;
	int			j;

	for (r = 0; r < n; r++)
	{
		int			proto = (int) (vc_uniform(seed, (uint64_t) r) * 10);

		for (j = 0; j < dim; j++)
		{
			int			on = vc_uniform(seed + 1 + proto, (uint64_t) j) < 0.2;

			if (vc_uniform(seed + 100, (uint64_t) (r * dim + j)) < 0.05)
				on = !on;
			d.values[r * dim + j] = on ? 1.0f : 0.0f;
		}
	}
	return d;
}

/* KDD-like rows: 38 continuous columns (some heavy-tailed) + 80 one-hot */
static Data
MakeKddLike(int64_t n, uint64_t seed)
{
	int			dim = 118;
	Data		d = {n, dim, malloc(sizeof(float) * n * dim)};
	int64_t		r;
	int			j;

	for (r = 0; r < n; r++)
	{
		float	   *x = d.values + r * dim;
		int			cls = (int) (vc_uniform(seed, (uint64_t) r) * 4);

		memset(x, 0, sizeof(float) * dim);
		for (j = 0; j < 38; j++)
		{
			float		e = vc_normal(seed + 1, (uint64_t) (r * dim + j));

			x[j] = j % 5 == 0 ? expf(e + cls) : e * (1 + j % 3) + cls * (j % 7);
		}
		x[38 + (int) (vc_uniform(seed + 2, (uint64_t) r) * 3) + 3 * cls] = 1.0f;
		x[60 + (int) (vc_uniform(seed + 3, (uint64_t) r) * 58)] = 1.0f;
	}
	return d;
}

/* options of the big (784-400-20 bernoulli relu) or small (118-60-10 gaussian tanh) net */
static void
Options(VcOptions *o, int big, int batch, int epochs)
{
	vc_options_init(o);
	o->n_hidden = 1;
	o->hidden[0] = big ? 400 : 60;
	o->latent_dim = big ? 20 : 10;
	o->likelihood = big ? VC_LIK_BERNOULLI : VC_LIK_GAUSSIAN;
	o->activation = big ? VC_ACT_RELU : VC_ACT_TANH;
	o->epochs = epochs;
	o->batch_size = batch;
	o->seed = 42;
	o->validation_fraction = 0.1;
	o->patience = 0;
	o->learning_rate = 1e-3;
	o->weight_decay = 1e-4;		/* exercises the decayed-weights mask */
}

static int	cancel_after = -1;

/* check_interrupts: stop once cancel_after checks have passed; never while negative */
static int
CheckInterrupts(void *arg)
{
	(void) arg;
	if (cancel_after < 0)
		return 0;
	return cancel_after-- == 0;
}

/* train on a copy of d's rows: on engine e, or with vc_train (the CPU) when e is NULL */
static VcStatus
Train(const Data *d, const VcOptions *o, VcEngine *e, VcModel **out, char *errmsg)
{
	float	   *copy = malloc(sizeof(float) * d->n * d->dim);
	VcRowRef   *refs = malloc(sizeof(VcRowRef) * d->n);
	VcCallbacks cb = {CheckInterrupts, NULL, NULL, NULL};
	VcStatus	st;
	int64_t		r;

	memcpy(copy, d->values, sizeof(float) * d->n * d->dim);
	for (r = 0; r < d->n; r++)
	{
		refs[r].row = copy + r * d->dim;
		refs[r].hash = vc_hash_row(refs[r].row, d->dim, o->seed);
	}
	if (e)
		st = vc_train_engine(refs, d->n, d->dim, o, &cb, e, out, errmsg);
	else
		st = vc_train(refs, d->n, d->dim, o, &cb, out, errmsg);
	free(refs);
	free(copy);
	return st;
}

/* |a - b| relative to |b| */
static double
RelDiff(double a, double b)
{
	return fabs(a - b) / fmax(fabs(b), 1e-12);
}

/* 1: agreement with the CPU engine, epoch by epoch */
static void
CheckAgreementOpt(VcEngine *gpu, const char *name, const Data *d, const VcOptions *opt)
{
	VcOptions	o = *opt;
	int			batch = o.batch_size;
	VcModel    *mc = NULL,
			   *mg = NULL;
	char		err[VC_ERRMSG_LEN] = "";
	double		worst_t = 0,
				worst_v = 0;
	int			e;

	if (!ok(Train(d, &o, NULL, &mc, err) == VC_OK, "%s batch %d: CPU trains (%s)", name, batch, err))
		return;
	if (!ok(Train(d, &o, gpu, &mg, err) == VC_OK, "%s batch %d: CUDA trains (%s)", name, batch, err))
	{
		vc_model_free(mc);
		return;
	}
	ok(mg->epochs_run == mc->epochs_run && mg->device == VC_DEVICE_GPU,
	   "%s batch %d: %d epochs on the GPU", name, batch, mg->epochs_run);
	for (e = 0; e < mc->epochs_run && e < mg->epochs_run; e++)
	{
		diag("%s batch %d epoch %d: train cpu %.6f gpu %.6f  val cpu %.6f gpu %.6f",
			 name, batch, e + 1, mc->train_loss[e], mg->train_loss[e],
			 mc->val_loss[e], mg->val_loss[e]);
		worst_t = fmax(worst_t, RelDiff(mg->train_loss[e], mc->train_loss[e]));
		worst_v = fmax(worst_v, RelDiff(mg->val_loss[e], mc->val_loss[e]));
	}
	ok(worst_t <= TOL, "%s batch %d: train losses agree (worst %.2e)", name, batch, worst_t);
	ok(worst_v <= TOL, "%s batch %d: validation losses agree (worst %.2e)", name, batch, worst_v);
	/* not a test: two epochs within 1e-3 may legitimately swap */
	diag("%s batch %d: best epoch cpu %d gpu %d", name, batch, mc->best_epoch, mg->best_epoch);
	vc_model_free(mc);
	vc_model_free(mg);
}

/* CheckAgreementOpt with the Options of the big or small network */
static void
CheckAgreement(VcEngine *gpu, const char *name, const Data *d, int big, int batch, int epochs)
{
	VcOptions	o;

	Options(&o, big, batch, epochs);
	CheckAgreementOpt(gpu, name, d, &o);
}

/* other layouts: two hidden layers, none; beta != 1; no weight decay */
static void
CheckShapes(VcEngine *gpu, const Data *kdd)
{
	VcOptions	o;

	Options(&o, 0, 100, 3);
	o.n_hidden = 2;
	o.hidden[0] = 32;
	o.hidden[1] = 16;
	o.latent_dim = 4;
	o.activation = VC_ACT_RELU;
	o.beta = 0.5;
	CheckAgreementOpt(gpu, "118-32-16-4 gaussian relu beta 0.5", kdd, &o);
	Options(&o, 0, 256, 3);
	o.n_hidden = 0;
	o.latent_dim = 3;
	o.weight_decay = 0;
	CheckAgreementOpt(gpu, "118-3 gaussian (no hidden layer)", kdd, &o);
}

/* model bytes without the wall-clock field */
static uint8_t *
Bytes(VcModel *m, size_t *len)
{
	uint8_t    *b;

	m->train_seconds = 0;
	*len = vc_model_serialized_size(m);
	b = malloc(*len);
	vc_model_serialize(m, b);
	return b;
}

/* 1 when a and b serialize to the same bytes (training time aside) */
static int
SameModel(VcModel *a, VcModel *b)
{
	size_t		la,
				lb;
	uint8_t    *ba = Bytes(a, &la),
			   *bb = Bytes(b, &lb);
	int			same = la == lb && memcmp(ba, bb, la) == 0;

	free(ba);
	free(bb);
	return same;
}

/* 2: determinism */
static void
CheckDeterminism(VcEngine *gpu, const Data *d)
{
	VcOptions	o;
	VcModel    *a = NULL,
			   *b = NULL,
			   *c = NULL;
	char		err[VC_ERRMSG_LEN] = "";

	Options(&o, 0, 128, 3);
#ifdef VGP_EMULATED
	int			launches = emu_graph_launches();
#endif
	ok(Train(d, &o, gpu, &a, err) == VC_OK && Train(d, &o, gpu, &b, err) == VC_OK,
	   "determinism: two runs train (%s)", err);
#ifdef VGP_EMULATED
	ok(emu_graph_launches() > launches, "determinism: the runs replayed step graphs (%d)",
	   emu_graph_launches() - launches);
#endif
	if (a && b)
		ok(SameModel(a, b), "determinism: two runs give identical model bytes");
	vgp_engine_cuda_set_graphs(gpu, 0);
	ok(Train(d, &o, gpu, &c, err) == VC_OK, "determinism: a run without graphs trains (%s)", err);
	vgp_engine_cuda_set_graphs(gpu, 1);
	if (a && c)
		ok(SameModel(a, c), "determinism: graphs and direct launches give identical bytes");
	vc_model_free(a);
	vc_model_free(b);
	vc_model_free(c);
}

/* 3: the device RNG */
static void
CheckNormals(void)
{
	const size_t n = 1 << 16;
	float	   *dev = malloc(sizeof(float) * n),
			   *host = malloc(sizeof(float) * n);
	char		err[VC_ERRMSG_LEN] = "";
	uint64_t	starts[2] = {0, (uint64_t) 1 << 40};
	int			s;

	for (s = 0; s < 2; s++)
	{
		size_t		i,
					exact = 0;

		if (!ok(vgp_cuda_normals(0, 0x1234abcdULL, starts[s], dev, n, err) == VC_OK,
				"normals: kernel runs (%s)", err))
			break;
		vc_train_normals(0x1234abcdULL, starts[s], host, n);
		for (i = 0; i < n; i++)
			exact += memcmp(&dev[i], &host[i], sizeof(float)) == 0;
		/* every multiply-add is an explicit fmaf: no contraction can differ */
		ok(exact == n, "normals from counter %llu equal vc_train_normals bit for bit (%zu of %zu)",
		   (unsigned long long) starts[s], exact, n);
	}
	free(dev);
	free(host);
}

/* 4: failures leave the engine usable */
static void
CheckFailures(VcEngine *gpu, const Data *d)
{
	VcOptions	o;
	VcModel    *ref = NULL,
			   *m = NULL;
	char		err[VC_ERRMSG_LEN] = "";
	VcStatus	st;

	Options(&o, 0, 128, 2);
	ok(Train(d, &o, gpu, &ref, err) == VC_OK, "failures: reference job (%s)", err);
#ifdef VGP_EMULATED
	size_t		baseline = emu_device_bytes_in_use();
#endif

	vgp_engine_cuda_set_memory_limit(gpu, 1 << 20);
	st = Train(d, &o, gpu, &m, err);
	ok(st == VC_ENOMEM && m == NULL, "failures: over the memory limit -> VC_ENOMEM (%s)", err);
	vgp_engine_cuda_set_memory_limit(gpu, 0);

	vgp_engine_cuda_debug_extra_alloc(gpu, (size_t) 1 << 50);
	st = Train(d, &o, gpu, &m, err);
	ok((st == VC_ENOMEM || st == VC_EDEVICE) && m == NULL,
	   "failures: a failing cudaMalloc -> %d (%s)", (int) st, err);

	cancel_after = 1;		/* the second check: before epoch 1's validation */
	st = Train(d, &o, gpu, &m, err);
	cancel_after = -1;
	ok(st == VC_ECANCELED && m == NULL, "failures: a canceled job stops (%s)", err);

#ifdef VGP_EMULATED
	ok(emu_device_bytes_in_use() == baseline,
	   "failures: the failed jobs left no device memory behind (%zu bytes, %zu before)",
	   emu_device_bytes_in_use(), baseline);
#endif
	err[0] = '\0';
	st = Train(d, &o, gpu, &m, err);
	ok(st == VC_OK, "failures: the next job trains (%s)", err);
	if (st == VC_OK && ref)
		ok(SameModel(ref, m), "failures: ...and gives the reference model");
	vc_model_free(ref);
	vc_model_free(m);
}

/* run the checks as a TAP plan; a plan of 0 (skipped) without a CUDA device */
int
main(void)
{
	char		err[VC_ERRMSG_LEN] = "";
	VcEngine	gpu;
	Data		bin,
				kdd;

	if (vgp_cuda_device_count(err) == 0)
	{
		printf("# SKIP no CUDA device: %s\n", err);
		printf("1..0\n# 0 passed, 0 failed\n");
		return 0;
	}
	if (!ok(vgp_engine_cuda_init(&gpu, 0, err) == VC_OK, "engine init (%s)", err))
		return done_testing();

	bin = MakeBinary(2000, 784, 7);
	kdd = MakeKddLike(5000, 11);

	CheckNormals();
	CheckAgreement(&gpu, "784-400-20 bernoulli relu", &bin, 1, 128, 4);
	CheckAgreement(&gpu, "784-400-20 bernoulli relu", &bin, 1, 1024, 4);
	CheckAgreement(&gpu, "118-60-10 gaussian tanh", &kdd, 0, 128, 5);
	CheckAgreement(&gpu, "118-60-10 gaussian tanh", &kdd, 0, 1024, 5);
	CheckShapes(&gpu, &kdd);
	CheckDeterminism(&gpu, &kdd);
	CheckFailures(&gpu, &kdd);

	vgp_engine_cuda_destroy(&gpu);
	free(bin.values);
	free(kdd.values);
	return done_testing();
}
