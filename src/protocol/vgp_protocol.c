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

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

/* the largest seed the SQL option accepts (2^53 - 1, exact in a double) */
#define VGP_MAX_SEED		UINT64_C(9007199254740991)
#define VGP_MAX_BATCH		65536

/* ---- byte order helpers: little-endian, unaligned ---- */

static VcStatus
Fail(char *errmsg, VcStatus st, const char *what)
{
	snprintf(errmsg, VC_ERRMSG_LEN, "%s", what);
	return st;
}

/* ---- frame header ---- */

void
vgp_encode_frame_header(uint8_t *buf, uint16_t type, uint64_t length)
{
	vc_put_u32(buf, VGP_MAGIC);
	vc_put_u16(buf + 4, type);
	vc_put_u16(buf + 6, VGP_VERSION);
	vc_put_u64(buf + 8, length);
}

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

size_t
vgp_encode_hello(uint8_t *buf, const VgpHello *h)
{
	vc_put_u32(buf, h->flags);
	memcpy(buf + 4, h->nonce, VGP_NONCE_LEN);
	vc_put_u32(buf + 36, h->backend);
	vc_put_u64(buf + 40, h->max_request_bytes);
	return VGP_HELLO_SIZE;
}

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

size_t
vgp_encode_train_header(uint8_t *buf, const VgpTrainHeader *h)
{
	const VcOptions *o = &h->opt;
	int			i;

	vc_put_u32(buf + 0, (uint32_t) o->n_hidden);
	for (i = 0; i < VC_MAX_HIDDEN; i++)
		vc_put_u32(buf + 4 + 4 * i, (uint32_t) (i < o->n_hidden ? o->hidden[i] : 0));
	vc_put_u32(buf + 36, (uint32_t) o->latent_dim);
	vc_put_u32(buf + 40, (uint32_t) o->likelihood);
	vc_put_u32(buf + 44, (uint32_t) o->activation);
	vc_put_u32(buf + 48, (uint32_t) o->normalize);
	vc_put_u32(buf + 52, (uint32_t) o->epochs);
	vc_put_u32(buf + 56, (uint32_t) o->batch_size);
	vc_put_f64(buf + 60, o->learning_rate);
	vc_put_f64(buf + 68, o->beta);
	vc_put_f64(buf + 76, o->weight_decay);
	vc_put_u64(buf + 84, o->seed);
	vc_put_f64(buf + 92, o->validation_fraction);
	vc_put_u32(buf + 100, (uint32_t) o->patience);
	vc_put_u64(buf + 104, (uint64_t) o->max_rows);
	vc_put_u32(buf + 112, (uint32_t) o->mc_samples);
	vc_put_u32(buf + 116, (uint32_t) o->verbose);
	vc_put_u32(buf + 120, (uint32_t) o->device);
	vc_put_u32(buf + 124, h->dim);
	vc_put_u64(buf + 128, h->n_rows);
	return VGP_TRAIN_HEADER_SIZE;
}

/* -1 ("not given") or lo..hi */
static int
IntOk(int32_t v, int32_t lo, int32_t hi)
{
	return v == -1 || (v >= lo && v <= hi);
}

/* any finite negative ("not given") or lo..hi (lo excluded when lo_open) */
static int
RealOk(double d, double lo, double hi, int lo_open)
{
	if (!isfinite(d))
		return 0;
	if (d < 0)
		return 1;
	return d <= hi && d >= lo && !(lo_open && d == lo);
}

VcStatus
vgp_decode_train_header(const uint8_t *buf, size_t len, VgpTrainHeader *out,
						char *errmsg)
{
	VcOptions  *o = &out->opt;
	int			i;

	if (len != VGP_TRAIN_HEADER_SIZE)
		return Fail(errmsg, VC_EFORMAT, "TRAIN header has the wrong length");
	memset(out, 0, sizeof(*out));
	o->n_hidden = vc_get_i32(buf);
	if (o->n_hidden < -1 || o->n_hidden > VC_MAX_HIDDEN)
		return Fail(errmsg, VC_EINVAL, "option \"hidden\" has too many layers");
	for (i = 0; i < o->n_hidden; i++)
	{
		o->hidden[i] = vc_get_i32(buf + 4 + 4 * i);
		if (o->hidden[i] < 1 || o->hidden[i] > VC_MAX_WIDTH)
			return Fail(errmsg, VC_EINVAL, "option \"hidden\" has a layer size out of range");
	}
	o->latent_dim = vc_get_i32(buf + 36);
	o->likelihood = vc_get_i32(buf + 40);
	o->activation = vc_get_i32(buf + 44);
	o->normalize = vc_get_i32(buf + 48);
	o->epochs = vc_get_i32(buf + 52);
	o->batch_size = vc_get_i32(buf + 56);
	o->learning_rate = vc_get_f64(buf + 60);
	o->beta = vc_get_f64(buf + 68);
	o->weight_decay = vc_get_f64(buf + 76);
	o->seed = vc_get_u64(buf + 84);
	o->validation_fraction = vc_get_f64(buf + 92);
	o->patience = vc_get_i32(buf + 100);
	o->max_rows = vc_get_i64(buf + 104);
	o->mc_samples = vc_get_i32(buf + 112);
	o->verbose = vc_get_i32(buf + 116);
	o->device = vc_get_i32(buf + 120);
	out->dim = vc_get_u32(buf + 124);
	out->n_rows = vc_get_u64(buf + 128);

	if (!IntOk(o->latent_dim, 1, VC_MAX_WIDTH))
		return Fail(errmsg, VC_EINVAL, "option \"latent_dim\" out of range");
	if (o->likelihood < 0 || o->likelihood > VC_LIK_BERNOULLI)
		return Fail(errmsg, VC_EINVAL, "option \"likelihood\" out of range");
	if (o->activation < 0 || o->activation > VC_ACT_TANH)
		return Fail(errmsg, VC_EINVAL, "option \"activation\" out of range");
	if (!IntOk(o->normalize, 0, VC_NORM_NONE))
		return Fail(errmsg, VC_EINVAL, "option \"normalize\" out of range");
	if (!IntOk(o->epochs, 1, VC_MAX_EPOCHS))
		return Fail(errmsg, VC_EINVAL, "option \"epochs\" out of range");
	if (!IntOk(o->batch_size, 1, VGP_MAX_BATCH))
		return Fail(errmsg, VC_EINVAL, "option \"batch_size\" out of range");
	if (!RealOk(o->learning_rate, 0, 10, 1))
		return Fail(errmsg, VC_EINVAL, "option \"learning_rate\" out of range");
	if (!RealOk(o->beta, 0, 1e6, 0))
		return Fail(errmsg, VC_EINVAL, "option \"beta\" out of range");
	if (!RealOk(o->weight_decay, 0, 1, 0))
		return Fail(errmsg, VC_EINVAL, "option \"weight_decay\" out of range");
	if (o->seed > VGP_MAX_SEED)
		return Fail(errmsg, VC_EINVAL, "option \"seed\" out of range");
	if (!RealOk(o->validation_fraction, 0, 0.9, 0))
		return Fail(errmsg, VC_EINVAL, "option \"validation_fraction\" out of range");
	if (!IntOk(o->patience, 0, VC_MAX_EPOCHS))
		return Fail(errmsg, VC_EINVAL, "option \"patience\" out of range");
	if (o->max_rows < 0 || (o->max_rows > 0 && o->max_rows < VC_MIN_ROWS))
		return Fail(errmsg, VC_EINVAL, "option \"max_rows\" out of range");
	if (!IntOk(o->mc_samples, 1, VC_MAX_MC_SAMPLES))
		return Fail(errmsg, VC_EINVAL, "option \"mc_samples\" out of range");
	if (o->verbose != 0 && o->verbose != 1)
		return Fail(errmsg, VC_EINVAL, "option \"verbose\" out of range");
	if (o->device < VC_DEVICE_CPU || o->device > VC_DEVICE_AUTO)
		return Fail(errmsg, VC_EINVAL, "option \"device\" out of range");

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

size_t
vgp_encode_progress(uint8_t *buf, const VgpProgress *p)
{
	vc_put_u32(buf, p->epoch);
	vc_put_f64(buf + 4, p->train_loss);
	vc_put_f64(buf + 12, p->val_loss);
	vc_put_f64(buf + 20, p->elapsed);
	return VGP_PROGRESS_SIZE;
}

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

void
vgp_encode_result_prefix(uint8_t *buf, uint32_t device, uint64_t model_len)
{
	vc_put_u32(buf, device);
	vc_put_u64(buf + 4, model_len);
}

size_t
vgp_result_history_size(uint32_t epochs)
{
	return 4 + (size_t) epochs * 16;
}

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
