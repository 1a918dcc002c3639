/*
 * vae_gpu.h - the GPU worker part of the glue: its settings, the client that
 * trains a model on vae_gpud (vae_gpu_client.c, speaking the protocol of
 * src/protocol/vgp_protocol.h) and the background worker that supervises a
 * daemon (vae_gpu_supervisor.c).
 *
 * _PG_init calls VaeGpuInit(), which defines the vae.gpu* settings and, when
 * vae is preloaded with vae.gpu_worker_autostart on, registers the
 * supervisor.  Nothing here calls back into the rest of the glue: progress
 * reaches the caller through the core's VcCallbacks.
 */
#ifndef VAE_GPU_H
#define VAE_GPU_H

#include "vae.h"

/* settings (vae_gpu.c defines them) */
extern char *vae_gpu_worker;
extern char *vae_gpu_secret;
extern char *vae_gpu_tls_ca_file;
extern int	vae_gpu_connect_timeout;
extern bool vae_gpu_worker_autostart;
extern char *vae_gpu_socket_dir;
extern char *vae_gpud_path;
extern char *vae_gpu_backend;
extern char *vae_gpud_options;

/* vae_gpu.c: define the settings; register the supervisor when asked to */
extern void VaeGpuInit(void);

/* directory of the supervised daemon's socket (vae.gpu_socket_dir or $PGDATA/vae_gpud) */
extern char *VaeGpuSocketDir(void);

/* the supervised daemon's socket: <VaeGpuSocketDir()>/vae_gpud.sock */
extern char *VaeGpuSocketPath(void);

/*
 * The worker this backend should use: vae.gpu_worker, else the socket of the
 * supervised daemon when vae.gpu_worker_autostart is on, else NULL.
 */
extern const char *VaeGpuWorkerTarget(void);

/*
 * The wait event of a backend waiting for the worker: from PostgreSQL 17 a
 * named one (VaeGpuWorker in pg_stat_activity.wait_event), before that the
 * generic Extension event.
 */
#if PG_VERSION_NUM >= 170000
extern uint32 VaeGpuWaitEvent(void);
#define VAE_GPU_WAIT_EVENT VaeGpuWaitEvent()
#else
#define VAE_GPU_WAIT_EVENT PG_WAIT_EXTENSION
#endif

/* vae_gpu_client.c */

/* the raw (unnormalized) row i, 0 <= i < n_rows, dim floats */
typedef const float *(*VaeGpuRowFn) (void *arg, int64 i);

/*
 * Train on the worker at 'target'.  The rows are only read (streamed to the
 * worker straight from the caller's buffer), so a caller can fall back to
 * the CPU with them afterwards.  cb->epoch_done (when set) receives the
 * worker's per-epoch progress, as the core's training loop would call it.
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
							const VcCallbacks *cb, VcModel **out, char *msg,
							bool *worker_failed);

/* vae_gpu_supervisor.c */
extern void VaeGpuSupervisorRegister(void);
#if PG_VERSION_NUM >= 180000
extern PGDLLEXPORT pg_noreturn void VaeGpuSupervisorMain(Datum arg);
#else
extern PGDLLEXPORT void VaeGpuSupervisorMain(Datum arg) pg_attribute_noreturn();
#endif

#endif							/* VAE_GPU_H */
