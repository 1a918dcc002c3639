/*
 * test/gpu/emu/emu_runtime.cpp - host emulation of the CUDA runtime, of
 * cuBLAS's SGEMM and of the engine's kernels (see cuda_runtime.h here).
 *
 * The kernels run the same per-element bodies as the device
 * (vgp_kernels.cuh); the reductions replay the device's combination trees
 * (warp xor-butterfly, shared-memory halving) exactly, so the emulated
 * engine computes what the GPU computes, up to FMA contraction and libm.
 *
 * Stream capture is emulated too: while a stream captures, work is recorded
 * as closures instead of run, and a graph launch replays them -- with the
 * arguments of capture time, which is what makes the engine's graph path
 * correct only if nothing in a step depends on per-step host values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#include <functional>
#include <unordered_map>
#include <vector>

#include "cuda_runtime.h"
#include "cublas_v2.h"
#include "vgp_kernels.cuh"

#define EMU_DEVICE_BYTES ((size_t) 8 << 30)

static cudaError_t last_error = cudaSuccess;
static std::unordered_map<void *, size_t> device_allocs;
static size_t device_in_use;

struct EmuGraph
{
	std::vector<std::function<void()>> work;
};

static EmuGraph *capturing;
static int	graph_launches;

/* run now, or record while a capture is open */
static void
Run(std::function<void()> f)
{
	if (capturing)
		capturing->work.push_back(std::move(f));
	else
		f();
}

extern "C" int
emu_graph_launches(void)
{
	return graph_launches;
}

static cudaError_t
Fail(cudaError_t e)
{
	last_error = e;
	return e;
}

const char *
cudaGetErrorString(cudaError_t e)
{
	switch (e)
	{
		case cudaSuccess:
			return "no error";
		case cudaErrorMemoryAllocation:
			return "out of memory";
		case cudaErrorInvalidValue:
			return "invalid argument";
		default:
			return "operation not supported (emulation)";
	}
}

cudaError_t
cudaGetLastError(void)
{
	cudaError_t e = last_error;

	last_error = cudaSuccess;
	return e;
}

cudaError_t
cudaPeekAtLastError(void)
{
	return last_error;
}

cudaError_t
cudaGetDeviceCount(int *n)
{
	*n = 1;
	return cudaSuccess;
}

cudaError_t
cudaSetDevice(int d)
{
	return d == 0 ? cudaSuccess : Fail(cudaErrorInvalidValue);
}

cudaError_t cudaDeviceSynchronize(void) { return cudaSuccess; }
cudaError_t cudaDeviceReset(void) { return cudaSuccess; }

cudaError_t
cudaMemGetInfo(size_t *free_b, size_t *total_b)
{
	*total_b = EMU_DEVICE_BYTES;
	*free_b = EMU_DEVICE_BYTES - device_in_use;
	return cudaSuccess;
}

cudaError_t
cudaMalloc(void **p, size_t bytes)
{
	*p = NULL;
	if (bytes > EMU_DEVICE_BYTES - device_in_use || !(*p = malloc(bytes)))
		return Fail(cudaErrorMemoryAllocation);
	/* garbage, as on a device: nothing may rely on zeroed buffers */
	memset(*p, 0xa5, bytes);
	device_allocs[*p] = bytes;
	device_in_use += bytes;
	return cudaSuccess;
}

cudaError_t
cudaFree(void *p)
{
	if (!p)
		return cudaSuccess;
	auto		it = device_allocs.find(p);

	if (it == device_allocs.end())
		return Fail(cudaErrorInvalidValue);
	device_in_use -= it->second;
	device_allocs.erase(it);
	free(p);
	return cudaSuccess;
}

extern "C" size_t
emu_device_bytes_in_use(void)
{
	return device_in_use;
}

cudaError_t
cudaMallocHost(void **p, size_t bytes)
{
	*p = malloc(bytes ? bytes : 1);
	return *p ? cudaSuccess : Fail(cudaErrorMemoryAllocation);
}

cudaError_t
cudaFreeHost(void *p)
{
	free(p);
	return cudaSuccess;
}

cudaError_t
cudaMemcpy(void *dst, const void *src, size_t n, enum cudaMemcpyKind k)
{
	(void) k;
	memmove(dst, src, n);
	return cudaSuccess;
}

cudaError_t
cudaMemcpyAsync(void *dst, const void *src, size_t n, enum cudaMemcpyKind k, cudaStream_t s)
{
	(void) s;
	(void) k;
	Run([=]() { memmove(dst, src, n); });
	return cudaSuccess;
}

cudaError_t
cudaMemsetAsync(void *dst, int v, size_t n, cudaStream_t s)
{
	(void) s;
	Run([=]() { memset(dst, v, n); });
	return cudaSuccess;
}

static int	dummy;

cudaError_t
cudaStreamCreateWithFlags(cudaStream_t *s, unsigned flags)
{
	(void) flags;
	*s = (cudaStream_t) &dummy;
	return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t s) { (void) s; return cudaSuccess; }
cudaError_t cudaStreamSynchronize(cudaStream_t s) { (void) s; return cudaSuccess; }

cudaError_t
cudaEventCreateWithFlags(cudaEvent_t *e, unsigned flags)
{
	(void) flags;
	*e = (cudaEvent_t) &dummy;
	return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t e) { (void) e; return cudaSuccess; }
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s) { (void) e; (void) s; return cudaSuccess; }
cudaError_t cudaEventSynchronize(cudaEvent_t e) { (void) e; return cudaSuccess; }

cudaError_t
cudaStreamBeginCapture(cudaStream_t s, enum cudaStreamCaptureMode m)
{
	(void) s;
	(void) m;
	if (capturing)
		return Fail(cudaErrorInvalidValue);
	capturing = new EmuGraph;
	return cudaSuccess;
}

cudaError_t
cudaStreamEndCapture(cudaStream_t s, cudaGraph_t *g)
{
	(void) s;
	*g = (cudaGraph_t) capturing;
	capturing = NULL;
	return *g ? cudaSuccess : Fail(cudaErrorInvalidValue);
}

cudaError_t
cudaGraphInstantiate(cudaGraphExec_t *x, cudaGraph_t g, unsigned long long flags)
{
	(void) flags;
	*x = (cudaGraphExec_t) new EmuGraph(*(EmuGraph *) g);
	return cudaSuccess;
}

cudaError_t
cudaGraphDestroy(cudaGraph_t g)
{
	delete (EmuGraph *) g;
	return cudaSuccess;
}

cudaError_t
cudaGraphExecDestroy(cudaGraphExec_t x)
{
	delete (EmuGraph *) x;
	return cudaSuccess;
}

cudaError_t
cudaGraphLaunch(cudaGraphExec_t x, cudaStream_t s)
{
	(void) s;
	if (capturing)
		return Fail(cudaErrorInvalidValue);
	for (auto &f : ((EmuGraph *) x)->work)
		f();
	graph_launches++;
	return cudaSuccess;
}

/* ---- cuBLAS ---- */

cublasStatus_t
cublasCreate(cublasHandle_t *h)
{
	*h = (cublasHandle_t) &dummy;
	return CUBLAS_STATUS_SUCCESS;
}

cublasStatus_t cublasDestroy(cublasHandle_t h) { (void) h; return CUBLAS_STATUS_SUCCESS; }
cublasStatus_t cublasSetStream(cublasHandle_t h, cudaStream_t s) { (void) h; (void) s; return CUBLAS_STATUS_SUCCESS; }
cublasStatus_t cublasSetMathMode(cublasHandle_t h, cublasMath_t m) { (void) h; (void) m; return CUBLAS_STATUS_SUCCESS; }
cublasStatus_t cublasSetAtomicsMode(cublasHandle_t h, cublasAtomicsMode_t m) { (void) h; (void) m; return CUBLAS_STATUS_SUCCESS; }
cublasStatus_t cublasSetWorkspace(cublasHandle_t h, void *ws, size_t b) { (void) h; (void) ws; (void) b; return CUBLAS_STATUS_SUCCESS; }

const char *
cublasGetStatusString(cublasStatus_t s)
{
	return s == CUBLAS_STATUS_SUCCESS ? "success" : "error (emulation)";
}

cublasStatus_t
cublasSgemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb, int m, int n, int k,
			const float *alpha, const float *A, int lda, const float *B, int ldb,
			const float *beta, float *C, int ldc)
{
	(void) h;
	/* cuBLAS's own argument checks, which CBLAS would only print about */
	if (m < 0 || n < 0 || k < 0 || ldc < (m > 1 ? m : 1) ||
		lda < ((ta == CUBLAS_OP_N ? m : k) > 1 ? (ta == CUBLAS_OP_N ? m : k) : 1) ||
		ldb < ((tb == CUBLAS_OP_N ? k : n) > 1 ? (tb == CUBLAS_OP_N ? k : n) : 1))
	{
		fprintf(stderr, "emu: cublasSgemm invalid value m=%d n=%d k=%d lda=%d ldb=%d ldc=%d\n",
				m, n, k, lda, ldb, ldc);
		return CUBLAS_STATUS_INVALID_VALUE;
	}
	/* host pointer mode: the scalars are read now, as cuBLAS does */
	float		al = *alpha,
				be = *beta;

	Run([=]() {
		cblas_sgemm(CblasColMajor, ta == CUBLAS_OP_N ? CblasNoTrans : CblasTrans,
					tb == CUBLAS_OP_N ? CblasNoTrans : CblasTrans, m, n, k, al, A, lda, B, ldb,
					be, C, ldc);
	});
	return CUBLAS_STATUS_SUCCESS;
}

/* ---- kernels ---- */

cudaError_t
vgp_kernels_check(void)
{
	return cudaSuccess;
}

void
vgp_launch_gather(cudaStream_t s, const float *rows, int dim, const int32_t *idx,
				  const VgpStep *steps, const VgpCtl *ctl, float *x, int n)
{
	Run([=]() {
		(void) s;
		for (size_t i = 0; i < (size_t) n * dim; i++)
			VgpGatherAt(i, rows, dim, idx, steps[ctl->k].at, x);
	});
}

void
vgp_launch_bias_act(cudaStream_t s, float *y, const float *b, int n, int width, int act)
{
	Run([=]() {
		(void) s;
		for (size_t i = 0; i < (size_t) n * width; i++)
			VgpBiasActAt(i, y, b, width, act);
	});
}

void
vgp_launch_latent(cudaStream_t s, float *head, const float *b, float *lvz, float *eps,
				  float *z, int n, int zd, const VgpStep *steps, const VgpCtl *ctl)
{
	Run([=]() {
		(void) s;
		for (size_t i = 0; i < (size_t) n * zd; i++)
			VgpLatentAt(i, head, b, lvz, eps, z, zd, steps[ctl->k].key, steps[ctl->k].c0);
	});
}

/* the warp's xor butterfly, lane by lane */
static double
Butterfly(double *v)
{
	double		t[32];

	for (int o = 16; o > 0; o >>= 1)
	{
		for (int l = 0; l < 32; l++)
			t[l] = v[l] + v[l ^ o];
		memcpy(v, t, sizeof(t));
	}
	return v[0];
}

void
vgp_launch_head_loss(cudaStream_t s, const float *head, const float *b, const float *x,
					 int dim, int gaussian, const float *enc, const float *lvz, int zd,
					 double beta, float scale, int n, double *rowloss, float *delta)
{
	Run([=]() {
		(void) s;
		for (int r = 0; r < n; r++)
		{
			double		nll[32],
						kl[32];

			for (int lane = 0; lane < 32; lane++)
				VgpHeadLane(r, lane, 32, head, b, x, dim, gaussian, enc, lvz, zd, scale, delta,
							&nll[lane], &kl[lane]);
			rowloss[r] = Butterfly(nll) + beta * Butterfly(kl);
		}
	});
}

void
vgp_launch_reduce_loss(cudaStream_t s, const double *rowloss, int n, VgpCtl *ctl)
{
	Run([=]() {
		double		part[256];

		(void) s;
		for (int t = 0; t < 256; t++)
		{
			part[t] = 0.0;
			for (int i = t; i < n; i += 256)
				part[t] += rowloss[i];
		}
		for (int w = 128; w > 0; w >>= 1)
			for (int t = 0; t < w; t++)
				part[t] += part[t + w];
		if (!ctl->diverged)
		{
			ctl->loss += part[0];
			if (!std::isfinite(part[0]))
				ctl->diverged = 1;
		}
	});
}

void
vgp_launch_col_sum(cudaStream_t s, const float *d, int n, int width, float *gb)
{
	Run([=]() {
		(void) s;
		for (int col = 0; col < width; col++)
		{
			float		part[32];

			for (int ty = 0; ty < 32; ty++)
			{
				part[ty] = 0.0f;
				for (int r = ty; r < n; r += 32)
					part[ty] += d[(size_t) r * width + col];
			}
			for (int w = 16; w > 0; w >>= 1)
				for (int ty = 0; ty < w; ty++)
					part[ty] += part[ty + w];
			gb[col] = part[0];
		}
	});
}

void
vgp_launch_act_back(cudaStream_t s, const float *a, float *da, size_t count, int act)
{
	Run([=]() {
		(void) s;
		for (size_t i = 0; i < count; i++)
			VgpActBackAt(i, a, da, act);
	});
}

void
vgp_launch_reparam_back(cudaStream_t s, const float *dz, const float *enc, const float *lvz,
						const float *eps, float *dhead, int n, int zd, float beta_scale)
{
	Run([=]() {
		(void) s;
		for (size_t i = 0; i < (size_t) n * zd; i++)
			VgpReparamBackAt(i, dz, enc, lvz, eps, dhead, zd, beta_scale);
	});
}

void
vgp_launch_adam(cudaStream_t s, float *params, const float *g, float *m1, float *m2,
				const uint8_t *wmask, size_t n_params, const VgpStep *steps,
				const VgpCtl *ctl, float decay)
{
	Run([=]() {
		(void) s;
		if (ctl->diverged)
			return;
		for (size_t i = 0; i < n_params; i++)
			VgpAdamAt(i, params, g, m1, m2, wmask, steps[ctl->k].lr, steps[ctl->k].c2, decay);
	});
}

void
vgp_launch_advance(cudaStream_t s, VgpCtl *ctl)
{
	Run([=]() {
		(void) s;
		ctl->k++;
	});
}

void
vgp_launch_normals(cudaStream_t s, uint64_t key, uint64_t counter0, float *out, size_t n)
{
	Run([=]() {
		uint64_t	mk = vc_splitmix64(key);

		(void) s;
		for (size_t i = 0; i < n; i++)
			out[i] = vc_train_normal_mixed(mk, counter0 + i);
	});
}
