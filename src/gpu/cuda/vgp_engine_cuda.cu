/*
 * vgp_engine_cuda.cu - the CUDA training engine (VcEngine, see vgp_cuda.h).
 *
 * What runs where.  vc_train_engine (host) owns everything between epochs:
 * canonical order, normalization, the split, the per-epoch shuffle, early
 * stopping.  begin() uploads the normalized rows once; an epoch uploads only
 * its index array and a table of per-step constants (row offset, eps
 * counter, Adam's bias-corrected rate), then queues every minibatch step
 * without waiting for the GPU: gather, cuBLAS SGEMMs, the fused kernels of
 * vgp_kernels.cu, Adam.  The epoch's loss is summed on the device and read
 * back once.  The host waits only every INTERRUPT_EVERY steps, on an event
 * recorded as many steps earlier, to ask check_interrupts and to keep the
 * queue short enough that a cancel stops the job within milliseconds.
 *
 * A step reads its minibatch from the step table through a device counter,
 * so full-size steps are identical launches: after one direct step (which
 * also lets cuBLAS load its kernels) one step is captured as a CUDA graph,
 * and replayed for every other full-size step of the job.  The short last
 * minibatch of an epoch runs the same launches directly.
 *
 * Numerics: float32 everywhere the core uses float32 (no TF32: the default
 * cuBLAS math mode), per-row losses and their sums in double.  Determinism:
 * no atomics in any kernel, cuBLAS on one stream with a fixed workspace, so
 * two runs with a seed give the same bits on the same GPU model.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "vgp_cuda.h"
#include "vgp_kernels.cuh"

#define INTERRUPT_EVERY 64		/* steps between interrupt checks */
#define STAGING_BYTES ((size_t) 8 << 20)	/* per pinned upload buffer (two) */
#define BLAS_WORKSPACE ((size_t) 32 << 20)
#define ARENA_ALIGN 256

typedef struct CudaJob
{
	const VcModel *m;
	int64_t		n;				/* rows resident on the device */
	int			batch;
	int			dim;
	int			zd;
	int			gaussian;
	int			act;
	int			widest;
	int			max_steps;		/* entries of the step table */
	double		beta;
	float		decay;			/* AdamW factor, 1 when no weight decay */
	int64_t		adam_t;			/* Adam steps taken */
	int			have_best;

	/* device arena */
	void	   *arena;
	void	   *extra;			/* vgp_engine_cuda_debug_extra_alloc */
	float	   *rows;			/* [n x dim] */
	int32_t    *idx;			/* [n] */
	float	   *x;				/* [batch x dim] */
	float	   *out[VC_MAX_LAYERS];
	float	   *eps;
	float	   *z;
	float	   *lvz;
	float	   *delta[2];		/* [batch x widest] */
	double	   *rowloss;		/* [batch] */
	double	   *val_rowloss;	/* [n]: a validation pass's per-row losses */
	float	   *params;
	float	   *grads;
	float	   *m1;
	float	   *m2;
	float	   *best;
	uint8_t    *wmask;			/* 1 on weight-matrix entries (decayed) */
	VgpStep    *steps;
	VgpCtl	   *ctl;

	/* pinned host arena */
	void	   *host;
	float	   *staging[2];
	size_t		staging_rows;
	int32_t    *h_idx;
	VgpStep    *h_steps;
	VgpCtl	   *h_ctl;

	cudaGraphExec_t graph;		/* one full-size step, or NULL */
	int			graph_tried;
} CudaJob;

typedef struct CudaEngine
{
	int			device;
	int			ready;			/* stream, handle, workspace, events exist */
	int			graphs;
	size_t		mem_limit;
	size_t		debug_extra;
	cudaStream_t stream;
	cublasHandle_t blas;
	void	   *blas_ws;
	cudaEvent_t ev_stage[2];
	cudaEvent_t ev_tick[2];
	CudaJob    *job;
} CudaEngine;

/* ---- errors ---- */

/*
 * Describe a CUDA error in errmsg and return VC_ENOMEM for an allocation
 * failure, VC_EDEVICE otherwise.
 */
static VcStatus
CudaFail(char *errmsg, cudaError_t err, const char *what)
{
	VcStatus	st = err == cudaErrorMemoryAllocation ? VC_ENOMEM : VC_EDEVICE;

	snprintf(errmsg, VC_ERRMSG_LEN, "CUDA error: %s (%s)", cudaGetErrorString(err), what);
	/* clears the error if it is not sticky; end() checks whether it was */
	(void) cudaGetLastError();
	return st;
}

/* CudaFail's counterpart for a cuBLAS status */
static VcStatus
BlasFail(char *errmsg, cublasStatus_t s, const char *what)
{
	snprintf(errmsg, VC_ERRMSG_LEN, "cuBLAS error: %s (%s)", cublasGetStatusString(s), what);
	(void) cudaGetLastError();
	return s == CUBLAS_STATUS_ALLOC_FAILED ? VC_ENOMEM : VC_EDEVICE;
}

/* return CudaFail's status when the cudaError_t `expr` is not cudaSuccess */
#define CU_CHECK(expr, what) \
	do { \
		cudaError_t cu_err_ = (expr); \
		if (cu_err_ != cudaSuccess) \
			return CudaFail(errmsg, cu_err_, what); \
	} while (0)

#define CU(call) CU_CHECK(call, #call)

/* after a kernel launch: configuration errors (and earlier sticky ones) surface here */
#define LAUNCHED(what) CU_CHECK(cudaGetLastError(), "launching " what)

#define BLAS(call) \
	do { \
		cublasStatus_t bl_st_ = (call); \
		if (bl_st_ != CUBLAS_STATUS_SUCCESS) \
			return BlasFail(errmsg, bl_st_, #call); \
	} while (0)

#define TRY(call) \
	do { \
		VcStatus	try_st_ = (call); \
		if (try_st_ != VC_OK) \
			return try_st_; \
	} while (0)

/* 1 when the host's check_interrupts callback (if any) asks to stop */
static inline int
Interrupted(const VcCallbacks *cb)
{
	return cb && cb->check_interrupts && cb->check_interrupts(cb->arg);
}

/* bytes in MiB, for messages */
static double
MiB(size_t bytes)
{
	return (double) bytes / (1024.0 * 1024.0);
}

/* ---- engine-lifetime resources ---- */

/* destroy whichever of the stream, events, cuBLAS handle and workspace exist */
static void
Teardown(CudaEngine *c)
{
	int			i;

	if (c->blas)
		cublasDestroy(c->blas);
	if (c->blas_ws)
		cudaFree(c->blas_ws);
	for (i = 0; i < 2; i++)
	{
		if (c->ev_stage[i])
			cudaEventDestroy(c->ev_stage[i]);
		if (c->ev_tick[i])
			cudaEventDestroy(c->ev_tick[i]);
		c->ev_stage[i] = c->ev_tick[i] = NULL;
	}
	if (c->stream)
		cudaStreamDestroy(c->stream);
	c->blas = NULL;
	c->blas_ws = NULL;
	c->stream = NULL;
	c->ready = 0;
	(void) cudaGetLastError();
}

/*
 * Create the engine's non-blocking stream, its events, and a cuBLAS handle
 * on that stream with a fixed workspace; ready once all exist.
 */
static VcStatus
Setup(CudaEngine *c, char *errmsg)
{
	int			i;

	CU(cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking));
	for (i = 0; i < 2; i++)
	{
		CU(cudaEventCreateWithFlags(&c->ev_stage[i], cudaEventDisableTiming));
		CU(cudaEventCreateWithFlags(&c->ev_tick[i], cudaEventDisableTiming));
	}
	BLAS(cublasCreate(&c->blas));
	BLAS(cublasSetStream(c->blas, c->stream));

	/*
	 * Plain float32 GEMMs (no TF32, which would cost the 1e-3 agreement with
	 * the CPU core) and no atomics.  A workspace of our own keeps cuBLAS from
	 * allocating during graph capture, and one fixed workspace on one stream
	 * is what cuBLAS needs for run-to-run reproducible results.
	 */
	BLAS(cublasSetMathMode(c->blas, CUBLAS_DEFAULT_MATH));
	BLAS(cublasSetAtomicsMode(c->blas, CUBLAS_ATOMICS_NOT_ALLOWED));
	CU(cudaMalloc(&c->blas_ws, BLAS_WORKSPACE));
	BLAS(cublasSetWorkspace(c->blas, c->blas_ws, BLAS_WORKSPACE));
	c->ready = 1;
	return VC_OK;
}

/* select the device; create the stream and cuBLAS handle if missing (all or none) */
static VcStatus
EnsureReady(CudaEngine *c, char *errmsg)
{
	VcStatus	st;

	CU(cudaSetDevice(c->device));
	if (c->ready)
		return VC_OK;
	st = Setup(c, errmsg);
	if (st != VC_OK)
		Teardown(c);
	return st;
}

/* ---- a job's buffers ---- */

/* carve `bytes` from an arena at *off (base NULL: only count) */
static void *
Carve(char *base, size_t *off, size_t bytes)
{
	void	   *p = base ? base + *off : NULL;

	*off += (bytes + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
	return p;
}

/* lay the device buffers out from base; returns the arena size */
static size_t
LayoutDevice(CudaJob *j, char *base)
{
	const VcModel *m = j->m;
	size_t		off = 0,
				b = (size_t) j->batch,
				np = m->n_params;
	int			l;

	j->rows = (float *) Carve(base, &off, sizeof(float) * (size_t) j->n * j->dim);
	j->idx = (int32_t *) Carve(base, &off, sizeof(int32_t) * (size_t) j->n);
	j->x = (float *) Carve(base, &off, sizeof(float) * b * j->dim);
	for (l = 0; l < m->n_layers; l++)
		j->out[l] = (float *) Carve(base, &off, sizeof(float) * b * m->layers[l].out);
	j->eps = (float *) Carve(base, &off, sizeof(float) * b * j->zd);
	j->z = (float *) Carve(base, &off, sizeof(float) * b * j->zd);
	j->lvz = (float *) Carve(base, &off, sizeof(float) * b * j->zd);
	j->delta[0] = (float *) Carve(base, &off, sizeof(float) * b * j->widest);
	j->delta[1] = (float *) Carve(base, &off, sizeof(float) * b * j->widest);
	j->rowloss = (double *) Carve(base, &off, sizeof(double) * b);
	j->val_rowloss = (double *) Carve(base, &off, sizeof(double) * (size_t) j->n);
	j->params = (float *) Carve(base, &off, sizeof(float) * np);
	j->grads = (float *) Carve(base, &off, sizeof(float) * np);
	j->m1 = (float *) Carve(base, &off, sizeof(float) * np);
	j->m2 = (float *) Carve(base, &off, sizeof(float) * np);
	j->best = (float *) Carve(base, &off, sizeof(float) * np);
	j->wmask = (uint8_t *) Carve(base, &off, np);
	j->steps = (VgpStep *) Carve(base, &off, sizeof(VgpStep) * (size_t) j->max_steps);
	j->ctl = (VgpCtl *) Carve(base, &off, sizeof(VgpCtl));
	return off;
}

/* lay the pinned host buffers out from base (NULL: only count); returns the size */
static size_t
LayoutHost(CudaJob *j, char *base)
{
	size_t		off = 0;

	j->staging[0] = (float *) Carve(base, &off, sizeof(float) * j->staging_rows * j->dim);
	j->staging[1] = (float *) Carve(base, &off, sizeof(float) * j->staging_rows * j->dim);
	j->h_idx = (int32_t *) Carve(base, &off, sizeof(int32_t) * (size_t) j->n);
	j->h_steps = (VgpStep *) Carve(base, &off, sizeof(VgpStep) * (size_t) j->max_steps);
	j->h_ctl = (VgpCtl *) Carve(base, &off, sizeof(VgpCtl));
	return off;
}

/* rows are scattered (one pointer each): pack them through two pinned buffers */
static VcStatus
UploadRows(CudaEngine *c, CudaJob *j, const VcRowRef *refs, char *errmsg)
{
	size_t		row_bytes = sizeof(float) * j->dim;
	int64_t		at;
	int			chunk = 0;

	for (at = 0; at < j->n; at += (int64_t) j->staging_rows, chunk++)
	{
		int			buf = chunk & 1;
		int64_t		nr = j->n - at < (int64_t) j->staging_rows ? j->n - at : (int64_t) j->staging_rows;
		int64_t		r;

		if (chunk >= 2)
			CU(cudaEventSynchronize(c->ev_stage[buf]));
		for (r = 0; r < nr; r++)
			memcpy((char *) j->staging[buf] + r * row_bytes, refs[at + r].row, row_bytes);
		CU(cudaMemcpyAsync((char *) j->rows + at * row_bytes, j->staging[buf], nr * row_bytes,
						   cudaMemcpyHostToDevice, c->stream));
		CU(cudaEventRecord(c->ev_stage[buf], c->stream));
	}
	return VC_OK;
}

/*
 * Upload the weight-decay mask (1 on weight-matrix entries) and the initial
 * params, and zero Adam's moments.  The mask's copy is waited for, as its
 * host buffer is freed here.
 */
static VcStatus
UploadModel(CudaEngine *c, CudaJob *j, char *errmsg)
{
	const VcModel *m = j->m;
	uint8_t    *mask = (uint8_t *) vc_alloc0(m->n_params);
	cudaError_t err;
	int			l;

	if (!mask)
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "out of memory building the weight-decay mask");
		return VC_ENOMEM;
	}
	for (l = 0; l < m->n_layers; l++)
		memset(mask + m->layers[l].w_off, 1, (size_t) m->layers[l].in * m->layers[l].out);
	err = cudaMemcpyAsync(j->wmask, mask, m->n_params, cudaMemcpyHostToDevice, c->stream);
	if (err == cudaSuccess)
		err = cudaStreamSynchronize(c->stream);
	vc_free(mask);
	CU(err);
	/* m->params stays valid until end(); the final sync of begin() covers it */
	CU(cudaMemcpyAsync(j->params, m->params, sizeof(float) * m->n_params,
					   cudaMemcpyHostToDevice, c->stream));
	CU(cudaMemsetAsync(j->m1, 0, sizeof(float) * m->n_params, c->stream));
	CU(cudaMemsetAsync(j->m2, 0, sizeof(float) * m->n_params, c->stream));
	return VC_OK;
}

/*
 * begin(): check the job's size and memory needs, allocate its device and
 * pinned host arenas, upload the rows and the model; returns once the
 * uploads are done.  Once the job exists, a failure leaves it to end().
 */
static VcStatus
CudaBegin(VcEngine *e, const VcModel *m, const VcRowRef *refs, int64_t n, int batch,
		  char *errmsg)
{
	CudaEngine *c = (CudaEngine *) e->state;
	CudaJob    *j;
	size_t		need,
				host_need,
				free_b = 0,
				total_b = 0,
				extra;
	int			l;

	if (c->job)
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "the CUDA engine is already running a job");
		return VC_EINVAL;
	}
	/* its kernels are the array head's; row models train on the CPU (vc_train_rows) */
	if (m->schema)
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "the CUDA engine trains array models only");
		return VC_EINVAL;
	}
	/* int32 row indices on the device (and int32 step offsets) */
	if (n > (int64_t) INT32_MAX - batch || batch < 1)
	{
		snprintf(errmsg, VC_ERRMSG_LEN,
				 "the CUDA engine trains on at most %d rows, got %lld",
				 INT32_MAX - batch, (long long) n);
		return VC_ELIMIT;
	}
	TRY(EnsureReady(c, errmsg));

	j = (CudaJob *) vc_alloc0(sizeof(CudaJob));
	if (!j)
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "out of memory allocating the CUDA job");
		return VC_ENOMEM;
	}
	c->job = j;
	j->m = m;
	j->n = n;
	j->batch = batch;
	j->dim = m->dim;
	j->zd = m->opt.latent_dim;
	j->gaussian = m->opt.likelihood == VC_LIK_GAUSSIAN;
	j->act = m->opt.activation;
	j->beta = m->opt.beta;
	j->decay = m->opt.weight_decay > 0 ?
		(float) (1.0 - m->opt.learning_rate * m->opt.weight_decay) : 1.0f;
	j->max_steps = (int) ((n + batch - 1) / batch);
	j->widest = 2 * m->dim;		/* as vc_net_init sizes its deltas */
	for (l = 0; l < m->n_layers; l++)
		if (m->layers[l].out > j->widest)
			j->widest = m->layers[l].out;
	j->staging_rows = STAGING_BYTES / (sizeof(float) * j->dim);
	if (j->staging_rows < 1)
		j->staging_rows = 1;
	if ((int64_t) j->staging_rows > n)
		j->staging_rows = (size_t) n;

	need = LayoutDevice(j, NULL);
	CU(cudaMemGetInfo(&free_b, &total_b));
	if (c->mem_limit > 0 && need > c->mem_limit)
	{
		snprintf(errmsg, VC_ERRMSG_LEN,
				 "the job needs %.1f MiB of GPU memory, more than the limit of %.1f MiB",
				 MiB(need), MiB(c->mem_limit));
		return VC_ENOMEM;
	}
	if (need > free_b)
	{
		snprintf(errmsg, VC_ERRMSG_LEN,
				 "the job needs %.1f MiB of GPU memory, %.1f MiB of %.1f MiB are free",
				 MiB(need), MiB(free_b), MiB(total_b));
		return VC_ENOMEM;
	}
	extra = c->debug_extra;
	c->debug_extra = 0;
	if (extra > 0)
		CU(cudaMalloc(&j->extra, extra));
	CU(cudaMalloc(&j->arena, need));
	LayoutDevice(j, (char *) j->arena);

	host_need = LayoutHost(j, NULL);
	CU(cudaMallocHost(&j->host, host_need));
	LayoutHost(j, (char *) j->host);

	TRY(UploadRows(c, j, refs, errmsg));
	TRY(UploadModel(c, j, errmsg));
	CU(cudaStreamSynchronize(c->stream));
	return VC_OK;
}

/* ---- one step ---- */

/* the matrix a layer reads: gathered rows, the latent sample, or the previous layer */
static const float *
LayerInput(const CudaJob *j, int l)
{
	if (l == 0)
		return j->x;
	if (l == j->m->enc_head + 1)
		return j->z;
	return j->out[l - 1];
}

/* 1 for a hidden layer (activated); the encoder and decoder heads are linear */
static inline int
IsHidden(const VcModel *m, int l)
{
	return l != m->enc_head && l != m->dec_head;
}

/*
 * Row-major Y[n x out] = X[n x in] W[in x out] is column-major
 * Y^T = W^T X^T, which is W (column-major out x in) times X (in x n).
 */
static VcStatus
LayerForward(CudaEngine *c, CudaJob *j, int l, int n, char *errmsg)
{
	const VcModel *m = j->m;
	const VcLayer *ly = &m->layers[l];
	const float one = 1.0f,
				zero = 0.0f;

	BLAS(cublasSgemm(c->blas, CUBLAS_OP_N, CUBLAS_OP_N, ly->out, n, ly->in, &one,
					 j->params + ly->w_off, ly->out, LayerInput(j, l), ly->in, &zero,
					 j->out[l], ly->out));
	if (IsHidden(m, l))
	{
		vgp_launch_bias_act(c->stream, j->out[l], j->params + ly->b_off, n, ly->out, j->act);
		LAUNCHED("bias_act");
	}
	return VC_OK;
}

/*
 * Forward over the step's rows, their losses into rowloss[0, n).  Training:
 * leave the head gradient in delta[0] and add the batch loss to ctl->loss.
 */
static VcStatus
Forward(CudaEngine *c, CudaJob *j, int n, int train, double *rowloss, char *errmsg)
{
	const VcModel *m = j->m;
	int			l;

	vgp_launch_gather(c->stream, j->rows, j->dim, j->idx, j->steps, j->ctl, j->x, n);
	LAUNCHED("gather");
	for (l = 0; l <= m->enc_head; l++)
		TRY(LayerForward(c, j, l, n, errmsg));
	vgp_launch_latent(c->stream, j->out[m->enc_head], j->params + m->layers[m->enc_head].b_off,
					  j->lvz, j->eps, j->z, n, j->zd, j->steps, j->ctl);
	LAUNCHED("latent");
	for (l = m->enc_head + 1; l <= m->dec_head; l++)
		TRY(LayerForward(c, j, l, n, errmsg));
	vgp_launch_head_loss(c->stream, j->out[m->dec_head], j->params + m->layers[m->dec_head].b_off,
						 j->x, j->dim, j->gaussian, j->out[m->enc_head], j->lvz, j->zd,
						 j->beta, 1.0f / n, n, rowloss, train ? j->delta[0] : NULL);
	LAUNCHED("head_loss");
	if (train)
	{
		vgp_launch_reduce_loss(c->stream, rowloss, n, j->ctl);
		LAUNCHED("reduce_loss");
	}
	return VC_OK;
}

/*
 * dW = A^T D is column-major dW^T = D^T A: D (out x n) times A^T (n x in);
 * dA = D W^T is column-major dA^T = W D^T: W^T (in x out) times D^T.
 */
static VcStatus
LayerBackward(CudaEngine *c, CudaJob *j, int l, int n, const float *d, float *da,
			  char *errmsg)
{
	const VcLayer *ly = &j->m->layers[l];
	const float one = 1.0f,
				zero = 0.0f;

	BLAS(cublasSgemm(c->blas, CUBLAS_OP_N, CUBLAS_OP_T, ly->out, ly->in, n, &one,
					 d, ly->out, LayerInput(j, l), ly->in, &zero,
					 j->grads + ly->w_off, ly->out));
	vgp_launch_col_sum(c->stream, d, n, ly->out, j->grads + ly->b_off);
	LAUNCHED("col_sum");
	if (da)
		BLAS(cublasSgemm(c->blas, CUBLAS_OP_T, CUBLAS_OP_N, ly->in, n, ly->out, &one,
						 j->params + ly->w_off, ly->out, d, ly->out, &zero, da, ly->in));
	return VC_OK;
}

/* vc_net_backward, launch for launch */
static VcStatus
Backward(CudaEngine *c, CudaJob *j, int n, char *errmsg)
{
	const VcModel *m = j->m;
	float	   *cur = j->delta[0];
	float	   *nxt = j->delta[1];
	float	   *tmp;
	int			l;

	for (l = m->dec_head; l > m->enc_head; l--)
	{
		TRY(LayerBackward(c, j, l, n, cur, nxt, errmsg));
		if (l > m->enc_head + 1)
		{
			vgp_launch_act_back(c->stream, j->out[l - 1], nxt, (size_t) n * m->layers[l].in,
								j->act);
			LAUNCHED("act_back");
		}
		tmp = cur;
		cur = nxt;
		nxt = tmp;
	}
	vgp_launch_reparam_back(c->stream, cur, j->out[m->enc_head], j->lvz, j->eps, nxt, n, j->zd,
							(float) (j->beta / n));
	LAUNCHED("reparam_back");
	tmp = cur;
	cur = nxt;
	nxt = tmp;
	for (l = m->enc_head; l >= 0; l--)
	{
		TRY(LayerBackward(c, j, l, n, cur, l > 0 ? nxt : NULL, errmsg));
		if (l > 0)
		{
			vgp_launch_act_back(c->stream, j->out[l - 1], nxt, (size_t) n * m->layers[l].in,
								j->act);
			LAUNCHED("act_back");
			tmp = cur;
			cur = nxt;
			nxt = tmp;
		}
	}
	return VC_OK;
}

/* queue one training step of n rows: forward, backward, Adam, advance the step counter */
static VcStatus
TrainStep(CudaEngine *c, CudaJob *j, int n, char *errmsg)
{
	TRY(Forward(c, j, n, 1, j->rowloss, errmsg));
	TRY(Backward(c, j, n, errmsg));
	vgp_launch_adam(c->stream, j->params, j->grads, j->m1, j->m2, j->wmask, j->m->n_params,
					j->steps, j->ctl, j->decay);
	LAUNCHED("adam");
	vgp_launch_advance(c->stream, j->ctl);
	LAUNCHED("advance");
	return VC_OK;
}

/*
 * Capture one full-size step as a graph.  Any failure only means no graph:
 * the direct launches remain, so the error is swallowed.
 */
static void
TryCapture(CudaEngine *c, CudaJob *j)
{
	char		msg[VC_ERRMSG_LEN];
	cudaGraph_t g = NULL;
	cudaGraphExec_t x = NULL;
	VcStatus	st;
	cudaError_t err;

	j->graph_tried = 1;
	if (!c->graphs)
		return;
	if (cudaStreamBeginCapture(c->stream, cudaStreamCaptureModeThreadLocal) != cudaSuccess)
	{
		(void) cudaGetLastError();
		return;
	}
	st = TrainStep(c, j, j->batch, msg);
	err = cudaStreamEndCapture(c->stream, &g);
	if (st == VC_OK && err == cudaSuccess && g &&
		cudaGraphInstantiate(&x, g, 0) == cudaSuccess)
		j->graph = x;
	if (g)
		cudaGraphDestroy(g);
	(void) cudaGetLastError();
}

/* ---- epochs ---- */

/* drain the stream and return VC_ECANCELED with its message */
static VcStatus
Canceled(CudaEngine *c, char *errmsg)
{
	/* let queued work drain so end() frees buffers nothing uses any more */
	(void) cudaStreamSynchronize(c->stream);
	snprintf(errmsg, VC_ERRMSG_LEN, "training was canceled");
	return VC_ECANCELED;
}

/*
 * Wait for the GPU to be at most 2 * INTERRUPT_EVERY steps behind, then ask
 * whether to stop.  Called before step k.
 */
static VcStatus
Tick(CudaEngine *c, int64_t k, const VcCallbacks *cb, char *errmsg)
{
	int			ev = (int) ((k / INTERRUPT_EVERY) & 1);

	if (k % INTERRUPT_EVERY != 0)
		return VC_OK;
	if (k >= 2 * INTERRUPT_EVERY)
		CU(cudaEventSynchronize(c->ev_tick[ev]));
	if (Interrupted(cb))
		return Canceled(c, errmsg);
	CU(cudaEventRecord(c->ev_tick[ev], c->stream));
	return VC_OK;
}

/*
 * Check idx[0, n_idx) against the resident rows, queue the uploads of the
 * int32 index array and the first n_steps entries of the step table, and
 * reset the control block.
 */
static VcStatus
UploadIndex(CudaEngine *c, CudaJob *j, const int64_t *idx, int64_t n_idx, int n_steps,
			char *errmsg)
{
	int64_t		i;

	if (n_idx > j->n || n_steps > j->max_steps)
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "index array of %lld rows for %lld resident rows",
				 (long long) n_idx, (long long) j->n);
		return VC_EINVAL;
	}
	for (i = 0; i < n_idx; i++)
	{
		if (idx[i] < 0 || idx[i] >= j->n)
		{
			snprintf(errmsg, VC_ERRMSG_LEN, "row index %lld out of range",
					 (long long) idx[i]);
			return VC_EINVAL;
		}
		j->h_idx[i] = (int32_t) idx[i];
	}
	CU(cudaMemcpyAsync(j->idx, j->h_idx, sizeof(int32_t) * n_idx, cudaMemcpyHostToDevice,
					   c->stream));
	CU(cudaMemcpyAsync(j->steps, j->h_steps, sizeof(VgpStep) * n_steps,
					   cudaMemcpyHostToDevice, c->stream));
	CU(cudaMemsetAsync(j->ctl, 0, sizeof(VgpCtl), c->stream));
	return VC_OK;
}

/* wait for the stream and read the loss summed on the device so far */
static VcStatus
ReadLoss(CudaEngine *c, CudaJob *j, double *loss_sum, char *errmsg)
{
	CU(cudaMemcpyAsync(j->h_ctl, j->ctl, sizeof(VgpCtl), cudaMemcpyDeviceToHost, c->stream));
	CU(cudaStreamSynchronize(c->stream));
	*loss_sum = j->h_ctl->loss;
	return VC_OK;
}

/*
 * The start of a pass over idx[0, n_idx), an epoch or a validation pass:
 * fills the step table and uploads it with the index array (which resets
 * the device's step counter), and returns the pass's minibatch count in
 * *n_steps.  Minibatch k holds rows [k * batch, ...) and draws its eps from
 * counter (first_step + k) * batch * latent of `key`, which is vc.h's
 * contract both for training (first_step = the global Adam step) and for
 * validation (first_step = 0).  With `adam`, a step also gets Adam's
 * scalars for update j->adam_t + k + 1; otherwise they stay zero.
 */
static VcStatus
StartPass(CudaEngine *c, const int64_t *idx, int64_t n_idx, uint64_t key, int64_t first_step,
		  int adam, int *n_steps, char *errmsg)
{
	CudaJob    *j = c->job;
	int			bs = j->batch;
	uint64_t	mixed = vc_mix64(key);
	int			k;

	*n_steps = (int) ((n_idx + bs - 1) / bs);
	CU(cudaSetDevice(c->device));
	for (k = 0; k < *n_steps && k < j->max_steps; k++)
	{
		VgpStep    *s = &j->h_steps[k];
		int64_t		at = (int64_t) k * bs;

		memset(s, 0, sizeof(*s));
		s->key = mixed;
		s->c0 = (uint64_t) (first_step + k) * bs * j->zd;
		s->at = (int32_t) at;
		s->n = (int32_t) (n_idx - at < bs ? n_idx - at : bs);
		if (adam)
		{
			double		t = (double) (j->adam_t + k + 1);

			/* the same expressions as vc_adam_step, in double on the host */
			s->lr = (float) (j->m->opt.learning_rate / (1.0 - pow(0.9, t)));
			s->c2 = (float) (1.0 - pow(0.999, t));
		}
	}
	return UploadIndex(c, j, idx, n_idx, *n_steps, errmsg);
}

/*
 * train_epoch(): queue every minibatch step of idx[0, n_idx), full-size
 * ones as the captured graph once there is one, and read the loss sum back
 * at the end; advances *step and the job's Adam step count.
 */
static VcStatus
CudaTrainEpoch(VcEngine *e, const int64_t *idx, int64_t n_idx, uint64_t eps_key,
			   int64_t *step, double *loss_sum, const VcCallbacks *cb, char *errmsg)
{
	CudaEngine *c = (CudaEngine *) e->state;
	CudaJob    *j = c->job;
	int			n_steps,
				k;

	*loss_sum = 0.0;
	if (n_idx <= 0)
		return VC_OK;
	TRY(StartPass(c, idx, n_idx, eps_key, *step, 1, &n_steps, errmsg));
	for (k = 0; k < n_steps; k++)
	{
		int			nb = j->h_steps[k].n;

		TRY(Tick(c, k, cb, errmsg));
		if (nb == j->batch && j->graph)
			CU(cudaGraphLaunch(j->graph, c->stream));
		else
		{
			TRY(TrainStep(c, j, nb, errmsg));
			if (nb == j->batch && !j->graph_tried)
				TryCapture(c, j);
		}
	}
	TRY(ReadLoss(c, j, loss_sum, errmsg));
	*step += n_steps;
	j->adam_t += n_steps;
	return VC_OK;
}

/* validation_loss(): forward passes over batch-size chunks; per-row losses to row_loss */
static VcStatus
CudaValidationLoss(VcEngine *e, const int64_t *idx, int64_t n_idx, uint64_t val_key,
				   double *row_loss, const VcCallbacks *cb, char *errmsg)
{
	CudaEngine *c = (CudaEngine *) e->state;
	CudaJob    *j = c->job;
	int			n_steps,
				k;

	if (n_idx <= 0)
		return VC_OK;
	/* chunks of the minibatch size, counted from 0: vc.h's contract on val eps */
	TRY(StartPass(c, idx, n_idx, val_key, 0, 0, &n_steps, errmsg));
	for (k = 0; k < n_steps; k++)
	{
		TRY(Tick(c, k, cb, errmsg));
		TRY(Forward(c, j, j->h_steps[k].n, 0, j->val_rowloss + j->h_steps[k].at, errmsg));
		vgp_launch_advance(c->stream, j->ctl);
		LAUNCHED("advance");
	}
	/* the pass's only sync: the per-row losses, for vc_train's criterion */
	CU(cudaMemcpyAsync(row_loss, j->val_rowloss, sizeof(double) * (size_t) n_idx,
					   cudaMemcpyDeviceToHost, c->stream));
	CU(cudaStreamSynchronize(c->stream));
	return VC_OK;
}

/* save_best(): device-to-device copy of the current params */
static VcStatus
CudaSaveBest(VcEngine *e, char *errmsg)
{
	CudaEngine *c = (CudaEngine *) e->state;
	CudaJob    *j = c->job;

	CU(cudaSetDevice(c->device));
	CU(cudaMemcpyAsync(j->best, j->params, sizeof(float) * j->m->n_params,
					   cudaMemcpyDeviceToDevice, c->stream));
	j->have_best = 1;
	return VC_OK;
}

/* get_params(): the saved best params, or the current ones if none, into dst */
static VcStatus
CudaGetParams(VcEngine *e, float *dst, char *errmsg)
{
	CudaEngine *c = (CudaEngine *) e->state;
	CudaJob    *j = c->job;

	CU(cudaSetDevice(c->device));
	/* on our non-blocking stream: a plain cudaMemcpy would not wait for it */
	CU(cudaMemcpyAsync(dst, j->have_best ? j->best : j->params, sizeof(float) * j->m->n_params,
					   cudaMemcpyDeviceToHost, c->stream));
	CU(cudaStreamSynchronize(c->stream));
	return VC_OK;
}

/*
 * end(): wait for the stream, free the job's graph and arenas.  After a
 * sticky error also drop the engine's resources and reset the device, so
 * that the next begin() starts afresh.  No-op without a job.
 */
static void
CudaEnd(VcEngine *e)
{
	CudaEngine *c = (CudaEngine *) e->state;
	CudaJob    *j = c ? c->job : NULL;
	int			poisoned = 0;

	if (!j)
		return;
	if (cudaSetDevice(c->device) != cudaSuccess)
		poisoned = 1;
	else if (c->ready && cudaStreamSynchronize(c->stream) != cudaSuccess)
	{
		/*
		 * An error that survives being read is sticky: the context is lost
		 * (an illegal address, say).  Only a device reset lets the next job
		 * run, so drop everything that belongs to this context.
		 */
		(void) cudaGetLastError();
		poisoned = cudaDeviceSynchronize() != cudaSuccess;
	}
	if (j->graph)
		cudaGraphExecDestroy(j->graph);
	if (j->arena)
		cudaFree(j->arena);
	if (j->extra)
		cudaFree(j->extra);
	if (j->host)
		cudaFreeHost(j->host);
	vc_free(j);
	c->job = NULL;
	(void) cudaGetLastError();
	if (poisoned)
	{
		Teardown(c);
		cudaDeviceReset();
		(void) cudaGetLastError();
	}
}

/* ---- public entry points ---- */

/* count of usable CUDA devices; 0 with the reason in errmsg (if given) when none */
extern "C" int
vgp_cuda_device_count(char *errmsg)
{
	int			n = 0;
	cudaError_t err = cudaGetDeviceCount(&n);

	if (err != cudaSuccess)
	{
		if (errmsg)
			snprintf(errmsg, VC_ERRMSG_LEN, "no usable CUDA device (cudaGetDeviceCount: %s)",
					 cudaGetErrorString(err));
		(void) cudaGetLastError();
		return 0;
	}
	if (n == 0 && errmsg)
		snprintf(errmsg, VC_ERRMSG_LEN, "no CUDA device found");
	return n;
}

/*
 * Fill in e as the CUDA engine of `device` once the device exists and the
 * kernels have code for it; the stream and cuBLAS handle wait for begin().
 */
extern "C" VcStatus
vgp_engine_cuda_init(VcEngine *e, int device, char *errmsg)
{
	CudaEngine *c;
	int			n = vgp_cuda_device_count(errmsg);
	const char *g = getenv("VGP_CUDA_GRAPHS");
	cudaError_t err;

	memset(e, 0, sizeof(*e));
	if (n == 0)
		return VC_EDEVICE;
	if (device < 0 || device >= n)
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "CUDA device %d does not exist (%d found)", device, n);
		return VC_EDEVICE;
	}
	err = cudaSetDevice(device);
	/* the kernels must have code for this GPU (sm_80 and newer here) */
	if (err == cudaSuccess)
		err = vgp_kernels_check();
	if (err != cudaSuccess)
	{
		CudaFail(errmsg, err, "preparing the device");
		return VC_EDEVICE;
	}
	c = (CudaEngine *) calloc(1, sizeof(CudaEngine));
	if (!c)
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "out of memory allocating the CUDA engine");
		return VC_ENOMEM;
	}
	c->device = device;
	c->graphs = !(g && strcmp(g, "0") == 0);
	e->name = "cuda";
	e->device = VC_DEVICE_GPU;
	e->begin = CudaBegin;
	e->train_epoch = CudaTrainEpoch;
	e->validation_loss = CudaValidationLoss;
	e->save_best = CudaSaveBest;
	e->get_params = CudaGetParams;
	e->end = CudaEnd;
	e->state = c;
	return VC_OK;
}

/* end any job, release the stream and cuBLAS handle, free the engine */
extern "C" void
vgp_engine_cuda_destroy(VcEngine *e)
{
	CudaEngine *c = (CudaEngine *) e->state;

	if (!c)
		return;
	CudaEnd(e);
	if (c->ready && cudaSetDevice(c->device) == cudaSuccess)
		Teardown(c);
	free(c);
	e->state = NULL;
}

/* per-job device memory limit in bytes, 0 for none (checked in begin()) */
extern "C" void
vgp_engine_cuda_set_memory_limit(VcEngine *e, size_t bytes)
{
	((CudaEngine *) e->state)->mem_limit = bytes;
}

/* turn CUDA graphs of full-size steps on or off */
extern "C" void
vgp_engine_cuda_set_graphs(VcEngine *e, int on)
{
	((CudaEngine *) e->state)->graphs = on;
}

/* test hook: the next begin() asks for `bytes` more, past the limit check */
extern "C" void
vgp_engine_cuda_debug_extra_alloc(VcEngine *e, size_t bytes)
{
	((CudaEngine *) e->state)->debug_extra = bytes;
}

/* vc_train_normals(key, counter0, out, n) computed by the device kernel; synchronous */
extern "C" VcStatus
vgp_cuda_normals(int device, uint64_t key, uint64_t counter0, float *out, size_t n,
				 char *errmsg)
{
	float	   *d = NULL;
	cudaError_t err;

	CU(cudaSetDevice(device));
	CU(cudaMalloc(&d, sizeof(float) * (n ? n : 1)));
	vgp_launch_normals(0, key, counter0, d, n);
	err = cudaGetLastError();
	if (err == cudaSuccess)
		err = cudaMemcpy(out, d, sizeof(float) * n, cudaMemcpyDeviceToHost);
	cudaFree(d);
	CU(err);
	return VC_OK;
}
