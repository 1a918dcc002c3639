/*
 * vgp_job.c - the bounded job queue and the job thread of vae_gpud.
 *
 * One thread trains, one job at a time, on the engine created at start-up
 * (for CUDA: one context on one device, reused by every job).  Jobs wait in
 * a FIFO whose places are reserved when a TRAIN header is accepted, so a
 * client learns "queue full" before it uploads its rows.  Cancellation is
 * an atomic flag the core polls between minibatches (check_interrupts), so
 * a client that hangs up stops its job within one minibatch.
 *
 * Locking: `lock` protects the queue, the running job pointer, the
 * reservations and the outbox.  The cancel flag of the running job is
 * atomic so the training loop can read it without the lock.
 */
#include "vgp_daemon.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t work_cv = PTHREAD_COND_INITIALIZER;
static pthread_t job_thread;
static int	thread_started;

static VgpJob *queue_head,
		   *queue_tail;
static VgpJob *running;
static int	n_waiting;			/* reserved + queued */
static uint64_t waiting_bytes;
static int	stopping;
static atomic_int stop_flag;

static VgpOut *out_head,
		   *out_tail;
static int	wake_fd = -1;

static VcEngine *engine;
static const VgpConfig *config;
static uint64_t last_job_id;

/* a new job id (event loop thread only) */
uint64_t
vgp_jobs_next_id(void)
{
	/* only the event loop thread assigns ids */
	return ++last_job_id;
}

/* post a frame (header + payload already encoded in buf) for a connection */
static void
PostFrame(uint64_t conn_id, uint8_t *buf, size_t len, int final)
{
	VgpOut	   *o = malloc(sizeof(VgpOut));
	char		b = 1;

	if (o == NULL)
	{
		/* the client will see the connection close without an answer */
		free(buf);
		vgp_log("out of memory posting a reply for connection %llu",
				(unsigned long long) conn_id);
		return;
	}
	o->conn_id = conn_id;
	o->buf = buf;
	o->len = len;
	o->final = final;
	o->next = NULL;
	pthread_mutex_lock(&lock);
	if (out_tail)
		out_tail->next = o;
	else
		out_head = o;
	out_tail = o;
	pthread_mutex_unlock(&lock);
	/* a full pipe already means "wake up"; nothing to do on EAGAIN */
	if (write(wake_fd, &b, 1) < 0 && errno != EAGAIN)
		vgp_log("cannot wake the event loop: %s", strerror(errno));
}

/* post an ERROR frame, the job's last word, for a connection */
static void
PostError(uint64_t conn_id, VcStatus st, const char *msg)
{
	uint8_t    *buf = malloc(VGP_FRAME_HEADER_SIZE + VGP_ERROR_MAX_SIZE);
	size_t		n;

	if (buf == NULL)
		return;
	n = vgp_encode_error(buf + VGP_FRAME_HEADER_SIZE, st, msg);
	vgp_encode_frame_header(buf, VGP_MSG_ERROR, n);
	PostFrame(conn_id, buf, VGP_FRAME_HEADER_SIZE + n, 1);
}

typedef struct JobContext
{
	VgpJob	   *job;
	double		t0;
} JobContext;

/* the core's check_interrupts: nonzero when the client left or the daemon stops */
static int
CheckCancel(void *arg)
{
	JobContext *ctx = arg;

	return atomic_load(&ctx->job->cancel) || atomic_load(&stop_flag);
}

/* the core's epoch_done: post a PROGRESS frame (best effort) */
static void
EpochDone(void *arg, int epoch, double train_loss, double val_loss, double elapsed)
{
	JobContext *ctx = arg;
	uint8_t    *buf = malloc(VGP_FRAME_HEADER_SIZE + VGP_PROGRESS_SIZE);
	VgpProgress p;

	if (buf == NULL)
		return;					/* progress is best effort */
	p.epoch = (uint32_t) epoch;
	p.train_loss = train_loss;
	p.val_loss = val_loss;
	p.elapsed = elapsed;
	vgp_encode_frame_header(buf, VGP_MSG_PROGRESS, VGP_PROGRESS_SIZE);
	vgp_encode_progress(buf + VGP_FRAME_HEADER_SIZE, &p);
	PostFrame(ctx->job->conn_id, buf, VGP_FRAME_HEADER_SIZE + VGP_PROGRESS_SIZE, 0);
}

/* serialize straight into the RESULT frame: the model is never copied */
static void
PostResult(VgpJob *job, const VcModel *m)
{
	size_t		mlen = vc_model_serialized_size(m);
	size_t		hlen = vgp_result_history_size((uint32_t) m->epochs_run);
	size_t		payload = VGP_RESULT_PREFIX_SIZE + mlen + hlen;
	uint8_t    *buf = malloc(VGP_FRAME_HEADER_SIZE + payload);
	uint8_t    *p;

	if (buf == NULL)
	{
		PostError(job->conn_id, VC_ENOMEM, "vae_gpud: out of memory sending the model");
		return;
	}
	vgp_encode_frame_header(buf, VGP_MSG_RESULT, payload);
	p = buf + VGP_FRAME_HEADER_SIZE;
	vgp_encode_result_prefix(p, (uint32_t) m->device, mlen);
	vc_model_serialize(m, p + VGP_RESULT_PREFIX_SIZE);
	vgp_encode_result_history(p + VGP_RESULT_PREFIX_SIZE + mlen, (uint32_t) m->epochs_run,
							  m->train_loss, m->val_loss);
	PostFrame(job->conn_id, buf, VGP_FRAME_HEADER_SIZE + payload, 1);
}

/*
 * Row hashes, on several threads: the job thread is otherwise idle while
 * they run, and each row's hash depends on that row alone, so the refs are
 * the same however the rows are split.  This is the one pass over the rows
 * before training that can be split without changing a bit (vc_train's
 * statistics sum in canonical order).
 */
#define HASH_MAX_THREADS 8
#define HASH_MIN_ROWS_PER_THREAD 65536

typedef struct HashPart
{
	VcRowRef   *refs;
	float	   *rows;
	uint64_t	lo,
				hi;
	int			dim;
	uint64_t	seed;
	JobContext *ctx;			/* its cancel flag, read every HASH_CHECK_ROWS */
} HashPart;

/* rows between two reads of the cancel flag: about a millisecond at 118 features */
#define HASH_CHECK_ROWS 4096

/* hash rows [lo, hi) of one part into their refs (a hashing thread's body) */
static void *
HashPartMain(void *arg)
{
	HashPart   *p = arg;

	/* the same hashes the backend computes, so the canonical order matches */
	for (uint64_t i = p->lo; i < p->hi; i++)
	{
		p->refs[i].row = p->rows + i * (uint64_t) p->dim;
		p->refs[i].hash = vc_hash_row(p->refs[i].row, p->dim, p->seed);
		/* an atomic read, safe from any thread: stop early, RunJob sees it too */
		if ((i - p->lo) % HASH_CHECK_ROWS == HASH_CHECK_ROWS - 1 && CheckCancel(p->ctx))
			break;
	}
	return NULL;
}

/* returns the number of threads used; the job may have been canceled meanwhile */
static int
HashRows(VcRowRef *refs, float *rows, uint64_t n, int dim, uint64_t seed, JobContext *ctx)
{
	HashPart	part[HASH_MAX_THREADS];
	pthread_t	tid[HASH_MAX_THREADS];
	int			started[HASH_MAX_THREADS] = {0};
	long		cpus = sysconf(_SC_NPROCESSORS_ONLN);
	uint64_t	k = n / HASH_MIN_ROWS_PER_THREAD;

	if (cpus > 0 && k > (uint64_t) cpus)
		k = (uint64_t) cpus;
	if (k > HASH_MAX_THREADS)
		k = HASH_MAX_THREADS;
	if (k < 1)
		k = 1;
	for (uint64_t t = 0; t < k; t++)
	{
		part[t].refs = refs;
		part[t].rows = rows;
		part[t].lo = n * t / k;
		part[t].hi = n * (t + 1) / k;
		part[t].dim = dim;
		part[t].seed = seed;
		part[t].ctx = ctx;
	}
	/* part 0 runs here; a part whose thread cannot start runs here too */
	for (uint64_t t = 1; t < k; t++)
		started[t] = pthread_create(&tid[t], NULL, HashPartMain, &part[t]) == 0;
	HashPartMain(&part[0]);
	for (uint64_t t = 1; t < k; t++)
	{
		if (started[t])
			pthread_join(tid[t], NULL);
		else
			HashPartMain(&part[t]);
	}
	return (int) k;
}

/*
 * Train one job on the engine: hash its rows, run vc_train_engine with the
 * cancel and progress callbacks, and post RESULT or ERROR; logs the outcome.
 */
static void
RunJob(VgpJob *job)
{
	uint64_t	n = job->hdr.n_rows;
	int			dim = (int) job->hdr.dim;
	VcRowRef   *refs;
	VcCallbacks cb;
	JobContext	ctx;
	VcModel    *model = NULL;
	char		msg[VC_ERRMSG_LEN];
	VcStatus	st;
	double		t_hashed;
	int			hash_threads;

	ctx.job = job;
	ctx.t0 = vc_now();
	vgp_log("job %llu started: %llu rows x %d features on %s",
			(unsigned long long) job->id, (unsigned long long) n, dim, engine->name);
	refs = malloc(sizeof(VcRowRef) * n);
	if (refs == NULL)
	{
		vgp_log("job %llu failed: out of memory", (unsigned long long) job->id);
		PostError(job->conn_id, VC_ENOMEM, "vae_gpud: out of memory for the row index");
		return;
	}
	hash_threads = HashRows(refs, job->rows, n, dim, job->hdr.opt.seed, &ctx);
	t_hashed = vc_now();
	memset(&cb, 0, sizeof(cb));
	cb.check_interrupts = CheckCancel;
	cb.epoch_done = EpochDone;
	cb.arg = &ctx;
	msg[0] = '\0';
	if (CheckCancel(&ctx))
		st = VC_ECANCELED;
	else
		st = vc_train_engine(refs, (int64_t) n, dim, &job->hdr.opt, &cb, engine, &model, msg);
	free(refs);
	if (st == VC_OK)
	{
		vgp_log("job %llu done: %d epochs in %.3f s (hashing rows %.3f s on %d thread%s, "
				"training %.3f s)", (unsigned long long) job->id, model->epochs_run,
				vc_now() - ctx.t0, t_hashed - ctx.t0, hash_threads, hash_threads > 1 ? "s" : "",
				model->train_seconds);
		PostResult(job, model);
		vc_model_free(model);
	}
	else if (st == VC_ECANCELED)
	{
		vgp_log("job %llu canceled after %.3f s (%s)", (unsigned long long) job->id,
				vc_now() - ctx.t0,
				atomic_load(&stop_flag) ? "daemon shutting down" : "client disconnected");
		PostError(job->conn_id, VC_ECANCELED, "vae_gpud: job canceled");
	}
	else
	{
		vgp_log("job %llu failed: %s", (unsigned long long) job->id, msg);
		PostError(job->conn_id, st, msg);
	}
}

/* free a job and its rows */
static void
FreeJob(VgpJob *job)
{
	free(job->rows);
	free(job);
}

/* the job thread: take queued jobs one at a time until vgp_jobs_stop() */
static void *
JobMain(void *arg)
{
	(void) arg;
	for (;;)
	{
		VgpJob	   *job;

		pthread_mutex_lock(&lock);
		while (queue_head == NULL && !stopping)
			pthread_cond_wait(&work_cv, &lock);
		if (stopping)
		{
			pthread_mutex_unlock(&lock);
			break;
		}
		job = queue_head;
		queue_head = job->next;
		if (queue_head == NULL)
			queue_tail = NULL;
		n_waiting--;
		waiting_bytes -= job->row_bytes;
		running = job;
		pthread_mutex_unlock(&lock);

		RunJob(job);

		pthread_mutex_lock(&lock);
		running = NULL;
		pthread_mutex_unlock(&lock);
		FreeJob(job);
	}
	return NULL;
}

/* start the job thread on engine e; fd is the event loop's wake pipe */
int
vgp_jobs_start(VcEngine *e, const VgpConfig *cfg, int fd)
{
	engine = e;
	config = cfg;
	wake_fd = fd;
	if (pthread_create(&job_thread, NULL, JobMain, NULL) != 0)
		return -1;
	thread_started = 1;
	return 0;
}

/* take a queue place and row_bytes of the byte budget, or VC_ELIMIT */
VcStatus
vgp_jobs_reserve(uint64_t row_bytes, char *errmsg)
{
	VcStatus	st = VC_OK;

	pthread_mutex_lock(&lock);
	if (n_waiting >= config->max_queue)
	{
		snprintf(errmsg, VC_ERRMSG_LEN,
				 "vae_gpud: queue full (%d jobs waiting); try again later",
				 n_waiting);
		st = VC_ELIMIT;
	}
	else if (config->max_queued_bytes > 0 &&
			 row_bytes > config->max_queued_bytes - waiting_bytes)
	{
		snprintf(errmsg, VC_ERRMSG_LEN,
				 "vae_gpud: queue full (%llu of %llu bytes of rows waiting); try again later",
				 (unsigned long long) waiting_bytes,
				 (unsigned long long) config->max_queued_bytes);
		st = VC_ELIMIT;
	}
	else
	{
		n_waiting++;
		waiting_bytes += row_bytes;
	}
	pthread_mutex_unlock(&lock);
	return st;
}

/* give back a place vgp_jobs_reserve() took (an upload that failed) */
void
vgp_jobs_unreserve(uint64_t row_bytes)
{
	pthread_mutex_lock(&lock);
	n_waiting--;
	waiting_bytes -= row_bytes;
	pthread_mutex_unlock(&lock);
}

/* append a reserved job to the queue and wake the job thread */
void
vgp_jobs_submit(VgpJob *job)
{
	job->next = NULL;
	pthread_mutex_lock(&lock);
	if (queue_tail)
		queue_tail->next = job;
	else
		queue_head = job;
	queue_tail = job;
	pthread_cond_signal(&work_cv);
	pthread_mutex_unlock(&lock);
}

/* flag the running job to stop, or drop it from the queue */
void
vgp_jobs_cancel(uint64_t job_id)
{
	VgpJob	   *prev = NULL,
			   *j,
			   *dropped = NULL;

	pthread_mutex_lock(&lock);
	if (running && running->id == job_id)
		atomic_store(&running->cancel, 1);
	else
	{
		for (j = queue_head; j; prev = j, j = j->next)
		{
			if (j->id != job_id)
				continue;
			if (prev)
				prev->next = j->next;
			else
				queue_head = j->next;
			if (queue_tail == j)
				queue_tail = prev;
			n_waiting--;
			waiting_bytes -= j->row_bytes;
			dropped = j;
			break;
		}
	}
	pthread_mutex_unlock(&lock);
	if (dropped)
	{
		vgp_log("job %llu canceled while queued (its client is gone)",
				(unsigned long long) job_id);
		FreeJob(dropped);
	}
}

/* detach every frame the job thread posted, oldest first */
VgpOut *
vgp_jobs_take_output(void)
{
	VgpOut	   *o;

	pthread_mutex_lock(&lock);
	o = out_head;
	out_head = out_tail = NULL;
	pthread_mutex_unlock(&lock);
	return o;
}

/* cancel the running job, join the job thread, free the queue and outbox */
void
vgp_jobs_stop(void)
{
	VgpJob	   *j;
	VgpOut	   *o;

	atomic_store(&stop_flag, 1);
	pthread_mutex_lock(&lock);
	stopping = 1;
	if (running)
		atomic_store(&running->cancel, 1);
	pthread_cond_signal(&work_cv);
	pthread_mutex_unlock(&lock);
	if (thread_started)
		pthread_join(job_thread, NULL);
	thread_started = 0;
	while ((j = queue_head) != NULL)
	{
		queue_head = j->next;
		FreeJob(j);
	}
	queue_tail = NULL;
	while ((o = vgp_jobs_take_output()) != NULL)
		while (o)
		{
			VgpOut	   *next = o->next;

			free(o->buf);
			free(o);
			o = next;
		}
}
