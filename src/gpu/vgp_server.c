/*
 * vgp_server.c - vae_gpud's event loop: listening sockets, connections,
 * frames, and handing complete jobs to the job thread.
 *
 * Everything here runs in one thread around poll(): accepting, the
 * handshake, reading a TRAIN request incrementally (nonblocking, so one
 * slow client never blocks another), writing replies, and noticing a
 * client that hangs up -- which cancels its job.  The request is validated
 * piece by piece before anything is allocated for it: the frame header
 * against --max-request-bytes, the TRAIN header's shape and options, the
 * queue's room, then every float as it arrives.  Any violation is answered
 * with ERROR and the connection is closed; the daemon keeps serving.
 *
 * Two clocks bound a request: --idle-timeout (silence) and --request-timeout
 * (the whole request, from connect, however steadily its bytes trickle in).
 * Neither applies once the request is complete: a job takes as long as it
 * takes.  poll() sleeps until the nearest deadline.
 *
 * TLS (--tls-cert): every TCP connection starts with a TLS handshake, driven
 * by the same loop (SSL_accept until it stops asking to read or write); the
 * HELLO queued at accept goes out once it is done.  All I/O goes through
 * ConnRead/ConnWrite, which turn SSL_ERROR_WANT_READ/WANT_WRITE into "would
 * block" and remember which way the session wants the socket, so poll()
 * waits for that.  Bytes OpenSSL has already decrypted (SSL_has_pending) do
 * not show up in poll(), so the loop does not sleep while a session holds
 * some.
 */
#include "vgp_daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <math.h>

#include <openssl/err.h>

/* how long a closing connection may keep sending bytes we discard */
#define DRAIN_MS 5000

typedef enum ConnState
{
	CS_AUTH,					/* HELLO sent, waiting for AUTH (TCP) */
	CS_READY,					/* waiting for TRAIN */
	CS_ROWS,					/* reading the rows of a TRAIN */
	CS_JOB,						/* job queued or running */
	CS_CLOSING					/* final frame queued; flush, drain, close */
} ConnState;

typedef struct OutBuf
{
	uint8_t    *buf;
	size_t		len;
	size_t		off;
	struct OutBuf *next;
} OutBuf;

typedef struct Conn
{
	uint64_t	id;
	int			fd;
	int			is_tcp;
	char		peer[80];
	ConnState	state;
	/* milliseconds on NowMs()'s clock */
	int64_t		last_active;
	int64_t		drain_until;
	int64_t		request_deadline;	/* the request must be complete by then */
	int			shut_wr;

	/* TLS (TCP with --tls-cert): the session, and where it stands */
	SSL		   *ssl;
	int			tls_handshaking;	/* SSL_accept not done yet */
	int			tls_want_write; /* the session waits for the socket to take bytes */
	char		tls_error[VC_ERRMSG_LEN];	/* why the last ConnRead/ConnWrite failed */

	uint8_t		nonce[VGP_NONCE_LEN];

	/* frame being read */
	uint8_t		hdr[VGP_FRAME_HEADER_SIZE];
	size_t		hdr_got;
	int			have_hdr;
	VgpFrameHeader fh;
	uint8_t		small[VGP_MAX_SMALL_PAYLOAD];
	size_t		small_got;

	/* TRAIN being read */
	VgpTrainHeader th;
	float	   *rows;
	uint64_t	row_bytes;
	uint64_t	row_got;
	uint64_t	floats_checked;
	int			reserved;

	uint64_t	job_id;
	OutBuf	   *out_head,
			   *out_tail;
	struct Conn *next;
} Conn;

static const VgpConfig *cfg;
static VcEngine *the_engine;
static Conn *conns;
static int	n_conns;
static uint64_t last_conn_id;
static int	unix_fd = -1;
static int	tcp_fd = -1;
static int	wake_pipe[2] = {-1, -1};
static int	sig_pipe[2] = {-1, -1};

/* ---- helpers ---- */

/* SIGTERM/SIGINT: wake the loop through the signal pipe */
static void
HandleSignal(int signo)
{
	int			save = errno;
	char		b = (char) signo;

	if (write(sig_pipe[1], &b, 1) < 0)
	{
		/* pipe full: a wakeup is already pending */
	}
	errno = save;
}

/* milliseconds on a clock that never jumps: every deadline is on it */
static int64_t
NowMs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* O_NONBLOCK and FD_CLOEXEC on fd; -1 on failure */
static int
SetNonblocking(int fd)
{
	int			fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -1;
	return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/* len bytes from the kernel's CSPRNG (getrandom); -1 on failure */
static int
RandomBytes(uint8_t *buf, size_t len)
{
	size_t		got = 0;

	while (got < len)
	{
		ssize_t		n = getrandom(buf + got, len - got, 0);

		if (n < 0)
		{
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t) n;
	}
	return 0;
}

/* the open connection with this id, or NULL */
static Conn *
FindConn(uint64_t id)
{
	Conn	   *c;

	for (c = conns; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

/* append buf (malloc'd, now owned by c) to c's output */
static void
QueueOut(Conn *c, uint8_t *buf, size_t len)
{
	OutBuf	   *o = malloc(sizeof(OutBuf));

	if (o == NULL)
	{
		free(buf);
		return;
	}
	o->buf = buf;
	o->len = len;
	o->off = 0;
	o->next = NULL;
	if (c->out_tail)
		c->out_tail->next = o;
	else
		c->out_head = o;
	c->out_tail = o;
}

/* queue one frame: the header, then a copy of the payload */
static void
SendFrame(Conn *c, uint16_t type, const uint8_t *payload, size_t len)
{
	uint8_t    *buf = malloc(VGP_FRAME_HEADER_SIZE + len);

	if (buf == NULL)
		return;
	vgp_encode_frame_header(buf, type, len);
	if (len > 0)
		memcpy(buf + VGP_FRAME_HEADER_SIZE, payload, len);
	QueueOut(c, buf, VGP_FRAME_HEADER_SIZE + len);
}

/* give back what a request being read holds: its queue place and rows */
static void
DropUpload(Conn *c)
{
	if (c->reserved)
	{
		vgp_jobs_unreserve(c->row_bytes);
		c->reserved = 0;
	}
	free(c->rows);
	c->rows = NULL;
}

/* answer ERROR and close once it is sent (the connection's last word) */
static void
FailConn(Conn *c, VcStatus st, const char *msg)
{
	uint8_t		payload[VGP_ERROR_MAX_SIZE];
	size_t		n = vgp_encode_error(payload, st, msg);

	vgp_log("connection %llu (%s): %s", (unsigned long long) c->id, c->peer, msg);
	SendFrame(c, VGP_MSG_ERROR, payload, n);
	DropUpload(c);
	c->state = CS_CLOSING;
	c->last_active = NowMs();
}

/* close c now: cancel its job, free what it holds, unlink it */
static void
CloseConn(Conn *c)
{
	Conn	  **pp;

	if (c->state == CS_JOB && c->job_id != 0)
		vgp_jobs_cancel(c->job_id);
	DropUpload(c);
	while (c->out_head)
	{
		OutBuf	   *o = c->out_head;

		c->out_head = o->next;
		free(o->buf);
		free(o);
	}
	SSL_free(c->ssl);
	close(c->fd);
	for (pp = &conns; *pp; pp = &(*pp)->next)
		if (*pp == c)
		{
			*pp = c->next;
			break;
		}
	n_conns--;
	free(c);
}

/* ---- accepting ---- */

/*
 * Accept every pending connection on lfd: set each up (its nonce, its TLS
 * session on a TLS listener) and queue its HELLO, or refuse it when
 * --max-connections are open.
 */
static void
AcceptOn(int lfd, int is_tcp)
{
	for (;;)
	{
		struct sockaddr_storage ss;
		socklen_t	sl = sizeof(ss);
		int			fd = accept(lfd, (struct sockaddr *) &ss, &sl);
		Conn	   *c;
		VgpHello	h;
		uint8_t		payload[VGP_HELLO_SIZE];

		if (fd < 0)
		{
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
				errno != ECONNABORTED)
				vgp_log("accept failed: %s", strerror(errno));
			return;
		}
		if (SetNonblocking(fd) < 0)
		{
			close(fd);
			continue;
		}
		if (n_conns >= cfg->max_connections && is_tcp && cfg->tls)
		{
			/* a TLS client could not read a plain ERROR: just close */
			vgp_log("refused a connection: %d connections open", n_conns);
			close(fd);
			continue;
		}
		if (n_conns >= cfg->max_connections)
		{
			uint8_t		buf[VGP_FRAME_HEADER_SIZE + VGP_ERROR_MAX_SIZE];
			size_t		n = vgp_encode_error(buf + VGP_FRAME_HEADER_SIZE, VC_ELIMIT,
											 "vae_gpud: too many connections");

			vgp_encode_frame_header(buf, VGP_MSG_ERROR, n);
			if (write(fd, buf, VGP_FRAME_HEADER_SIZE + n) < 0)
			{
				/* best effort */
			}
			vgp_log("refused a connection: %d connections open", n_conns);
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(Conn));
		if (c == NULL || RandomBytes(c->nonce, VGP_NONCE_LEN) < 0)
		{
			vgp_log("cannot set up a connection: %s", c ? "no random bytes" : "out of memory");
			free(c);
			close(fd);
			continue;
		}
		if (is_tcp && cfg->tls)
		{
			ERR_clear_error();
			c->ssl = SSL_new(cfg->tls);
			if (c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1)
			{
				vgp_log("cannot set up a TLS session");
				ERR_clear_error();
				SSL_free(c->ssl);
				free(c);
				close(fd);
				continue;
			}
			SSL_set_accept_state(c->ssl);
			c->tls_handshaking = 1;
		}
		c->id = ++last_conn_id;
		c->fd = fd;
		c->is_tcp = is_tcp;
		c->last_active = NowMs();
		c->request_deadline = c->last_active + (int64_t) cfg->request_timeout * 1000;
		if (is_tcp)
		{
			char		host[NI_MAXHOST],
						serv[NI_MAXSERV];
			int			one = 1;

			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			if (getnameinfo((struct sockaddr *) &ss, sl, host, sizeof(host), serv,
							sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV) == 0)
				snprintf(c->peer, sizeof(c->peer), "%s %.50s:%.10s", c->ssl ? "tls" : "tcp",
						 host, serv);
			else
				snprintf(c->peer, sizeof(c->peer), "tcp");
		}
		else
			snprintf(c->peer, sizeof(c->peer), "unix");
		c->next = conns;
		conns = c;
		n_conns++;

		/* Unix clients are vouched for by the socket directory's mode */
		h.flags = is_tcp ? VGP_HELLO_AUTH : 0;
		memcpy(h.nonce, c->nonce, VGP_NONCE_LEN);
		h.backend = (uint32_t) the_engine->device;
		h.max_request_bytes = cfg->max_request_bytes;
		vgp_encode_hello(payload, &h);
		SendFrame(c, VGP_MSG_HELLO, payload, VGP_HELLO_SIZE);
		c->state = is_tcp ? CS_AUTH : CS_READY;
	}
}

/* ---- reading ---- */

/*
 * Check the floats that arrived since the last call: a NaN or infinity
 * would poison the normalization statistics, so it is refused up front,
 * naming the row and feature like the backend does.
 */
static int
CheckNewFloats(Conn *c)
{
	uint64_t	complete = c->row_got / 4;
	uint64_t	i;

	for (i = c->floats_checked; i < complete; i++)
	{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		{
			uint32_t	u;

			memcpy(&u, &c->rows[i], 4);
			u = __builtin_bswap32(u);
			memcpy(&c->rows[i], &u, 4);
		}
#endif
		if (!isfinite(c->rows[i]))
		{
			char		msg[VC_ERRMSG_LEN];

			snprintf(msg, sizeof(msg),
					 "row %llu feature %llu is %s; rows must be finite",
					 (unsigned long long) (i / c->th.dim + 1),
					 (unsigned long long) (i % c->th.dim + 1),
					 isnan(c->rows[i]) ? "NaN" : "infinite");
			FailConn(c, VC_EDATA, msg);
			return -1;
		}
	}
	c->floats_checked = complete;
	return 0;
}

/* the rows are all in: hand the job to the job thread's queue */
static void
SubmitJob(Conn *c)
{
	VgpJob	   *job = calloc(1, sizeof(VgpJob));

	if (job == NULL)
	{
		FailConn(c, VC_ENOMEM, "vae_gpud: out of memory queueing the job");
		return;
	}
	job->id = vgp_jobs_next_id();
	job->conn_id = c->id;
	job->hdr = c->th;
	job->rows = c->rows;
	job->row_bytes = c->row_bytes;
	atomic_init(&job->cancel, 0);
	c->rows = NULL;
	c->reserved = 0;			/* the queue now accounts for it */
	c->job_id = job->id;
	c->state = CS_JOB;
	vgp_log("connection %llu (%s): job %llu queued: %llu rows x %u features",
			(unsigned long long) c->id, c->peer, (unsigned long long) job->id,
			(unsigned long long) c->th.n_rows, (unsigned) c->th.dim);
	vgp_jobs_submit(job);
}

/* the TRAIN header arrived: validate everything before allocating the rows */
static void
StartTrain(Conn *c)
{
	char		msg[VC_ERRMSG_LEN];
	VcStatus	st;
	VcOptions	resolved;
	uint64_t	want;

	st = vgp_decode_train_header(c->small, VGP_TRAIN_HEADER_SIZE, &c->th, msg);
	if (st != VC_OK)
	{
		FailConn(c, st, msg);
		return;
	}
	want = c->th.n_rows * c->th.dim * 4;
	if (c->fh.length != VGP_TRAIN_HEADER_SIZE + want)
	{
		snprintf(msg, sizeof(msg),
				 "TRAIN payload is %llu bytes but %llu rows x %u features need %llu",
				 (unsigned long long) c->fh.length, (unsigned long long) c->th.n_rows,
				 (unsigned) c->th.dim,
				 (unsigned long long) (VGP_TRAIN_HEADER_SIZE + want));
		FailConn(c, VC_EFORMAT, msg);
		return;
	}
	/* the resolved options must be valid too: fail now, not after the upload */
	resolved = c->th.opt;
	st = vc_options_resolve(&resolved, (int64_t) c->th.n_rows, (int) c->th.dim, msg);
	if (st != VC_OK)
	{
		FailConn(c, st, msg);
		return;
	}
	st = vgp_jobs_reserve(want, msg);
	if (st != VC_OK)
	{
		FailConn(c, st, msg);
		return;
	}
	c->reserved = 1;
	c->row_bytes = want;
	c->row_got = 0;
	c->floats_checked = 0;
	c->rows = malloc(want);
	if (c->rows == NULL)
	{
		FailConn(c, VC_ENOMEM, "vae_gpud: out of memory for the rows");
		return;
	}
	c->state = CS_ROWS;
}

/* a complete small frame (or a TRAIN header) is in c->small */
static void
HandleFrame(Conn *c)
{
	char		msg[VC_ERRMSG_LEN];

	switch (c->state)
	{
		case CS_AUTH:
			if (c->fh.type != VGP_MSG_AUTH || c->fh.length != VGP_AUTH_SIZE)
			{
				FailConn(c, VC_EINVAL, "vae_gpud: authentication required");
				return;
			}
			{
				uint8_t		mac[VGP_MAC_LEN];

				if (vgp_auth_mac(cfg->secret, cfg->secret_len, c->nonce, mac) != 0)
				{
					FailConn(c, VC_EDEVICE, "vae_gpud: cannot compute the HMAC (libcrypto failed)");
					return;
				}
				if (!vgp_mac_equal(mac, c->small))
				{
					FailConn(c, VC_EINVAL, "vae_gpud: authentication failed (wrong secret)");
					return;
				}
			}
			SendFrame(c, VGP_MSG_OK, NULL, 0);
			c->state = CS_READY;
			return;
		case CS_READY:
			if (c->fh.type != VGP_MSG_TRAIN)
			{
				snprintf(msg, sizeof(msg), "vae_gpud: expected TRAIN, got message type %u",
						 (unsigned) c->fh.type);
				FailConn(c, VC_EFORMAT, msg);
				return;
			}
			StartTrain(c);
			return;
		default:
			FailConn(c, VC_EFORMAT, "vae_gpud: unexpected message");
			return;
	}
}

/* the frame header arrived */
static void
HandleHeader(Conn *c)
{
	char		msg[VC_ERRMSG_LEN];
	VcStatus	st;

	st = vgp_decode_frame_header(c->hdr, cfg->max_request_bytes, &c->fh, msg);
	if (st != VC_OK)
	{
		FailConn(c, st, msg);
		return;
	}
	if (c->fh.type == VGP_MSG_TRAIN && c->fh.length < VGP_TRAIN_HEADER_SIZE)
	{
		FailConn(c, VC_EFORMAT, "TRAIN is shorter than its header");
		return;
	}
	/* only TRAIN may be long, and only its header is buffered here */
	if (c->fh.type != VGP_MSG_TRAIN && c->fh.length > VGP_MAX_SMALL_PAYLOAD)
	{
		FailConn(c, VC_ELIMIT, "message too long");
		return;
	}
	c->small_got = 0;
	if (c->fh.length == 0)
	{
		c->hdr_got = 0;
		HandleFrame(c);
	}
	else
		c->have_hdr = 1;
}

/*
 * The client is gone (an EOF, or a socket error: why): cancel its job, if
 * any, and close.  Returns -1, what ReadConn and WriteConn say then.
 */
static int
LostClient(Conn *c, const char *why)
{
	if (c->state == CS_JOB)
		vgp_log("connection %llu (%s): %s, canceling job %llu", (unsigned long long) c->id,
				c->peer, why, (unsigned long long) c->job_id);
	CloseConn(c);
	return -1;
}

/* after a read or send failed: 1 = try again, 0 = it would block, -1 = closed */
static int
IoFailed(Conn *c)
{
	if (errno == EINTR)
		return 1;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return 0;
	return LostClient(c, c->tls_error[0] ? c->tls_error : strerror(errno));
}

/*
 * What an SSL_read/SSL_write that returned ret means, in read()/send()
 * terms: -1 with errno EAGAIN when it would block (and which way the
 * session waits), 0 when the client closed, -1 with errno EPROTO and
 * c->tls_error set when TLS failed.
 */
static ssize_t
TlsResult(Conn *c, int ret)
{
	switch (SSL_get_error(c->ssl, ret))
	{
		case SSL_ERROR_WANT_READ:
			c->tls_want_write = 0;
			errno = EAGAIN;
			return -1;
		case SSL_ERROR_WANT_WRITE:
			c->tls_want_write = 1;
			errno = EAGAIN;
			return -1;
		case SSL_ERROR_ZERO_RETURN:
			ERR_clear_error();
			return 0;
		case SSL_ERROR_SYSCALL:
			if (ret == 0 || errno == 0)
			{
				ERR_clear_error();
				return 0;
			}
			/* errno says why */
			ERR_clear_error();
			return -1;
		default:
			vgp_tls_describe(c->ssl, ret, "TLS", c->tls_error);
			errno = EPROTO;
			return -1;
	}
}

/* read() or SSL_read(): >0 bytes, 0 the client closed, -1 and errno */
static ssize_t
ConnRead(Conn *c, void *buf, size_t want)
{
	int			n;

	if (c->ssl == NULL)
		return read(c->fd, buf, want);
	ERR_clear_error();
	n = SSL_read(c->ssl, buf, want > INT_MAX ? INT_MAX : (int) want);
	return n > 0 ? n : TlsResult(c, n);
}

/* send() or SSL_write(): >0 bytes taken, -1 and errno */
static ssize_t
ConnWrite(Conn *c, const void *buf, size_t len)
{
	int			n;

	if (c->ssl == NULL)
		return send(c->fd, buf, len, MSG_NOSIGNAL);
	ERR_clear_error();
	n = SSL_write(c->ssl, buf, len > (1 << 30) ? (1 << 30) : (int) len);
	if (n > 0)
		return n;
	if (TlsResult(c, n) == 0)
		errno = EPIPE;			/* closed while we were writing */
	return -1;
}

/*
 * Drive the TLS handshake: 1 when done, 0 when it waits for the socket, -1
 * when it failed (logged, connection closed).
 */
static int
TlsAccept(Conn *c)
{
	int			r;

	ERR_clear_error();
	r = SSL_accept(c->ssl);
	if (r == 1)
	{
		c->tls_handshaking = 0;
		c->tls_want_write = 0;
		return 1;
	}
	switch (SSL_get_error(c->ssl, r))
	{
		case SSL_ERROR_WANT_READ:
			c->tls_want_write = 0;
			return 0;
		case SSL_ERROR_WANT_WRITE:
			c->tls_want_write = 1;
			return 0;
		default:
			vgp_tls_describe(c->ssl, r, "TLS handshake failed", c->tls_error);
			vgp_log("connection %llu (%s): %s", (unsigned long long) c->id, c->peer,
					c->tls_error);
			CloseConn(c);
			return -1;
	}
}

/* bytes of the small frame (or of the TRAIN header) being read */
static size_t
SmallLen(const Conn *c)
{
	return c->fh.type == VGP_MSG_TRAIN ? VGP_TRAIN_HEADER_SIZE : (size_t) c->fh.length;
}

/* read what is there; returns -1 when the connection is gone (closed by us) */
static int
ReadConn(Conn *c)
{
	int			rounds = 0;

	if (c->tls_handshaking)
	{
		int			r = TlsAccept(c);

		if (r <= 0)
			return r;
		c->last_active = NowMs();
	}

	/* a bounded amount per wakeup, so one fast upload cannot starve the rest */
	while (rounds++ < 8)
	{
		uint8_t    *dst;
		size_t		want;
		ssize_t		n;
		uint8_t		discard[65536];

		switch (c->state)
		{
			case CS_AUTH:
			case CS_READY:
				if (!c->have_hdr)
				{
					dst = c->hdr + c->hdr_got;
					want = VGP_FRAME_HEADER_SIZE - c->hdr_got;
				}
				else
				{
					dst = c->small + c->small_got;
					want = SmallLen(c) - c->small_got;
				}
				break;
			case CS_ROWS:
				dst = (uint8_t *) c->rows + c->row_got;
				want = c->row_bytes - c->row_got;
				if (want > (1 << 24))
					want = 1 << 24;
				break;
			default:
				/* after the request: only EOF (hang-up) is expected */
				dst = discard;
				want = sizeof(discard);
				break;
		}
		n = ConnRead(c, dst, want);
		if (n == 0)
		{
			if (c->state != CS_JOB && c->state != CS_CLOSING)
				vgp_log("connection %llu (%s): client disconnected", (unsigned long long) c->id,
						c->peer);
			return LostClient(c, "client disconnected");
		}
		if (n < 0)
		{
			int			r = IoFailed(c);

			if (r > 0)
				continue;
			return r;
		}
		c->last_active = NowMs();
		switch (c->state)
		{
			case CS_AUTH:
			case CS_READY:
				if (!c->have_hdr)
				{
					c->hdr_got += (size_t) n;
					if (c->hdr_got == VGP_FRAME_HEADER_SIZE)
						HandleHeader(c);
				}
				else
				{
					c->small_got += (size_t) n;
					if (c->small_got == SmallLen(c))
					{
						c->have_hdr = 0;
						c->hdr_got = 0;
						HandleFrame(c);
					}
				}
				break;
			case CS_ROWS:
				c->row_got += (uint64_t) n;
				if (CheckNewFloats(c) < 0)
					break;
				if (c->row_got == c->row_bytes)
					SubmitJob(c);
				break;
			case CS_JOB:
				/* more bytes after a complete request: a broken client */
				vgp_jobs_cancel(c->job_id);
				c->job_id = 0;
				FailConn(c, VC_EFORMAT, "vae_gpud: unexpected data after the request");
				break;
			case CS_CLOSING:
				break;
		}
	}
	return 0;
}

/* write what the socket takes; returns -1 when the connection is gone */
static int
WriteConn(Conn *c)
{
	if (c->tls_handshaking)
		return 0;				/* the HELLO waits for the handshake */
	while (c->out_head)
	{
		OutBuf	   *o = c->out_head;
		ssize_t		n = ConnWrite(c, o->buf + o->off, o->len - o->off);

		if (n < 0)
		{
			int			r = IoFailed(c);

			if (r > 0)
				continue;
			return r;
		}
		o->off += (size_t) n;
		c->last_active = NowMs();
		if (o->off < o->len)
			continue;
		c->out_head = o->next;
		if (c->out_head == NULL)
			c->out_tail = NULL;
		free(o->buf);
		free(o);
	}
	if (c->state == CS_CLOSING && !c->shut_wr)
	{
		/*
		 * Half-close and drain rather than close: closing a TCP socket
		 * with unread input sends a reset that can destroy the ERROR we
		 * just wrote before the client reads it.  A TLS session says
		 * close_notify first (best effort: the socket may be full).
		 */
		if (c->ssl)
		{
			ERR_clear_error();
			(void) SSL_shutdown(c->ssl);
			ERR_clear_error();
		}
		shutdown(c->fd, SHUT_WR);
		c->shut_wr = 1;
		c->drain_until = NowMs() + DRAIN_MS;
	}
	return 0;
}

/* frames from the job thread: route them to their connections */
static void
DeliverOutput(void)
{
	VgpOut	   *o = vgp_jobs_take_output();

	while (o)
	{
		VgpOut	   *next = o->next;
		Conn	   *c = FindConn(o->conn_id);

		if (c != NULL && c->state == CS_JOB)
		{
			QueueOut(c, o->buf, o->len);
			if (o->final)
			{
				c->state = CS_CLOSING;
				c->job_id = 0;
				c->last_active = NowMs();
			}
		}
		else
			free(o->buf);		/* its client is gone */
		free(o);
		o = next;
	}
}

/* when the clock must act on c (NowMs), or -1: never */
static int64_t
Deadline(const Conn *c)
{
	int64_t		idle = c->last_active + (int64_t) cfg->idle_timeout * 1000;

	switch (c->state)
	{
		case CS_JOB:
			/* the request is complete: the job takes as long as it takes */
			return -1;
		case CS_CLOSING:

			/*
			 * Still sending: give up only when the client stops reading (a
			 * large model may take a while).  Sent: drain for a bit.
			 */
			return c->shut_wr ? c->drain_until : idle;
		default:
			/* receiving the request: both its silences and its whole length */
			return idle < c->request_deadline ? idle : c->request_deadline;
	}
}

/*
 * Act on every deadline that has passed; returns the milliseconds until the
 * next one, for poll (-1: none, only an event can wake the loop).
 */
static int
CheckTimeouts(void)
{
	int64_t		now = NowMs();
	int64_t		nearest = -1;
	Conn	   *c,
			   *next;

	for (c = conns; c; c = next)
	{
		int64_t		d = Deadline(c);

		next = c->next;
		if (d >= 0 && now >= d)
		{
			if (c->state == CS_CLOSING)
			{
				CloseConn(c);
				continue;
			}
			if (c->tls_handshaking)
			{
				/* no session to carry an ERROR in */
				vgp_log("connection %llu (%s): TLS handshake timed out",
						(unsigned long long) c->id, c->peer);
				CloseConn(c);
				continue;
			}
			if (now >= c->request_deadline)
			{
				char		msg[VC_ERRMSG_LEN];

				snprintf(msg, sizeof(msg),
						 "vae_gpud: the request took longer than --request-timeout (%d s)",
						 cfg->request_timeout);
				FailConn(c, VC_ELIMIT, msg);
			}
			else
				FailConn(c, VC_ELIMIT, "vae_gpud: timed out waiting for the request");
			d = Deadline(c);	/* now the time it has to take its ERROR */
		}
		if (d >= 0 && (nearest < 0 || d < nearest))
			nearest = d;
	}
	if (nearest < 0)
		return -1;
	return nearest - now > INT_MAX ? INT_MAX : (int) (nearest - now);
}

/* ---- listening ---- */

/* bind and listen on the Unix socket (created 0600); -1 on failure, logged */
static int
ListenUnix(const char *path)
{
	struct sockaddr_un sa;
	int			fd;
	mode_t		old;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
	{
		vgp_log("socket path \"%s\" is too long (at most %zu bytes)", path,
				sizeof(sa.sun_path) - 1);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
	{
		vgp_log("socket: %s", strerror(errno));
		return -1;
	}
	/* the socket file is created 0600 from the start: no window */
	old = umask(0177);
	if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
	{
		umask(old);
		vgp_log("cannot bind \"%s\": %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	umask(old);
	if (chmod(path, 0600) < 0 || listen(fd, 64) < 0 || SetNonblocking(fd) < 0)
	{
		vgp_log("cannot listen on \"%s\": %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	vgp_log("listening on unix socket %s", path);
	return fd;
}

/*
 * Bind and listen on HOST:PORT ([v6]:PORT); -1 on failure, logged.  Without
 * TLS only a loopback address will do: anything else would carry rows and
 * models in the clear.
 */
static int
ListenTcp(const char *addr)
{
	char		host[256];
	const char *colon = strrchr(addr, ':');
	const char *port;
	struct addrinfo hints,
			   *res,
			   *ai;
	int			fd = -1,
				rc;
	size_t		hl;

	if (colon == NULL || colon == addr || colon[1] == '\0')
	{
		vgp_log("--listen needs HOST:PORT, got \"%s\"", addr);
		return -1;
	}
	hl = (size_t) (colon - addr);
	if (addr[0] == '[' && hl >= 2 && addr[hl - 1] == ']')
	{
		addr++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
	{
		vgp_log("--listen host is too long");
		return -1;
	}
	memcpy(host, addr, hl);
	host[hl] = '\0';
	port = colon + 1;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE;
	rc = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
	if (rc != 0)
	{
		vgp_log("cannot resolve \"%s\": %s", addr, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next)
	{
		int			one = 1;
		struct sockaddr_storage ss;
		socklen_t	sl = sizeof(ss);
		char		h[NI_MAXHOST],
					s[NI_MAXSERV];

		if (cfg->tls == NULL && !vgp_addr_is_loopback(ai->ai_addr))
		{
			vgp_log("refusing to serve plain TCP on %s: not a loopback address "
					"(--insecure-loopback allows 127.0.0.0/8 and ::1 only); give "
					"--tls-cert and --tls-key", addr);
			fd = -1;
			break;
		}
		fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 64) == 0 &&
			SetNonblocking(fd) == 0)
		{
			/* report the real port: --listen 127.0.0.1:0 picks a free one */
			if (getsockname(fd, (struct sockaddr *) &ss, &sl) == 0 &&
				getnameinfo((struct sockaddr *) &ss, sl, h, sizeof(h), s, sizeof(s),
							NI_NUMERICHOST | NI_NUMERICSERV) == 0)
				vgp_log("listening on tcp %s port %s%s", h, s,
						cfg->tls ? " (TLS)" : " (plain, loopback only)");
			break;
		}
		vgp_log("cannot listen on %s: %s", addr, strerror(errno));
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

/* ---- the loop ---- */

/* 1 when c's TLS session holds bytes poll() cannot see */
static int
TlsPending(const Conn *c)
{
	return c->ssl != NULL && !c->tls_handshaking && SSL_has_pending(c->ssl);
}

/*
 * Serve until SIGTERM/SIGINT: listen, start the job thread, then poll the
 * signal and wake pipes, the listeners and every connection.
 */
int
vgp_serve(const VgpConfig *config, VcEngine *engine)
{
	struct sigaction sa;
	struct pollfd *pfds = NULL;
	Conn	  **pconn = NULL;
	size_t		cap = 0;
	int			rc = 0;
	int			timeout = -1;	/* ms until the nearest deadline */

	cfg = config;
	the_engine = engine;
	if (pipe(wake_pipe) < 0 || pipe(sig_pipe) < 0 ||
		SetNonblocking(wake_pipe[0]) < 0 || SetNonblocking(wake_pipe[1]) < 0 ||
		SetNonblocking(sig_pipe[0]) < 0 || SetNonblocking(sig_pipe[1]) < 0)
	{
		vgp_log("pipe: %s", strerror(errno));
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = HandleSignal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (cfg->socket_path && (unix_fd = ListenUnix(cfg->socket_path)) < 0)
		return 1;
	if (cfg->listen_addr && (tcp_fd = ListenTcp(cfg->listen_addr)) < 0)
	{
		if (unix_fd >= 0)
		{
			close(unix_fd);
			unlink(cfg->socket_path);
		}
		return 1;
	}
	if (vgp_jobs_start(engine, cfg, wake_pipe[1]) < 0)
	{
		vgp_log("cannot start the job thread");
		rc = 1;
		goto out;
	}
	vgp_log("vae_gpud %s ready: backend %s, max request %llu bytes in %d s, queue %d",
			VGP_GPUD_VERSION, engine->name, (unsigned long long) cfg->max_request_bytes,
			cfg->request_timeout, cfg->max_queue);

	for (;;)
	{
		size_t		n = 0,
					i,
					need = (size_t) n_conns + 4;
		Conn	   *c,
				   *next;
		int			stop = 0;

		if (need > cap)
		{
			struct pollfd *np = realloc(pfds, need * sizeof(*pfds));
			Conn	  **nc = realloc(pconn, need * sizeof(*pconn));

			if (np)
				pfds = np;
			if (nc)
				pconn = nc;
			if (!np || !nc)
			{
				vgp_log("out of memory in the event loop");
				rc = 1;
				break;
			}
			cap = need;
		}
		pfds[n].fd = sig_pipe[0];
		pfds[n].events = POLLIN;
		pconn[n++] = NULL;
		pfds[n].fd = wake_pipe[0];
		pfds[n].events = POLLIN;
		pconn[n++] = NULL;
		if (unix_fd >= 0)
		{
			pfds[n].fd = unix_fd;
			pfds[n].events = POLLIN;
			pconn[n++] = NULL;
		}
		if (tcp_fd >= 0)
		{
			pfds[n].fd = tcp_fd;
			pfds[n].events = POLLIN;
			pconn[n++] = NULL;
		}
		for (c = conns; c; c = c->next)
		{
			pfds[n].fd = c->fd;
			/* always watch for input: that is how a hang-up is noticed */
			pfds[n].events = POLLIN;
			if ((c->out_head && !c->tls_handshaking) || c->tls_want_write)
				pfds[n].events |= POLLOUT;
			pconn[n++] = c;
			if (TlsPending(c))
				timeout = 0;
		}
		if (poll(pfds, n, timeout) < 0 && errno != EINTR)
		{
			vgp_log("poll: %s", strerror(errno));
			rc = 1;
			break;
		}
		for (i = 0; i < n; i++)
		{
			char		buf[64];

			if (pfds[i].revents == 0)
				continue;
			if (pfds[i].fd == sig_pipe[0])
			{
				while (read(sig_pipe[0], buf, sizeof(buf)) > 0)
					stop = 1;
			}
			else if (pfds[i].fd == wake_pipe[0])
			{
				while (read(wake_pipe[0], buf, sizeof(buf)) > 0)
					;
				DeliverOutput();
			}
			else if (pconn[i] == NULL)
				AcceptOn(pfds[i].fd, pfds[i].fd == tcp_fd);
		}
		if (stop)
		{
			vgp_log("shutting down on signal");
			break;
		}
		/* connections may have been closed above; look them up again */
		for (i = 0; i < n; i++)
		{
			Conn	   *cc = pconn[i];

			if (cc == NULL)
				continue;
			for (c = conns; c && c != cc; c = c->next)
				;
			if (c == NULL || (pfds[i].revents == 0 && !TlsPending(c)))
				continue;
			/* a TLS session may want the socket either way for a read */
			if ((pfds[i].revents & (POLLIN | POLLHUP | POLLERR) || c->ssl != NULL) &&
				ReadConn(c) < 0)
				continue;
			if (c->out_head && WriteConn(c) < 0)
				continue;
			if (c->state == CS_CLOSING && c->out_head == NULL)
				WriteConn(c);	/* half-close once everything is out */
		}
		/* a connection failed above may have an ERROR to flush now */
		for (c = conns; c; c = next)
		{
			next = c->next;
			if (c->out_head || (c->state == CS_CLOSING && !c->shut_wr))
				WriteConn(c);
		}
		timeout = CheckTimeouts();
	}

out:
	if (unix_fd >= 0)
	{
		close(unix_fd);
		unlink(cfg->socket_path);
	}
	if (tcp_fd >= 0)
		close(tcp_fd);
	vgp_jobs_stop();
	while (conns)
		CloseConn(conns);
	free(pfds);
	free(pconn);
	vgp_log("vae_gpud stopped");
	return rc;
}
