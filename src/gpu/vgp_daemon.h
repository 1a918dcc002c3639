/*
 * vgp_daemon.h - the pieces of vae_gpud (not part of the wire contract).
 *
 * Threads: the event loop (vgp_server.c) owns every socket and every
 * connection; one job thread (vgp_job.c) owns the training engine and runs
 * one job at a time.  They meet only in vgp_job.c's queue and outbox, under
 * one mutex: the loop submits and cancels jobs by id, the job thread posts
 * finished frames and wakes the loop through a pipe.  The job thread never
 * touches a socket, so a slow or vanished client cannot stall training.
 */
#ifndef VGP_DAEMON_H
#define VGP_DAEMON_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "vc.h"
#include "vgp_protocol.h"
#include "vgp_tls.h"

/* the extension's version (default_version of vae.control, from the Makefile) */
#ifdef VAE_VERSION
#define VGP_GPUD_VERSION VAE_VERSION
#else
#define VGP_GPUD_VERSION "unknown"
#endif

typedef struct VgpConfig
{
	const char *socket_path;	/* Unix socket, or NULL */
	const char *listen_addr;	/* HOST:PORT for TCP, or NULL */
	uint8_t    *secret;			/* TCP shared secret */
	size_t		secret_len;
	SSL_CTX    *tls;			/* TLS on TCP (--tls-cert/--tls-key), or NULL */
	int			insecure_loopback;	/* plain TCP allowed, on loopback only */
	int			backend;		/* VC_DEVICE_CPU or VC_DEVICE_GPU, resolved */
	int			device;			/* CUDA device ordinal */
	uint64_t	max_request_bytes;	/* TRAIN payload limit */
	int			max_queue;		/* jobs waiting (being uploaded or queued) */
	uint64_t	max_queued_bytes;	/* their row bytes together; 0 = no limit */
	int			idle_timeout;	/* seconds a client may stay silent before its job is queued */
	int			request_timeout;	/* seconds from connect to the end of the request */
	int			max_connections;
} VgpConfig;

/* ---- logging (vgp_log.c): timestamped lines, thread-safe ---- */
int			vgp_log_open(const char *path);	/* NULL = stderr; 0 on success */
void		vgp_log(const char *fmt,...) __attribute__((format(printf, 1, 2)));

/* ---- jobs (vgp_job.c) ---- */
typedef struct VgpJob
{
	uint64_t	id;
	uint64_t	conn_id;		/* where the answers go */
	VgpTrainHeader hdr;
	float	   *rows;			/* n_rows * dim, owned by the job */
	uint64_t	row_bytes;
	atomic_int	cancel;
	struct VgpJob *next;
} VgpJob;

/* a complete frame for a connection, posted by the job thread */
typedef struct VgpOut
{
	uint64_t	conn_id;
	uint8_t    *buf;
	size_t		len;
	int			final;			/* RESULT or ERROR: the job is over */
	struct VgpOut *next;
} VgpOut;

/* starts the job thread; the engine must stay valid until vgp_jobs_stop() */
int			vgp_jobs_start(VcEngine *engine, const VgpConfig *cfg, int wake_fd);
/*
 * Reserve a place in the queue for an upload of row_bytes (checked when the
 * TRAIN header arrives, before any row is read).  VC_ELIMIT with a message
 * when the queue or its byte budget is full.
 */
VcStatus	vgp_jobs_reserve(uint64_t row_bytes, char *errmsg);
void		vgp_jobs_unreserve(uint64_t row_bytes);
/* queue a job whose place was reserved; the queue owns it from now on */
void		vgp_jobs_submit(VgpJob *job);
/* the client went away: drop the job if queued, cancel it if running */
void		vgp_jobs_cancel(uint64_t job_id);
/* everything the job thread posted since the last call, in order */
VgpOut	   *vgp_jobs_take_output(void);
/* cancel everything and join the job thread */
void		vgp_jobs_stop(void);
uint64_t	vgp_jobs_next_id(void);

/* ---- the event loop (vgp_server.c) ---- */
int			vgp_serve(const VgpConfig *cfg, VcEngine *engine);

#endif							/* VGP_DAEMON_H */
