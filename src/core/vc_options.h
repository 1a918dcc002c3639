/*
 * vc_options.h - the one table of vae_train options.
 *
 * Every training option is described once, in VC_OPTION_LIST below: its name,
 * type, where it lives in VcOptions, its place in the options block that both
 * the model header (docs/model-format.md) and the GPU worker's TRAIN header
 * (docs/gpu-worker-protocol.md) carry, its "not given" marker, its range, its
 * choices, its default rule and a description.  Everything else is generated
 * from it: vc_options_init(), the range check that the jsonb parser, the
 * protocol decoder, the model reader and vc_options_resolve() all use
 * (vc_option_check / vc_options_check), the encoder and decoder of the
 * options block, the option names and messages, vae_model_info's "options"
 * object and the vae_options() listing.
 *
 * Plain C99, no postgres.h: the glue, the daemon and the unit tests share it.
 */
#ifndef VC_OPTIONS_H
#define VC_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "vc.h"

/* how an option is typed in jsonb, stored in VcOptions and encoded */
typedef enum VcOptionType
{
	VC_OPT_HIDDEN,				/* int n_hidden + int hidden[VC_MAX_HIDDEN]; wire
								 * i32 count + VC_MAX_HIDDEN x i32 (unused slots 0);
								 * the range is that of each layer size */
	VC_OPT_INT,					/* int; wire i32 */
	VC_OPT_INT64,				/* int64_t; wire i64 */
	VC_OPT_UINT64,				/* uint64_t; wire u64 */
	VC_OPT_REAL,				/* double; wire f64 */
	VC_OPT_BOOL,				/* int 0/1; wire i32; jsonb true/false */
	VC_OPT_ENUM					/* int index into the names; wire i32; jsonb string */
} VcOptionType;

/* flags */
#define VC_OPTF_UNSET		0x1 /* may be "not given" (-1) before
								 * vc_options_resolve() */
#define VC_OPTF_MIN_OPEN	0x2 /* the minimum itself is excluded (reals) */
#define VC_OPTF_ZERO_OK		0x4 /* 0 is valid too, besides [min, max] */

/* bytes of the options block in the model header and the TRAIN header */
#define VC_OPTIONS_BLOCK_SIZE 124
/*
 * block_offset of an option the block does not carry: ensemble, which a
 * model records as its member count (format 3) and which the glue applies
 * by training one network per member (the GPU worker trains one at a time)
 */
#define VC_OPT_NOT_IN_BLOCK (-1)

/* helpers for the table's columns */
#define VC_IRANGE(lo, hi)	(lo), (hi), 0.0, 0.0
#define VC_RRANGE(lo, hi)	0, 0, (lo), (hi)
#define VC_NAMES(...)		((const char *const[]) {__VA_ARGS__, NULL})
#define VC_MAX_SEED			INT64_C(9007199254740991)	/* 2^53 - 1: exact in JSON */
#define VC_MAX_BATCH		65536

/*
 * X(name, TYPE, field, block_offset, init, RANGE, flags, names, default_rule,
 *   description)
 *
 *   name          the jsonb key (an identifier, stringized)
 *   TYPE          VcOptionType without the VC_OPT_ prefix
 *   field         the VcOptions member (the compiler checks its size)
 *   block_offset  byte offset in the options block; the model header has the
 *                 block at byte 12, the TRAIN header at byte 0.  The offsets
 *                 are frozen by the two documents; the unit tests check them.
 *                 VC_OPT_NOT_IN_BLOCK: not encoded; decoding sets it to init.
 *   init          what vc_options_init() sets: the "not given" marker -1, or
 *                 the default itself when it does not depend on the data
 *   RANGE         VC_IRANGE(min, max) for integers, VC_RRANGE for reals
 *                 (enums and booleans: their names / 0..1, ranges unused)
 *   flags         VC_OPTF_*
 *   names         VC_NAMES(...) in enum order for VC_OPT_ENUM, else NULL
 *
 * Adding an option takes: a member in VcOptions (vc.h), one X() line here,
 * its resolve rule in vc_options_resolve() when its default depends on the
 * data, and a new format / protocol version (docs) because the block grows.
 * Parsing, checking, encoding, vae_model_info and vae_options() follow from
 * the table.  Changing a range is a one-line change here; the model reader
 * must keep accepting every model an older range let vae_train write.
 */
#define VC_OPTION_LIST(X) \
	X(hidden, HIDDEN, n_hidden, 0, -1, VC_IRANGE(1, VC_MAX_WIDTH), VC_OPTF_UNSET, NULL, \
	  "[w], w = ceil(D/2) clamped to [max(8, 2*latent_dim), 512]; from 5,000 rows (after max_rows) [w, w] with floor max(64, 2*latent_dim)", \
	  "encoder layer sizes (at most 8 layers); the decoder mirrors them; [] = no hidden layer") \
	X(latent_dim, INT, latent_dim, 36, -1, VC_IRANGE(1, VC_MAX_WIDTH), VC_OPTF_UNSET, NULL, \
	  "ceil(D/12) clamped to [min(10, ceil(D/2)), 20]", \
	  "size of the Gaussian latent") \
	X(likelihood, ENUM, likelihood, 40, VC_LIK_GAUSSIAN, VC_IRANGE(0, 0), 0, \
	  VC_NAMES("gaussian", "bernoulli"), \
	  "gaussian", \
	  "gaussian: mean and bounded log-variance per feature; bernoulli: logits, inputs in [0, 1] after normalization") \
	X(activation, ENUM, activation, 44, VC_ACT_RELU, VC_IRANGE(0, 0), 0, \
	  VC_NAMES("relu", "tanh"), \
	  "relu", \
	  "activation of the hidden layers") \
	X(normalize, ENUM, normalize, 48, -1, VC_IRANGE(0, 0), VC_OPTF_UNSET, \
	  VC_NAMES("standard", "minmax", "none"), \
	  "standard (gaussian), minmax (bernoulli)", \
	  "input normalization; its statistics are stored in the model, constant columns get scale 1") \
	X(epochs, INT, epochs, 52, -1, VC_IRANGE(1, VC_MAX_EPOCHS), VC_OPTF_UNSET, NULL, \
	  "10,000 Adam steps: ceil(10000 / steps per epoch) within [5, 10000]", \
	  "passes over the training rows") \
	X(batch_size, INT, batch_size, 56, -1, VC_IRANGE(1, VC_MAX_BATCH), VC_OPTF_UNSET, NULL, \
	  "128", \
	  "minibatch size, clamped to the number of training rows") \
	X(learning_rate, REAL, learning_rate, 60, -1, VC_RRANGE(0, 10), VC_OPTF_UNSET | VC_OPTF_MIN_OPEN, NULL, \
	  "0.001", \
	  "Adam step size") \
	X(beta, REAL, beta, 68, -1, VC_RRANGE(0, 1e6), VC_OPTF_UNSET, NULL, \
	  "1", \
	  "weight of the KL term") \
	X(weight_decay, REAL, weight_decay, 76, -1, VC_RRANGE(0, 1), VC_OPTF_UNSET, NULL, \
	  "0.3 without a validation set (under 1,000 rows), else 0", \
	  "decoupled (AdamW) decay of the weight matrices") \
	X(seed, UINT64, seed, 84, 0, VC_IRANGE(0, VC_MAX_SEED), 0, NULL, \
	  "0", \
	  "fixes initialization, sampling, split and shuffles") \
	X(validation_fraction, REAL, validation_fraction, 92, -1, VC_RRANGE(0, 0.9), VC_OPTF_UNSET, NULL, \
	  "0.1 with at least 1,000 rows, else 0", \
	  "fraction of rows held out for early stopping") \
	X(patience, INT, patience, 100, -1, VC_IRANGE(0, VC_MAX_EPOCHS), VC_OPTF_UNSET, NULL, \
	  "10 with a validation set, else 0", \
	  "epochs without validation improvement before stopping; 0 disables early stopping") \
	X(max_rows, INT64, max_rows, 104, 0, VC_IRANGE(VC_MIN_ROWS, INT64_MAX), VC_OPTF_ZERO_OK, NULL, \
	  "0", \
	  "train on a seeded sample of this many rows; 0 = no cap") \
	X(mc_samples, INT, mc_samples, 112, -1, VC_IRANGE(1, VC_MAX_MC_SAMPLES), VC_OPTF_UNSET, NULL, \
	  "10", \
	  "latent samples behind the recon_prob and elbo scores") \
	X(verbose, BOOL, verbose, 116, 0, VC_IRANGE(0, 1), 0, NULL, \
	  "false", \
	  "a NOTICE per epoch: loss, validation loss, elapsed time") \
	X(device, ENUM, device, 120, VC_DEVICE_CPU, VC_IRANGE(0, 0), 0, \
	  VC_NAMES("cpu", "gpu", "auto"), \
	  "auto", \
	  "auto: the GPU worker when one is configured and answers, else the CPU; gpu: the worker or an error; cpu: never the worker") \
	X(ensemble, INT, ensemble, VC_OPT_NOT_IN_BLOCK, -1, VC_IRANGE(1, VC_MAX_ENSEMBLE), VC_OPTF_UNSET, NULL, \
	  "1", \
	  "networks trained with the seeds seed, seed + 1000, ...; the score is the mean of their scores, each centered on its median training score and divided by its interquartile range") \
	X(method, ENUM, method, VC_OPT_NOT_IN_BLOCK, -1, VC_IRANGE(0, 0), VC_OPTF_UNSET, \
	  VC_NAMES("recon_prob", "elbo", "mse"), \
	  "elbo", \
	  "the model's scoring method: what vae_score, vae_threshold and vae_detect use when no method is given (models trained before 1.1 score by recon_prob)")

/* VC_OPTION_hidden, VC_OPTION_latent_dim, ...: indexes into vc_option_defs */
typedef enum VcOptionId
{
#define VC_OPTION_ID(name, ...) VC_OPTION_##name,
	VC_OPTION_LIST(VC_OPTION_ID)
#undef VC_OPTION_ID
	VC_N_OPTIONS
} VcOptionId;

typedef struct VcOptionDef
{
	const char *name;
	VcOptionType type;
	size_t		field;			/* offsetof(VcOptions, field) */
	int			block_offset;
	double		init;
	int64_t		imin;			/* integers */
	int64_t		imax;
	double		dmin;			/* reals */
	double		dmax;
	unsigned	flags;
	const char *const *names;	/* NULL-terminated, enums only */
	const char *default_rule;
	const char *description;
} VcOptionDef;

extern const VcOptionDef vc_option_defs[VC_N_OPTIONS];

/* one explicit value: i for integer, enum and boolean options, u, d */
typedef struct VcOptionValue
{
	int64_t		i;
	uint64_t	u;
	double		d;
} VcOptionValue;

/* the option named by name[0..len), or NULL */
const VcOptionDef *vc_option_find(const char *name, size_t len);
/* index of the enum name s[0..len) in def->names, or -1 */
int			vc_option_enum_index(const VcOptionDef *def, const char *s, size_t len);
/* number of names of an enum option (0 for the others) */
int			vc_option_n_names(const VcOptionDef *def);
/* name of enum value v (the first name when v is out of range) */
const char *vc_option_enum_name(const VcOptionDef *def, int v);

/*
 * What the option accepts, in words ("an integer between 1 and 4096",
 * "'relu' or 'tanh'"); for hidden, the layer sizes.  Returns buf.
 */
const char *vc_option_describe(const VcOptionDef *def, char *buf, size_t len);

/*
 * THE range check.  An explicit value (never a "not given" marker) of def:
 * VC_OK, or VC_EINVAL with 'option "NAME" must be DESCRIPTION' in errmsg
 * (which may be NULL).  For hidden it checks one layer size.
 */
VcStatus	vc_option_check(const VcOptionDef *def, const VcOptionValue *v, char *errmsg);
/* the message vc_option_check gives for def, whatever the value */
void		vc_option_error(const VcOptionDef *def, char *errmsg);

/*
 * Every option of opt, each with vc_option_check; with allow_unset the
 * "not given" markers pass too (options as a user gave them: the jsonb
 * parser's result, the TRAIN header), without it every option must have a
 * value (resolved options: vc_options_resolve, a stored model).
 */
VcStatus	vc_options_check(const VcOptions *opt, int allow_unset, char *errmsg);

/* the value of an option in opt (hidden: n_hidden) / set it */
void		vc_option_get(const VcOptionDef *def, const VcOptions *opt, VcOptionValue *v);
void		vc_option_set(const VcOptionDef *def, VcOptions *opt, const VcOptionValue *v);
/* is the option "not given" in opt */
int			vc_option_is_unset(const VcOptionDef *def, const VcOptions *opt);

/*
 * The options block (VC_OPTIONS_BLOCK_SIZE bytes, little-endian, offsets
 * from the table).  Decoding never fails: hidden_raw (may be NULL) gets all
 * VC_MAX_HIDDEN stored layer sizes, used or not, and opt->hidden the first
 * n_hidden of them (the rest 0); the caller then runs vc_options_check.
 */
void		vc_options_encode(uint8_t *block, const VcOptions *opt);
void		vc_options_decode(const uint8_t *block, VcOptions *opt, int32_t *hidden_raw);

/*
 * The option's value as JSON in the form vae_train accepts (non-finite
 * reals, which no check lets through, as null).  Returns buf.
 */
const char *vc_option_json(const VcOptionDef *def, const VcOptions *opt, char *buf, size_t len);

/*
 * The shortest of %.15g, %.16g, %.17g that reads back as d (NaN, Infinity,
 * -Infinity as SQL writes them): shows why a value is out of range
 * (1.0000000001, not 1) without noise digits.  Returns buf.
 */
const char *vc_format_double(double d, char *buf, size_t len);

#endif							/* VC_OPTIONS_H */
