/*
 * vgp_cuda.h - the CUDA training engine of vae_gpud (C interface; the
 * implementation is in .cu files compiled by nvcc only when it is found).
 *
 * The engine implements VcEngine (src/core/vc.h): vc_train_engine keeps the
 * canonical order, normalization, split, shuffles and early stopping on the
 * host, and the engine keeps the normalized rows resident on the GPU and
 * runs whole epochs there (gather, cuBLAS GEMMs, fused bias + activation,
 * counter-based reparameterization noise identical to vc_train_normals, loss,
 * gradients, Adam).  docs/gpu-engine.md explains the kernels.
 *
 * Lifetime: vgp_engine_cuda_init() prepares an engine for one device.  Its
 * stream and cuBLAS handle are created by the first begin() and kept for
 * the engine's life (they are costly to create); every buffer of a job is
 * allocated in begin() and released in end().  Jobs run one at a time; the
 * calls of one job may come from any thread (each entry point selects the
 * device), but never from two threads at once.  A job that fails -- out of
 * device memory, a CUDA or cuBLAS error -- returns VC_ENOMEM or VC_EDEVICE
 * with a message and leaves the engine able to serve the next job; after an
 * error that poisons the CUDA context the engine resets the device in end()
 * and starts afresh in the next begin().
 */
#ifndef VGP_CUDA_H
#define VGP_CUDA_H

#include <stddef.h>

/* vc.h has no C++ guards of its own; the .cu files include it through here */
#ifdef __cplusplus
extern "C"
{
#endif

#include "vc.h"

/* number of usable CUDA devices; 0 (and a reason in errmsg) when none */
int			vgp_cuda_device_count(char *errmsg);

/*
 * Prepare an engine for `device`.  Returns VC_EDEVICE with a message when
 * the device cannot be used.  Release it with vgp_engine_cuda_destroy().
 */
VcStatus	vgp_engine_cuda_init(VcEngine *e, int device, char *errmsg);

/* release the stream and cuBLAS handle; the engine must not be in a job */
void		vgp_engine_cuda_destroy(VcEngine *e);

/*
 * Most device memory one job may take, in bytes (0: whatever the device has
 * free).  A job that needs more fails in begin() with VC_ENOMEM, before it
 * allocates anything.
 */
void		vgp_engine_cuda_set_memory_limit(VcEngine *e, size_t bytes);

/*
 * Use CUDA graphs for full-size minibatches (default on; the environment
 * variable VGP_CUDA_GRAPHS=0 turns them off for a whole process).  For
 * benchmarks and for tests that compare the two paths.
 */
void		vgp_engine_cuda_set_graphs(VcEngine *e, int on);

/* ---- for tests ---- */

/* vc_train_normals(key, counter0, out, n) computed by the device kernel */
VcStatus	vgp_cuda_normals(int device, uint64_t key, uint64_t counter0, float *out,
							 size_t n, char *errmsg);

/*
 * Make the next begin() also request `bytes` more device memory than the
 * job needs, past the limit check, so that cudaMalloc itself fails; the
 * failure path (and the recovery for the next job) is then testable.
 * Cleared by that begin().
 */
void		vgp_engine_cuda_debug_extra_alloc(VcEngine *e, size_t bytes);

#ifdef __cplusplus
}
#endif

#endif							/* VGP_CUDA_H */
