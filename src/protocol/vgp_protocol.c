/*
 * vgp_protocol.c - encoders and validating decoders of the vae_gpud wire
 * protocol (the contract is in vgp_protocol.h).
 *
 * Linked into vae.so as well as the daemon: plain C99, no globals, no
 * allocation, and never abort() on bad input -- every decoder returns a
 * status and a message, because both sides treat the peer as untrusted.
 */
#include "vc_bytes.h"
#include "vgp_protocol.h"
#include "vc_options.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

/* ---- errors ---- */

/* what into errmsg; returns st, for "return Fail(...)" */
static VcStatus
Fail(char *errmsg, VcStatus st, const char *what)
{
	snprintf(errmsg, VC_ERRMSG_LEN, "%s", what);
	return st;
}

/* ---- frame header ---- */

/* the 16-byte frame header: magic, type, this side's version, payload length */
void
vgp_encode_frame_header(uint8_t *buf, uint16_t type, uint64_t length)
{
	vc_put_u32(buf, VGP_MAGIC);
	vc_put_u16(buf + 4, type);
	vc_put_u16(buf + 6, VGP_VERSION);
	vc_put_u64(buf + 8, length);
}

/*
 * Decodes a 16-byte frame header and checks magic, version and type; the
 * payload may have up to limit bytes for TRAIN and RESULT and
 * VGP_MAX_SMALL_PAYLOAD for the others (VC_ELIMIT beyond).
 */
VcStatus
vgp_decode_frame_header(const uint8_t *buf, uint64_t limit, VgpFrameHeader *out,
						char *errmsg)
{
	uint64_t	max;

	out->magic = vc_get_u32(buf);
	out->type = vc_get_u16(buf + 4);
	out->version = vc_get_u16(buf + 6);
	out->length = vc_get_u64(buf + 8);
	if (out->magic != VGP_MAGIC)
		return Fail(errmsg, VC_EFORMAT, "not a vae_gpud message (bad magic)");
	if (out->version != VGP_VERSION)
	{
		snprintf(errmsg, VC_ERRMSG_LEN,
				 "unsupported vae_gpud protocol version %u (this side speaks %u)",
				 (unsigned) out->version, (unsigned) VGP_VERSION);
		return VC_EFORMAT;
	}
	if (out->type < VGP_MSG_HELLO || out->type > VGP_MSG_ERROR)
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "unknown vae_gpud message type %u",
				 (unsigned) out->type);
		return VC_EFORMAT;
	}
	max = (out->type == VGP_MSG_TRAIN || out->type == VGP_MSG_RESULT) ?
		limit : VGP_MAX_SMALL_PAYLOAD;
	if (out->length > max)
	{
		snprintf(errmsg, VC_ERRMSG_LEN,
				 "vae_gpud message of %llu bytes exceeds the limit of %llu bytes",
				 (unsigned long long) out->length, (unsigned long long) max);
		return VC_ELIMIT;
	}
	return VC_OK;
}

/* ---- HELLO ---- */

/* HELLO payload: flags, nonce, backend, max_request_bytes */
size_t
vgp_encode_hello(uint8_t *buf, const VgpHello *h)
{
	vc_put_u32(buf, h->flags);
	memcpy(buf + 4, h->nonce, VGP_NONCE_LEN);
	vc_put_u32(buf + 36, h->backend);
	vc_put_u64(buf + 40, h->max_request_bytes);
	return VGP_HELLO_SIZE;
}

/*
 * HELLO payload of exactly VGP_HELLO_SIZE bytes: only known flags, a known
 * backend, and a request limit that fits at least a TRAIN header.
 */
VcStatus
vgp_decode_hello(const uint8_t *buf, size_t len, VgpHello *out, char *errmsg)
{
	if (len != VGP_HELLO_SIZE)
		return Fail(errmsg, VC_EFORMAT, "HELLO has the wrong length");
	out->flags = vc_get_u32(buf);
	memcpy(out->nonce, buf + 4, VGP_NONCE_LEN);
	out->backend = vc_get_u32(buf + 36);
	out->max_request_bytes = vc_get_u64(buf + 40);
	if (out->flags & ~VGP_HELLO_AUTH)
		return Fail(errmsg, VC_EFORMAT, "HELLO has unknown flags");
	if (out->backend > VC_DEVICE_GPU)
		return Fail(errmsg, VC_EFORMAT, "HELLO names an unknown backend");
	if (out->max_request_bytes < VGP_TRAIN_HEADER_SIZE)
		return Fail(errmsg, VC_EFORMAT, "HELLO announces an impossible request limit");
	return VC_OK;
}

/* ---- TRAIN header ---- */

/* the shape follows the options block directly */
typedef char vgp_options_fit[(VGP_OFF_DIM == VC_OPTIONS_BLOCK_SIZE) ? 1 : -1];

/* the options block (offsets from the option table) then the shape */
size_t
vgp_encode_train_header(uint8_t *buf, const VgpTrainHeader *h)
{
	vc_options_encode(buf, &h->opt);
	vc_put_u32(buf + VGP_OFF_DIM, h->dim);
	vc_put_u64(buf + VGP_OFF_N_ROWS, h->n_rows);
	return VGP_TRAIN_HEADER_SIZE;
}

/*
 * Options as the user gave them: each is "not given" or passes the one
 * check the jsonb parser and the model reader use too.
 */
VcStatus
vgp_decode_train_header(const uint8_t *buf, size_t len, VgpTrainHeader *out,
						char *errmsg)
{
	VcStatus	st;

	if (len != VGP_TRAIN_HEADER_SIZE)
		return Fail(errmsg, VC_EFORMAT, "TRAIN header has the wrong length");
	memset(out, 0, sizeof(*out));
	vc_options_decode(buf, &out->opt, NULL);
	out->dim = vc_get_u32(buf + VGP_OFF_DIM);
	out->n_rows = vc_get_u64(buf + VGP_OFF_N_ROWS);
	if ((st = vc_options_check(&out->opt, 1, errmsg)) != VC_OK)
		return st;

	if (out->dim < 1 || out->dim > VC_MAX_INPUT_DIM)
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "rows have %u features; the limit is %d",
				 (unsigned) out->dim, VC_MAX_INPUT_DIM);
		return VC_ELIMIT;
	}
	if (out->n_rows < VC_MIN_ROWS)
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "training needs at least %d rows, got %llu",
				 VC_MIN_ROWS, (unsigned long long) out->n_rows);
		return VC_EDATA;
	}
	/* n_rows * dim * 4 plus the header must fit in an int64 (and a size_t) */
	if (out->n_rows > (uint64_t) (INT64_MAX - VGP_TRAIN_HEADER_SIZE) / 4 / out->dim ||
		out->n_rows * out->dim * 4 > (uint64_t) (SIZE_MAX - VGP_TRAIN_HEADER_SIZE))
		return Fail(errmsg, VC_ELIMIT, "TRAIN request is too large to address");
	return VC_OK;
}

/* ---- PROGRESS ---- */

/* PROGRESS payload: epoch, train loss, val loss, elapsed seconds */
size_t
vgp_encode_progress(uint8_t *buf, const VgpProgress *p)
{
	vc_put_u32(buf, p->epoch);
	vc_put_f64(buf + 4, p->train_loss);
	vc_put_f64(buf + 12, p->val_loss);
	vc_put_f64(buf + 20, p->elapsed);
	return VGP_PROGRESS_SIZE;
}

/*
 * PROGRESS payload of exactly VGP_PROGRESS_SIZE bytes: epoch within
 * 1..VC_MAX_EPOCHS, finite train loss, val loss finite or NaN (no validation
 * set), elapsed time finite and >= 0.
 */
VcStatus
vgp_decode_progress(const uint8_t *buf, size_t len, VgpProgress *out, char *errmsg)
{
	if (len != VGP_PROGRESS_SIZE)
		return Fail(errmsg, VC_EFORMAT, "PROGRESS has the wrong length");
	out->epoch = vc_get_u32(buf);
	out->train_loss = vc_get_f64(buf + 4);
	out->val_loss = vc_get_f64(buf + 12);
	out->elapsed = vc_get_f64(buf + 20);
	if (out->epoch < 1 || out->epoch > VC_MAX_EPOCHS)
		return Fail(errmsg, VC_EFORMAT, "PROGRESS has an impossible epoch");
	if (!isfinite(out->train_loss) || isinf(out->val_loss) ||
		!isfinite(out->elapsed) || out->elapsed < 0)
		return Fail(errmsg, VC_EFORMAT, "PROGRESS has an impossible loss or time");
	return VC_OK;
}

/* ---- ERROR ---- */

/*
 * ERROR payload: status, length, then msg cut to VC_ERRMSG_LEN - 1 bytes,
 * without a NUL.  Returns its size.
 */
size_t
vgp_encode_error(uint8_t *buf, VcStatus status, const char *msg)
{
	size_t		n = msg ? strlen(msg) : 0;

	if (n > VC_ERRMSG_LEN - 1)
		n = VC_ERRMSG_LEN - 1;
	vc_put_u32(buf, (uint32_t) status);
	vc_put_u32(buf + 4, (uint32_t) n);
	if (n > 0)
		memcpy(buf + 8, msg, n);
	return 8 + n;
}

/*
 * ERROR payload into *status and msg_out (NUL-terminated): a known failure
 * status, a length that matches the payload, no NUL inside the message.
 */
VcStatus
vgp_decode_error(const uint8_t *buf, size_t len, VcStatus *status, char *msg_out,
				 char *errmsg)
{
	uint32_t	st,
				n;

	msg_out[0] = '\0';
	if (len < 8)
		return Fail(errmsg, VC_EFORMAT, "ERROR is truncated");
	st = vc_get_u32(buf);
	n = vc_get_u32(buf + 4);
	if (st == VC_OK || st > VC_EDEVICE)
		return Fail(errmsg, VC_EFORMAT, "ERROR has an unknown status");
	if (n > VC_ERRMSG_LEN - 1 || len != 8 + (size_t) n)
		return Fail(errmsg, VC_EFORMAT, "ERROR has the wrong length");
	if (memchr(buf + 8, '\0', n) != NULL)
		return Fail(errmsg, VC_EFORMAT, "ERROR message contains a NUL byte");
	memcpy(msg_out, buf + 8, n);
	msg_out[n] = '\0';
	*status = (VcStatus) st;
	return VC_OK;
}

/* ---- RESULT ---- */

/* RESULT's 12-byte prefix: the device it trained on, then the model's length */
void
vgp_encode_result_prefix(uint8_t *buf, uint32_t device, uint64_t model_len)
{
	vc_put_u32(buf, device);
	vc_put_u64(buf + 4, model_len);
}

/* bytes of RESULT's history: the epoch count, then two f64 losses per epoch */
size_t
vgp_result_history_size(uint32_t epochs)
{
	return 4 + (size_t) epochs * 16;
}

/* RESULT's history: epochs, then each epoch's train and val loss */
void
vgp_encode_result_history(uint8_t *buf, uint32_t epochs, const double *train_loss,
						  const double *val_loss)
{
	uint32_t	i;

	vc_put_u32(buf, epochs);
	for (i = 0; i < epochs; i++)
	{
		vc_put_f64(buf + 4 + 16 * (size_t) i, train_loss[i]);
		vc_put_f64(buf + 12 + 16 * (size_t) i, val_loss[i]);
	}
}

/*
 * Splits a RESULT payload: a known device, a model length within the
 * payload, and an epoch count (at most VC_MAX_HISTORY) that matches the bytes
 * left.  *model points into buf; the losses are not read here.
 */
VcStatus
vgp_decode_result(const uint8_t *buf, size_t len, uint32_t *device,
				  const uint8_t **model, uint64_t *model_len, uint32_t *epochs,
				  char *errmsg)
{
	uint64_t	mlen;
	uint32_t	e;
	size_t		rest;

	if (len < VGP_RESULT_PREFIX_SIZE + 4)
		return Fail(errmsg, VC_EFORMAT, "RESULT is truncated");
	*device = vc_get_u32(buf);
	mlen = vc_get_u64(buf + 4);
	if (*device > VC_DEVICE_GPU)
		return Fail(errmsg, VC_EFORMAT, "RESULT names an unknown device");
	if (mlen > len - VGP_RESULT_PREFIX_SIZE - 4)
		return Fail(errmsg, VC_EFORMAT, "RESULT model length exceeds the message");
	rest = len - VGP_RESULT_PREFIX_SIZE - (size_t) mlen;
	e = vc_get_u32(buf + VGP_RESULT_PREFIX_SIZE + mlen);
	if (e > VC_MAX_HISTORY || rest != vgp_result_history_size(e))
		return Fail(errmsg, VC_EFORMAT, "RESULT history has the wrong length");
	*model = buf + VGP_RESULT_PREFIX_SIZE;
	*model_len = mlen;
	*epochs = e;
	return VC_OK;
}

/*
 * The losses of a RESULT payload, after vgp_decode_result's checks: each
 * train loss finite, each val loss finite or NaN.  Either output may be NULL.
 */
VcStatus
vgp_decode_result_history(const uint8_t *buf, size_t len, double *train_loss,
						  double *val_loss, char *errmsg)
{
	uint32_t	device,
				epochs,
				i;
	const uint8_t *model;
	const uint8_t *h;
	uint64_t	mlen;
	VcStatus	st;

	st = vgp_decode_result(buf, len, &device, &model, &mlen, &epochs, errmsg);
	if (st != VC_OK)
		return st;
	h = buf + VGP_RESULT_PREFIX_SIZE + mlen + 4;
	for (i = 0; i < epochs; i++)
	{
		double		t = vc_get_f64(h + 16 * (size_t) i);
		double		v = vc_get_f64(h + 8 + 16 * (size_t) i);

		if (!isfinite(t) || isinf(v))
			return Fail(errmsg, VC_EFORMAT, "RESULT history has an impossible loss");
		if (train_loss)
			train_loss[i] = t;
		if (val_loss)
			val_loss[i] = v;
	}
	return VC_OK;
}

/* ---- authentication ---- */

/* HMAC-SHA256 by libcrypto; 0 on success, -1 (and a zeroed mac) if it failed */
int
vgp_hmac_sha256(const uint8_t *key, size_t key_len, const void *data, size_t len,
				uint8_t mac[VGP_MAC_LEN])
{
	unsigned int mac_len = 0;

	if (key_len > INT32_MAX ||
		HMAC(EVP_sha256(), key, (int) key_len, data, len, mac, &mac_len) == NULL ||
		mac_len != VGP_MAC_LEN)
	{
		memset(mac, 0, VGP_MAC_LEN);
		return -1;
	}
	return 0;
}

/* the AUTH answer: HMAC-SHA256(secret, nonce || VGP_AUTH_CONTEXT) */
int
vgp_auth_mac(const uint8_t *secret, size_t secret_len,
			 const uint8_t nonce[VGP_NONCE_LEN], uint8_t mac[VGP_MAC_LEN])
{
	uint8_t		msg[VGP_NONCE_LEN + sizeof(VGP_AUTH_CONTEXT) - 1];

	memcpy(msg, nonce, VGP_NONCE_LEN);
	memcpy(msg + VGP_NONCE_LEN, VGP_AUTH_CONTEXT, sizeof(VGP_AUTH_CONTEXT) - 1);
	return vgp_hmac_sha256(secret, secret_len, msg, sizeof(msg), mac);
}

/* constant-time comparison of two macs (CRYPTO_memcmp): 1 when equal */
int
vgp_mac_equal(const uint8_t a[VGP_MAC_LEN], const uint8_t b[VGP_MAC_LEN])
{
	return CRYPTO_memcmp(a, b, VGP_MAC_LEN) == 0;
}
