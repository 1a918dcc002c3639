/*
 * vc_format.c - the versioned binary model format.
 *
 * A serialized model is what vae stores in its catalog and what the GPU
 * worker receives, so the reader treats every byte as hostile: a truncated
 * TOAST value, a bit flipped on disk or a bytea someone typed by hand must
 * produce a clean VC_EFORMAT, never a crash, an out-of-bounds read or a huge
 * allocation.  The layout is documented byte by byte in docs/model-format.md;
 * keep the two in step, and bump VC_FORMAT_VERSION for any change.
 *
 * Everything is little-endian regardless of the host and is written with
 * explicit byte shifts, so no alignment or byte order assumption leaks into
 * the bytes.  Floats travel as their IEEE-754 bit patterns, which makes a
 * round trip bit exact (NaN payloads and -0.0 included).
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vc.h"
#include "vc_bytes.h"
#include "vc_crc32c.h"
#include "vc_options.h"
#include "vc_schema.h"

/*
 * Header layout: byte offsets from the start of the buffer.  The writer and
 * the reader both use these names, so they cannot drift apart.
 */
#define OFF_MAGIC			0	/* u32 */
#define OFF_VERSION			4	/* u16 */
#define OFF_RESERVED		6	/* u16: zero in versions 1, 2 and 3; the scoring
								 * method (VcMethod, not recon_prob) in 4 and 5 */
#define OFF_DIM				8	/* i32 */
#define OFF_OPTIONS			12	/* the options block: vc_options.h gives each
								 * option's type and offset from here
								 * (n_hidden at 12, hidden at 16, ... device
								 * at 132) */
#define OFF_ROWS			136 /* i64 */
#define OFF_EPOCHS_RUN		144 /* i32 */
#define OFF_BEST_EPOCH		148 /* i32 */
#define OFF_TRAIN_SECONDS	152 /* f64 */
#define OFF_DEVICE			160 /* i32 */
#define OFF_N_SCORES		164 /* i32 */
#define OFF_N_PARAMS		168 /* u64 */
#define HEADER_SIZE			176
#define TRAILER_SIZE		4	/* u32 CRC-32C of every preceding byte */
#define MIN_SIZE			(HEADER_SIZE + TRAILER_SIZE)

/* the options block fills the bytes up to the training record exactly */
typedef char vc_format_options_fit[(OFF_OPTIONS + VC_OPTIONS_BLOCK_SIZE == OFF_ROWS) ? 1 : -1];

/*
 * Far above any layout the documented limits allow (about 2^29 parameters),
 * far below anything that could overflow the 64-bit size arithmetic.  It only
 * keeps the length computation safe before the layout has been checked.
 */
#define MAX_PARAMS_SANE		(UINT64_C(1) << 40)

/*
 * Version 3, an ensemble: a 16-byte header, then each member as a u32
 * length and a complete version 1 or 2 model, then the combined score
 * sample and the CRC-32C trailer (docs/model-format.md, "Version 3").
 */
#define ENS_OFF_N_MEMBERS	8	/* u32 */
#define ENS_OFF_N_SCORES	12	/* u32 */
#define ENS_HEADER_SIZE		16

/* ---- writing (little-endian primitives: vc_bytes.h) ---- */

/* the bytes of an ensemble: header, the members with their lengths, scores, trailer */
static size_t
EnsembleSize(const VcModel *m)
{
	size_t		n = ENS_HEADER_SIZE + (size_t) VC_N_METHODS * (m->n_scores > 0 ? (size_t) m->n_scores : 0) * sizeof(uint32_t)
		+ TRAILER_SIZE;
	int			i;

	for (i = 0; i < m->n_members; i++)
		n += sizeof(uint32_t) + vc_model_serialized_size(m->members[i]);
	return n;
}

/* counts of a hand-built (untrained) model may be negative or stale: clamp */
static size_t
NonNeg(int64_t v)
{
	return v > 0 ? (size_t) v : 0;
}

/*
 * bytes vc_model_serialize() writes for m: header, sections and CRC trailer;
 * a row model has its schema section where an array model has center and
 * scale
 */
size_t
vc_model_serialized_size(const VcModel *m)
{
	if (m->n_members > 1)
		return EnsembleSize(m);
	return HEADER_SIZE
		+ (m->schema ? vc_schema_serialized_size(m->schema)
		   : 2 * NonNeg(m->dim) * sizeof(uint32_t))
		+ m->n_params * sizeof(uint32_t)
		+ 2 * NonNeg(m->epochs_run) * sizeof(uint64_t)
		+ (size_t) VC_N_METHODS * NonNeg(m->n_scores) * sizeof(uint32_t)
		+ TRAILER_SIZE;
}

/* n f32 values of a, or n times 'missing' when a is NULL; returns the end */
static uint8_t *
PutF32Array(uint8_t *p, const float *a, size_t n, float missing)
{
	size_t		i;

	for (i = 0; i < n; i++, p += 4)
		vc_put_f32(p, a ? a[i] : missing);
	return p;
}

/* n f64 values of a, or n NaNs when a is NULL; returns the end */
static uint8_t *
PutF64Array(uint8_t *p, const double *a, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++, p += 8)
		vc_put_f64(p, a ? a[i] : NAN);
	return p;
}

/*
 * The version a model is written in: 3 for an ensemble; for one network the
 * oldest that holds it, so that a model scoring by recon_prob keeps the 1.0
 * bytes (versions 1 and 2) and only another scoring method takes versions 4
 * and 5.
 */
int
vc_model_format_version(const VcModel *m)
{
	if (m->n_members > 1)
		return VC_FORMAT_VERSION_ENSEMBLE;
	if (m->opt.method == VC_METHOD_RECON_PROB)
		return m->schema ? VC_FORMAT_VERSION_ROWS : VC_FORMAT_VERSION;
	return m->schema ? VC_FORMAT_VERSION_ROWS_METHOD : VC_FORMAT_VERSION_METHOD;
}

/* version 3: the members as they would be written alone, then the combined scores */
static void
SerializeEnsemble(const VcModel *m, uint8_t *buf)
{
	size_t		n_scores = NonNeg(m->n_scores);
	uint8_t    *p = buf + ENS_HEADER_SIZE;
	int			i;

	memset(buf, 0, ENS_HEADER_SIZE);
	vc_put_u32(buf + OFF_MAGIC, VC_FORMAT_MAGIC);
	vc_put_u16(buf + OFF_VERSION, VC_FORMAT_VERSION_ENSEMBLE);
	vc_put_u16(buf + OFF_RESERVED, 0);
	vc_put_u32(buf + ENS_OFF_N_MEMBERS, (uint32_t) m->n_members);
	vc_put_u32(buf + ENS_OFF_N_SCORES, (uint32_t) n_scores);
	for (i = 0; i < m->n_members; i++)
	{
		size_t		len = vc_model_serialized_size(m->members[i]);

		vc_put_u32(p, (uint32_t) len);
		vc_model_serialize(m->members[i], p + 4);
		p += 4 + len;
	}
	for (i = 0; i < VC_N_METHODS; i++)
		p = PutF32Array(p, m->scores[i], n_scores, 0.0f);
	vc_put_u32(p, vc_crc32c(0, buf, (size_t) (p - buf)));
}

/*
 * Writes exactly vc_model_serialized_size(m) bytes.  A model from vc_train()
 * or vc_model_deserialize() has every array; a missing history or score
 * array (a hand-built model) is written as NaN losses / zero scores rather
 * than dereferencing NULL.  Hidden widths past n_hidden are written as zero
 * so that equal models always give equal bytes.
 */
void
vc_model_serialize(const VcModel *m, uint8_t *buf)
{
	const VcOptions *o = &m->opt;
	size_t		dim = NonNeg(m->dim);
	size_t		epochs_run = NonNeg(m->epochs_run);
	size_t		n_scores = NonNeg(m->n_scores);
	uint8_t    *p;
	int			i;

	if (m->n_members > 1)
	{
		SerializeEnsemble(m, buf);
		return;
	}
	memset(buf, 0, HEADER_SIZE);
	vc_put_u32(buf + OFF_MAGIC, VC_FORMAT_MAGIC);
	vc_put_u16(buf + OFF_VERSION, (uint16_t) vc_model_format_version(m));
	vc_put_u16(buf + OFF_RESERVED, o->method == VC_METHOD_RECON_PROB ? 0 : (uint16_t) o->method);
	vc_put_i32(buf + OFF_DIM, m->dim);
	vc_options_encode(buf + OFF_OPTIONS, o);
	vc_put_i64(buf + OFF_ROWS, m->rows);
	vc_put_i32(buf + OFF_EPOCHS_RUN, (int32_t) epochs_run);
	vc_put_i32(buf + OFF_BEST_EPOCH, m->best_epoch);
	vc_put_f64(buf + OFF_TRAIN_SECONDS, m->train_seconds);
	vc_put_i32(buf + OFF_DEVICE, m->device);
	vc_put_i32(buf + OFF_N_SCORES, (int32_t) n_scores);
	vc_put_u64(buf + OFF_N_PARAMS, (uint64_t) m->n_params);

	p = buf + HEADER_SIZE;
	if (m->schema)
	{
		vc_schema_serialize(m->schema, p);
		p += vc_schema_serialized_size(m->schema);
	}
	else
	{
		p = PutF32Array(p, m->center, dim, 0.0f);
		p = PutF32Array(p, m->scale, dim, 1.0f);
	}
	p = PutF32Array(p, m->params, m->n_params, 0.0f);
	p = PutF64Array(p, m->train_loss, epochs_run);
	p = PutF64Array(p, m->val_loss, epochs_run);
	for (i = 0; i < VC_N_METHODS; i++)
		p = PutF32Array(p, m->scores[i], n_scores, 0.0f);
	vc_put_u32(p, vc_crc32c(0, buf, (size_t) (p - buf)));
}

/* ---- reading ---- */

static VcStatus Fail(char *errmsg, const char *fmt,...) __attribute__((format(printf, 2, 3)));

/* the message into errmsg (when not NULL); returns VC_EFORMAT */
static VcStatus
Fail(char *errmsg, const char *fmt,...)
{
	va_list		ap;

	if (errmsg)
	{
		va_start(ap, fmt);
		vsnprintf(errmsg, VC_ERRMSG_LEN, fmt, ap);
		va_end(ap);
	}
	return VC_EFORMAT;
}

/*
 * A model of len bytes must be exactly expected bytes long and its CRC-32C
 * trailer must match: VC_OK, or the message of the first that fails
 */
static VcStatus
CheckLengthAndCrc(const uint8_t *buf, size_t len, uint64_t expected, char *errmsg)
{
	if ((uint64_t) len < expected)
		return Fail(errmsg, "model is truncated: %zu bytes, expected %" PRIu64, len, expected);
	if ((uint64_t) len > expected)
		return Fail(errmsg, "model has trailing garbage: %zu bytes, expected %" PRIu64,
					len, expected);
	if (vc_crc32c(0, buf, len - TRAILER_SIZE) != vc_get_u32(buf + len - TRAILER_SIZE))
		return Fail(errmsg, "model checksum mismatch");
	return VC_OK;
}

/* the header, decoded but not yet trusted */
typedef struct Header
{
	VcOptions	opt;
	int32_t		dim;
	int64_t		rows;
	int32_t		epochs_run;
	int32_t		best_epoch;
	double		train_seconds;
	int32_t		device;
	int32_t		n_scores;
	uint64_t	n_params;
	uint32_t	version;
	uint16_t	reserved;		/* the scoring method in versions 4 and 5 */
	int32_t		hidden_raw[VC_MAX_HIDDEN];	/* including the unused slots */
} Header;

/* the header fields after magic and version, decoded but not checked */
static void
ReadHeader(const uint8_t *buf, Header *h)
{
	memset(h, 0, sizeof(*h));
	h->reserved = vc_get_u16(buf + OFF_RESERVED);
	h->dim = vc_get_i32(buf + OFF_DIM);
	vc_options_decode(buf + OFF_OPTIONS, &h->opt, h->hidden_raw);
	h->opt.ensemble = 1;		/* versions 1 and 2 hold one network */
	h->rows = vc_get_i64(buf + OFF_ROWS);
	h->epochs_run = vc_get_i32(buf + OFF_EPOCHS_RUN);
	h->best_epoch = vc_get_i32(buf + OFF_BEST_EPOCH);
	h->train_seconds = vc_get_f64(buf + OFF_TRAIN_SECONDS);
	h->device = vc_get_i32(buf + OFF_DEVICE);
	h->n_scores = vc_get_i32(buf + OFF_N_SCORES);
	h->n_params = vc_get_u64(buf + OFF_N_PARAMS);
}

/*
 * The scoring method, which the options block does not hold: recon_prob in
 * versions 1 and 2 (the u16 at offset 6 reserved, zero), the u16 in 4 and
 * 5, which the writer uses only for another method (one encoding per model:
 * equal models give equal bytes).
 */
static VcStatus
ReadMethod(Header *h, char *errmsg)
{
	if (h->version == VC_FORMAT_VERSION || h->version == VC_FORMAT_VERSION_ROWS)
	{
		if (h->reserved != 0)
			return Fail(errmsg, "model header has nonzero reserved bits");
		h->opt.method = VC_METHOD_RECON_PROB;
	}
	else
	{
		if (h->reserved != VC_METHOD_ELBO && h->reserved != VC_METHOD_MSE)
			return Fail(errmsg, "model scoring method %u is out of range for format version %u",
						(unsigned) h->reserved, (unsigned) h->version);
		h->opt.method = h->reserved;
	}
	return VC_OK;
}

/*
 * The options must be a set vc_options_resolve() could have produced: no
 * "not given" values left, each within the range vae_train accepts (the one
 * check of the option table; every model vae_train could ever write passes
 * it).  Unused hidden slots are always written as zero; anything else is
 * damage.
 */
static VcStatus
CheckOptions(const Header *h, char *errmsg)
{
	char		msg[VC_ERRMSG_LEN];
	int			i;

	if (vc_options_check(&h->opt, 0, msg) != VC_OK)
		return Fail(errmsg, "model %s", msg);
	for (i = h->opt.n_hidden; i < VC_MAX_HIDDEN; i++)
		if (h->hidden_raw[i] != 0)
			return Fail(errmsg, "model has a nonzero width in unused hidden slot %d", i + 1);
	return VC_OK;
}

/* the training record: consistent with the options and with itself */
static VcStatus
CheckRecord(const Header *h, char *errmsg)
{
	const VcOptions *o = &h->opt;

	if (h->rows < 1)
		return Fail(errmsg, "model rows %" PRId64 " is out of range", h->rows);
	if (o->max_rows > 0 && h->rows > o->max_rows)
		return Fail(errmsg, "model was trained on %" PRId64 " rows but max_rows is %" PRId64,
					h->rows, o->max_rows);
	/* early stopping can end training sooner, never later */
	if (h->epochs_run > o->epochs)
		return Fail(errmsg, "model ran %d epochs but only %d were requested",
					(int) h->epochs_run, o->epochs);
	if (h->best_epoch < 1 || h->best_epoch > h->epochs_run)
		return Fail(errmsg, "model best epoch %d is not between 1 and %d",
					(int) h->best_epoch, (int) h->epochs_run);
	if (!isfinite(h->train_seconds) || !(h->train_seconds >= 0))
		return Fail(errmsg, "model training time is not a non-negative finite number");
	/* where it actually ran: "auto" is resolved before training starts */
	if (h->device != VC_DEVICE_CPU && h->device != VC_DEVICE_GPU)
		return Fail(errmsg, "model has unknown training device %d", (int) h->device);
	return VC_OK;
}

/*
 * The sections every version shares, from p up to the trailer at end: the
 * parameters, the loss history and the score sample, into m (which has the
 * header's layout) after the record fields of the header.
 */
static VcStatus
ReadTail(VcModel *m, const Header *h, const uint8_t *p, const uint8_t *end, char *errmsg)
{
	int			i,
				k;
	size_t		j;

	m->rows = h->rows;
	m->epochs_run = h->epochs_run;
	m->best_epoch = h->best_epoch;
	m->train_seconds = h->train_seconds;
	m->device = h->device;
	m->n_scores = h->n_scores;
	m->train_loss = vc_alloc((size_t) h->epochs_run * sizeof(double));
	m->val_loss = vc_alloc((size_t) h->epochs_run * sizeof(double));
	if (!m->train_loss || !m->val_loss)
		goto oom;
	if (h->n_scores > 0)
	{
		for (k = 0; k < VC_N_METHODS; k++)
		{
			m->scores[k] = vc_alloc((size_t) h->n_scores * sizeof(float));
			if (!m->scores[k])
				goto oom;
		}
	}
	for (j = 0; j < m->n_params; j++, p += 4)
	{
		m->params[j] = vc_get_f32(p);
		if (!isfinite(m->params[j]))
			return Fail(errmsg, "model parameter %zu is not finite", j);
	}
	/* NaN is legitimate in the history (no validation set); infinity is not */
	for (i = 0; i < h->epochs_run; i++, p += 8)
	{
		m->train_loss[i] = vc_get_f64(p);
		if (isinf(m->train_loss[i]))
			return Fail(errmsg, "model training loss of epoch %d is infinite", i + 1);
	}
	for (i = 0; i < h->epochs_run; i++, p += 8)
	{
		m->val_loss[i] = vc_get_f64(p);
		if (isinf(m->val_loss[i]))
			return Fail(errmsg, "model validation loss of epoch %d is infinite", i + 1);
	}
	/* vc_threshold() bisects these, so the order is load-bearing */
	for (k = 0; k < VC_N_METHODS; k++)
	{
		for (i = 0; i < h->n_scores; i++, p += 4)
		{
			float		v = vc_get_f32(p);

			if (!isfinite(v))
				return Fail(errmsg, "model %s score %d is not finite", vc_method_name(k), i + 1);
			if (i > 0 && v < m->scores[k][i - 1])
				return Fail(errmsg, "model %s scores are not sorted at %d",
							vc_method_name(k), i + 1);
			m->scores[k][i] = v;
		}
	}
	/* cannot fail once the length check passed; be sure anyway */
	if (p != end - TRAILER_SIZE)
		return Fail(errmsg, "model section sizes are inconsistent");
	return VC_OK;

oom:
	if (errmsg)
		snprintf(errmsg, VC_ERRMSG_LEN, "out of memory loading the model");
	return VC_ENOMEM;
}

/*
 * Version 2 (row models): the schema section has no length field of its
 * own; its size comes from a walk over its counts and text lengths, which
 * makes the exact length, checked before the checksum as in version 1.
 * Then the schema is read and validated, the header's fields checked
 * against its layout, and the shared sections read.  tail is the size of
 * those sections and the trailer.
 */
static VcStatus
DeserializeRows(const uint8_t *buf, size_t len, Header *h, uint64_t tail,
				VcModel **out, char *errmsg)
{
	VcSchema   *schema = NULL;
	VcModel    *m = NULL;
	VcStatus	st;
	char		msg[VC_ERRMSG_LEN];
	size_t		size,
				used;

	if ((uint64_t) len < HEADER_SIZE + tail ||
		vc_schema_section_size(buf + HEADER_SIZE, len - HEADER_SIZE - (size_t) tail,
							   &size) != VC_OK)
		return Fail(errmsg, "model is truncated or its column schema is damaged: %zu bytes "
					"do not hold the header, the schema and the sections", len);
	/* the section fits, so the model cannot be shorter than this */
	if ((st = CheckLengthAndCrc(buf, len, HEADER_SIZE + (uint64_t) size + tail, errmsg)) != VC_OK)
		return st;
	st = vc_schema_deserialize(buf + HEADER_SIZE, size, &used, &schema, msg);
	if (st != VC_OK)
	{
		if (errmsg)
			snprintf(errmsg, VC_ERRMSG_LEN, "%s", msg);
		return st;
	}
	if (used != size)
	{
		st = Fail(errmsg, "model section sizes are inconsistent");
		goto done;
	}
	if ((st = ReadMethod(h, errmsg)) != VC_OK)
		goto done;
	if ((st = CheckOptions(h, errmsg)) != VC_OK || (st = CheckRecord(h, errmsg)) != VC_OK)
		goto done;
	if (h->dim != schema->input_width)
	{
		st = Fail(errmsg, "model has %d input features but its columns make %d",
				  (int) h->dim, schema->input_width);
		goto done;
	}
	if ((uint64_t) vc_schema_param_count(&h->opt, schema) != h->n_params)
	{
		st = Fail(errmsg, "model has %" PRIu64 " parameters but its layout needs %" PRIu64,
				  h->n_params, (uint64_t) vc_schema_param_count(&h->opt, schema));
		goto done;
	}
	if ((st = vc_model_create_rows(&m, &h->opt, schema, msg)) != VC_OK)
	{
		if (errmsg)
			snprintf(errmsg, VC_ERRMSG_LEN, "%s", msg);
		goto done;
	}
	st = ReadTail(m, h, buf + HEADER_SIZE + used, buf + len, errmsg);
done:
	vc_schema_free(schema);
	if (st != VC_OK)
	{
		vc_model_free(m);
		m = NULL;
	}
	*out = m;
	return st;
}

/*
 * One network (version 1 or 2; vc_model_deserialize's contract): identity
 * (magic, version), the exact length the header implies, the CRC, every
 * header field, then every value of the sections.
 */
static VcStatus
DeserializeOne(const uint8_t *buf, size_t len, VcModel **out, char *errmsg)
{
	Header		h;
	VcModel    *m = NULL;
	VcStatus	st;
	char		create_err[VC_ERRMSG_LEN];
	uint64_t	expected,
				tail;
	uint32_t	version;
	const uint8_t *p;
	int			i;

	*out = NULL;
	if (!buf)
		len = 0;

	/*
	 * Identity first, so that foreign data says so instead of "truncated"
	 * and a newer model says which version it is.
	 */
	if (len < 4)
		return Fail(errmsg, "not a vae model (only %zu bytes)", len);
	if (vc_get_u32(buf + OFF_MAGIC) != VC_FORMAT_MAGIC)
		return Fail(errmsg, "not a vae model (bad magic)");
	if (len < OFF_VERSION + 2)
		return Fail(errmsg, "model is truncated: %zu bytes, expected at least %d",
					len, MIN_SIZE);
	version = vc_get_u16(buf + OFF_VERSION);
	if (version != VC_FORMAT_VERSION && version != VC_FORMAT_VERSION_ROWS &&
		version != VC_FORMAT_VERSION_METHOD && version != VC_FORMAT_VERSION_ROWS_METHOD)
		return Fail(errmsg, "unsupported model format version %u (this build reads versions "
					"%d to %d%s)", (unsigned) version, VC_FORMAT_VERSION,
					VC_FORMAT_VERSION_LAST,
					version == VC_FORMAT_VERSION_ENSEMBLE ? ", not as an ensemble member" : "");
	if (len < MIN_SIZE)
		return Fail(errmsg, "model is truncated: %zu bytes, expected at least %d",
					len, MIN_SIZE);

	ReadHeader(buf, &h);
	h.version = version;

	/*
	 * The exact length follows from four header fields.  Range-check just
	 * those (so the 64-bit arithmetic below cannot overflow) and compare with
	 * the real length before anything else: damage usually shows up as a
	 * length mismatch or, failing that, as a checksum mismatch, and both say
	 * more to a user than "latent_dim out of range" would.
	 */
	if (h.dim < 1 || h.dim > VC_MAX_INPUT_DIM)
		return Fail(errmsg, "model has %d input features; the limit is %d",
					(int) h.dim, VC_MAX_INPUT_DIM);
	if (h.epochs_run < 1 || h.epochs_run > VC_MAX_HISTORY)
		return Fail(errmsg, "model epochs_run %d is out of range", (int) h.epochs_run);
	if (h.n_scores < 0 || h.n_scores > VC_MAX_SCORE_SAMPLE)
		return Fail(errmsg, "model score sample size %d is out of range", (int) h.n_scores);
	if (h.n_params > MAX_PARAMS_SANE)
		return Fail(errmsg, "model claims an impossible parameter count %" PRIu64, h.n_params);
	tail = h.n_params * 4
		+ 2 * (uint64_t) h.epochs_run * 8
		+ (uint64_t) VC_N_METHODS * (uint64_t) h.n_scores * 4
		+ TRAILER_SIZE;
	if (version == VC_FORMAT_VERSION_ROWS || version == VC_FORMAT_VERSION_ROWS_METHOD)
		return DeserializeRows(buf, len, &h, tail, out, errmsg);
	expected = (uint64_t) HEADER_SIZE
		+ 2 * (uint64_t) h.dim * 4
		+ tail;
	if ((st = CheckLengthAndCrc(buf, len, expected, errmsg)) != VC_OK)
		return st;

	/*
	 * A matching checksum proves the bytes are what some writer wrote, not
	 * that the writer was sane: validate every field anyway.
	 */
	if ((st = ReadMethod(&h, errmsg)) != VC_OK)
		return st;
	if ((st = CheckOptions(&h, errmsg)) != VC_OK)
		return st;
	if ((st = CheckRecord(&h, errmsg)) != VC_OK)
		return st;
	if ((uint64_t) vc_layout_param_count(&h.opt, h.dim) != h.n_params)
		return Fail(errmsg, "model has %" PRIu64 " parameters but its layout needs %" PRIu64,
					h.n_params, (uint64_t) vc_layout_param_count(&h.opt, h.dim));

	/*
	 * Sizes are now proven consistent with the actual input length, so every
	 * allocation below is bounded by a small multiple of len.
	 */
	st = vc_model_create(&m, &h.opt, h.dim, create_err);
	if (st != VC_OK)
	{
		if (errmsg)
			snprintf(errmsg, VC_ERRMSG_LEN, "%s", create_err);
		return st;
	}
	p = buf + HEADER_SIZE;
	for (i = 0; i < h.dim; i++, p += 4)
	{
		m->center[i] = vc_get_f32(p);
		if (!isfinite(m->center[i]))
		{
			st = Fail(errmsg, "model center of feature %d is not finite", i + 1);
			goto fail;
		}
	}
	for (i = 0; i < h.dim; i++, p += 4)
	{
		m->scale[i] = vc_get_f32(p);
		if (!isfinite(m->scale[i]) || !(m->scale[i] > 0))
		{
			st = Fail(errmsg, "model scale of feature %d is not a positive finite number", i + 1);
			goto fail;
		}
	}
	if ((st = ReadTail(m, &h, p, buf + len, errmsg)) != VC_OK)
		goto fail;
	*out = m;
	return VC_OK;

fail:
	vc_model_free(m);
	*out = NULL;
	return st;
}

/*
 * Version 3: the member lengths give the exact length, checked before the
 * CRC; then each member is read as a model of its own (every check of
 * versions 1 and 2, its own CRC included), the members must fit together
 * (vc_ensemble_assemble), and the combined scores must be finite and sorted.
 * Every allocation is bounded by the input length: at most
 * VC_MAX_ENSEMBLE members, each read from its own bytes.
 */
static VcStatus
DeserializeEnsemble(const uint8_t *buf, size_t len, VcModel **out, char *errmsg)
{
	VcModel    *members[VC_MAX_ENSEMBLE];
	size_t		off[VC_MAX_ENSEMBLE],
				size[VC_MAX_ENSEMBLE];
	VcModel    *e = NULL;
	char		msg[VC_ERRMSG_LEN];
	uint32_t	k,
				n_scores;
	uint64_t	at,
				expected;
	const uint8_t *p;
	VcStatus	st;
	uint32_t	i;
	int			meth;

	if (len < ENS_HEADER_SIZE + TRAILER_SIZE)
		return Fail(errmsg, "model is truncated: %zu bytes, expected at least %d",
					len, ENS_HEADER_SIZE + TRAILER_SIZE);
	k = vc_get_u32(buf + ENS_OFF_N_MEMBERS);
	n_scores = vc_get_u32(buf + ENS_OFF_N_SCORES);
	if (k < 2 || k > VC_MAX_ENSEMBLE)
		return Fail(errmsg, "model has %u ensemble members; an ensemble has 2 to %d",
					(unsigned) k, VC_MAX_ENSEMBLE);
	if (n_scores < 1 || n_scores > VC_MAX_SCORE_SAMPLE)
		return Fail(errmsg, "model score sample size %u is out of range", (unsigned) n_scores);
	/* the members' extents, each length read only once the bytes holding it are there */
	at = ENS_HEADER_SIZE;
	for (i = 0; i < k; i++)
	{
		if (at + 4 > len)
			return Fail(errmsg, "model is truncated: %zu bytes end inside ensemble member %u",
						len, (unsigned) i + 1);
		size[i] = vc_get_u32(buf + at);
		off[i] = (size_t) at + 4;
		if (size[i] < MIN_SIZE)
			return Fail(errmsg, "ensemble member %u is %zu bytes, shorter than any model",
						(unsigned) i + 1, size[i]);
		at += 4 + (uint64_t) size[i];
		if (at > len)
			return Fail(errmsg, "model is truncated: %zu bytes end inside ensemble member %u",
						len, (unsigned) i + 1);
	}
	expected = at + (uint64_t) VC_N_METHODS * n_scores * 4 + TRAILER_SIZE;
	if ((st = CheckLengthAndCrc(buf, len, expected, errmsg)) != VC_OK)
		return st;
	if (vc_get_u16(buf + OFF_RESERVED) != 0)
		return Fail(errmsg, "model header has nonzero reserved bits");

	for (i = 0; i < k; i++)
	{
		st = DeserializeOne(buf + off[i], size[i], &members[i], msg);
		if (st != VC_OK)
		{
			uint32_t	j;

			for (j = 0; j < i; j++)
				vc_model_free(members[j]);
			if (errmsg)
				snprintf(errmsg, VC_ERRMSG_LEN, "ensemble member %u: %.200s", (unsigned) i + 1, msg);
			return st;
		}
	}
	/* takes the members over, also when they do not fit */
	if ((st = vc_ensemble_assemble(members, (int) k, &e, errmsg)) != VC_OK)
		return st;
	for (meth = 0; meth < VC_N_METHODS; meth++)
		if (!(e->scores[meth] = vc_alloc(sizeof(float) * n_scores)))
		{
			vc_model_free(e);
			if (errmsg)
				snprintf(errmsg, VC_ERRMSG_LEN, "out of memory loading the model");
			return VC_ENOMEM;
		}
	e->n_scores = (int) n_scores;
	p = buf + at;
	for (meth = 0; meth < VC_N_METHODS; meth++)
		for (i = 0; i < n_scores; i++, p += 4)
		{
			float		v = vc_get_f32(p);

			if (!isfinite(v) || (i > 0 && v < e->scores[meth][i - 1]))
			{
				vc_model_free(e);
				return Fail(errmsg, "model combined %s score %u is %s", vc_method_name(meth),
							(unsigned) i + 1, isfinite(v) ? "out of order" : "not finite");
			}
			e->scores[meth][i] = v;
		}
	*out = e;
	return VC_OK;
}

/*
 * Decodes and validates a serialized model: one network (versions 1 and 2)
 * or an ensemble of them (version 3).  On success *out is a new model;
 * otherwise *out is NULL, errmsg (when not NULL) says why, and the status is
 * VC_EFORMAT for bad bytes or VC_ENOMEM.
 */
VcStatus
vc_model_deserialize(const uint8_t *buf, size_t len, VcModel **out, char *errmsg)
{
	*out = NULL;
	if (buf && len >= OFF_VERSION + 2 && vc_get_u32(buf + OFF_MAGIC) == VC_FORMAT_MAGIC &&
		vc_get_u16(buf + OFF_VERSION) == VC_FORMAT_VERSION_ENSEMBLE)
		return DeserializeEnsemble(buf, len, out, errmsg);
	return DeserializeOne(buf, len, out, errmsg);
}

/*
 * The stored CRC-32C trailer, not verified (0 when len is too short): a cheap
 * identity of the bytes for caches.
 */
uint32_t
vc_model_bytes_crc(const uint8_t *buf, size_t len)
{
	if (!buf || len < TRAILER_SIZE)
		return 0;
	return vc_get_u32(buf + len - TRAILER_SIZE);
}
