/*
 * test_format.c - unit tests of the binary model format (vc_format.c).
 *
 * Build, for example:
 *	cc -Isrc/core test/unit/test_format.c src/core/vc_rng.c src/core/vc_model.c
 *	   src/core/vc_format.c -lm
 * (it needs only those three core files; linking every file of src/core works
 * too, with -lopenblas added).
 * Run:  ./test_format [corpus-dir]
 * With a directory argument it also writes the serialized test models there,
 * as a seed corpus for fuzz_format.
 *
 * The byte offsets below are taken from docs/model-format.md, not from
 * vc_format.c, so the layout test checks the code against the document.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "counting_alloc.h"
#include "vc.h"
#include "vc_crc32c.h"
#include "vc_schema.h"
#include "tap.h"

#define DOC_HEADER_SIZE 176
#define DOC_TRAILER_SIZE 4

/* header offsets from docs/model-format.md */
#define DOC_OFF_RESERVED	6
#define DOC_OFF_DIM			8
#define DOC_OFF_N_HIDDEN	12
#define DOC_OFF_HIDDEN		16
#define DOC_OFF_LATENT_DIM	48
#define DOC_OFF_LIKELIHOOD	52
#define DOC_OFF_ACTIVATION	56
#define DOC_OFF_NORMALIZE	60
#define DOC_OFF_EPOCHS		64
#define DOC_OFF_BATCH_SIZE	68
#define DOC_OFF_LR			72
#define DOC_OFF_BETA		80
#define DOC_OFF_WD			88
#define DOC_OFF_SEED		96
#define DOC_OFF_VAL_FRAC	104
#define DOC_OFF_PATIENCE	112
#define DOC_OFF_MAX_ROWS	116
#define DOC_OFF_MC_SAMPLES	124
#define DOC_OFF_VERBOSE		128
#define DOC_OFF_OPT_DEVICE	132
#define DOC_OFF_ROWS		136
#define DOC_OFF_EPOCHS_RUN	144
#define DOC_OFF_BEST_EPOCH	148
#define DOC_OFF_TRAIN_SECS	152
#define DOC_OFF_DEVICE		160
#define DOC_OFF_N_SCORES	164
#define DOC_OFF_N_PARAMS	168

#define N_RANDOM_CORRUPTIONS 100000

/* ---- little-endian helpers, independent of vc_format.c ---- */

/* the little-endian u32 at p */
static uint32_t
LE32(const uint8_t *p)
{
	return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

/* the little-endian u64 at p */
static uint64_t
LE64(const uint8_t *p)
{
	return (uint64_t) LE32(p) | (uint64_t) LE32(p + 4) << 32;
}

/* stores v at p as a little-endian u32 */
static void
SetLE32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) v;
	p[1] = (uint8_t) (v >> 8);
	p[2] = (uint8_t) (v >> 16);
	p[3] = (uint8_t) (v >> 24);
}

/* stores v at p as a little-endian u64 */
static void
SetLE64(uint8_t *p, uint64_t v)
{
	SetLE32(p, (uint32_t) v);
	SetLE32(p + 4, (uint32_t) (v >> 32));
}

/* stores v's IEEE 754 bits at p, little-endian */
static void
SetF32(uint8_t *p, float v)
{
	uint32_t	b;

	memcpy(&b, &v, 4);
	SetLE32(p, b);
}

/* stores v's IEEE 754 bits at p, little-endian */
static void
SetF64(uint8_t *p, double v)
{
	uint64_t	b;

	memcpy(&b, &v, 8);
	SetLE64(p, b);
}

/* the bits of v, to compare exactly (NaN, -0) */
static uint32_t
F32Bits(float v)
{
	uint32_t	b;

	memcpy(&b, &v, 4);
	return b;
}

/* the bits of v, to compare exactly (NaN, -0) */
static uint64_t
F64Bits(double v)
{
	uint64_t	b;

	memcpy(&b, &v, 8);
	return b;
}

/* little-endian u16 at p */
static void
SetLE16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t) v;
	p[1] = (uint8_t) (v >> 8);
}

/* recompute the trailer after an edit, so the field checks are what rejects it */
static void
Resign(uint8_t *buf, size_t len)
{
	if (len >= 4)
		SetLE32(buf + len - 4, vc_crc32c(0, buf, len - 4));
}

/* splitmix64: the test's own seeded generator */
static uint64_t rng_state = 0x5eed5eed12345678ULL;

/* the next splitmix64 value */
static uint64_t
Rand64(void)
{
	uint64_t	z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Rand64() mod n; 0 when n is 0 */
static size_t
RandBelow(size_t n)
{
	return n ? (size_t) (Rand64() % n) : 0;
}

/* ---- test models ---- */

#define N_MODELS 4
#define TEST_DIM 7
#define TEST_ROWS 200
#define TEST_SCORES 50

/* qsort comparator: ascending floats (the score samples are stored sorted) */
static int
CompareFloat(const void *a, const void *b)
{
	float		x = *(const float *) a,
				y = *(const float *) b;

	return x < y ? -1 : x > y;
}

/*
 * variant 0: gaussian, defaults; 1: bernoulli, defaults; 2: bernoulli, two
 * explicit tanh hidden layers; 3: gaussian, no hidden layer, trained on GPU.
 */
static void FillRecord(VcModel *m, int variant);

/*
 * Test model `variant` (see above): parameters initialized from its seed,
 * fixed centers (the first -0) and scales, and its training record; NULL on
 * failure.
 */
static VcModel *
BuildModel(int variant)
{
	VcOptions	opt;
	VcModel    *m = NULL;
	char		err[VC_ERRMSG_LEN];
	int			i;

	vc_options_init(&opt);
	opt.likelihood = (variant == 1 || variant == 2) ? VC_LIK_BERNOULLI : VC_LIK_GAUSSIAN;
	opt.seed = 1000 + (uint64_t) variant;
	/* versions 1 and 2 (the 1.0 bytes) but for variant 3, which is version 4 */
	opt.method = variant == 3 ? VC_METHOD_ELBO : VC_METHOD_RECON_PROB;
	if (variant == 2)
	{
		opt.n_hidden = 2;
		opt.hidden[0] = 6;
		opt.hidden[1] = 3;
		opt.latent_dim = 2;
		opt.activation = VC_ACT_TANH;
		opt.normalize = VC_NORM_NONE;
		opt.max_rows = 500;
		opt.validation_fraction = 0.25;
		opt.mc_samples = 3;
		opt.verbose = 1;
		opt.device = VC_DEVICE_AUTO;
	}
	if (variant == 3)
	{
		opt.n_hidden = 0;
		opt.latent_dim = 3;
		opt.beta = 0.5;
		opt.weight_decay = 1e-4;
		opt.device = VC_DEVICE_GPU;
	}
	if (vc_options_resolve(&opt, TEST_ROWS, TEST_DIM, err) != VC_OK)
	{
		diag("vc_options_resolve failed: %s", err);
		return NULL;
	}
	if (vc_model_create(&m, &opt, TEST_DIM, err) != VC_OK)
	{
		diag("vc_model_create failed: %s", err);
		return NULL;
	}
	vc_model_init_params(m);
	for (i = 0; i < TEST_DIM; i++)
	{
		m->center[i] = 0.5f * (float) i - 1.25f;
		m->scale[i] = 1.0f + 0.25f * (float) i;
	}
	m->center[0] = -0.0f;		/* sign of zero must survive */
	FillRecord(m, variant);
	return m;
}

/*
 * The training record of test model `variant`: 200 rows, 3 epochs (best 2),
 * a loss history (validation losses only for variant 2) and 50 sorted
 * scores per method with ties and signed zeros.
 */
static void
FillRecord(VcModel *m, int variant)
{
	int			i,
				k;

	m->rows = TEST_ROWS;
	m->epochs_run = 3;
	m->best_epoch = 2;
	m->train_seconds = 1.5 + variant;
	m->device = variant == 3 ? VC_DEVICE_GPU : VC_DEVICE_CPU;
	m->train_loss = vc_alloc(3 * sizeof(double));
	m->val_loss = vc_alloc(3 * sizeof(double));
	m->train_loss[0] = 10.5;
	m->train_loss[1] = 9.25;
	m->train_loss[2] = 9.125;
	for (i = 0; i < 3; i++)
		m->val_loss[i] = (variant == 2) ? 11.0 - i : NAN;
	m->n_scores = TEST_SCORES;
	for (k = 0; k < VC_N_METHODS; k++)
	{
		m->scores[k] = vc_alloc(TEST_SCORES * sizeof(float));
		for (i = 0; i < TEST_SCORES; i++)
			m->scores[k][i] = (float) (10.0 * k + 20.0 * vc_uniform(7 + k + variant, i) - 5.0);
		m->scores[k][3] = m->scores[k][4] = 1.0f;	/* ties are fine */
		m->scores[k][5] = 0.0f;
		m->scores[k][6] = -0.0f;
		qsort(m->scores[k], TEST_SCORES, sizeof(float), CompareFloat);
	}
}

/* the schemas of a and b, field by field; the number of differences */
static int
SchemaDiffs(const VcSchema *a, const VcSchema *b)
{
	int			d = 0;

	if (!a || !b)
		return a != b;
	d += a->n_columns != b->n_columns || a->n_excluded != b->n_excluded ||
		a->max_categories != b->max_categories || a->input_width != b->input_width ||
		a->head_width != b->head_width;
	for (int i = 0; !d && i < a->n_columns; i++)
	{
		const VcColumn *x = &a->columns[i],
				   *y = &b->columns[i];

		d += strcmp(x->name, y->name) != 0 || strcmp(x->attribute, y->attribute) != 0 ||
			x->kind != y->kind || x->source != y->source || x->element != y->element ||
			x->n_categories != y->n_categories || F32Bits(x->center) != F32Bits(y->center) ||
			F32Bits(x->scale) != F32Bits(y->scale) || F32Bits(x->period) != F32Bits(y->period) ||
			F32Bits(x->null_share) != F32Bits(y->null_share) ||
			x->has_null_unit != y->has_null_unit || x->in_off != y->in_off ||
			x->null_head != y->null_head;
		for (int k = 0; !d && k < x->n_categories - 1; k++)
			d += strcmp(x->categories[k], y->categories[k]) != 0;
	}
	for (int i = 0; !d && i < a->n_excluded; i++)
		d += strcmp(a->excluded[i].name, b->excluded[i].name) != 0 ||
			a->excluded[i].reason != b->excluded[i].reason;
	return d;
}

/* field by field; returns the number of differences, each one diag'd */
static int
ModelDiffs(const VcModel *a, const VcModel *b)
{
	int			d = 0,
				i,
				k;

#define DIFF(cond, what) do { if (cond) { d++; diag("differs: %s", what); } } while (0)
	DIFF(a->dim != b->dim, "dim");
	DIFF(a->opt.n_hidden != b->opt.n_hidden, "n_hidden");
	for (i = 0; i < a->opt.n_hidden && i < VC_MAX_HIDDEN; i++)
		DIFF(a->opt.hidden[i] != b->opt.hidden[i], "hidden[i]");
	DIFF(a->opt.latent_dim != b->opt.latent_dim, "latent_dim");
	DIFF(a->opt.likelihood != b->opt.likelihood, "likelihood");
	DIFF(a->opt.activation != b->opt.activation, "activation");
	DIFF(a->opt.normalize != b->opt.normalize, "normalize");
	DIFF(a->opt.epochs != b->opt.epochs, "epochs");
	DIFF(a->opt.batch_size != b->opt.batch_size, "batch_size");
	DIFF(F64Bits(a->opt.learning_rate) != F64Bits(b->opt.learning_rate), "learning_rate");
	DIFF(F64Bits(a->opt.beta) != F64Bits(b->opt.beta), "beta");
	DIFF(F64Bits(a->opt.weight_decay) != F64Bits(b->opt.weight_decay), "weight_decay");
	DIFF(a->opt.seed != b->opt.seed, "seed");
	DIFF(F64Bits(a->opt.validation_fraction) != F64Bits(b->opt.validation_fraction), "validation_fraction");
	DIFF(a->opt.patience != b->opt.patience, "patience");
	DIFF(a->opt.max_rows != b->opt.max_rows, "max_rows");
	DIFF(a->opt.mc_samples != b->opt.mc_samples, "mc_samples");
	DIFF(a->opt.verbose != b->opt.verbose, "verbose");
	DIFF(a->opt.device != b->opt.device, "opt.device");
	DIFF(a->n_layers != b->n_layers, "n_layers");
	for (i = 0; i < a->n_layers && i < VC_MAX_LAYERS; i++)
		DIFF(a->layers[i].in != b->layers[i].in || a->layers[i].out != b->layers[i].out ||
			 a->layers[i].w_off != b->layers[i].w_off || a->layers[i].b_off != b->layers[i].b_off,
			 "layers[i]");
	DIFF(a->enc_head != b->enc_head, "enc_head");
	DIFF(a->dec_head != b->dec_head, "dec_head");
	DIFF(a->n_params != b->n_params, "n_params");
	if (a->n_params == b->n_params && a->dim == b->dim)
	{
		DIFF(memcmp(a->params, b->params, a->n_params * sizeof(float)) != 0, "params");
		DIFF(memcmp(a->center, b->center, a->dim * sizeof(float)) != 0, "center");
		DIFF(memcmp(a->scale, b->scale, a->dim * sizeof(float)) != 0, "scale");
	}
	DIFF(a->rows != b->rows, "rows");
	DIFF(a->epochs_run != b->epochs_run, "epochs_run");
	DIFF(a->best_epoch != b->best_epoch, "best_epoch");
	DIFF(F64Bits(a->train_seconds) != F64Bits(b->train_seconds), "train_seconds");
	DIFF(a->device != b->device, "device");
	if (a->epochs_run == b->epochs_run)
	{
		for (i = 0; i < a->epochs_run; i++)
		{
			DIFF(F64Bits(a->train_loss[i]) != F64Bits(b->train_loss[i]), "train_loss[i]");
			DIFF(F64Bits(a->val_loss[i]) != F64Bits(b->val_loss[i]), "val_loss[i]");
		}
	}
	DIFF(SchemaDiffs(a->schema, b->schema) != 0, "schema");
	DIFF(a->n_cols != b->n_cols || a->head_dim != b->head_dim, "n_cols, head_dim");
	DIFF(a->n_scores != b->n_scores, "n_scores");
	if (a->n_scores == b->n_scores)
		for (k = 0; k < VC_N_METHODS; k++)
			for (i = 0; i < a->n_scores; i++)
				DIFF(F32Bits(a->scores[k][i]) != F32Bits(b->scores[k][i]), "scores[k][i]");
#undef DIFF
	return d;
}

/* m serialized into a malloc'ed buffer; its size goes to *len */
static uint8_t *
Serialize(const VcModel *m, size_t *len)
{
	uint8_t    *buf;

	*len = vc_model_serialized_size(m);
	buf = malloc(*len);
	vc_model_serialize(m, buf);
	return buf;
}

/*
 * One deserialization under the rules every caller relies on: success or
 * VC_EFORMAT, *out NULL and a message on failure, nothing leaked.  On success
 * the re-serialization is compared with the input and the model freed.
 * Returns 1 accepted (and re-serialized identically), 0 rejected, -1 a rule
 * was broken (the reason goes to *why).
 */
static int
TryDeserialize(const uint8_t *buf, size_t len, char *errmsg, const char **why)
{
	VcModel    *m = (VcModel *) &m;	/* poison: must be set to NULL on failure */
	long		live0 = live_allocs;
	VcStatus	st;
	int			result;

	errmsg[0] = '\0';
	st = vc_model_deserialize(buf, len, &m, errmsg);
	if (st != VC_OK)
	{
		if (st != VC_EFORMAT)
			*why = "status other than VC_EFORMAT";
		else if (m != NULL)
			*why = "*out not NULL after failure";
		else if (errmsg[0] == '\0')
			*why = "empty error message";
		else if (live_allocs != live0)
			*why = "allocation leaked on failure";
		else
			return 0;
		return -1;
	}
	result = 1;
	if (m == NULL)
	{
		*why = "success with *out NULL";
		return -1;
	}
	if (vc_model_serialized_size(m) != len)
	{
		*why = "accepted, but re-serialized size differs";
		result = -1;
	}
	else
	{
		uint8_t    *again = malloc(len);

		vc_model_serialize(m, again);
		if (memcmp(again, buf, len) != 0)
		{
			*why = "accepted, but re-serialized bytes differ";
			result = -1;
		}
		free(again);
	}
	vc_model_free(m);
	if (live_allocs != live0)
	{
		*why = "allocation leaked after success";
		result = -1;
	}
	return result;
}

static int
Contains(const char *s, const char *sub)
{
	return strstr(s, sub) != NULL;
}

/* ---- tests ---- */

/* CRC-32C against known check values, chained at split points, from an unaligned start */
static void
TestCrc(void)
{
	const char *check = "123456789";
	uint8_t		big[1000];
	size_t		i,
				cut;
	uint32_t	whole;
	int			chain_ok = 1;

	ok(vc_crc32c(0, check, 9) == 0xE3069283u, "crc32c(\"123456789\") = 0xE3069283 (got 0x%08X)",
	   vc_crc32c(0, check, 9));
	ok(vc_crc32c(0, "", 0) == 0, "crc32c of nothing is 0");
	ok(vc_crc32c(0, "a", 1) == 0xC1D04330u, "crc32c(\"a\") = 0xC1D04330 (got 0x%08X)",
	   vc_crc32c(0, "a", 1));
	/* RFC 3720 B.4 vector: 32 bytes of zeros */
	memset(big, 0, 32);
	ok(vc_crc32c(0, big, 32) == 0x8A9136AAu, "crc32c(32 zero bytes) = 0x8A9136AA (got 0x%08X)",
	   vc_crc32c(0, big, 32));
	memset(big, 0xff, 32);
	ok(vc_crc32c(0, big, 32) == 0x62A8AB43u, "crc32c(32 0xFF bytes) = 0x62A8AB43 (got 0x%08X)",
	   vc_crc32c(0, big, 32));
	for (i = 0; i < 32; i++)
		big[i] = (uint8_t) i;
	ok(vc_crc32c(0, big, 32) == 0x46DD794Eu, "crc32c(0..31) = 0x46DD794E (got 0x%08X)",
	   vc_crc32c(0, big, 32));

	/* chaining at every split point, across the 8-byte fast path */
	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t) (i * 131 + 7);
	whole = vc_crc32c(0, big, sizeof(big));
	for (cut = 0; cut <= 40; cut++)
		if (vc_crc32c(vc_crc32c(0, big, cut), big + cut, sizeof(big) - cut) != whole)
			chain_ok = 0;
	ok(chain_ok, "crc32c chains: crc(a||b) == crc32c(crc(a), b) at every split");
	/* unaligned start must not matter */
	ok(vc_crc32c(0, big + 1, 100) == vc_crc32c(vc_crc32c(0, big + 1, 3), big + 4, 97),
	   "crc32c on an unaligned start");
}

/*
 * Model `variant` serialized: nothing written past vc_model_serialized_size(),
 * the documented size and trailer CRC, and a round trip that keeps every
 * field and re-serializes byte for byte.
 */
static void
TestRoundTrip(VcModel *m, int variant)
{
	char		err[VC_ERRMSG_LEN];
	size_t		len = vc_model_serialized_size(m),
				len2 = 0;
	uint8_t    *buf = malloc(len + 64);
	uint8_t    *buf2 = NULL;
	VcModel    *m2 = NULL;
	size_t		i;
	int			guard_ok = 1;
	VcStatus	st;

	memset(buf, 0xA5, len + 64);
	vc_model_serialize(m, buf);
	for (i = len; i < len + 64; i++)
		if (buf[i] != 0xA5)
			guard_ok = 0;
	ok(guard_ok, "model %d: serialize writes no more than vc_model_serialized_size() = %zu bytes",
	   variant, len);
	/* version 2 has its schema section where version 1 has center and scale */
	ok(len == DOC_HEADER_SIZE + (m->schema ? vc_schema_serialized_size(m->schema)
								 : 8 * (size_t) m->dim) + 4 * m->n_params +
	   16 * (size_t) m->epochs_run + 12 * (size_t) m->n_scores + DOC_TRAILER_SIZE,
	   "model %d: size matches the documented formula", variant);
	ok(vc_model_bytes_crc(buf, len) == vc_crc32c(0, buf, len - 4),
	   "model %d: vc_model_bytes_crc is the trailer CRC over the preceding bytes", variant);

	st = vc_model_deserialize(buf, len, &m2, err);
	if (!ok(st == VC_OK && m2 != NULL, "model %d (%s): deserializes (%s)", variant,
			vc_likelihood_name(m->opt.likelihood), st == VC_OK ? "ok" : err))
	{
		free(buf);
		return;
	}
	ok(ModelDiffs(m, m2) == 0, "model %d: every field survives the round trip", variant);
	buf2 = Serialize(m2, &len2);
	ok(len2 == len && memcmp(buf, buf2, len) == 0, "model %d: re-serialization is byte identical",
	   variant);
	vc_model_free(m2);
	free(buf2);
	free(buf);
}

/* offsets from the document, checked against the bytes */
static void
TestLayout(const VcModel *m)
{
	size_t		len;
	uint8_t    *b = Serialize(m, &len);
	size_t		sec_center = DOC_HEADER_SIZE,
				sec_scale = sec_center + 4 * (size_t) m->dim,
				sec_params = sec_scale + 4 * (size_t) m->dim,
				sec_train = sec_params + 4 * m->n_params,
				sec_val = sec_train + 8 * (size_t) m->epochs_run,
				sec_scores = sec_val + 8 * (size_t) m->epochs_run,
				sec_crc = sec_scores + 12 * (size_t) m->n_scores;
	int			i,
				hidden_ok = 1;

	ok(memcmp(b, "VAEM", 4) == 0 && LE32(b) == VC_FORMAT_MAGIC, "layout: magic is \"VAEM\"");
	ok(b[4] == VC_FORMAT_VERSION && b[5] == 0, "layout: u16 version %d at 4", VC_FORMAT_VERSION);
	ok(b[6] == 0 && b[7] == 0, "layout: reserved u16 at 6 is zero");
	ok(LE32(b + DOC_OFF_DIM) == (uint32_t) m->dim, "layout: dim at 8");
	ok(LE32(b + DOC_OFF_N_HIDDEN) == (uint32_t) m->opt.n_hidden, "layout: n_hidden at 12");
	for (i = 0; i < VC_MAX_HIDDEN; i++)
		if (LE32(b + DOC_OFF_HIDDEN + 4 * i) != (uint32_t) (i < m->opt.n_hidden ? m->opt.hidden[i] : 0))
			hidden_ok = 0;
	ok(hidden_ok, "layout: hidden[8] at 16, unused slots zero");
	ok(LE32(b + DOC_OFF_LATENT_DIM) == (uint32_t) m->opt.latent_dim, "layout: latent_dim at 48");
	ok(LE32(b + DOC_OFF_LIKELIHOOD) == (uint32_t) m->opt.likelihood &&
	   LE32(b + DOC_OFF_ACTIVATION) == (uint32_t) m->opt.activation &&
	   LE32(b + DOC_OFF_NORMALIZE) == (uint32_t) m->opt.normalize, "layout: enums at 52, 56, 60");
	ok(LE32(b + DOC_OFF_EPOCHS) == (uint32_t) m->opt.epochs &&
	   LE32(b + DOC_OFF_BATCH_SIZE) == (uint32_t) m->opt.batch_size, "layout: epochs, batch_size at 64, 68");
	ok(LE64(b + DOC_OFF_LR) == F64Bits(m->opt.learning_rate) &&
	   LE64(b + DOC_OFF_BETA) == F64Bits(m->opt.beta) &&
	   LE64(b + DOC_OFF_WD) == F64Bits(m->opt.weight_decay), "layout: f64 learning_rate, beta, weight_decay at 72, 80, 88");
	ok(LE64(b + DOC_OFF_SEED) == m->opt.seed, "layout: seed at 96");
	ok(LE64(b + DOC_OFF_VAL_FRAC) == F64Bits(m->opt.validation_fraction), "layout: validation_fraction at 104");
	ok(LE32(b + DOC_OFF_PATIENCE) == (uint32_t) m->opt.patience &&
	   LE64(b + DOC_OFF_MAX_ROWS) == (uint64_t) m->opt.max_rows &&
	   LE32(b + DOC_OFF_MC_SAMPLES) == (uint32_t) m->opt.mc_samples &&
	   LE32(b + DOC_OFF_VERBOSE) == (uint32_t) m->opt.verbose &&
	   LE32(b + DOC_OFF_OPT_DEVICE) == (uint32_t) m->opt.device,
	   "layout: patience, max_rows, mc_samples, verbose, device option at 112, 116, 124, 128, 132");
	ok(LE64(b + DOC_OFF_ROWS) == (uint64_t) m->rows &&
	   LE32(b + DOC_OFF_EPOCHS_RUN) == (uint32_t) m->epochs_run &&
	   LE32(b + DOC_OFF_BEST_EPOCH) == (uint32_t) m->best_epoch &&
	   LE64(b + DOC_OFF_TRAIN_SECS) == F64Bits(m->train_seconds) &&
	   LE32(b + DOC_OFF_DEVICE) == (uint32_t) m->device &&
	   LE32(b + DOC_OFF_N_SCORES) == (uint32_t) m->n_scores &&
	   LE64(b + DOC_OFF_N_PARAMS) == (uint64_t) m->n_params,
	   "layout: training record at 136..175");
	ok(LE32(b + sec_center) == F32Bits(m->center[0]) &&
	   LE32(b + sec_center + 4 * (m->dim - 1)) == F32Bits(m->center[m->dim - 1]),
	   "layout: center section at 176");
	ok(LE32(b + sec_scale) == F32Bits(m->scale[0]), "layout: scale section follows center");
	ok(LE32(b + sec_params) == F32Bits(m->params[0]) &&
	   LE32(b + sec_params + 4 * (m->n_params - 1)) == F32Bits(m->params[m->n_params - 1]),
	   "layout: params section follows scale");
	ok(LE64(b + sec_train) == F64Bits(m->train_loss[0]) &&
	   LE64(b + sec_val) == F64Bits(m->val_loss[0]), "layout: train_loss, val_loss sections follow");
	ok(LE32(b + sec_scores) == F32Bits(m->scores[0][0]) &&
	   LE32(b + sec_scores + 4 * (size_t) m->n_scores) == F32Bits(m->scores[1][0]) &&
	   LE32(b + sec_scores + 8 * (size_t) m->n_scores) == F32Bits(m->scores[2][0]),
	   "layout: scores sections in method order");
	ok(sec_crc + 4 == len && LE32(b + sec_crc) == vc_crc32c(0, b, sec_crc),
	   "layout: CRC-32C trailer over everything before it");
	free(b);
}

/*
 * A model whose every byte is fixed by this test (no defaults, no RNG), so
 * any change in the layout shows up as a different checksum.  The constant
 * was cross-checked against an independent encoder written from
 * docs/model-format.md alone (the Python example there).  If this fails you
 * changed the format: bump VC_FORMAT_VERSION, update docs/model-format.md,
 * and then update the constant.
 */
#define GOLDEN_CRC 0x33A8A0C3u
/*
 * The options of the golden model, every field set (its bytes must not
 * depend on vc_options_init): one hidden layer of 3, latent 2, gaussian,
 * relu, standard, epochs 10, batch_size 32, learning_rate 0.001, beta 1,
 * weight_decay 0, seed 0x0123456789abcdef, validation_fraction 0.1,
 * patience 4, max_rows 1000, mc_samples 10, verbose 0, device cpu.
 */
static void
GoldenOptions(VcOptions *opt)
{
	memset(opt, 0, sizeof(*opt));
	opt->n_hidden = 1;
	opt->hidden[0] = 3;
	opt->latent_dim = 2;
	opt->likelihood = VC_LIK_GAUSSIAN;
	opt->activation = VC_ACT_RELU;
	opt->normalize = VC_NORM_STANDARD;
	opt->epochs = 10;
	opt->batch_size = 32;
	opt->learning_rate = 0.001;
	opt->beta = 1.0;
	opt->weight_decay = 0.0;
	opt->seed = 0x0123456789abcdefULL;
	opt->validation_fraction = 0.1;
	opt->patience = 4;
	opt->max_rows = 1000;
	opt->mc_samples = 10;
	opt->verbose = 0;
	opt->device = VC_DEVICE_CPU;
}

/* builds the golden model and compares its serialized CRC with GOLDEN_CRC */
static void
TestGolden(void)
{
	VcOptions	opt;
	VcModel    *m;
	char		err[VC_ERRMSG_LEN];
	size_t		len,
				j;
	uint8_t    *b;
	int			i,
				k;

	GoldenOptions(&opt);
	if (!ok(vc_model_create(&m, &opt, 2, err) == VC_OK, "golden: model created"))
		return;
	for (j = 0; j < m->n_params; j++)
		m->params[j] = (float) j * 0.125f - 1.0f;
	m->center[0] = 1.5f;
	m->center[1] = -2.0f;
	m->scale[0] = 0.5f;
	m->scale[1] = 4.0f;
	m->rows = 900;
	m->epochs_run = 2;
	m->best_epoch = 1;
	m->train_seconds = 0.25;
	m->device = VC_DEVICE_CPU;
	m->train_loss = vc_alloc(2 * sizeof(double));
	m->val_loss = vc_alloc(2 * sizeof(double));
	m->train_loss[0] = 3.0;
	m->train_loss[1] = 2.5;
	m->val_loss[0] = 3.5;
	m->val_loss[1] = 3.25;
	m->n_scores = 4;
	for (k = 0; k < VC_N_METHODS; k++)
	{
		m->scores[k] = vc_alloc(4 * sizeof(float));
		for (i = 0; i < 4; i++)
			m->scores[k][i] = (float) (k + i);
	}
	b = Serialize(m, &len);
	ok(m->n_params == 2 * 3 + 3 + 3 * 4 + 4 + 2 * 3 + 3 + 3 * 4 + 4, "golden: n_params = %zu", m->n_params);
	ok(len == 176 + 16 + 4 * m->n_params + 32 + 48 + 4, "golden: %zu bytes", len);
	ok(vc_model_bytes_crc(b, len) == GOLDEN_CRC,
	   "golden: serialized CRC is 0x%08X (format frozen for version %d)",
	   vc_model_bytes_crc(b, len), VC_FORMAT_VERSION);
	free(b);
	vc_model_free(m);
}

/* every shorter length, NULL and one extra byte are rejected cleanly, with their messages */
static void
TestTruncation(const uint8_t *buf, size_t len)
{
	char		err[VC_ERRMSG_LEN];
	const char *why = "";
	size_t		l;
	int			bad = 0;
	uint8_t    *longer = malloc(len + 1);

	for (l = 0; l < len; l++)
	{
		int			r = TryDeserialize(buf, l, err, &why);

		if (r != 0)
		{
			if (bad++ < 5)
				diag("length %zu: %s", l, r < 0 ? why : "accepted");
		}
	}
	ok(bad == 0, "every truncation (0..%zu bytes) is rejected cleanly", len - 1);

	TryDeserialize(buf, len - 1, err, &why);
	ok(Contains(err, "truncated"), "truncation message: \"%s\"", err);
	TryDeserialize(buf, 100, err, &why);
	ok(Contains(err, "truncated"), "short-header message: \"%s\"", err);
	TryDeserialize(buf, 2, err, &why);
	ok(Contains(err, "not a vae model"), "2-byte message: \"%s\"", err);
	ok(TryDeserialize(NULL, 0, err, &why) == 0, "NULL, 0 rejected: \"%s\"", err);

	memcpy(longer, buf, len);
	longer[len] = 0;
	ok(TryDeserialize(longer, len + 1, err, &why) == 0 && Contains(err, "trailing"),
	   "one extra byte rejected: \"%s\"", err);
	free(longer);
}

/* a wrong magic, unsupported versions and flipped bits (data or trailer) are rejected */
static void
TestIdentity(const uint8_t *orig, size_t len)
{
	char		err[VC_ERRMSG_LEN],
				want[32];
	const char *why = "";
	uint8_t    *b = malloc(len);

	memcpy(b, orig, len);
	b[0] ^= 0x20;				/* "vAEM" */
	Resign(b, len);
	ok(TryDeserialize(b, len, err, &why) == 0 && Contains(err, "bad magic"),
	   "wrong magic rejected: \"%s\"", err);

	memcpy(b, orig, len);
	b[4] = 7;
	ok(TryDeserialize(b, len, err, &why) == 0 && Contains(err, "unsupported model format version 7"),
	   "version 7 rejected: \"%s\"", err);
	Resign(b, len);
	ok(TryDeserialize(b, len, err, &why) == 0 && Contains(err, "version 7"),
	   "version 7 with a valid checksum rejected: \"%s\"", err);
	memcpy(b, orig, len);
	b[4] = 0;
	Resign(b, len);
	ok(TryDeserialize(b, len, err, &why) == 0 && Contains(err, "version 0"),
	   "version 0 rejected: \"%s\"", err);
	memcpy(b, orig, len);
	b[5] = 1;					/* version 257 or 258 */
	snprintf(want, sizeof(want), "version %d", 256 + orig[4]);
	ok(TryDeserialize(b, len, err, &why) == 0 && Contains(err, want),
	   "%s rejected: \"%s\"", want, err);

	memcpy(b, orig, len);
	b[DOC_HEADER_SIZE + 10] ^= 0x01;	/* inside center/scale */
	ok(TryDeserialize(b, len, err, &why) == 0 && Contains(err, "checksum mismatch"),
	   "flipped data bit rejected: \"%s\"", err);
	memcpy(b, orig, len);
	b[len - 1] ^= 0x80;			/* the trailer itself */
	ok(TryDeserialize(b, len, err, &why) == 0 && Contains(err, "checksum mismatch"),
	   "flipped trailer bit rejected: \"%s\"", err);
	free(b);
}

/* ---- field validation with a valid checksum ---- */

typedef enum EditKind
{
	E_U16, E_I32, E_I64, E_U64, E_F32, E_F64, E_SWAP_F32
} EditKind;

typedef struct Edit
{
	const char *name;
	int			base;			/* 0 header; 1 center, 2 scale, 3 params, 4 train, 5 val, 6 scores */
	size_t		off;			/* byte offset within it */
	EditKind	kind;
	int64_t		ival;
	double		fval;
	int			expect_ok;		/* 1: must still load */
} Edit;

/* byte offset of section `base` (Edit.base's numbering) in m's serialization */
static size_t
SectionStart(const VcModel *m, int base)
{
	size_t		s = DOC_HEADER_SIZE;

	if (base == 0)
		return 0;
	if (base > 1)
		s += 4 * (size_t) m->dim;
	if (base > 2)
		s += 4 * (size_t) m->dim;
	if (base > 3)
		s += 4 * m->n_params;
	if (base > 4)
		s += 8 * (size_t) m->epochs_run;
	if (base > 5)
		s += 8 * (size_t) m->epochs_run;
	return s;
}

/*
 * Edit e applied at byte `at` of a copy of orig, the checksum recomputed:
 * the field validation must reject or accept it as the edit says, and what
 * it accepts must re-serialize to the same bytes.  An ival of -2 in an
 * integer edit adds 1 to the stored value.
 */
static void
CheckEdit(const Edit *e, const uint8_t *orig, size_t len, size_t at)
{
	uint8_t    *b = malloc(len);
	uint8_t    *p = b + at;
	char		err[VC_ERRMSG_LEN];
	const char *why = "";
	int			r;

	memcpy(b, orig, len);
	switch (e->kind)
	{
		case E_U16:
			p[0] = (uint8_t) e->ival;
			p[1] = (uint8_t) (e->ival >> 8);
			break;
		case E_I32:
		case E_I64:
		case E_U64:
			{
				int			wide = e->kind != E_I32;
				uint64_t	v = e->ival != -2 ? (uint64_t) e->ival
					: (wide ? LE64(p) : LE32(p)) + 1;

				if (wide)
					SetLE64(p, v);
				else
					SetLE32(p, (uint32_t) v);
			}
			break;
		case E_F32:
		case E_F64:
			if (e->kind == E_F32)
				SetF32(p, (float) e->fval);
			else
				SetF64(p, e->fval);
			break;
		case E_SWAP_F32:
			{
				uint32_t	x = LE32(p);

				/* make sure the two differ, then swap */
				SetLE32(p, LE32(p + 4));
				SetLE32(p + 4, x);
				if (LE32(p) == LE32(p + 4))
					SetF32(p, 1e30f);
			}
			break;
	}
	Resign(b, len);
	r = TryDeserialize(b, len, err, &why);
	if (e->expect_ok)
		ok(r == 1, "with valid checksum, %s is accepted%s%s", e->name,
		   r == 0 ? ": " : "", r == 0 ? err : (r < 0 ? why : ""));
	else
		ok(r == 0, "with valid checksum, %s is rejected: \"%s\"", e->name,
		   r == 0 ? err : (r < 0 ? why : "ACCEPTED"));
	free(b);
}

/*
 * Each edit of the table applied to a copy of model variant 2's bytes, the
 * checksum recomputed: the field validation must reject or accept it as the
 * table says, and what it accepts must re-serialize to the same bytes.
 */
static void
TestFieldChecks(const VcModel *m, const uint8_t *orig, size_t len)
{
	/* m is model variant 2: bernoulli, n_hidden 2, epochs_run 3, 200 rows, 50 scores */
	static const Edit edits[] = {
		{"reserved = 1", 0, DOC_OFF_RESERVED, E_U16, 1, 0, 0},
		{"reserved = 0x8000", 0, DOC_OFF_RESERVED, E_U16, 0x8000, 0, 0},
		{"n_hidden = 9", 0, DOC_OFF_N_HIDDEN, E_I32, 9, 0, 0},
		{"n_hidden = -1", 0, DOC_OFF_N_HIDDEN, E_I32, -1, 0, 0},
		{"n_hidden = 1 (slot 2 then unused but nonzero)", 0, DOC_OFF_N_HIDDEN, E_I32, 1, 0, 0},
		{"hidden[0] = 0", 0, DOC_OFF_HIDDEN, E_I32, 0, 0, 0},
		{"hidden[1] = 4097", 0, DOC_OFF_HIDDEN + 4, E_I32, 4097, 0, 0},
		{"hidden[1] = 4 (layout mismatch)", 0, DOC_OFF_HIDDEN + 4, E_I32, 4, 0, 0},
		{"unused hidden[7] = 5", 0, DOC_OFF_HIDDEN + 28, E_I32, 5, 0, 0},
		{"latent_dim = 0", 0, DOC_OFF_LATENT_DIM, E_I32, 0, 0, 0},
		{"latent_dim = 4097", 0, DOC_OFF_LATENT_DIM, E_I32, 4097, 0, 0},
		{"latent_dim = 3 (layout mismatch)", 0, DOC_OFF_LATENT_DIM, E_I32, 3, 0, 0},
		{"likelihood = 2", 0, DOC_OFF_LIKELIHOOD, E_I32, 2, 0, 0},
		{"likelihood = -1", 0, DOC_OFF_LIKELIHOOD, E_I32, -1, 0, 0},
		{"likelihood = gaussian (layout mismatch)", 0, DOC_OFF_LIKELIHOOD, E_I32, 0, 0, 0},
		{"activation = 2", 0, DOC_OFF_ACTIVATION, E_I32, 2, 0, 0},
		{"activation = relu", 0, DOC_OFF_ACTIVATION, E_I32, 0, 0, 1},
		{"normalize = 3", 0, DOC_OFF_NORMALIZE, E_I32, 3, 0, 0},
		{"normalize = -1", 0, DOC_OFF_NORMALIZE, E_I32, -1, 0, 0},
		{"epochs = 0", 0, DOC_OFF_EPOCHS, E_I32, 0, 0, 0},
		{"epochs = 100001", 0, DOC_OFF_EPOCHS, E_I32, 100001, 0, 0},
		{"epochs = 2 < epochs_run", 0, DOC_OFF_EPOCHS, E_I32, 2, 0, 0},
		{"epochs = 3 == epochs_run", 0, DOC_OFF_EPOCHS, E_I32, 3, 0, 1},
		{"batch_size = 0", 0, DOC_OFF_BATCH_SIZE, E_I32, 0, 0, 0},
		{"batch_size = INT32_MIN", 0, DOC_OFF_BATCH_SIZE, E_I32, INT32_MIN, 0, 0},
		{"learning_rate = 0", 0, DOC_OFF_LR, E_F64, 0, 0.0, 0},
		{"learning_rate = -1", 0, DOC_OFF_LR, E_F64, 0, -1.0, 0},
		{"learning_rate = NaN", 0, DOC_OFF_LR, E_F64, 0, NAN, 0},
		{"learning_rate = Inf", 0, DOC_OFF_LR, E_F64, 0, INFINITY, 0},
		{"beta = -1", 0, DOC_OFF_BETA, E_F64, 0, -1.0, 0},
		{"beta = NaN", 0, DOC_OFF_BETA, E_F64, 0, NAN, 0},
		{"beta = 0", 0, DOC_OFF_BETA, E_F64, 0, 0.0, 1},
		{"weight_decay = -0.5", 0, DOC_OFF_WD, E_F64, 0, -0.5, 0},
		{"weight_decay = Inf", 0, DOC_OFF_WD, E_F64, 0, INFINITY, 0},
		{"seed = 2^53 - 1", 0, DOC_OFF_SEED, E_U64, INT64_C(9007199254740991), 0, 1},
		{"seed = 2^53 (beyond what vae_train accepts)", 0, DOC_OFF_SEED, E_U64, INT64_C(9007199254740992), 0, 0},
		{"seed = all ones", 0, DOC_OFF_SEED, E_U64, -1, 0, 0},
		{"validation_fraction = 1", 0, DOC_OFF_VAL_FRAC, E_F64, 0, 1.0, 0},
		{"validation_fraction = -0.1", 0, DOC_OFF_VAL_FRAC, E_F64, 0, -0.1, 0},
		{"validation_fraction = NaN", 0, DOC_OFF_VAL_FRAC, E_F64, 0, NAN, 0},
		{"patience = -1", 0, DOC_OFF_PATIENCE, E_I32, -1, 0, 0},
		{"patience = 0", 0, DOC_OFF_PATIENCE, E_I32, 0, 0, 1},
		{"max_rows = -1", 0, DOC_OFF_MAX_ROWS, E_I64, -1, 0, 0},
		{"max_rows = 199 < rows", 0, DOC_OFF_MAX_ROWS, E_I64, 199, 0, 0},
		{"max_rows = 0", 0, DOC_OFF_MAX_ROWS, E_I64, 0, 0, 1},
		{"mc_samples = 0", 0, DOC_OFF_MC_SAMPLES, E_I32, 0, 0, 0},
		{"mc_samples = 1025", 0, DOC_OFF_MC_SAMPLES, E_I32, 1025, 0, 0},
		{"verbose = 2", 0, DOC_OFF_VERBOSE, E_I32, 2, 0, 0},
		{"device option = 3", 0, DOC_OFF_OPT_DEVICE, E_I32, 3, 0, 0},
		{"rows = 0", 0, DOC_OFF_ROWS, E_I64, 0, 0, 0},
		{"rows = 1", 0, DOC_OFF_ROWS, E_I64, 1, 0, 1},
		{"rows = INT64_MIN", 0, DOC_OFF_ROWS, E_I64, INT64_MIN, 0, 0},
		{"epochs_run = 0", 0, DOC_OFF_EPOCHS_RUN, E_I32, 0, 0, 0},
		{"epochs_run = 2", 0, DOC_OFF_EPOCHS_RUN, E_I32, 2, 0, 0},
		{"epochs_run = 100001", 0, DOC_OFF_EPOCHS_RUN, E_I32, 100001, 0, 0},
		{"best_epoch = 0", 0, DOC_OFF_BEST_EPOCH, E_I32, 0, 0, 0},
		{"best_epoch = 4 > epochs_run", 0, DOC_OFF_BEST_EPOCH, E_I32, 4, 0, 0},
		{"best_epoch = 3", 0, DOC_OFF_BEST_EPOCH, E_I32, 3, 0, 1},
		{"train_seconds = -1", 0, DOC_OFF_TRAIN_SECS, E_F64, 0, -1.0, 0},
		{"train_seconds = NaN", 0, DOC_OFF_TRAIN_SECS, E_F64, 0, NAN, 0},
		{"device = auto", 0, DOC_OFF_DEVICE, E_I32, VC_DEVICE_AUTO, 0, 0},
		{"device = gpu", 0, DOC_OFF_DEVICE, E_I32, VC_DEVICE_GPU, 0, 1},
		{"n_scores = -1", 0, DOC_OFF_N_SCORES, E_I32, -1, 0, 0},
		{"n_scores = 10001", 0, DOC_OFF_N_SCORES, E_I32, 10001, 0, 0},
		{"n_scores = 49", 0, DOC_OFF_N_SCORES, E_I32, 49, 0, 0},
		{"n_params + 1", 0, DOC_OFF_N_PARAMS, E_U64, -2, 0, 0},	/* special: see below */
		{"n_params = 2^63", 0, DOC_OFF_N_PARAMS, E_U64, INT64_MIN, 0, 0},
		{"n_params = 2^64 - 1", 0, DOC_OFF_N_PARAMS, E_U64, -1, 0, 0},
		{"center[0] = NaN", 1, 0, E_F32, 0, NAN, 0},
		{"center[6] = -Inf", 1, 24, E_F32, 0, -INFINITY, 0},
		{"center[1] = 1e30", 1, 4, E_F32, 0, 1e30, 1},
		{"scale[0] = 0", 2, 0, E_F32, 0, 0.0, 0},
		{"scale[0] = -0", 2, 0, E_F32, 0, -0.0, 0},
		{"scale[3] = -1", 2, 12, E_F32, 0, -1.0, 0},
		{"scale[6] = Inf", 2, 24, E_F32, 0, INFINITY, 0},
		{"scale[2] = NaN", 2, 8, E_F32, 0, NAN, 0},
		{"scale[2] = 1e-30", 2, 8, E_F32, 0, 1e-30, 1},
		{"params[0] = NaN", 3, 0, E_F32, 0, NAN, 0},
		{"params[5] = Inf", 3, 20, E_F32, 0, INFINITY, 0},
		{"params[5] = -0", 3, 20, E_F32, 0, -0.0, 1},
		{"train_loss[0] = Inf", 4, 0, E_F64, 0, INFINITY, 0},
		{"train_loss[2] = NaN", 4, 16, E_F64, 0, NAN, 1},
		{"val_loss[1] = -Inf", 5, 8, E_F64, 0, -INFINITY, 0},
		{"val_loss[1] = NaN", 5, 8, E_F64, 0, NAN, 1},
		{"scores[0][5] = NaN", 6, 20, E_F32, 0, NAN, 0},
		{"scores[2][49] = Inf", 6, 4 * (2 * TEST_SCORES + 49), E_F32, 0, INFINITY, 0},
		{"scores[1][0] = -Inf", 6, 4 * TEST_SCORES, E_F32, 0, -INFINITY, 0},
		{"scores[1] unsorted (swap 10, 11)", 6, 4 * (TEST_SCORES + 10), E_SWAP_F32, 0, 0, 0},
		{"scores[0][49] = 1e30 (still sorted)", 6, 4 * 49, E_F32, 0, 1e30, 1},
		{"scores[0][0] = -1e30 (still sorted)", 6, 0, E_F32, 0, -1e30, 1},
	};
	size_t		i;

	for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++)
		CheckEdit(&edits[i], orig, len, SectionStart(m, edits[i].base) + edits[i].off);
}

/*
 * A forged header asking for the largest layout the limits allow, with the
 * checksum fixed: it must be turned down before anything of that size is
 * allocated.
 */
static void
TestNoHugeAllocation(const uint8_t *orig, size_t len)
{
	uint8_t    *b = malloc(len);
	char		err[VC_ERRMSG_LEN];
	const char *why = "";
	int			i,
				r;

	memcpy(b, orig, len);
	SetLE32(b + DOC_OFF_N_HIDDEN, VC_MAX_HIDDEN);
	for (i = 0; i < VC_MAX_HIDDEN; i++)
		SetLE32(b + DOC_OFF_HIDDEN + 4 * i, VC_MAX_WIDTH);
	SetLE32(b + DOC_OFF_LATENT_DIM, VC_MAX_WIDTH);
	Resign(b, len);
	max_request = 0;
	r = TryDeserialize(b, len, err, &why);
	ok(r == 0 && max_request < 65536,
	   "forged huge layout rejected without a big allocation (largest request %zu): \"%s\"",
	   max_request, err);
	free(b);
}

/* every allocation failing in turn: VC_ENOMEM, nothing leaked, *out NULL */
static void
TestOutOfMemory(const uint8_t *buf, size_t len)
{
	char		err[VC_ERRMSG_LEN];
	long		n;
	int			bad = 0,
				succeeded = 0;

	for (n = 0; n < 256 && !succeeded; n++)
	{
		VcModel    *m = (VcModel *) &m;
		long		live0 = live_allocs;
		VcStatus	st;

		fail_after = n;
		st = vc_model_deserialize(buf, len, &m, err);
		fail_after = -1;
		if (st == VC_OK)
		{
			succeeded = 1;
			vc_model_free(m);
		}
		else if (st != VC_ENOMEM || m != NULL || live_allocs != live0)
			bad++;
	}
	ok(bad == 0 && succeeded, "allocation failure at every step: VC_ENOMEM, no leak (succeeds after %ld)",
	   n - 1);
}

/*
 * Random damage.  With the stored checksum left alone, a damaged model must
 * be rejected (or, for a no-op edit, be identical to the original).  With the
 * checksum recomputed, the field validation is all that stands between the
 * bytes and the model: each must be rejected or decode to a model that
 * re-serializes to exactly those bytes.
 */
static void
Corrupt(uint8_t *b, size_t *len, size_t cap, int header_bias)
{
	static const uint32_t interesting[] = {
		0, 1, 2, 3, 0xffffffffu, 0x7fffffffu, 0x80000000u, 4096, 4097, 16384, 16385,
		100000, 100001, 10000, 10001, 1024, 1025, 0x7f800000u, 0x7fc00000u, 0xff800000u
	};
	int			kind = (int) RandBelow(5);
	size_t		span = (header_bias && RandBelow(2)) ? DOC_HEADER_SIZE : *len;
	int			i,
				n;

	switch (kind)
	{
		case 0:					/* flip 1-8 bits */
			n = 1 + (int) RandBelow(8);
			for (i = 0; i < n; i++)
				b[RandBelow(span)] ^= (uint8_t) (1u << RandBelow(8));
			break;
		case 1:					/* overwrite 1-8 bytes */
			n = 1 + (int) RandBelow(8);
			for (i = 0; i < n; i++)
				b[RandBelow(span)] = (uint8_t) Rand64();
			break;
		case 2:					/* truncate */
			*len = RandBelow(*len);
			break;
		case 3:					/* extend with 1-64 random bytes */
			n = 1 + (int) RandBelow(64);
			if (*len + n > cap)
				n = (int) (cap - *len);
			for (i = 0; i < n; i++)
				b[*len + i] = (uint8_t) Rand64();
			*len += n;
			break;
		default:				/* an edge value into an aligned header word */
			SetLE32(b + 4 * RandBelow(DOC_HEADER_SIZE / 4),
					interesting[RandBelow(sizeof(interesting) / sizeof(interesting[0]))]);
			break;
	}
}

/* N_RANDOM_CORRUPTIONS Corrupt() edits with the stored checksum kept, as many recomputed */
static void
TestRandomCorruption(uint8_t *const *bufs, const size_t *lens, int nbufs)
{
	char		err[VC_ERRMSG_LEN];
	const char *why = "";
	size_t		cap = 0;
	uint8_t    *b;
	long		i,
				rejected = 0,
				identical = 0,
				broken = 0;
	int			v;

	for (v = 0; v < nbufs; v++)
		if (lens[v] + 64 > cap)
			cap = lens[v] + 64;
	b = malloc(cap);

	/* stored checksum kept */
	for (i = 0; i < N_RANDOM_CORRUPTIONS; i++)
	{
		int			which = (int) (i % nbufs);
		size_t		len = lens[which];
		int			r;

		memcpy(b, bufs[which], lens[which]);
		Corrupt(b, &len, cap, 0);
		r = TryDeserialize(b, len, err, &why);
		if (r == 0)
			rejected++;
		else if (r == 1 && len == lens[which] && memcmp(b, bufs[which], len) == 0)
			identical++;
		else if (broken++ < 5)
			diag("corruption %ld: %s", i, r < 0 ? why : "damaged bytes accepted");
	}
	diag("random corruptions, checksum kept: %d tried, %ld rejected, %ld no-op edits accepted as identical",
		 N_RANDOM_CORRUPTIONS, rejected, identical);
	ok(broken == 0 && rejected + identical == N_RANDOM_CORRUPTIONS,
	   "%d random corruptions: %ld rejected, %ld identical, %ld wrong",
	   N_RANDOM_CORRUPTIONS, rejected, identical, broken);

	/* checksum recomputed after the damage */
	rejected = identical = broken = 0;
	{
		long		accepted = 0;

		for (i = 0; i < N_RANDOM_CORRUPTIONS; i++)
		{
			int			which = (int) (i % nbufs);
			size_t		len = lens[which];
			int			r;

			memcpy(b, bufs[which], lens[which]);
			Corrupt(b, &len, cap, 1);
			Resign(b, len);
			r = TryDeserialize(b, len, err, &why);
			if (r == 0)
				rejected++;
			else if (r == 1)
			{
				accepted++;
				if (len == lens[which] && memcmp(b, bufs[which], len) == 0)
					identical++;
			}
			else if (broken++ < 5)
				diag("re-signed corruption %ld: %s", i, why);
		}
		diag("random corruptions, checksum recomputed: %d tried, %ld rejected by field checks, "
			 "%ld accepted (%ld of them identical to the original), each re-serializing exactly",
			 N_RANDOM_CORRUPTIONS, rejected, accepted, identical);
		ok(broken == 0 && rejected + accepted == N_RANDOM_CORRUPTIONS,
		   "%d re-signed corruptions: %ld rejected, %ld accepted and round-tripped, %ld wrong",
		   N_RANDOM_CORRUPTIONS, rejected, accepted, broken);
	}
	free(b);
}

/* ---- version 2: row models ---- */

#define N_ROW_MODELS 2

static char *cats_host[] = {"ab", "bb", ""};
static char *cats_one[] = {"a"};

/*
 * Row model variant 0: one column of every kind and source, NULL units on
 * two, two excluded columns; variant 1: one number and one boolean.  The
 * record is that of array model variant 2 (validation losses) or 0.
 */
static VcModel *
BuildRowModel(int variant)
{
	VcColumn	cols[5];
	VcExcluded	excl[2] = {{"id", VC_EXCL_IDENTIFIER}, {"payload", VC_EXCL_TYPE}};
	VcSchema	s;
	VcOptions	opt;
	VcModel    *m = NULL;
	char		err[VC_ERRMSG_LEN];
	int			i;

	memset(cols, 0, sizeof(cols));
	memset(&s, 0, sizeof(s));
	for (i = 0; i < 5; i++)
		cols[i].scale = 1.0f;
	cols[0] = (VcColumn) {.name = "cpu", .attribute = "cpu", .kind = VC_COL_CONTINUOUS,
		.center = 0.5f, .scale = 2.0f, .null_share = 0.25f, .has_null_unit = 1};
	cols[1] = (VcColumn) {.name = "ok", .attribute = "ok", .kind = VC_COL_BOOLEAN, .scale = 1.0f};
	cols[2] = (VcColumn) {.name = "host", .attribute = "host", .kind = VC_COL_CATEGORICAL,
		.n_categories = 4, .categories = cats_host, .scale = 1.0f, .null_share = 0.125f,
	.has_null_unit = 1};
	cols[3] = (VcColumn) {.name = "ts:hour", .attribute = "ts", .kind = VC_COL_CYCLIC,
	.source = VC_SRC_HOUR_OF_DAY, .scale = 1.0f, .period = 24.0f};
	cols[4] = (VcColumn) {.name = "f[2]", .attribute = "f", .kind = VC_COL_CONTINUOUS,
	.source = VC_SRC_ARRAY_ELEMENT, .element = 2, .center = -0.0f, .scale = 0.75f};
	s.columns = cols;
	s.n_columns = variant == 0 ? 5 : 2;
	s.excluded = excl;
	s.n_excluded = variant == 0 ? 2 : 0;
	s.max_categories = 32;
	vc_options_init(&opt);
	opt.seed = 2000 + (uint64_t) variant;
	/* row model 0 is version 2, row model 1 version 5 */
	opt.method = variant == 0 ? VC_METHOD_RECON_PROB : VC_METHOD_MSE;
	if (variant == 0)
	{
		opt.validation_fraction = 0.25;
		opt.mc_samples = 3;
	}
	if (vc_options_resolve(&opt, TEST_ROWS, 13, err) != VC_OK ||
		vc_model_create_rows(&m, &opt, &s, err) != VC_OK)
	{
		diag("row model %d: %s", variant, err);
		return NULL;
	}
	vc_model_init_params(m);
	FillRecord(m, variant == 0 ? 2 : 0);
	return m;
}

/*
 * A version-2 (or 5) round trip: version and dim in the header, then
 * TestRoundTrip's checks
 */
static void
TestRoundTripRows(VcModel *m, int variant)
{
	size_t		len;
	uint8_t    *buf = Serialize(m, &len);
	int			version = m->opt.method == VC_METHOD_RECON_PROB ? 2 : 5;

	ok(buf[4] == version && buf[5] == 0 && LE32(buf + DOC_OFF_DIM) == (uint32_t) m->dim,
	   "row model %d: version %d, dim = input width %d", variant, version, m->dim);
	free(buf);
	TestRoundTrip(m, 10 + variant);
}

/* 1 if the text at *p (u16 length, bytes, as documented) is str; advances *p */
static int
DocTextIs(const uint8_t **p, const char *str)
{
	size_t		n = (size_t) (*p)[0] | (size_t) (*p)[1] << 8;
	int			same = n == strlen(str) && memcmp(*p + 2, str, n) == 0;

	*p += 2 + n;
	return same;
}

/*
 * The schema section of row model variant 0 read back at the offsets
 * docs/model-format.md gives, field by field; then what follows it.
 */
static void
TestLayoutRows(const VcModel *m)
{
	size_t		len;
	uint8_t    *b = Serialize(m, &len);
	const uint8_t *p = b + DOC_HEADER_SIZE;
	const VcSchema *s = m->schema;
	int			i,
				k,
				same;

	same = LE32(p) == (uint32_t) s->n_columns && LE32(p + 4) == (uint32_t) s->n_excluded &&
		LE32(p + 8) == (uint32_t) s->max_categories && LE32(p + 12) == 0;
	p += 16;
	for (i = 0; i < s->n_columns; i++)
	{
		const VcColumn *c = &s->columns[i];

		same &= p[0] == c->kind && p[1] == c->source && p[2] == c->has_null_unit && p[3] == 0;
		same &= LE32(p + 4) == (uint32_t) c->element && LE32(p + 8) == (uint32_t) c->n_categories;
		same &= LE32(p + 12) == F32Bits(c->center) && LE32(p + 16) == F32Bits(c->scale);
		same &= LE32(p + 20) == F32Bits(c->period) && LE32(p + 24) == F32Bits(c->null_share);
		p += 28;
		same &= DocTextIs(&p, c->name);
		same &= DocTextIs(&p, c->attribute);
		for (k = 0; k < c->n_categories - 1; k++)
			same &= DocTextIs(&p, c->categories[k]);
	}
	for (i = 0; i < s->n_excluded; i++)
	{
		same &= *p++ == s->excluded[i].reason;
		same &= DocTextIs(&p, s->excluded[i].name);
	}
	ok(same && (size_t) (p - b - DOC_HEADER_SIZE) == vc_schema_serialized_size(s),
	   "v2 layout: the schema section at 176 reads back as documented (%zu bytes)",
	   (size_t) (p - b - DOC_HEADER_SIZE));
	ok(LE32(p) == F32Bits(m->params[0]) && LE32(b + len - 4) == vc_crc32c(0, b, len - 4),
	   "v2 layout: params follow the schema, the CRC trailer ends it");
	free(b);
}

/*
 * A row model whose every byte is fixed: its checksum is frozen (the value
 * was cross-checked against the independent encoder of docs/model-format.md's
 * version-2 example).
 */
#define GOLDEN_CRC_V2 0x7706AD77u
/* the golden row model: its dimensions, serialized length and frozen CRC */
static void
TestGoldenRows(void)
{
	VcColumn	cols[2] = {
		{.name = "c", .attribute = "c", .kind = VC_COL_CATEGORICAL, .n_categories = 2,
		.categories = cats_one, .scale = 1.0f},
		{.name = "x", .attribute = "x", .kind = VC_COL_CONTINUOUS, .center = 1.5f,
		.scale = 0.5f, .null_share = 0.5f, .has_null_unit = 1}
	};
	VcExcluded	excl = {"t", VC_EXCL_TIME};
	VcSchema	s = {.n_columns = 2, .columns = cols, .n_excluded = 1, .excluded = &excl,
	.max_categories = 32};
	VcOptions	opt;
	VcModel    *m;
	char		err[VC_ERRMSG_LEN];
	size_t		len,
				j;
	uint8_t    *b;

	/* the version-1 golden options but for the layout, the seed and the validation */
	GoldenOptions(&opt);
	opt.n_hidden = 0;
	opt.hidden[0] = 0;
	opt.latent_dim = 1;
	opt.seed = 7;
	opt.validation_fraction = 0.0;
	opt.patience = 0;
	opt.max_rows = 0;
	if (!ok(vc_model_create_rows(&m, &opt, &s, err) == VC_OK, "golden v2: model created"))
		return;
	for (j = 0; j < m->n_params; j++)
		m->params[j] = (float) j * 0.25f - 2.0f;
	/* one epoch of history (no validation set), ten rows, no scores */
	if ((m->train_loss = vc_alloc(sizeof(double))) != NULL)
		m->train_loss[0] = 1.0;
	if ((m->val_loss = vc_alloc(sizeof(double))) != NULL)
		m->val_loss[0] = NAN;
	m->epochs_run = m->best_epoch = 1;
	m->rows = 10;
	b = Serialize(m, &len);
	/* input: one-hot 2 + x + x's NULL flag = 4; head: 2 + 2 + 1 = 5 */
	ok(m->dim == 4 && m->head_dim == 5 && m->n_params == 4 * 2 + 2 + 1 * 5 + 5,
	   "golden v2: dim %d, head %d, n_params %zu", m->dim, m->head_dim, m->n_params);
	ok(len == 176 + (16 + 28 + 3 + 3 + 3 + 28 + 3 + 3 + 1 + 3) + 4 * m->n_params + 16 + 4,
	   "golden v2: %zu bytes", len);
	ok(vc_model_bytes_crc(b, len) == GOLDEN_CRC_V2,
	   "golden v2: serialized CRC is 0x%08X (format frozen for version %d)",
	   vc_model_bytes_crc(b, len), VC_FORMAT_VERSION_ROWS);
	free(b);
	vc_model_free(m);
}

/* offsets of row model variant 0's schema fields (docs/model-format.md) */
#define V2_SCHEMA		DOC_HEADER_SIZE
#define V2_COL0			(V2_SCHEMA + 16)
#define V2_COL0_NAME	(V2_COL0 + 28)	/* "cpu": 2 + 3 bytes, then "cpu" again */
#define V2_COL1			(V2_COL0_NAME + 10)
#define V2_COL1_NAME	(V2_COL1 + 28)	/* "ok" */
#define V2_COL2			(V2_COL1_NAME + 8)
#define V2_COL2_NAME	(V2_COL2 + 28)	/* "host" */
#define V2_COL2_CATS	(V2_COL2 + 28 + 12)	/* after "host" twice: "ab", "bb", "" */
#define V2_COL3			(V2_COL2_CATS + 4 + 4 + 2)

/*
 * Edits of the schema section with the checksum recomputed: the field
 * checks of version 2 must reject each (or accept it, as the table says).
 */
static void
TestFieldChecksRows(const uint8_t *orig, size_t len)
{
	static const Edit edits[] = {
		{"n_columns = 0", 0, V2_SCHEMA, E_I32, 0, 0, 0},
		{"n_columns = 1601", 0, V2_SCHEMA, E_I32, 1601, 0, 0},
		{"n_excluded = 3", 0, V2_SCHEMA + 4, E_I32, 3, 0, 0},
		{"max_categories = 1", 0, V2_SCHEMA + 8, E_I32, 1, 0, 0},
		{"max_categories = 1025", 0, V2_SCHEMA + 8, E_I32, 1025, 0, 0},
		{"max_categories = 1024", 0, V2_SCHEMA + 8, E_I32, 1024, 0, 1},
		{"schema reserved = 1", 0, V2_SCHEMA + 12, E_I32, 1, 0, 0},
		{"kind = 4", 0, V2_COL0, E_U16, 4, 0, 0},
		{"kind = cyclic on a value source", 0, V2_COL0, E_U16, 3, 0, 0},
		{"source = day of week on a number", 0, V2_COL0 + 1, E_U16, 3 | (1 << 8), 0, 0},
		{"has_null_unit = 2", 0, V2_COL0 + 2, E_U16, 2, 0, 0},
		{"has_null_unit = 0 (layout mismatch)", 0, V2_COL0 + 2, E_U16, 0, 0, 0},
		{"column reserved = 1", 0, V2_COL0 + 2, E_U16, 1 | (1 << 8), 0, 0},
		{"element = 1 on a value", 0, V2_COL0 + 4, E_I32, 1, 0, 0},
		{"n_categories = 2 on a number", 0, V2_COL0 + 8, E_I32, 2, 0, 0},
		{"center = NaN", 0, V2_COL0 + 12, E_F32, 0, NAN, 0},
		{"center = -Inf", 0, V2_COL0 + 12, E_F32, 0, -INFINITY, 0},
		{"center = 1e30", 0, V2_COL0 + 12, E_F32, 0, 1e30, 1},
		{"scale = 0", 0, V2_COL0 + 16, E_F32, 0, 0.0, 0},
		{"scale = -1", 0, V2_COL0 + 16, E_F32, 0, -1.0, 0},
		{"scale = Inf", 0, V2_COL0 + 16, E_F32, 0, INFINITY, 0},
		{"period = 24 on a number", 0, V2_COL0 + 20, E_F32, 0, 24.0, 0},
		{"null_share = 1.5", 0, V2_COL0 + 24, E_F32, 0, 1.5, 0},
		{"null_share = -0.1", 0, V2_COL0 + 24, E_F32, 0, -0.1, 0},
		{"null_share = NaN", 0, V2_COL0 + 24, E_F32, 0, NAN, 0},
		{"null_share = 1", 0, V2_COL0 + 24, E_F32, 0, 1.0, 1},
		{"name length 0", 0, V2_COL0_NAME, E_U16, 0, 0, 0},
		{"name with a NUL byte", 0, V2_COL0_NAME + 2, E_U16, 'c', 0, 0},
		{"name \"f[2]\" twice", 0, V2_COL2_NAME + 2, E_I32, 'f' | ('[' << 8) | ('2' << 16) | (']' << 24), 0, 0},
		{"boolean with a NULL unit (layout mismatch)", 0, V2_COL1 + 2, E_U16, 1, 0, 0},
		{"categorical n_categories = 3 (texts misread)", 0, V2_COL2 + 8, E_I32, 3, 0, 0},
		{"category \"ab\" twice", 0, V2_COL2_CATS + 4 + 2, E_U16, 'a' | ('b' << 8), 0, 0},
		{"cyclic period = 0", 0, V2_COL3 + 20, E_F32, 0, 0.0, 0},
		{"cyclic period = 7", 0, V2_COL3 + 20, E_F32, 0, 7.0, 1},
		{"cyclic source = value", 0, V2_COL3 + 1, E_U16, 0, 0, 0},
		{"dim + 1", 0, DOC_OFF_DIM, E_I32, -2, 0, 0},	/* special: see below */
		{"n_params + 1", 0, DOC_OFF_N_PARAMS, E_U64, -2, 0, 0},
	};
	size_t		i;

	for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++)
		CheckEdit(&edits[i], orig, len, edits[i].off);
}

/* writes each serialized model to dir/model-N.bin, the seed corpus for fuzz_format */
static void
WriteCorpus(const char *dir, uint8_t *const *bufs, const size_t *lens, int n)
{
	char		path[4096];
	int			i;

	for (i = 0; i < n; i++)
	{
		FILE	   *f;

		snprintf(path, sizeof(path), "%s/model-%d.bin", dir, i);
		f = fopen(path, "wb");
		if (!f || fwrite(bufs[i], 1, lens[i], f) != lens[i])
			diag("could not write %s", path);
		if (f)
			fclose(f);
	}
}

/* TAP: the format tests on four test models; an argument names a seed corpus directory */
/*
 * Versions 4 and 5: the scoring method in the u16 at 6, written only for a
 * method other than recon_prob (one encoding per model), read back; with a
 * valid checksum a version 4 holding recon_prob or an unknown method is
 * refused, and so is a version 1 holding a method.  buf4 is a version 4
 * model (elbo), buf5 a version 5 one (mse).
 */
static void
TestMethodVersions(const uint8_t *buf4, size_t len4, const uint8_t *buf5, size_t len5)
{
	static const struct
	{
		int			version;
		int			method;
		int			accepted;
	}			cases[] = {{4, 1, 1}, {4, 2, 1}, {4, 0, 0}, {4, 3, 0}, {1, 1, 0}, {1, 0, 1}};
	char		err[VC_ERRMSG_LEN];
	const char *why = "";
	VcModel    *m = NULL;
	size_t		i;

	ok(buf4[4] == 4 && buf4[5] == 0 && buf4[6] == VC_METHOD_ELBO && buf4[7] == 0,
	   "version 4: the method (elbo = 1) in the u16 at 6");
	ok(buf5[4] == 5 && buf5[5] == 0 && buf5[6] == VC_METHOD_MSE && buf5[7] == 0,
	   "version 5: the method (mse = 2) in the u16 at 6");
	ok(vc_model_deserialize(buf4, len4, &m, err) == VC_OK && m->opt.method == VC_METHOD_ELBO &&
	   vc_model_format_version(m) == 4, "version 4 reads back with method elbo");
	vc_model_free(m);
	m = NULL;
	ok(vc_model_deserialize(buf5, len5, &m, err) == VC_OK && m->opt.method == VC_METHOD_MSE &&
	   m->schema != NULL && vc_model_format_version(m) == 5,
	   "version 5 reads back as a row model with method mse");
	vc_model_free(m);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		uint8_t    *b = malloc(len4);
		int			r;

		memcpy(b, buf4, len4);
		SetLE16(b + 4, (uint16_t) cases[i].version);
		SetLE16(b + 6, (uint16_t) cases[i].method);
		Resign(b, len4);
		r = TryDeserialize(b, len4, err, &why);
		ok(r == cases[i].accepted, "with valid checksum, version %d with method %d is %s: \"%s\"",
		   cases[i].version, cases[i].method, cases[i].accepted ? "accepted" : "rejected",
		   r == 0 ? err : (r < 0 ? why : "ACCEPTED"));
		free(b);
	}
}

int
main(int argc, char **argv)
{
	VcModel    *models[N_MODELS + N_ROW_MODELS];
	uint8_t    *bufs[N_MODELS + N_ROW_MODELS];
	size_t		lens[N_MODELS + N_ROW_MODELS];
	int			v;

	vc_set_allocator(CountingAlloc, CountingFree);

	TestCrc();

	for (v = 0; v < N_MODELS; v++)
	{
		models[v] = BuildModel(v);
		if (!ok(models[v] != NULL, "model %d built", v))
			return done_testing();
		TestRoundTrip(models[v], v);
		bufs[v] = Serialize(models[v], &lens[v]);
	}
	TestLayout(models[2]);
	TestGolden();
	TestTruncation(bufs[0], lens[0]);
	TestTruncation(bufs[2], lens[2]);
	TestIdentity(bufs[1], lens[1]);
	TestFieldChecks(models[2], bufs[2], lens[2]);
	TestNoHugeAllocation(bufs[2], lens[2]);
	TestOutOfMemory(bufs[2], lens[2]);

	/* version 2 */
	for (v = N_MODELS; v < N_MODELS + N_ROW_MODELS; v++)
	{
		models[v] = BuildRowModel(v - N_MODELS);
		if (!ok(models[v] != NULL, "row model %d built", v - N_MODELS))
			return done_testing();
		TestRoundTripRows(models[v], v - N_MODELS);
		bufs[v] = Serialize(models[v], &lens[v]);
	}
	TestLayoutRows(models[N_MODELS]);
	TestGoldenRows();
	TestTruncation(bufs[N_MODELS], lens[N_MODELS]);
	TestTruncation(bufs[N_MODELS + 1], lens[N_MODELS + 1]);
	TestIdentity(bufs[N_MODELS], lens[N_MODELS]);
	TestFieldChecksRows(bufs[N_MODELS], lens[N_MODELS]);
	TestNoHugeAllocation(bufs[N_MODELS], lens[N_MODELS]);
	TestOutOfMemory(bufs[N_MODELS], lens[N_MODELS]);

	TestMethodVersions(bufs[3], lens[3], bufs[N_MODELS + 1], lens[N_MODELS + 1]);
	TestRandomCorruption(bufs, lens, N_MODELS + N_ROW_MODELS);

	if (argc > 1)
		WriteCorpus(argv[1], bufs, lens, N_MODELS + N_ROW_MODELS);

	for (v = 0; v < N_MODELS + N_ROW_MODELS; v++)
	{
		vc_model_free(models[v]);
		free(bufs[v]);
	}
	ok(live_allocs == 0, "no vc_alloc allocation outstanding at the end (%ld)", live_allocs);
	return done_testing();
}
