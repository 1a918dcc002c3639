/*
 * gpu_e2e.c - an end-to-end job through vae_gpud's protocol, timed from
 * connect() to the received model: what a backend's vae_train() waits for.
 *
 *	gpu_e2e SOCKET ROWS DIM EPOCHS BATCH [SECRET_FILE]
 *
 * EPOCHS or BATCH -1: not given, the daemon resolves them from the data as
 * for any user (batch 128, epochs from the row count).
 *
 * Sends ROWS KDD-like rows (DIM must be 118; the same generator as
 * gpu_bench) for a 118-60-10 gaussian tanh model and prints one key=value
 * line: backend (the VcDevice the daemon reported), seconds, rows x epochs
 * / s, model bytes.  Needs src/protocol/vgp_protocol.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vc.h"
#include "kdd_like.h"
#include "vgp_protocol.h"

/* writes all len bytes, through short writes and EINTR; 0, or -1 on error */
static int
WriteAll(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0)
	{
		ssize_t		w = write(fd, p, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t) w;
	}
	return 0;
}

/* reads exactly len bytes, through short reads and EINTR; -1 on error or end of file */
static int
ReadAll(int fd, void *buf, size_t len)
{
	char	   *p = buf;

	while (len > 0)
	{
		ssize_t		r = read(fd, p, len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		len -= (size_t) r;
	}
	return 0;
}

/* one frame; *payload is malloc'ed */
static int
ReadFrame(int fd, VgpFrameHeader *h, uint8_t **payload, char *err)
{
	uint8_t		hb[VGP_FRAME_HEADER_SIZE];

	if (ReadAll(fd, hb, sizeof(hb)) < 0)
	{
		snprintf(err, VC_ERRMSG_LEN, "connection closed");
		return -1;
	}
	if (vgp_decode_frame_header(hb, (uint64_t) 1 << 34, h, err) != VC_OK)
		return -1;
	*payload = malloc(h->length ? h->length : 1);
	if (!*payload || ReadAll(fd, *payload, h->length) < 0)
	{
		snprintf(err, VC_ERRMSG_LEN, "short frame");
		return -1;
	}
	return 0;
}

/* one frame: the header, then len bytes of payload; 0, or -1 on error */
static int
SendFrame(int fd, uint16_t type, const void *payload, size_t len)
{
	uint8_t		hb[VGP_FRAME_HEADER_SIZE];

	vgp_encode_frame_header(hb, type, len);
	return WriteAll(fd, hb, sizeof(hb)) < 0 || (len && WriteAll(fd, payload, len) < 0) ? -1 : 0;
}

/* connects, authenticates if asked, sends the job and times it until the model arrives */
int
main(int argc, char **argv)
{
	struct sockaddr_un addr;
	int64_t		rows;
	int			dim,
				fd;
	VgpTrainHeader th;
	VgpFrameHeader fh;
	VgpHello	hello;
	uint8_t    *payload = NULL,
				hdr[VGP_TRAIN_HEADER_SIZE];
	float	   *values;
	char		err[VC_ERRMSG_LEN] = "";
	double		t0;

	if (argc < 6)
	{
		fprintf(stderr, "usage: gpu_e2e SOCKET ROWS DIM EPOCHS BATCH [SECRET_FILE]\n");
		return 2;
	}
	rows = atoll(argv[2]);
	dim = atoi(argv[3]);
	if (dim != 118 || rows < 2)
	{
		fprintf(stderr, "gpu_e2e sends KDD-like rows: DIM must be 118\n");
		return 2;
	}
	values = malloc(sizeof(float) * rows * dim);
	if (!values)
		return 1;
	MakeKddLike(values, rows, dim);

	vc_options_init(&th.opt);
	th.opt.n_hidden = 1;
	th.opt.hidden[0] = 60;
	th.opt.latent_dim = 10;
	th.opt.likelihood = VC_LIK_GAUSSIAN;
	th.opt.activation = VC_ACT_TANH;
	th.opt.epochs = atoi(argv[4]);
	th.opt.batch_size = atoi(argv[5]);
	th.opt.seed = 1;
	th.dim = (uint32_t) dim;
	th.n_rows = (uint64_t) rows;

	t0 = vc_now();
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", argv[1]);
	if (fd < 0 || connect(fd, (struct sockaddr *) &addr, sizeof(addr)) < 0)
	{
		perror(argv[1]);
		return 1;
	}
	if (ReadFrame(fd, &fh, &payload, err) < 0 || fh.type != VGP_MSG_HELLO ||
		vgp_decode_hello(payload, fh.length, &hello, err) != VC_OK)
		goto fail;
	free(payload);
	payload = NULL;
	if (hello.flags & VGP_HELLO_AUTH)
	{
		uint8_t		secret[4096],
					mac[VGP_MAC_LEN];
		size_t		slen = 0;
		FILE	   *f = argc > 6 ? fopen(argv[6], "rb") : NULL;

		if (!f)
		{
			snprintf(err, VC_ERRMSG_LEN, "the daemon wants authentication: pass SECRET_FILE");
			goto fail;
		}
		slen = fread(secret, 1, sizeof(secret), f);
		fclose(f);
		if (vgp_auth_mac(secret, slen, hello.nonce, mac) != 0 ||
			SendFrame(fd, VGP_MSG_AUTH, mac, sizeof(mac)) < 0 ||
			ReadFrame(fd, &fh, &payload, err) < 0)
			goto fail;
		if (fh.type != VGP_MSG_OK)
		{
			snprintf(err, VC_ERRMSG_LEN, "authentication refused");
			goto fail;
		}
		free(payload);
		payload = NULL;
	}
	vgp_encode_train_header(hdr, &th);
	{
		uint8_t		fb[VGP_FRAME_HEADER_SIZE];
		size_t		data = sizeof(float) * (size_t) rows * dim;

		vgp_encode_frame_header(fb, VGP_MSG_TRAIN, VGP_TRAIN_HEADER_SIZE + data);
		/* rows go as they are: float32 little-endian is the host's layout here */
		if (WriteAll(fd, fb, sizeof(fb)) < 0 || WriteAll(fd, hdr, sizeof(hdr)) < 0 ||
			WriteAll(fd, values, data) < 0)
		{
			snprintf(err, VC_ERRMSG_LEN, "sending the rows failed");
			goto fail;
		}
	}
	for (;;)
	{
		if (ReadFrame(fd, &fh, &payload, err) < 0)
			goto fail;
		if (fh.type == VGP_MSG_RESULT)
		{
			uint32_t	device,
						epochs;
			const uint8_t *model;
			uint64_t	model_len;
			double		s;

			if (vgp_decode_result(payload, fh.length, &device, &model, &model_len, &epochs,
								  err) != VC_OK)
				goto fail;
			s = vc_now() - t0;
			printf("e2e backend=%s rows=%lld epochs=%u seconds=%.3f throughput=%.1f model_bytes=%llu\n",
				   vc_device_name((int) device), (long long) rows, epochs, s,
				   (double) rows * epochs / s, (unsigned long long) model_len);
			return 0;
		}
		if (fh.type == VGP_MSG_ERROR)
		{
			VcStatus	st;
			char		msg[VC_ERRMSG_LEN];

			if (vgp_decode_error(payload, fh.length, &st, msg, err) != VC_OK)
				goto fail;
			fprintf(stderr, "gpu_e2e: the daemon answered error %d: %s\n", (int) st, msg);
			return 1;
		}
		free(payload);			/* PROGRESS */
		payload = NULL;
	}
fail:
	fprintf(stderr, "gpu_e2e: %s\n", err);
	free(payload);
	return 1;
}
