/*
 * test/gpu/emu/cublas_v2.h - host stand-in for the cuBLAS calls of the CUDA
 * engine (see cuda_runtime.h here).  cublasSgemm is CBLAS's column-major
 * sgemm, which has exactly cuBLAS's argument semantics, so the engine's
 * row-major-by-transposition GEMM arguments are checked for real.
 */
#ifndef VGP_EMU_CUBLAS_V2_H
#define VGP_EMU_CUBLAS_V2_H

#include "cuda_runtime.h"

typedef enum
{
	CUBLAS_STATUS_SUCCESS = 0,
	CUBLAS_STATUS_NOT_INITIALIZED = 1,
	CUBLAS_STATUS_ALLOC_FAILED = 3,
	CUBLAS_STATUS_INVALID_VALUE = 7
} cublasStatus_t;

typedef enum
{
	CUBLAS_OP_N = 0,
	CUBLAS_OP_T = 1
} cublasOperation_t;

typedef enum
{
	CUBLAS_DEFAULT_MATH = 0
} cublasMath_t;

typedef enum
{
	CUBLAS_ATOMICS_NOT_ALLOWED = 0
} cublasAtomicsMode_t;

typedef struct EmuBlas *cublasHandle_t;

cublasStatus_t cublasCreate(cublasHandle_t *h);
cublasStatus_t cublasDestroy(cublasHandle_t h);
cublasStatus_t cublasSetStream(cublasHandle_t h, cudaStream_t s);
cublasStatus_t cublasSetMathMode(cublasHandle_t h, cublasMath_t m);
cublasStatus_t cublasSetAtomicsMode(cublasHandle_t h, cublasAtomicsMode_t m);
cublasStatus_t cublasSetWorkspace(cublasHandle_t h, void *ws, size_t bytes);
const char *cublasGetStatusString(cublasStatus_t s);
cublasStatus_t cublasSgemm(cublasHandle_t h, cublasOperation_t ta, cublasOperation_t tb,
						   int m, int n, int k, const float *alpha, const float *A, int lda,
						   const float *B, int ldb, const float *beta, float *C, int ldc);

#endif
