/*
 * vae_gpu_client.h - the backend side of the GPU worker protocol
 * (src/gpu/vgp_protocol.h): train one model on vae_gpud.
 */
#ifndef VAE_GPU_CLIENT_H
#define VAE_GPU_CLIENT_H

#include "vae.h"

/* GUCs (vae.c defines them) */
extern char *vae_gpu_worker;
extern char *vae_gpu_secret;
extern int	vae_gpu_connect_timeout;
extern bool vae_gpu_worker_autostart;
extern char *vae_gpu_socket_dir;
extern char *vae_gpud_path;
extern char *vae_gpu_backend;
extern char *vae_gpud_options;

/* the raw (unnormalized) row i, 0 <= i < n_rows, dim floats */
typedef const float *(*VaeGpuRowFn) (void *arg, int64 i);

/*
 * The worker this backend should use: vae.gpu_worker, else the socket of the
 * supervised daemon when vae.gpu_worker_autostart is on, else NULL.
 */
extern const char *VaeGpuWorkerTarget(void);

/* directory of the supervised daemon's socket (vae.gpu_socket_dir or $PGDATA/vae_gpud) */
extern char *VaeGpuSocketDir(void);

/*
 * Train on the worker at 'target'.  The rows are only read (streamed to the
 * worker straight from the caller's buffer), so a caller can fall back to
 * the CPU with them afterwards.
 *
 * Returns VC_OK and a validated model in *out (allocated in the current
 * memory context), or a status and a message.  *worker_failed tells who is
 * to blame: true when the worker could not be reached, refused the job, died
 * or broke the protocol (status VC_EDEVICE, or VC_ENOMEM / VC_ELIMIT for a
 * worker out of resources); false when the worker reported an error about the
 * data or the options, which training on the CPU would report as well.
 *
 * Waits are interruptible: a cancel or statement_timeout raises its ERROR at
 * once, and the connection is closed on the way out, which tells the worker
 * to drop the job.
 */
extern VcStatus VaeGpuTrain(const char *target, VaeGpuRowFn row, void *row_arg,
							int64 n_rows, int dim, const VcOptions *opt,
							VcModel **out, char *msg, bool *worker_failed);

/* vae_agg.c: the NOTICE of one epoch (CPU path and worker PROGRESS alike) */
extern void VaeEpochNotice(int epoch, double train_loss, double val_loss, double elapsed);

/* vae_gpu_supervisor.c */
extern void VaeGpuSupervisorRegister(void);
extern PGDLLEXPORT void VaeGpuSupervisorMain(Datum arg);

#endif							/* VAE_GPU_CLIENT_H */
