/*
 * vgp_cuda.h - the CUDA training engine of vae_gpud (C interface; the
 * implementation is in .cu files compiled by nvcc only when it is found).
 *
 * The engine implements VcEngine (src/core/vc.h): vc_train_engine keeps the
 * canonical order, normalization, split, shuffles and early stopping on the
 * host, and the engine keeps the normalized rows resident on the GPU and
 * runs whole epochs there (gather, cuBLAS GEMMs, fused bias + activation,
 * counter-based reparameterization noise identical to vc_normals, loss,
 * gradients, Adam).  One engine owns one CUDA context on one device.
 */
#ifndef VGP_CUDA_H
#define VGP_CUDA_H

#include "vc.h"

#ifdef __cplusplus
extern "C"
{
#endif

/* number of usable CUDA devices; 0 (and a reason in errmsg) when none */
int			vgp_cuda_device_count(char *errmsg);

/*
 * Prepare an engine for `device`; it creates its context and cuBLAS handle
 * lazily in begin() and releases them in end().  Returns VC_EDEVICE with a
 * message when the device cannot be used.
 */
VcStatus	vgp_engine_cuda_init(VcEngine *e, int device, char *errmsg);

#ifdef __cplusplus
}
#endif

#endif							/* VGP_CUDA_H */
