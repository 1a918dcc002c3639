/*
 * vgp_test_client.c - a small vae_gpud client for test/integration/gpud.sh.
 *
 *   vgp_test_client (--socket PATH | --tcp HOST:PORT [--tls-ca FILE])
 *                   [--secret S] [--no-auth]
 *                   [--rows N] [--dim D] [--epochs E] [--seed S] [--verbose]
 *                   [--compare] [--out FILE] [--disconnect-after-progress]
 *                   [--garbage KIND] [--expect-error TEXT] [--timeout S]
 *
 * Without --garbage it sends one training job over generated rows and
 * waits for the answer.  --compare trains the same rows with the same
 * options through the core directly (vc_train, the CPU path of vae.so) and
 * checks that the daemon's model is byte-identical once train_seconds, the
 * only field that depends on the clock, is zeroed in both; it also checks
 * the RESULT history against the model's.  --garbage KIND sends a broken
 * request instead; --garbage trickle sends a valid TRAIN header and then
 * its rows one byte every 0.5 s (printing TRICKLING once the header is
 * out) until the server answers, or gives up after --timeout seconds.
 * --tls-ca FILE speaks TLS over --tcp, verifying the daemon's certificate
 * against FILE and HOST; a failed handshake prints "TLS FAILED: <why>"
 * and counts as an ERROR for --expect-error.
 * Exit status: 0 when the outcome is the expected one
 * (a RESULT, or with --expect-error / --garbage an ERROR containing TEXT,
 * or for --garbage a close), 1 otherwise; the outcome is printed.
 */
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "vc.h"
#include "vgp_protocol.h"
#include "vgp_tls.h"

static const char *opt_socket,
		   *opt_tcp,
		   *opt_secret,
		   *opt_out,
		   *opt_garbage,
		   *opt_expect,
		   *opt_tls_ca;
static int	opt_no_auth,
			opt_verbose,
			opt_compare,
			opt_disconnect;
static long opt_rows = 500,
			opt_dim = 8,
			opt_epochs = 3;
static unsigned long long opt_seed = 7;
static int	opt_timeout = 60;

/* the TLS session over the one connection, with --tls-ca */
static SSL *tls;

/* TLS over the connected fd to host (blocking); exits on failure */
static void
StartTls(int fd, const char *host)
{
	char		err[VC_ERRMSG_LEN];
	SSL_CTX    *ctx = vgp_tls_client_ctx(opt_tls_ca, err);
	int			r;

	if (ctx == NULL || (tls = vgp_tls_client_new(ctx, fd, host, err)) == NULL)
	{
		printf("TLS FAILED: %s\n", err);
		exit(2);
	}
	r = SSL_connect(tls);
	if (r != 1)
	{
		vgp_tls_describe(tls, r, "TLS handshake failed", err);
		printf("TLS FAILED: %s\n", err);
		exit(opt_expect && strstr(err, opt_expect) ? 0 : 1);
	}
}

/* connect to --socket or --tcp (then TLS with --tls-ca); exits on failure */
static int
Connect(void)
{
	int			fd;
	struct timeval tv;

	if (opt_socket)
	{
		struct sockaddr_un sa;

		memset(&sa, 0, sizeof(sa));
		sa.sun_family = AF_UNIX;
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", opt_socket);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
		{
			perror("connect");
			exit(2);
		}
	}
	else
	{
		char		host[256];
		const char *colon = strrchr(opt_tcp, ':');
		struct addrinfo hints,
				   *res,
				   *ai;

		snprintf(host, sizeof(host), "%.*s", (int) (colon - opt_tcp), opt_tcp);
		memset(&hints, 0, sizeof(hints));
		hints.ai_socktype = SOCK_STREAM;
		if (getaddrinfo(host, colon + 1, &hints, &res) != 0)
		{
			fprintf(stderr, "cannot resolve %s\n", opt_tcp);
			exit(2);
		}
		/* every address in turn: localhost may be ::1 and 127.0.0.1 */
		fd = -1;
		for (ai = res; ai != NULL && fd < 0; ai = ai->ai_next)
		{
			fd = socket(ai->ai_family, SOCK_STREAM, 0);
			if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
			{
				close(fd);
				fd = -1;
			}
		}
		if (fd < 0)
		{
			perror("connect");
			exit(2);
		}
		freeaddrinfo(res);
	}
	tv.tv_sec = opt_timeout;
	tv.tv_usec = 0;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (opt_tcp && opt_tls_ca)
	{
		char		host[256];
		const char *colon = strrchr(opt_tcp, ':');

		snprintf(host, sizeof(host), "%.*s", (int) (colon - opt_tcp), opt_tcp);
		StartTls(fd, host);
	}
	return fd;
}

/* best effort: the server may answer and close before we are done */
static void
SendAll(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0)
	{
		ssize_t		n = tls ? SSL_write(tls, p, (int) len) : send(fd, p, len, MSG_NOSIGNAL);

		if (n <= 0)
		{
			if (!tls && n < 0 && errno == EINTR)
				continue;
			return;
		}
		p += n;
		len -= (size_t) n;
	}
}

/* receive exactly len bytes; -1 on close, error or timeout */
static int
RecvAll(int fd, void *buf, size_t len)
{
	uint8_t    *p = buf;

	while (len > 0)
	{
		ssize_t		n = tls ? SSL_read(tls, p, (int) len) : recv(fd, p, len, 0);

		if (!tls && n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t) n;
	}
	return 0;
}

/* next frame; *payload malloc'd.  -1 on close/timeout/garbage. */
static int
RecvFrame(int fd, VgpFrameHeader *fh, uint8_t **payload)
{
	uint8_t		hdr[VGP_FRAME_HEADER_SIZE];
	char		err[VC_ERRMSG_LEN];

	*payload = NULL;
	if (RecvAll(fd, hdr, sizeof(hdr)) < 0)
		return -1;
	if (vgp_decode_frame_header(hdr, UINT64_C(1) << 40, fh, err) != VC_OK)
	{
		fprintf(stderr, "bad frame from server: %s\n", err);
		return -1;
	}
	*payload = malloc(fh->length + 1);
	if (*payload == NULL || RecvAll(fd, *payload, fh->length) < 0)
		return -1;
	return 0;
}

/* send one frame: header, then payload */
static void
SendFrame(int fd, uint16_t type, const uint8_t *payload, size_t len)
{
	uint8_t		hdr[VGP_FRAME_HEADER_SIZE];

	vgp_encode_frame_header(hdr, type, len);
	SendAll(fd, hdr, sizeof(hdr));
	if (len)
		SendAll(fd, payload, len);
}

/* outcome of a reply that is an ERROR (or a close) */
static int
Outcome(int fd, int expect_close_ok)
{
	VgpFrameHeader fh;
	uint8_t    *p;
	VcStatus	st;
	char		msg[VC_ERRMSG_LEN],
				err[VC_ERRMSG_LEN];

	for (;;)
	{
		if (RecvFrame(fd, &fh, &p) < 0)
		{
			printf("CLOSED\n");
			free(p);
			return expect_close_ok && opt_expect == NULL ? 0 : 1;
		}
		if (fh.type == VGP_MSG_PROGRESS)
		{
			free(p);
			continue;
		}
		if (fh.type != VGP_MSG_ERROR)
		{
			printf("UNEXPECTED message type %u\n", fh.type);
			free(p);
			return 1;
		}
		if (vgp_decode_error(p, fh.length, &st, msg, err) != VC_OK)
		{
			printf("BAD ERROR frame: %s\n", err);
			free(p);
			return 1;
		}
		free(p);
		printf("ERROR %d %s\n", (int) st, msg);
		return opt_expect == NULL || strstr(msg, opt_expect) ? 0 : 1;
	}
}

/* read HELLO and authenticate when asked; -1 = the server said no */
static int
Handshake(int fd, VgpHello *h)
{
	VgpFrameHeader fh;
	uint8_t    *p;
	char		err[VC_ERRMSG_LEN];
	int			r = RecvFrame(fd, &fh, &p);

	if (r == 0 && fh.type == VGP_MSG_ERROR)
	{
		/* refused before the handshake (too many connections) */
		VcStatus	st;
		char		msg[VC_ERRMSG_LEN];

		if (vgp_decode_error(p, fh.length, &st, msg, err) != VC_OK)
			exit(1);
		printf("ERROR %d %s\n", (int) st, msg);
		exit(opt_expect && strstr(msg, opt_expect) ? 0 : 1);
	}
	if (r < 0 || fh.type != VGP_MSG_HELLO || vgp_decode_hello(p, fh.length, h, err) != VC_OK)
	{
		printf("NO HELLO\n");
		exit(1);
	}
	free(p);
	if ((h->flags & VGP_HELLO_AUTH) && !opt_no_auth)
	{
		uint8_t		mac[VGP_MAC_LEN];
		const char *s = opt_secret ? opt_secret : "";

		if (vgp_auth_mac((const uint8_t *) s, strlen(s), h->nonce, mac) != 0)
		{
			printf("HMAC FAILED\n");
			exit(2);
		}
		SendFrame(fd, VGP_MSG_AUTH, mac, sizeof(mac));
		if (RecvFrame(fd, &fh, &p) < 0)
		{
			printf("CLOSED\n");
			exit(1);
		}
		if (fh.type != VGP_MSG_OK)
		{
			VcStatus	st;
			char		msg[VC_ERRMSG_LEN];

			if (fh.type == VGP_MSG_ERROR &&
				vgp_decode_error(p, fh.length, &st, msg, err) == VC_OK)
				printf("ERROR %d %s\n", (int) st, msg);
			else
				printf("UNEXPECTED reply to AUTH\n");
			exit(opt_expect && fh.type == VGP_MSG_ERROR && strstr(msg, opt_expect) ? 0 : 1);
		}
		free(p);
	}
	return 0;
}

/* n deterministic rows of dim floats */
static float *
MakeRows(long n, long dim)
{
	float	   *rows = malloc(sizeof(float) * n * dim);
	long		i,
				j;

	for (i = 0; i < n; i++)
		for (j = 0; j < dim; j++)
			rows[i * dim + j] = (float) (sin(i * 0.37 + j * 1.3) + 0.1 * j +
										 0.2 * vc_uniform(99, (uint64_t) (i * dim + j)));
	return rows;
}

/* the job's options from the command line */
static void
MakeOptions(VcOptions *o)
{
	vc_options_init(o);
	o->epochs = (int) opt_epochs;
	o->seed = opt_seed;
	o->verbose = opt_verbose;
	o->batch_size = 32;
}

/* serialized bytes with train_seconds zeroed (the one clock-dependent field) */
static uint8_t *
Normalized(VcModel *m, size_t *len)
{
	uint8_t    *b;

	m->train_seconds = 0;
	*len = vc_model_serialized_size(m);
	b = malloc(*len);
	vc_model_serialize(m, b);
	return b;
}

/* --compare: train the same job with the core and compare models and history */
static int
Compare(const uint8_t *model, size_t model_len, const float *rows, const VcOptions *opt,
		const uint8_t *result, size_t result_len)
{
	VcRowRef   *refs = malloc(sizeof(VcRowRef) * opt_rows);
	float	   *copy = malloc(sizeof(float) * opt_rows * opt_dim);
	VcCallbacks cb;
	VcModel    *ref = NULL,
			   *got = NULL;
	char		err[VC_ERRMSG_LEN];
	uint8_t    *a,
			   *b;
	size_t		alen,
				blen;
	double	   *tl,
			   *vl;
	int			same,
				i;

	memcpy(copy, rows, sizeof(float) * opt_rows * opt_dim);
	for (i = 0; i < opt_rows; i++)
	{
		refs[i].row = copy + (size_t) i * opt_dim;
		refs[i].hash = vc_hash_row(refs[i].row, (int) opt_dim, opt->seed);
	}
	memset(&cb, 0, sizeof(cb));
	if (vc_train(refs, opt_rows, (int) opt_dim, opt, &cb, &ref, err) != VC_OK)
	{
		printf("COMPARE local training failed: %s\n", err);
		return 1;
	}
	if (vc_model_deserialize(model, model_len, &got, err) != VC_OK)
	{
		printf("COMPARE daemon model does not deserialize: %s\n", err);
		return 1;
	}
	a = Normalized(ref, &alen);
	b = Normalized(got, &blen);
	same = alen == blen && memcmp(a, b, alen) == 0;
	printf("COMPARE model bytes (train_seconds zeroed): %s (%zu vs %zu bytes)\n",
		   same ? "identical" : "DIFFERENT", alen, blen);
	tl = malloc(sizeof(double) * (got->epochs_run + 1));
	vl = malloc(sizeof(double) * (got->epochs_run + 1));
	if (vgp_decode_result_history(result, result_len, tl, vl, err) != VC_OK)
	{
		printf("COMPARE history: %s\n", err);
		return 1;
	}
	for (i = 0; i < got->epochs_run; i++)
		if (memcmp(&tl[i], &got->train_loss[i], 8) != 0 ||
			memcmp(&vl[i], &got->val_loss[i], 8) != 0)
		{
			printf("COMPARE history differs from the model's at epoch %d\n", i + 1);
			return 1;
		}
	return same ? 0 : 1;
}

/* send one TRAIN and read PROGRESS until RESULT or ERROR; prints the outcome */
static int
TrainJob(int fd)
{
	VgpTrainHeader th;
	uint8_t		hb[VGP_TRAIN_HEADER_SIZE];
	float	   *rows = MakeRows(opt_rows, opt_dim);
	size_t		row_bytes = sizeof(float) * opt_rows * opt_dim;
	VgpFrameHeader fh;
	uint8_t    *p;
	int			n_progress = 0;
	char		err[VC_ERRMSG_LEN];

	memset(&th, 0, sizeof(th));
	MakeOptions(&th.opt);
	th.dim = (uint32_t) opt_dim;
	th.n_rows = (uint64_t) opt_rows;
	vgp_encode_train_header(hb, &th);
	if (!strcmp(opt_garbage ? opt_garbage : "", "nan"))
		rows[opt_dim * 3 + 1] = NAN;
	{
		uint8_t		fhb[VGP_FRAME_HEADER_SIZE];

		vgp_encode_frame_header(fhb, VGP_MSG_TRAIN, VGP_TRAIN_HEADER_SIZE + row_bytes);
		SendAll(fd, fhb, sizeof(fhb));
		SendAll(fd, hb, sizeof(hb));
		SendAll(fd, rows, row_bytes);
	}
	for (;;)
	{
		if (RecvFrame(fd, &fh, &p) < 0)
		{
			printf("CLOSED after %d progress frames\n", n_progress);
			return 1;
		}
		if (fh.type == VGP_MSG_PROGRESS)
		{
			VgpProgress pr;

			if (vgp_decode_progress(p, fh.length, &pr, err) != VC_OK)
			{
				printf("BAD PROGRESS: %s\n", err);
				return 1;
			}
			n_progress++;
			free(p);
			if (opt_disconnect)
			{
				printf("DISCONNECT after progress of epoch %u\n", pr.epoch);
				close(fd);
				return 0;
			}
			continue;
		}
		if (fh.type == VGP_MSG_RESULT)
		{
			uint32_t	device,
						epochs;
			const uint8_t *model;
			uint64_t	mlen;
			int			rc = 0;

			if (vgp_decode_result(p, fh.length, &device, &model, &mlen, &epochs, err) != VC_OK)
			{
				printf("BAD RESULT: %s\n", err);
				return 1;
			}
			printf("RESULT device %u, model %llu bytes, %u epochs, %d progress frames\n",
				   device, (unsigned long long) mlen, epochs, n_progress);
			if (opt_verbose && n_progress != (int) epochs)
			{
				printf("expected one PROGRESS per epoch\n");
				rc = 1;
			}
			if (opt_out)
			{
				FILE	   *f = fopen(opt_out, "wb");

				if (!f || fwrite(model, 1, mlen, f) != mlen || fclose(f) != 0)
					rc = 1;
			}
			if (opt_compare)
			{
				VcOptions	o;

				MakeOptions(&o);
				rc |= Compare(model, mlen, rows, &o, p, fh.length);
			}
			return opt_expect ? 1 : rc;
		}
		if (fh.type == VGP_MSG_ERROR)
		{
			VcStatus	st;
			char		msg[VC_ERRMSG_LEN];

			if (vgp_decode_error(p, fh.length, &st, msg, err) != VC_OK)
				return 1;
			printf("ERROR %d %s\n", (int) st, msg);
			return opt_expect && strstr(msg, opt_expect) ? 0 : 1;
		}
		printf("UNEXPECTED message type %u\n", fh.type);
		return 1;
	}
}

/*
 * A valid TRAIN header, then the rows (zero bytes: 0.0f, valid) one byte
 * every 0.5 s: never silent for a second, never complete.  The server's
 * answer must be an ERROR; without one it gives up after --timeout seconds.
 */
static int
Trickle(int fd, const VgpTrainHeader *th)
{
	uint8_t		fhb[VGP_FRAME_HEADER_SIZE];
	uint8_t		hb[VGP_TRAIN_HEADER_SIZE];
	uint64_t	row_bytes = th->n_rows * th->dim * 4,
				sent;

	vgp_encode_frame_header(fhb, VGP_MSG_TRAIN, VGP_TRAIN_HEADER_SIZE + row_bytes);
	SendAll(fd, fhb, sizeof(fhb));
	vgp_encode_train_header(hb, th);
	SendAll(fd, hb, sizeof(hb));
	printf("TRICKLING\n");
	fflush(stdout);
	for (sent = 0; sent < 2 * (uint64_t) opt_timeout && sent + 1 < row_bytes; sent++)
	{
		struct pollfd pfd = {.fd = fd,.events = POLLIN};
		uint8_t		zero = 0;

		if (poll(&pfd, 1, 500) != 0)
			return Outcome(fd, 0);	/* the answer, or the connection's end */
		SendAll(fd, &zero, 1);
	}
	printf("NO ANSWER after %llu bytes trickled\n", (unsigned long long) sent);
	return 1;
}

/* broken requests; the daemon must answer ERROR or close, never crash */
static int
Garbage(int fd, const char *kind)
{
	uint8_t		buf[4096];
	uint8_t		hb[VGP_TRAIN_HEADER_SIZE];
	VgpTrainHeader th;
	size_t		i;

	memset(&th, 0, sizeof(th));
	MakeOptions(&th.opt);
	th.dim = 4;
	th.n_rows = 100;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t) (vc_uniform(opt_seed, i) * 256);
	if (!strcmp(kind, "random"))
		SendAll(fd, buf, sizeof(buf));
	else if (!strcmp(kind, "magic"))
	{
		vgp_encode_frame_header(buf, VGP_MSG_TRAIN, 200);
		buf[0] ^= 0xff;
		SendAll(fd, buf, 16 + 200);
	}
	else if (!strcmp(kind, "version"))
	{
		vgp_encode_frame_header(buf, VGP_MSG_TRAIN, 200);
		buf[6] = 9;
		SendAll(fd, buf, 16);
	}
	else if (!strcmp(kind, "type"))
	{
		vgp_encode_frame_header(buf, 77, 0);
		SendAll(fd, buf, 16);
	}
	else if (!strcmp(kind, "wrongtype"))
	{
		/* a well-formed message the server does not expect from a client */
		vgp_encode_frame_header(buf, VGP_MSG_RESULT, 0);
		SendAll(fd, buf, 16);
	}
	else if (!strcmp(kind, "hugelen"))
	{
		vgp_encode_frame_header(buf, VGP_MSG_TRAIN, UINT64_MAX);
		SendAll(fd, buf, 16);
	}
	else if (!strcmp(kind, "hugesmall"))
	{
		vgp_encode_frame_header(buf, VGP_MSG_AUTH, 1 << 20);
		SendAll(fd, buf, 16);
	}
	else if (!strcmp(kind, "truncated"))
	{
		/* header promises more than is sent; the server times out on us */
		vgp_encode_frame_header(buf, VGP_MSG_TRAIN, VGP_TRAIN_HEADER_SIZE + 1600);
		SendAll(fd, buf, 16);
		vgp_encode_train_header(hb, &th);
		SendAll(fd, hb, 50);
	}
	else if (!strcmp(kind, "trickle"))
		return Trickle(fd, &th);
	else if (!strcmp(kind, "short"))
	{
		vgp_encode_frame_header(buf, VGP_MSG_TRAIN, 20);
		SendAll(fd, buf, 16);
		SendAll(fd, buf, 20);
	}
	else if (!strcmp(kind, "lying_rows"))
	{
		/* n_rows says 1,000,000 but the frame holds 100 rows */
		th.n_rows = 1000000;
		vgp_encode_frame_header(buf, VGP_MSG_TRAIN, VGP_TRAIN_HEADER_SIZE + 1600);
		SendAll(fd, buf, 16);
		vgp_encode_train_header(hb, &th);
		SendAll(fd, hb, sizeof(hb));
		SendAll(fd, buf, 1600);
	}
	else if (!strcmp(kind, "overflow_rows"))
	{
		th.n_rows = UINT64_MAX / 2;
		th.dim = 16384;
		vgp_encode_frame_header(buf, VGP_MSG_TRAIN, VGP_TRAIN_HEADER_SIZE + 1600);
		SendAll(fd, buf, 16);
		vgp_encode_train_header(hb, &th);
		SendAll(fd, hb, sizeof(hb));
	}
	else if (!strcmp(kind, "badopt"))
	{
		th.opt.learning_rate = NAN;
		vgp_encode_frame_header(buf, VGP_MSG_TRAIN, VGP_TRAIN_HEADER_SIZE + 1600);
		SendAll(fd, buf, 16);
		vgp_encode_train_header(hb, &th);
		SendAll(fd, hb, sizeof(hb));
	}
	else if (!strcmp(kind, "badlatent"))
	{
		th.opt.latent_dim = 5000;
		vgp_encode_frame_header(buf, VGP_MSG_TRAIN, VGP_TRAIN_HEADER_SIZE + 1600);
		SendAll(fd, buf, 16);
		vgp_encode_train_header(hb, &th);
		SendAll(fd, hb, sizeof(hb));
	}
	else if (!strcmp(kind, "dim0"))
	{
		th.dim = 0;
		vgp_encode_frame_header(buf, VGP_MSG_TRAIN, VGP_TRAIN_HEADER_SIZE);
		SendAll(fd, buf, 16);
		vgp_encode_train_header(hb, &th);
		SendAll(fd, hb, sizeof(hb));
	}
	else if (!strcmp(kind, "randhdr"))
	{
		/* a well-framed TRAIN whose header is random bytes */
		vgp_encode_frame_header(hb, VGP_MSG_TRAIN, VGP_TRAIN_HEADER_SIZE + 1600);
		SendAll(fd, hb, 16);
		SendAll(fd, buf, VGP_TRAIN_HEADER_SIZE + 1600);
	}
	else if (!strcmp(kind, "extra"))
	{
		/* a valid job followed by bytes that have no business there */
		float		rows[400];

		for (i = 0; i < 400; i++)
			rows[i] = (float) i;
		/* long enough that the junk always arrives while it runs */
		th.opt.epochs = VC_MAX_EPOCHS;
		vgp_encode_frame_header(buf, VGP_MSG_TRAIN, VGP_TRAIN_HEADER_SIZE + sizeof(rows));
		SendAll(fd, buf, 16);
		vgp_encode_train_header(hb, &th);
		SendAll(fd, hb, sizeof(hb));
		SendAll(fd, rows, sizeof(rows));
		SendAll(fd, "junk", 4);
	}
	else
	{
		fprintf(stderr, "unknown garbage kind %s\n", kind);
		return 2;
	}
	return Outcome(fd, 1);
}

/* parse the arguments, connect, handshake, then a job or garbage */
int
main(int argc, char **argv)
{
	int			i,
				fd;
	VgpHello	h;

	for (i = 1; i < argc; i++)
	{
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

#define ARG(name) (strcmp(a, name) == 0 && v && (i++, 1))
		if (ARG("--socket"))
			opt_socket = v;
		else if (ARG("--tcp"))
			opt_tcp = v;
		else if (ARG("--tls-ca"))
			opt_tls_ca = v;
		else if (ARG("--secret"))
			opt_secret = v;
		else if (ARG("--out"))
			opt_out = v;
		else if (ARG("--garbage"))
			opt_garbage = v;
		else if (ARG("--expect-error"))
			opt_expect = v;
		else if (ARG("--rows"))
			opt_rows = atol(v);
		else if (ARG("--dim"))
			opt_dim = atol(v);
		else if (ARG("--epochs"))
			opt_epochs = atol(v);
		else if (ARG("--seed"))
			opt_seed = strtoull(v, NULL, 10);
		else if (ARG("--timeout"))
			opt_timeout = atoi(v);
		else if (!strcmp(a, "--no-auth"))
			opt_no_auth = 1;
		else if (!strcmp(a, "--verbose"))
			opt_verbose = 1;
		else if (!strcmp(a, "--compare"))
			opt_compare = 1;
		else if (!strcmp(a, "--disconnect-after-progress"))
			opt_disconnect = opt_verbose = 1;
		else
		{
			fprintf(stderr, "vgp_test_client: bad argument %s\n", a);
			return 2;
		}
	}
	if (!opt_socket == !opt_tcp)
	{
		fprintf(stderr, "vgp_test_client: give --socket or --tcp\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);	/* SSL_write to a closed peer: an error, not a signal */
	fd = Connect();
	Handshake(fd, &h);
	if (opt_garbage && strcmp(opt_garbage, "nan") != 0)
		return Garbage(fd, opt_garbage);
	return TrainJob(fd);
}
