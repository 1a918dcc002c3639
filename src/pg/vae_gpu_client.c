/*
 * vae_gpu_client.c - train a model on the GPU worker, vae_gpud.
 *
 * One connection carries one job (src/protocol/vgp_protocol.h): read HELLO,
 * answer AUTH when asked, send the TRAIN header and the rows, then read
 * PROGRESS frames until RESULT or ERROR.
 *
 * Transport: a Unix socket, or TCP.  With vae.gpu_tls_ca_file set, TCP
 * runs TLS (src/protocol/vgp_tls.h): the worker's certificate must chain to
 * that CA and name the host or IP address of vae.gpu_worker, and the HMAC
 * challenge still runs inside the session.  Without it, plain TCP is
 * refused unless every address the host resolves to is a loopback one.
 *
 * Interrupts: the socket is nonblocking and every wait goes through
 * WaitLatchOrSocket() on MyLatch, followed by CHECK_FOR_INTERRUPTS(), so a
 * cancel, statement_timeout or terminate raises its ERROR as soon as it
 * arrives.  TLS keeps this: SSL_connect/SSL_read/SSL_write are called on the
 * nonblocking socket and their WANT_READ/WANT_WRITE become the same waits.
 * The connection (and its TLS session) is closed on that path
 * (PG_FINALLY), and the worker takes the hangup as the cancel of the job:
 * it drops it between two minibatches.
 *
 * Memory: the rows are streamed from the aggregate's buffer through a
 * bounded send buffer, never copied whole; what comes back is the model.
 *
 * Blame: every failure is reported as either the worker's (unreachable,
 * refused, died, protocol garbage: the caller may fall back to the CPU) or
 * the job's (the worker says the data or options are bad: the CPU would say
 * the same, so the caller reports it as the CPU path would).
 */
#include "vae_gpu.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "miscadmin.h"
#include "pgstat.h"
#include "port/pg_bswap.h"
#include "storage/latch.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "vgp_protocol.h"
#include "vgp_tls.h"

#include <openssl/err.h>

/* rows are packed into this much memory before each send() */
#define SEND_BUFFER_BYTES (256 * 1024)

/* longest wait between two checks of the deadline */
#define WAIT_SLICE_MS 1000

/* the connection of one job */
typedef struct GpuConn
{
	pgsocket	sock;
	SSL_CTX    *tls_ctx;		/* TLS over TCP, or NULL */
	SSL		   *tls;
	const char *target;
	TimestampTz deadline;		/* 0 = wait as long as it takes */
	char	   *msg;			/* VC_ERRMSG_LEN bytes */
} GpuConn;

static bool
Fail(GpuConn *c, const char *fmt,...) pg_attribute_printf(2, 3);

/* put the failure's message into c->msg; returns false for "return Fail(...)" */
static bool
Fail(GpuConn *c, const char *fmt,...)
{
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(c->msg, VC_ERRMSG_LEN, fmt, ap);
	va_end(ap);
	return false;
}

/*
 * Wait until the socket is ready for 'events' (or the latch is set, or a
 * slice passes); interrupts raise their ERROR here.  False when the deadline
 * passed.
 */
static bool
WaitSocket(GpuConn *c, int events, const char *what)
{
	long		timeout = WAIT_SLICE_MS;
	int			rc;

	if (c->deadline != 0)
	{
		TimestampTz now = GetCurrentTimestamp();

		if (now >= c->deadline)
			return Fail(c, "timed out after %d ms %s", vae_gpu_connect_timeout, what);
		timeout = Min(timeout, (long) ((c->deadline - now + 999) / 1000));
	}
	rc = WaitLatchOrSocket(MyLatch,
						   WL_LATCH_SET | WL_EXIT_ON_PM_DEATH | WL_TIMEOUT | events,
						   c->sock, timeout, VAE_GPU_WAIT_EVENT);
	if (rc & WL_LATCH_SET)
		ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();
	return true;
}

/*
 * Move some bytes over the connection, plain or TLS: returns how many, 0
 * when the worker closed it, -1 when the caller must wait for *events
 * (0: just retry) or -2 on an error (c->msg says it).
 */
static ssize_t
Transfer(GpuConn *c, bool sending, char *buf, size_t len, int *events)
{
	ssize_t		n;
	int			err;

	*events = 0;
	if (c->tls == NULL)
	{
		n = sending ? send(c->sock, buf, len, MSG_NOSIGNAL) : recv(c->sock, buf, len, 0);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			return -1;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
		{
			*events = sending ? WL_SOCKET_WRITEABLE : WL_SOCKET_READABLE;
			return -1;
		}
		Fail(c, sending ? "could not send to the worker: %s" :
			 "could not receive from the worker: %s", strerror(errno));
		return -2;
	}

	len = Min(len, (size_t) 1 << 30);
	ERR_clear_error();
	n = sending ? SSL_write(c->tls, buf, (int) len) : SSL_read(c->tls, buf, (int) len);
	if (n > 0)
		return n;
	err = SSL_get_error(c->tls, (int) n);
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
	{
		*events = err == SSL_ERROR_WANT_READ ? WL_SOCKET_READABLE : WL_SOCKET_WRITEABLE;
		return -1;
	}
	if (err == SSL_ERROR_ZERO_RETURN || (err == SSL_ERROR_SYSCALL && n == 0))
	{
		ERR_clear_error();
		return 0;
	}
	{
		char		why[VC_ERRMSG_LEN];

		vgp_tls_describe(c->tls, (int) n, sending ? "could not send to the worker" :
						 "could not receive from the worker", why);
		Fail(c, "%s", why);
	}
	return -2;
}

/* send or receive exactly len bytes, waiting (interruptibly) as needed */
static bool
TransferAll(GpuConn *c, bool sending, char *p, size_t len)
{
	while (len > 0)
	{
		int			events;
		ssize_t		n = Transfer(c, sending, p, len, &events);

		if (n > 0)
		{
			p += n;
			len -= n;
			continue;
		}
		if (n == 0)
			return Fail(c, "the worker closed the connection");
		if (n == -2)
			return false;
		if (events != 0 &&
			!WaitSocket(c, events, sending ? "sending to the worker" : "waiting for the worker"))
			return false;
	}
	return true;
}

/* send all of buf */
static bool
SendAll(GpuConn *c, const void *buf, size_t len)
{
	return TransferAll(c, true, (char *) buf, len);
}

/* receive exactly len bytes into buf */
static bool
RecvAll(GpuConn *c, void *buf, size_t len)
{
	return TransferAll(c, false, buf, len);
}

/*
 * Read one frame.  The payload is palloc'd (huge allowed) and *payload set
 * to it; 'limit' bounds RESULT, the other types are small.
 */
static bool
RecvFrame(GpuConn *c, uint64 limit, VgpFrameHeader *h, uint8 **payload)
{
	uint8		hdr[VGP_FRAME_HEADER_SIZE];
	char		err[VC_ERRMSG_LEN];

	*payload = NULL;
	if (!RecvAll(c, hdr, sizeof(hdr)))
		return false;
	if (vgp_decode_frame_header(hdr, limit, h, err) != VC_OK)
		return Fail(c, "invalid frame from the worker: %s", err);
	*payload = palloc_extended(Max(h->length, 1), MCXT_ALLOC_HUGE);
	return RecvAll(c, *payload, h->length);
}

/* send one frame: its header, then the payload */
static bool
SendFrame(GpuConn *c, uint16 type, const uint8 *payload, size_t len)
{
	uint8		hdr[VGP_FRAME_HEADER_SIZE];

	vgp_encode_frame_header(hdr, type, len);
	return SendAll(c, hdr, sizeof(hdr)) && (len == 0 || SendAll(c, payload, len));
}

/* an ERROR frame's status and message, into c->msg; returns the status */
static VcStatus
DecodeWorkerError(GpuConn *c, const uint8 *payload, size_t len)
{
	VcStatus	st;
	char		text[VC_ERRMSG_LEN];
	char		err[VC_ERRMSG_LEN];

	if (vgp_decode_error(payload, len, &st, text, err) != VC_OK)
	{
		Fail(c, "invalid ERROR frame from the worker: %s", err);
		return VC_EDEVICE;
	}
	strlcpy(c->msg, text, VC_ERRMSG_LEN);
	return st;
}

/* ---- connecting ---- */

/* make c->sock nonblocking: every wait is then a latch wait */
static bool
SetNonblocking(GpuConn *c)
{
	if (!pg_set_noblock(c->sock))
		return Fail(c, "could not make the socket nonblocking: %s", strerror(errno));
	return true;
}

/* finish a nonblocking connect() that said EINPROGRESS */
static bool
FinishConnect(GpuConn *c)
{
	int			err = 0;
	socklen_t	errlen = sizeof(err);

	for (;;)
	{
		struct sockaddr_storage peer;
		socklen_t	peerlen = sizeof(peer);

		if (getpeername(c->sock, (struct sockaddr *) &peer, &peerlen) == 0)
			return true;
		if (errno != ENOTCONN)
			break;
		/* still connecting, or failed: SO_ERROR says which */
		if (getsockopt(c->sock, SOL_SOCKET, SO_ERROR, &err, &errlen) == 0 && err != 0)
		{
			errno = err;
			break;
		}
		if (!WaitSocket(c, WL_SOCKET_WRITEABLE, "connecting"))
			return false;
	}
	return Fail(c, "could not connect: %s", strerror(errno));
}

/*
 * Connect to the Unix socket at path, retrying while the worker's backlog
 * is full, until the connect deadline.
 */
static bool
ConnectUnix(GpuConn *c, const char *path)
{
	struct sockaddr_un addr;

	if (strlen(path) >= sizeof(addr.sun_path))
		return Fail(c, "socket path is longer than %d bytes", (int) sizeof(addr.sun_path) - 1);
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
	c->sock = socket(AF_UNIX, SOCK_STREAM, 0);
	if (c->sock == PGINVALID_SOCKET)
		return Fail(c, "could not create a socket: %s", strerror(errno));
	if (!SetNonblocking(c))
		return false;
	for (;;)
	{
		if (connect(c->sock, (struct sockaddr *) &addr, sizeof(addr)) == 0)
			return true;
		if (errno == EINPROGRESS || errno == EINTR)
			return FinishConnect(c);
		if (errno != EAGAIN)
			return Fail(c, "could not connect: %s", strerror(errno));

		/*
		 * EAGAIN: the worker's listen backlog is full, and a Unix socket
		 * does not queue the attempt; try again shortly, until the deadline.
		 */
		if (GetCurrentTimestamp() >= c->deadline)
			return Fail(c, "timed out after %d ms connecting (the worker's backlog is full)",
						vae_gpu_connect_timeout);
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 10, VAE_GPU_WAIT_EVENT);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
}

/*
 * The TLS handshake over the connected TCP socket: the worker's certificate
 * must chain to vae.gpu_tls_ca_file and name host.  Waits are interruptible
 * and bounded by the connect deadline.
 */
static bool
StartTls(GpuConn *c, const char *host)
{
	char		err[VC_ERRMSG_LEN];

	c->tls_ctx = vgp_tls_client_ctx(vae_gpu_tls_ca_file, err);
	if (c->tls_ctx == NULL)
		return Fail(c, "%s (vae.gpu_tls_ca_file)", err);
	c->tls = vgp_tls_client_new(c->tls_ctx, c->sock, host, err);
	if (c->tls == NULL)
		return Fail(c, "%s", err);
	for (;;)
	{
		int			r;
		int			e;

		ERR_clear_error();
		r = SSL_connect(c->tls);
		if (r == 1)
			return true;
		e = SSL_get_error(c->tls, r);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
		{
			vgp_tls_describe(c->tls, r, "TLS handshake with the worker failed", err);
			return Fail(c, "%s", err);
		}
		if (!WaitSocket(c, e == SSL_ERROR_WANT_READ ? WL_SOCKET_READABLE : WL_SOCKET_WRITEABLE,
						"in the TLS handshake"))
			return false;
	}
}

/*
 * Connect to host:port or [v6addr]:port, trying each address it resolves
 * to, then start TLS when vae.gpu_tls_ca_file is set.  Without TLS only
 * loopback addresses are dialled: anything else would carry the rows, the
 * model and the worker's challenge in the clear.
 */
static bool
ConnectTcp(GpuConn *c, const char *target)
{
	char	   *host = pstrdup(target);
	char	   *port = strrchr(host, ':');
	struct addrinfo hints,
			   *res = NULL,
			   *ai;
	int			rc;
	int			saved_errno = 0;

	if (port == NULL || port[1] == '\0' || port == host)
		return Fail(c, "\"%s\" is neither a socket path (starting with /) nor host:port",
					VaeEchoText(target, strlen(target)));
	*port++ = '\0';
	if (host[0] == '[' && host[strlen(host) - 1] == ']')
	{
		host[strlen(host) - 1] = '\0';
		host++;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0)
		return Fail(c, "could not resolve \"%s\": %s", VaeEchoText(host, strlen(host)),
					gai_strerror(rc));
	if (vae_gpu_tls_ca_file == NULL || vae_gpu_tls_ca_file[0] == '\0')
	{
		for (ai = res; ai != NULL; ai = ai->ai_next)
			if (!vgp_addr_is_loopback(ai->ai_addr))
			{
				freeaddrinfo(res);
				return Fail(c, "refusing plain TCP to \"%s\", which is not a loopback address: "
							"set vae.gpu_tls_ca_file to connect with TLS",
							VaeEchoText(target, strlen(target)));
			}
	}

	for (ai = res; ai != NULL; ai = ai->ai_next)
	{
		int			one = 1;

		c->sock = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (c->sock == PGINVALID_SOCKET)
		{
			saved_errno = errno;
			continue;
		}
		(void) setsockopt(c->sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		/* a worker host that vanishes is noticed even while a job runs */
		(void) setsockopt(c->sock, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
		if (!SetNonblocking(c))
			break;
		if (connect(c->sock, ai->ai_addr, ai->ai_addrlen) == 0 ||
			((errno == EINPROGRESS || errno == EINTR) && FinishConnect(c)))
		{
			freeaddrinfo(res);
			if (vae_gpu_tls_ca_file == NULL || vae_gpu_tls_ca_file[0] == '\0')
				return true;
			return StartTls(c, host);
		}
		saved_errno = errno;
		closesocket(c->sock);
		c->sock = PGINVALID_SOCKET;
		/* a timeout ends the attempt; other failures try the next address */
		if (c->deadline != 0 && GetCurrentTimestamp() >= c->deadline)
			break;
	}
	freeaddrinfo(res);
	if (c->msg[0] == '\0')
		Fail(c, "could not connect: %s", strerror(saved_errno));
	return false;
}

/*
 * HELLO, and AUTH when the worker asks for it.  A plain connection to a
 * worker that speaks TLS never sees a HELLO: the timeout says so.
 */
static bool
Handshake(GpuConn *c, VgpHello *hello)
{
	VgpFrameHeader h;
	uint8	   *payload;
	char		err[VC_ERRMSG_LEN];

	if (!RecvFrame(c, 0, &h, &payload))
	{
		if (c->tls == NULL && c->target[0] != '/' && strncmp(c->msg, "timed out", 9) == 0)
			return Fail(c, "%s (a worker started with --tls-cert needs vae.gpu_tls_ca_file)",
						pstrdup(c->msg));
		return false;
	}
	if (h.type == VGP_MSG_ERROR)
	{
		DecodeWorkerError(c, payload, h.length);
		return false;
	}
	if (h.type != VGP_MSG_HELLO)
		return Fail(c, "protocol violation: expected HELLO, got message type %d", h.type);
	if (vgp_decode_hello(payload, h.length, hello, err) != VC_OK)
		return Fail(c, "invalid HELLO from the worker: %s", err);
	pfree(payload);

	if (hello->flags & VGP_HELLO_AUTH)
	{
		uint8		mac[VGP_MAC_LEN];

		if (vae_gpu_secret == NULL || vae_gpu_secret[0] == '\0')
			return Fail(c, "the worker requires authentication and vae.gpu_secret is not set");
		if (vgp_auth_mac((const uint8 *) vae_gpu_secret, strlen(vae_gpu_secret),
						 hello->nonce, mac) != 0)
			return Fail(c, "could not compute the HMAC for the worker's challenge (libcrypto failed)");
		if (!SendFrame(c, VGP_MSG_AUTH, mac, sizeof(mac)))
			return false;
		if (!RecvFrame(c, 0, &h, &payload))
			return false;
		if (h.type == VGP_MSG_ERROR)
		{
			DecodeWorkerError(c, payload, h.length);
			return Fail(c, "the worker refused authentication (is vae.gpu_secret the worker's secret?): %s",
						pstrdup(c->msg));
		}
		if (h.type != VGP_MSG_OK)
			return Fail(c, "protocol violation: expected OK after AUTH, got message type %d", h.type);
		pfree(payload);
	}
	return true;
}

/* ---- the job ---- */

/*
 * TRAIN: the header, then the rows packed little-endian through a bounded
 * buffer.
 */
static bool
SendTrain(GpuConn *c, VaeGpuRowFn row, void *row_arg, int64 n_rows, int dim,
		  const VcOptions *opt)
{
	VgpTrainHeader th;
	uint8		hdr[VGP_TRAIN_HEADER_SIZE];
	size_t		row_bytes = sizeof(float) * (size_t) dim;
	size_t		cap = Max(SEND_BUFFER_BYTES, row_bytes);
	uint8	   *buf;
	size_t		used = 0;
	int64		i;

	memset(&th, 0, sizeof(th));
	th.opt = *opt;
	th.dim = dim;
	th.n_rows = n_rows;
	vgp_encode_train_header(hdr, &th);
	{
		uint8		fh[VGP_FRAME_HEADER_SIZE];

		vgp_encode_frame_header(fh, VGP_MSG_TRAIN,
								VGP_TRAIN_HEADER_SIZE + (uint64) n_rows * row_bytes);
		if (!SendAll(c, fh, sizeof(fh)) || !SendAll(c, hdr, sizeof(hdr)))
			return false;
	}

	buf = palloc(cap);
	for (i = 0; i < n_rows; i++)
	{
		const float *x = row(row_arg, i);

		if (used + row_bytes > cap)
		{
			if (!SendAll(c, buf, used))
				return false;
			used = 0;
			CHECK_FOR_INTERRUPTS();
		}
#ifdef WORDS_BIGENDIAN
		{
			int			j;

			for (j = 0; j < dim; j++)
			{
				uint32		u;

				memcpy(&u, &x[j], sizeof(u));
				u = pg_bswap32(u);
				memcpy(buf + used + 4 * j, &u, sizeof(u));
			}
		}
#else
		memcpy(buf + used, x, row_bytes);
#endif
		used += row_bytes;
	}
	if (used > 0 && !SendAll(c, buf, used))
		return false;
	pfree(buf);
	return true;
}

/*
 * Job errors the CPU would raise too (true): the caller reports them as such.
 * Anything else the worker says (out of resources, queue full, shutting
 * down) is the worker's failure.
 */
static bool
IsJobError(VcStatus st)
{
	return st == VC_EINVAL || st == VC_EDATA || st == VC_EDIVERGED;
}

/* the status of a worker's own failure: out of memory or limits, else EDEVICE */
static VcStatus
WorkerStatus(VcStatus st)
{
	return (st == VC_ENOMEM || st == VC_ELIMIT) ? st : VC_EDEVICE;
}

/* PROGRESS ... then RESULT or ERROR */
static VcStatus
ReadOutcome(GpuConn *c, int dim, const VcCallbacks *cb, VcModel **out,
			bool *worker_failed)
{
	uint64		limit = (uint64) MaxAllocSize + VGP_RESULT_PREFIX_SIZE +
		vgp_result_history_size(VC_MAX_HISTORY);
	char		err[VC_ERRMSG_LEN];

	for (;;)
	{
		VgpFrameHeader h;
		uint8	   *payload;

		if (!RecvFrame(c, limit, &h, &payload))
			return VC_EDEVICE;
		if (h.type == VGP_MSG_PROGRESS)
		{
			VgpProgress p;

			if (vgp_decode_progress(payload, h.length, &p, err) != VC_OK)
			{
				Fail(c, "invalid PROGRESS from the worker: %s", err);
				return VC_EDEVICE;
			}
			if (cb != NULL && cb->epoch_done != NULL)
				cb->epoch_done(cb->arg, (int) p.epoch, p.train_loss, p.val_loss, p.elapsed);
			pfree(payload);
			continue;
		}
		if (h.type == VGP_MSG_ERROR)
		{
			VcStatus	st = DecodeWorkerError(c, payload, h.length);

			if (IsJobError(st))
			{
				*worker_failed = false;
				return st;
			}
			if (st == VC_OK)
				strlcpy(c->msg, "the worker sent an ERROR with status 0", VC_ERRMSG_LEN);
			return WorkerStatus(st);
		}
		if (h.type == VGP_MSG_RESULT)
		{
			uint32		device,
						epochs;
			const uint8 *model;
			uint64		model_len;
			VcModel    *m;

			if (vgp_decode_result(payload, h.length, &device, &model, &model_len,
								  &epochs, err) != VC_OK)
			{
				Fail(c, "invalid RESULT from the worker: %s", err);
				return VC_EDEVICE;
			}
			/* the reader validates everything: a broken worker cannot hand us garbage */
			if (vc_model_deserialize(model, model_len, &m, err) != VC_OK)
			{
				Fail(c, "the worker returned an invalid model: %s", err);
				return VC_EDEVICE;
			}
			if (m->dim != dim || (uint32) m->device != device ||
				(uint32) m->epochs_run != epochs)
			{
				vc_model_free(m);
				Fail(c, "the worker returned a model that does not match the job");
				return VC_EDEVICE;
			}
			pfree(payload);
			*out = m;
			return VC_OK;
		}
		Fail(c, "protocol violation: unexpected message type %d during the job", h.type);
		return VC_EDEVICE;
	}
}

/*
 * After a failed send, the worker may have said why before it closed (queue
 * full, request too large, a bad option): read that ERROR if it is there.
 */
static VcStatus
ReadRefusal(GpuConn *c, bool *worker_failed)
{
	char		send_msg[VC_ERRMSG_LEN];
	VgpFrameHeader h;
	uint8	   *payload;
	VcStatus	st;

	strlcpy(send_msg, c->msg, sizeof(send_msg));
	c->deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), 200);
	if (!RecvFrame(c, 0, &h, &payload) || h.type != VGP_MSG_ERROR)
	{
		strlcpy(c->msg, send_msg, VC_ERRMSG_LEN);
		return VC_EDEVICE;
	}
	st = DecodeWorkerError(c, payload, h.length);
	if (IsJobError(st))
	{
		*worker_failed = false;
		return st;
	}
	return WorkerStatus(st);
}

/* train on the worker at target (see vae_gpu.h) */
VcStatus
VaeGpuTrain(const char *target, VaeGpuRowFn row, void *row_arg, int64 n_rows,
			int dim, const VcOptions *opt, const VcCallbacks *cb, VcModel **out,
			char *msg, bool *worker_failed)
{
	GpuConn		c;
	VcStatus	status = VC_EDEVICE;

	*out = NULL;
	*worker_failed = true;
	msg[0] = '\0';
	c.sock = PGINVALID_SOCKET;
	c.tls_ctx = NULL;
	c.tls = NULL;
	c.target = target;
	c.msg = msg;
	c.deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), vae_gpu_connect_timeout);

	PG_TRY();
	{
		VgpHello	hello;
		bool		ok;

		if (target[0] == '/')
			ok = ConnectUnix(&c, target);
		else
			ok = ConnectTcp(&c, target);
		if (ok)
			ok = Handshake(&c, &hello);
		if (ok)
		{
			uint64		request = VGP_TRAIN_HEADER_SIZE +
				(uint64) n_rows * sizeof(float) * (uint64) dim;

			if (request > hello.max_request_bytes)
			{
				status = VC_ELIMIT;
				snprintf(msg, VC_ERRMSG_LEN,
						 "the rows take " UINT64_FORMAT " bytes, more than the worker accepts (" UINT64_FORMAT ")",
						 request, (uint64) hello.max_request_bytes);
			}
			else
			{
				/* connected: from here on the job takes as long as it takes */
				c.deadline = 0;
				if (SendTrain(&c, row, row_arg, n_rows, dim, opt))
					status = ReadOutcome(&c, dim, cb, out, worker_failed);
				else
					status = ReadRefusal(&c, worker_failed);
			}
		}
	}
	PG_FINALLY();
	{
		/* also on a cancel: the hangup tells the worker to drop the job */
		SSL_free(c.tls);
		SSL_CTX_free(c.tls_ctx);
		ERR_clear_error();
		if (c.sock != PGINVALID_SOCKET)
			closesocket(c.sock);
	}
	PG_END_TRY();

	if (status == VC_OK)
		*worker_failed = false;
	else if (msg[0] == '\0')
		strlcpy(msg, "unknown failure", VC_ERRMSG_LEN);
	return status;
}
