/*
 * test/gpu/emu/cuda_runtime.h - a host-only stand-in for the part of the
 * CUDA runtime that src/gpu/cuda/vgp_engine_cuda.cu uses, so that the
 * engine's orchestration (buffer layout, step tables, GEMM arguments, the
 * order of the launches, failure paths) can run and be checked against the
 * CPU core on a machine without a GPU.  Work "on a stream" runs at once, on
 * the calling thread.  Not a CUDA implementation: only what the engine
 * calls, with the semantics it relies on.  Stream capture records the
 * work and a graph launch replays it (emu_runtime.cpp).
 */
#ifndef VGP_EMU_CUDA_RUNTIME_H
#define VGP_EMU_CUDA_RUNTIME_H

#include <stddef.h>

#define __host__
#define __device__

typedef enum cudaError
{
	cudaSuccess = 0,
	cudaErrorInvalidValue = 1,
	cudaErrorMemoryAllocation = 2,
	cudaErrorNotSupported = 801,
	cudaErrorStreamCaptureUnsupported = 900
} cudaError_t;

typedef struct EmuStream *cudaStream_t;
typedef struct EmuEvent *cudaEvent_t;
typedef struct EmuGraph *cudaGraph_t;
typedef struct EmuGraphExec *cudaGraphExec_t;

enum cudaMemcpyKind
{
	cudaMemcpyHostToHost = 0,
	cudaMemcpyHostToDevice = 1,
	cudaMemcpyDeviceToHost = 2,
	cudaMemcpyDeviceToDevice = 3,
	cudaMemcpyDefault = 4
};

enum cudaStreamCaptureMode
{
	cudaStreamCaptureModeGlobal = 0,
	cudaStreamCaptureModeThreadLocal = 1,
	cudaStreamCaptureModeRelaxed = 2
};

#define cudaStreamNonBlocking 0x01
#define cudaEventDisableTiming 0x02

typedef struct cudaFuncAttributes
{
	int			maxThreadsPerBlock;
} cudaFuncAttributes;

const char *cudaGetErrorString(cudaError_t e);
cudaError_t cudaGetLastError(void);
cudaError_t cudaPeekAtLastError(void);
cudaError_t cudaGetDeviceCount(int *n);
cudaError_t cudaSetDevice(int d);
cudaError_t cudaDeviceSynchronize(void);
cudaError_t cudaDeviceReset(void);
cudaError_t cudaMemGetInfo(size_t *free_b, size_t *total_b);
cudaError_t cudaMalloc(void **p, size_t bytes);
cudaError_t cudaFree(void *p);
cudaError_t cudaMallocHost(void **p, size_t bytes);
cudaError_t cudaFreeHost(void *p);
cudaError_t cudaMemcpy(void *dst, const void *src, size_t n, enum cudaMemcpyKind k);
cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t n, enum cudaMemcpyKind k,
							cudaStream_t s);
cudaError_t cudaMemsetAsync(void *dst, int v, size_t n, cudaStream_t s);
cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned flags);
cudaError_t cudaStreamDestroy(cudaStream_t s);
cudaError_t cudaStreamSynchronize(cudaStream_t s);
cudaError_t cudaEventCreateWithFlags(cudaEvent_t *e, unsigned flags);
cudaError_t cudaEventDestroy(cudaEvent_t e);
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s);
cudaError_t cudaEventSynchronize(cudaEvent_t e);
cudaError_t cudaStreamBeginCapture(cudaStream_t s, enum cudaStreamCaptureMode m);
cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t *g);
cudaError_t cudaGraphInstantiate(cudaGraphExec_t *x, cudaGraph_t g, unsigned long long flags);
cudaError_t cudaGraphDestroy(cudaGraph_t g);
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t x);
cudaError_t cudaGraphLaunch(cudaGraphExec_t x, cudaStream_t s);

#ifdef __cplusplus
/* the runtime's typed conveniences */
template <class T> static inline cudaError_t
cudaMalloc(T **p, size_t bytes)
{
	return cudaMalloc((void **) p, bytes);
}
#endif

/* emulation bookkeeping, for the emulated test's own checks (a C test calls it) */
#ifdef __cplusplus
extern "C"
#endif
size_t		emu_device_bytes_in_use(void);
#ifdef __cplusplus
extern "C"
#endif
int			emu_graph_launches(void);	/* graph launches so far */

#endif
