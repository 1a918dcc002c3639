/*
 * test_options.c - the three readers of training options accept and reject
 * exactly the same values.
 *
 *   - the core check vc_option_check(), which the jsonb parser of vae_train
 *     (src/pg/vae_options.c, not linkable here) calls for every value;
 *   - the GPU worker's TRAIN header decoder, vgp_decode_train_header();
 *   - the model reader, vc_model_deserialize().
 *
 * The oracle is the documented range of each option (README, vae_options(),
 * docs/model-format.md), written out here independently of the table, so a
 * range that changes by accident fails too.  Every option is tried at each
 * end of its range, just outside it, at NaN and the infinities for reals.
 * The one intended difference: the TRAIN header carries options as the user
 * gave them, so there the "not given" marker -1 (of the options that have
 * one) is accepted as "not given", where a model (resolved options) and a
 * user's explicit value reject it.
 *
 * Also: the option block offsets are those the two documents give.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vc.h"
#include "vc_bytes.h"
#include "vc_crc32c.h"
#include "vc_options.h"
#include "vgp_protocol.h"

#define DIM 3
#define OFF_MODEL_OPTIONS 12	/* docs/model-format.md */

typedef enum
{
	K_HIDDEN, K_INT, K_INT64, K_UINT64, K_REAL, K_ENUM, K_BOOL
} Kind;

/* the documented ranges and byte offsets (model header, TRAIN header) */
typedef struct Oracle
{
	const char *name;
	Kind		kind;
	double		lo;				/* reals; integers as long as exact */
	double		hi;
	int64_t		ilo;
	int64_t		ihi;
	int			lo_open;
	int			zero_ok;
	int			unset;			/* may be "not given" in a TRAIN header */
	int			model_off;
	int			proto_off;
} Oracle;

static const Oracle oracle[] = {
	{"hidden", K_HIDDEN, 0, 0, 1, 4096, 0, 0, 1, 12, 0},
	{"latent_dim", K_INT, 0, 0, 1, 4096, 0, 0, 1, 48, 36},
	{"likelihood", K_ENUM, 0, 0, 0, 1, 0, 0, 0, 52, 40},
	{"activation", K_ENUM, 0, 0, 0, 1, 0, 0, 0, 56, 44},
	{"normalize", K_ENUM, 0, 0, 0, 2, 0, 0, 1, 60, 48},
	{"epochs", K_INT, 0, 0, 1, 100000, 0, 0, 1, 64, 52},
	{"batch_size", K_INT, 0, 0, 1, 65536, 0, 0, 1, 68, 56},
	{"learning_rate", K_REAL, 0, 10, 0, 0, 1, 0, 1, 72, 60},
	{"beta", K_REAL, 0, 1e6, 0, 0, 0, 0, 1, 80, 68},
	{"weight_decay", K_REAL, 0, 1, 0, 0, 0, 0, 1, 88, 76},
	{"seed", K_UINT64, 0, 0, 0, INT64_C(9007199254740991), 0, 0, 0, 96, 84},
	{"validation_fraction", K_REAL, 0, 0.9, 0, 0, 0, 0, 1, 104, 92},
	{"patience", K_INT, 0, 0, 0, 100000, 0, 0, 1, 112, 100},
	{"max_rows", K_INT64, 0, 0, 2, INT64_MAX, 0, 1, 0, 116, 104},
	{"mc_samples", K_INT, 0, 0, 1, 1024, 0, 0, 1, 124, 112},
	{"verbose", K_BOOL, 0, 0, 0, 1, 0, 0, 0, 128, 116},
	{"device", K_ENUM, 0, 0, 0, 2, 0, 0, 0, 132, 120},
};
#define N_ORACLE ((int) (sizeof(oracle) / sizeof(oracle[0])))

/* a valid resolved option set, small enough for any layout below */
static void
BaseOptions(VcOptions *o)
{
	char		err[VC_ERRMSG_LEN];

	vc_options_init(o);
	o->n_hidden = 1;
	o->hidden[0] = 4;
	o->latent_dim = 2;
	o->epochs = 1;
	if (vc_options_resolve(o, 2, DIM, err) != VC_OK)
		diag("BaseOptions: %s", err);
}

/* serialized model of these options (layout follows them); NULL on failure */
static uint8_t *
ModelBytes(const VcOptions *o, size_t *len)
{
	VcModel    *m;
	char		err[VC_ERRMSG_LEN];
	uint8_t    *b;

	if (vc_model_create(&m, o, DIM, err) != VC_OK)
	{
		diag("vc_model_create: %s", err);
		return NULL;
	}
	m->rows = 2;
	m->epochs_run = 1;
	m->best_epoch = 1;
	m->train_loss = vc_alloc(sizeof(double));
	m->val_loss = vc_alloc(sizeof(double));
	m->train_loss[0] = 1.0;
	m->val_loss[0] = NAN;
	*len = vc_model_serialized_size(m);
	b = malloc(*len);
	vc_model_serialize(m, b);
	vc_model_free(m);
	return b;
}

/* the model with its options block replaced by o's, checksum fixed */
static void
PatchOptions(uint8_t *b, size_t len, const VcOptions *o)
{
	vc_options_encode(b + OFF_MODEL_OPTIONS, o);
	vc_put_u32(b + len - 4, vc_crc32c(0, b, len - 4));
}

/* does the model reader accept the model of base with o's option block */
static int
FormatAccepts(const VcOptions *o, int layout_follows, char *err)
{
	VcOptions	base;
	VcModel    *m = NULL;
	uint8_t    *b;
	size_t		len;
	VcStatus	st;

	/*
	 * An accepted value that changes the layout (hidden, latent_dim,
	 * likelihood) needs a model of that layout; every other value is patched
	 * into a valid model, so a rejection can only come from the options.
	 */
	BaseOptions(&base);
	b = ModelBytes(layout_follows ? o : &base, &len);
	if (!b)
		return -1;
	PatchOptions(b, len, o);
	st = vc_model_deserialize(b, len, &m, err);
	vc_model_free(m);
	free(b);
	return st == VC_OK;
}

/* does the TRAIN header decoder accept a header of these options */
static int
ProtocolAccepts(const VcOptions *o, char *err)
{
	VgpTrainHeader h,
				g;
	uint8_t		b[VGP_TRAIN_HEADER_SIZE];

	memset(&h, 0, sizeof(h));
	h.opt = *o;
	h.dim = DIM;
	h.n_rows = 2;
	vgp_encode_train_header(b, &h);
	return vgp_decode_train_header(b, sizeof(b), &g, err) == VC_OK;
}

/* the oracle: is v (as a double, or i as an integer) in the documented range */
static int
Documented(const Oracle *or, int64_t i, uint64_t u, double d)
{
	switch (or->kind)
	{
		case K_REAL:
			return isfinite(d) && d >= or->lo && d <= or->hi && !(or->lo_open && d == or->lo);
		case K_UINT64:
			return u >= (uint64_t) or->ilo && u <= (uint64_t) or->ihi;
		default:
			return (i >= or->ilo && i <= or->ihi) || (or->zero_ok && i == 0);
	}
}

/* is this value the "not given" marker -1 of an option that has one (hidden: never) */
static int
IsMarker(const Oracle *or, int64_t i, double d)
{
	if (!or->unset || or->kind == K_HIDDEN)
		return 0;			/* hidden's marker is a layer count of -1 */
	return or->kind == K_REAL ? d == -1.0 : i == -1;
}

static int	n_tried;

/*
 * One value of one option through the three readers; hidden: one layer size
 * (in a one-layer network).
 */
static void
TryValue(const VcOptionDef *def, const Oracle *or, int64_t i, uint64_t u, double d,
		 const char *shown)
{
	VcOptions	o;
	VcOptionValue v = {0};
	char		err_core[VC_ERRMSG_LEN] = "",
				err_proto[VC_ERRMSG_LEN] = "",
				err_fmt[VC_ERRMSG_LEN] = "";
	char		quoted[64];
	int			want = Documented(or, i, u, d);
	int			marker = IsMarker(or, i, d);
	int			core,
				proto,
				fmt;
	int			layout = or->kind == K_HIDDEN || !strcmp(or->name, "latent_dim") ||
		!strcmp(or->name, "likelihood");

	n_tried++;
	v.i = i;
	v.u = u;
	v.d = d;
	core = vc_option_check(def, &v, err_core) == VC_OK;

	BaseOptions(&o);
	if (or->kind == K_HIDDEN)
	{
		o.n_hidden = 1;
		o.hidden[0] = (int) i;
	}
	else
		vc_option_set(def, &o, &v);
	proto = ProtocolAccepts(&o, err_proto);
	fmt = FormatAccepts(&o, layout && want, err_fmt);

	snprintf(quoted, sizeof(quoted), "\"%s\"", or->name);
	ok(core == want && fmt == want && proto == (want || marker) &&
	   (want || strstr(err_core, quoted)) && (want || strstr(err_fmt, quoted)) &&
	   (want || marker || strstr(err_proto, quoted)),
	   "%s = %s: documented %s; core check %s, TRAIN header %s%s, model reader %s%s%s",
	   or->name, shown, want ? "valid" : "invalid",
	   core ? "accepts" : "rejects", proto ? "accepts" : "rejects",
	   marker ? " (as not given)" : "", fmt ? "accepts" : "rejects",
	   fmt ? "" : ": ", fmt ? "" : err_fmt);
}

/* TryValue of an integer value */
static void
TryInt(const VcOptionDef *def, const Oracle *or, int64_t i)
{
	char		shown[32];

	snprintf(shown, sizeof(shown), "%lld", (long long) i);
	TryValue(def, or, i, (uint64_t) i, 0.0, shown);
}

/* TryValue of a real value, shown with 17 significant digits */
static void
TryReal(const VcOptionDef *def, const Oracle *or, double d)
{
	char		shown[40];

	snprintf(shown, sizeof(shown), "%.17g", d);
	TryValue(def, or, 0, 0, d, shown);
}

/* the ends of the range, one step outside, and what the wire type can hold */
static void
TryOption(const VcOptionDef *def, const Oracle *or)
{
	int64_t		wire_lo = or->kind == K_INT64 ? INT64_MIN : INT32_MIN;
	int64_t		wire_hi = or->kind == K_INT64 ? INT64_MAX : INT32_MAX;
	int64_t		ints[10];
	int			n = 0,
				k;

	if (or->kind == K_REAL)
	{
		const double reals[] = {
			or->lo, nextafter(or->lo, -INFINITY), nextafter(or->lo, INFINITY),
			or->hi, nextafter(or->hi, -INFINITY), nextafter(or->hi, INFINITY),
			(or->lo + or->hi) / 2, -1.0, -0.0, NAN, INFINITY, -INFINITY, 1e300,
		};

		for (k = 0; k < (int) (sizeof(reals) / sizeof(reals[0])); k++)
			TryReal(def, or, reals[k]);
		return;
	}
	if (or->kind == K_UINT64)
	{
		const uint64_t us[] = {0, 1, (uint64_t) or->ihi, (uint64_t) or->ihi + 1, UINT64_MAX,
		UINT64_C(1) << 63};
		char		shown[32];

		for (k = 0; k < (int) (sizeof(us) / sizeof(us[0])); k++)
		{
			snprintf(shown, sizeof(shown), "%llu", (unsigned long long) us[k]);
			TryValue(def, or, (int64_t) us[k], us[k], 0.0, shown);
		}
		return;
	}
	ints[n++] = or->ilo;
	ints[n++] = or->ihi;
	if (or->ilo > wire_lo)
		ints[n++] = or->ilo - 1;
	if (or->ihi < wire_hi)
		ints[n++] = or->ihi + 1;
	ints[n++] = 0;
	ints[n++] = -1;
	ints[n++] = -2;
	ints[n++] = wire_lo;
	ints[n++] = wire_hi;
	for (k = 0; k < n; k++)
		TryInt(def, or, ints[k]);
}

/* hidden's other dimension: the number of layers */
static void
TryHiddenCounts(void)
{
	const int	counts[] = {-2, -1, 0, 1, 8, 9, 1000};
	int			k,
				j;

	for (k = 0; k < (int) (sizeof(counts) / sizeof(counts[0])); k++)
	{
		VcOptions	o;
		char		err_core[VC_ERRMSG_LEN] = "",
					err_proto[VC_ERRMSG_LEN] = "",
					err_fmt[VC_ERRMSG_LEN] = "";
		int			n = counts[k];
		int			want = n >= 0 && n <= VC_MAX_HIDDEN;
		int			core,
					proto,
					fmt;

		BaseOptions(&o);
		o.n_hidden = n;
		for (j = 0; j < VC_MAX_HIDDEN; j++)
			o.hidden[j] = j < n ? 2 : 0;
		core = vc_options_check(&o, 0, err_core) == VC_OK;
		proto = ProtocolAccepts(&o, err_proto);
		fmt = FormatAccepts(&o, want, err_fmt);
		ok(core == want && fmt == want && proto == (want || n == -1),
		   "hidden with %d layers: documented %s; core check %s, TRAIN header %s, model reader %s",
		   n, want ? "valid" : "invalid", core ? "accepts" : "rejects",
		   proto ? "accepts" : "rejects", fmt ? "accepts" : "rejects");
	}
}

/* the table's offsets are the documented ones, and the block is contiguous */
static void
TestOffsets(void)
{
	int			i,
				bad = 0,
				end = 0;

	/*
	 * the block's options, then ensemble and method, which no block carries
	 * (TestEnsemble, TestMethod)
	 */
	ok(VC_N_OPTIONS == N_ORACLE + 2, "the table has the %d documented block options, "
	   "ensemble and method (%d)", N_ORACLE, VC_N_OPTIONS);
	for (i = 0; i < N_ORACLE && i < VC_N_OPTIONS; i++)
	{
		const VcOptionDef *def = &vc_option_defs[i];
		int			size = def->type == VC_OPT_HIDDEN ? 4 + 4 * VC_MAX_HIDDEN :
			(def->type == VC_OPT_INT64 || def->type == VC_OPT_UINT64 ||
			 def->type == VC_OPT_REAL) ? 8 : 4;

		if (strcmp(def->name, oracle[i].name) != 0 ||
			OFF_MODEL_OPTIONS + def->block_offset != oracle[i].model_off ||
			def->block_offset != oracle[i].proto_off || def->block_offset != end)
		{
			bad++;
			diag("option %d (%s): block offset %d, documented model %d, protocol %d",
				 i, def->name, def->block_offset, oracle[i].model_off, oracle[i].proto_off);
		}
		end = def->block_offset + size;
	}
	ok(bad == 0, "every option at its documented model header and TRAIN header offset");
	ok(end == VC_OPTIONS_BLOCK_SIZE, "the options block is %d bytes, contiguous", end);
}

/* names, messages and defaults come from the table too */
static void
TestTableText(void)
{
	char		buf[160],
				err[VC_ERRMSG_LEN];
	VcOptions	o;
	const VcOptionDef *d = vc_option_find("validation_fraction", 19);

	ok(d != NULL && vc_option_find("validation_fractio", 18) == NULL &&
	   vc_option_find("epochs", 6) == &vc_option_defs[VC_OPTION_epochs],
	   "vc_option_find matches whole names only");
	ok(strcmp(vc_option_describe(&vc_option_defs[VC_OPTION_normalize], buf, sizeof(buf)),
			  "'standard', 'minmax' or 'none'") == 0, "enum description: %s", buf);
	ok(strcmp(vc_option_describe(&vc_option_defs[VC_OPTION_learning_rate], buf, sizeof(buf)),
			  "a number greater than 0 and at most 10") == 0, "open range description: %s", buf);
	ok(strcmp(vc_option_describe(&vc_option_defs[VC_OPTION_max_rows], buf, sizeof(buf)),
			  "0 or an integer >= 2") == 0, "zero-or-range description: %s", buf);
	vc_option_error(&vc_option_defs[VC_OPTION_batch_size], err);
	ok(strcmp(err, "option \"batch_size\" must be an integer between 1 and 65536") == 0,
	   "message: %s", err);
	ok(!strcmp(vc_likelihood_name(VC_LIK_BERNOULLI), "bernoulli") &&
	   !strcmp(vc_activation_name(VC_ACT_TANH), "tanh") &&
	   !strcmp(vc_normalize_name(VC_NORM_NONE), "none") &&
	   !strcmp(vc_device_name(VC_DEVICE_AUTO), "auto") &&
	   !strcmp(vc_device_name(42), "cpu"),
	   "enum names from the table (an unknown value gets the first name)");
	ok(vc_option_enum_index(&vc_option_defs[VC_OPTION_device], "gpu", 3) == VC_DEVICE_GPU &&
	   vc_option_enum_index(&vc_option_defs[VC_OPTION_device], "gp", 2) == -1,
	   "enum index by exact name");

	vc_options_init(&o);
	ok(o.n_hidden == -1 && o.latent_dim == -1 && o.likelihood == VC_LIK_GAUSSIAN &&
	   o.normalize == -1 && o.batch_size == -1 && o.learning_rate == -1 &&
	   o.validation_fraction == -1 && o.seed == 0 && o.max_rows == 0 && o.verbose == 0 &&
	   o.device == VC_DEVICE_CPU && vc_options_check(&o, 1, err) == VC_OK &&
	   vc_options_check(&o, 0, err) != VC_OK,
	   "vc_options_init: the table's markers and fixed defaults; valid only as given");

	BaseOptions(&o);
	o.hidden[0] = 12;
	o.n_hidden = 1;
	ok(strcmp(vc_option_json(&vc_option_defs[VC_OPTION_hidden], &o, buf, sizeof(buf)), "[12]") == 0 &&
	   strcmp(vc_option_json(&vc_option_defs[VC_OPTION_normalize], &o, buf, sizeof(buf)), "\"standard\"") == 0 &&
	   strcmp(vc_option_json(&vc_option_defs[VC_OPTION_learning_rate], &o, buf, sizeof(buf)),
			  "0.001") == 0 &&
	   strcmp(vc_option_json(&vc_option_defs[VC_OPTION_verbose], &o, buf, sizeof(buf)), "false") == 0,
	   "JSON of hidden, an enum, a real and a boolean");
	ok(strcmp(vc_format_double(1.0000000001, buf, sizeof(buf)), "1.0000000001") == 0 &&
	   strcmp(vc_format_double(0.1, buf, sizeof(buf)), "0.1") == 0 &&
	   strcmp(vc_format_double(nextafter(1.0, 2.0), buf, sizeof(buf)), "1.0000000000000002") == 0 &&
	   strcmp(vc_format_double(NAN, buf, sizeof(buf)), "NaN") == 0 &&
	   strcmp(vc_format_double(-INFINITY, buf, sizeof(buf)), "-Infinity") == 0,
	   "vc_format_double: shortest exact digits");
}

/* options resolved by the default rule for n rows of dim features, with opt's explicit values */
static VcOptions
Resolved(int64_t n, int dim, const VcOptions *given)
{
	VcOptions	o;
	char		err[VC_ERRMSG_LEN];

	if (given)
		o = *given;
	else
		vc_options_init(&o);
	if (vc_options_resolve(&o, n, dim, err) != VC_OK)
		diag("vc_options_resolve(%lld, %d): %s", (long long) n, dim, err);
	return o;
}

/*
 * The default rule of docs/detect.md ("Defaults in 1.1"), worked out by hand
 * for the detection benchmark's shapes and KDD's; explicit options win.
 */
static void
TestDefaultRule(void)
{
	VcOptions	o,
				g;

	/* glass: 38 rows of 9: one minibatch, 10,000 epochs, latent min(10, 5) */
	o = Resolved(38, 9, NULL);
	ok(o.epochs == 10000 && o.latent_dim == 5 && o.n_hidden == 1 && o.hidden[0] == 10 &&
	   o.validation_fraction == 0.0 && o.patience == 0 && o.batch_size == 128,
	   "38 x 9: 10000 epochs, 9-10-5, nothing held out (%d epochs, latent %d, hidden %d)",
	   o.epochs, o.latent_dim, o.hidden[0]);
	/* letter_UvV: 406 rows of 16: 4 steps per epoch */
	o = Resolved(406, 16, NULL);
	ok(o.epochs == 2500 && o.latent_dim == 8 && o.n_hidden == 1 && o.hidden[0] == 16,
	   "406 x 16: 2500 epochs, 16-16-8");
	/* letter_25v1: 9,605 rows, 8,645 train, 68 steps: ceil(10000 / 68) = 148 */
	o = Resolved(9605, 16, NULL);
	ok(o.epochs == 148 && o.latent_dim == 8 && o.n_hidden == 2 &&
	   o.hidden[0] == 64 && o.hidden[1] == 64 && o.validation_fraction == 0.1 && o.patience == 10,
	   "9605 x 16: 148 epochs, 16-64-64-8, 10%% held out");
	/* KDD: 198,371 rows of 118, 178,534 train, 1,395 steps: 8 epochs */
	o = Resolved(198371, 118, NULL);
	ok(o.epochs == 8 && o.latent_dim == 10 && o.n_hidden == 2 &&
	   o.hidden[0] == 64 && o.hidden[1] == 64, "KDD: 8 epochs, 118-64-64-10");
	/* 784 features: latent 20, two layers of 392; one feature: latent 1, hidden 8 */
	o = Resolved(60000, 784, NULL);
	ok(o.latent_dim == 20 && o.n_hidden == 2 && o.hidden[0] == 392 && o.hidden[1] == 392 &&
	   o.epochs == 24, "60000 x 784: 24 epochs, 784-392-392-20");
	o = Resolved(100, 1, NULL);
	ok(o.latent_dim == 1 && o.n_hidden == 1 && o.hidden[0] == 8, "100 x 1: 1-8-1");
	/* a huge table: at least 5 epochs */
	o = Resolved(INT64_C(10000000), 16, NULL);
	ok(o.epochs == 5, "10,000,000 rows: 5 epochs (%d)", o.epochs);

	/* the 5,000-row threshold counts the rows after max_rows */
	vc_options_init(&g);
	g.max_rows = 4999;
	o = Resolved(200000, 16, &g);
	ok(o.n_hidden == 1 && o.hidden[0] == 16 && o.validation_fraction == 0.1,
	   "max_rows 4999 of 200,000 rows: one layer; held out as for 200,000 rows");
	/* explicit values win, and the rule builds on them */
	vc_options_init(&g);
	g.latent_dim = 40;
	g.batch_size = 1000;
	o = Resolved(9605, 16, &g);
	ok(o.latent_dim == 40 && o.hidden[0] == 80 && o.hidden[1] == 80 && o.epochs == 1112,
	   "explicit latent 40 and batch 1000: hidden 80 (2 x latent), ceil(10000 / 9) epochs (%d)",
	   o.epochs);
	vc_options_init(&g);
	g.n_hidden = 0;
	g.epochs = 3;
	g.likelihood = VC_LIK_BERNOULLI;
	o = Resolved(9605, 16, &g);
	ok(o.n_hidden == 0 && o.epochs == 3 && o.latent_dim == 8 && o.normalize == VC_NORM_MINMAX,
	   "explicit [] and epochs 3 kept; bernoulli gets the same latent rule");
}

/*
 * ensemble: 1 to VC_MAX_ENSEMBLE, "not given" by default, in no options
 * block (decoding leaves it "not given"; a single-network model reads as 1)
 */
/*
 * 1 if the integer option def accepts exactly the values lo to hi among
 * lo - 3 to hi + 2
 */
static int
AcceptsOnly(const VcOptionDef *def, int64_t lo, int64_t hi)
{
	VcOptionValue v;
	int64_t		k;

	for (k = lo - 3; k <= hi + 2; k++)
	{
		memset(&v, 0, sizeof(v));
		v.i = k;
		if ((vc_option_check(def, &v, NULL) == VC_OK) != (k >= lo && k <= hi))
			return 0;
	}
	return 1;
}

/*
 * method: in no block (the model format's version and header say it), not
 * given until vc_options_resolve makes it elbo, the three names only
 */
static void
TestMethod(void)
{
	const VcOptionDef *def = vc_option_find("method", 6);
	VcOptions	o;
	char		err[VC_ERRMSG_LEN];

	ok(def != NULL && def->block_offset == VC_OPT_NOT_IN_BLOCK &&
	   def == &vc_option_defs[N_ORACLE + 1] && def->type == VC_OPT_ENUM,
	   "method is the last option, an enum in no block");
	if (!def)
		return;
	ok(AcceptsOnly(def, 0, VC_N_METHODS - 1), "method accepts the %d methods only", VC_N_METHODS);
	vc_options_init(&o);
	ok(o.method == -1, "method is not given by default");
	ok(vc_options_resolve(&o, 500, 4, err) == VC_OK && o.method == VC_METHOD_ELBO,
	   "and resolves to elbo");
	vc_options_init(&o);
	o.method = VC_METHOD_RECON_PROB;
	ok(vc_options_resolve(&o, 500, 4, err) == VC_OK && o.method == VC_METHOD_RECON_PROB,
	   "a given method is kept");
}

static void
TestEnsemble(void)
{
	const VcOptionDef *def = vc_option_find("ensemble", 8);
	VcOptions	o,
				back;
	uint8_t		block[VC_OPTIONS_BLOCK_SIZE];
	uint8_t    *bytes;
	size_t		len;
	VcModel    *m = NULL;
	char		err[VC_ERRMSG_LEN];

	ok(def != NULL && def->block_offset == VC_OPT_NOT_IN_BLOCK && def == &vc_option_defs[N_ORACLE],
	   "ensemble follows the block's options and is in no block");
	if (!def)
		return;
	ok(AcceptsOnly(def, 1, VC_MAX_ENSEMBLE), "ensemble accepts 1 to %d only", VC_MAX_ENSEMBLE);
	vc_options_init(&o);
	ok(o.ensemble == -1, "ensemble is not given by default");
	BaseOptions(&o);
	o.ensemble = 5;
	memset(block, 0xAB, sizeof(block));
	vc_options_encode(block, &o);
	vc_options_decode(block, &back, NULL);
	ok(back.ensemble == -1 && back.seed == o.seed, "the block does not carry ensemble");
	vc_options_init(&o);
	ok(vc_options_resolve(&o, 49999, DIM, err) == VC_OK && o.ensemble == 1,
	   "default: 1 network below 50,000 rows (an ensemble is asked for)");
	vc_options_init(&o);
	ok(vc_options_resolve(&o, 50000, DIM, err) == VC_OK && o.ensemble == 1,
	   "default: 1 network from 50,000 rows");
	vc_options_init(&o);
	o.max_rows = 1000;
	ok(vc_options_resolve(&o, 1000000, DIM, err) == VC_OK && o.ensemble == 1,
	   "default: one network with max_rows too");
	BaseOptions(&o);
	bytes = ModelBytes(&o, &len);
	ok(bytes && vc_model_deserialize(bytes, len, &m, err) == VC_OK && m->opt.ensemble == 1,
	   "a version 1 model reads as ensemble 1");
	vc_model_free(m);
	free(bytes);
}

/*
 * Checks the option table's offsets and texts, and that the three readers
 * accept exactly each option's documented range.
 */
int
main(void)
{
	int			i;

	TestOffsets();
	TestTableText();
	TestDefaultRule();
	for (i = 0; i < N_ORACLE && i < VC_N_OPTIONS; i++)
		TryOption(&vc_option_defs[i], &oracle[i]);
	TryHiddenCounts();
	TestEnsemble();
	TestMethod();
	diag("%d option values tried through the three readers", n_tried);
	return done_testing();
}
