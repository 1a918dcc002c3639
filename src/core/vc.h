/*
 * vc.h - public interface of the vae numeric core ("vc").
 *
 * The core is plain C99 + CBLAS.  It never includes postgres.h: it is unit
 * tested and fuzzed on its own, and the GPU worker links it too.  It reports
 * problems through status codes plus a message buffer; only the PostgreSQL
 * glue turns those into ereport().
 *
 * Memory: every allocation goes through vc_alloc()/vc_free(), which a host
 * may redirect (the backend points them at a memory context, so an ERROR
 * thrown from a callback releases everything).  Callbacks (interrupt check,
 * progress) are always invoked from the calling thread, between minibatches.
 */
#ifndef VC_H
#define VC_H

#include <stddef.h>
#include <stdint.h>

/* ---- status codes ---- */
typedef enum VcStatus
{
	VC_OK = 0,
	VC_EINVAL,					/* bad option or argument */
	VC_EDATA,					/* bad input data (row or feature named) */
	VC_ENOMEM,					/* allocation failed */
	VC_EFORMAT,					/* model bytes are truncated, corrupted, foreign */
	VC_EDIVERGED,				/* training produced NaN/Inf */
	VC_ELIMIT,					/* a documented size limit was exceeded */
	VC_ECANCELED,				/* check_interrupts asked to stop */
	VC_EDEVICE					/* the GPU or the worker failed */
} VcStatus;

#define VC_ERRMSG_LEN 256

/* ---- documented limits ---- */
#define VC_MAX_INPUT_DIM	16384	/* features per row */
#define VC_MAX_WIDTH		4096	/* units in a hidden or latent layer */
#define VC_MAX_HIDDEN		8		/* encoder hidden layers (decoder mirrors) */
#define VC_MIN_ROWS			2		/* rows needed to train at all */
#define VC_MAX_EPOCHS		100000
#define VC_MAX_MC_SAMPLES	1024
#define VC_MAX_HISTORY		VC_MAX_EPOCHS
#define VC_MAX_SCORE_SAMPLE 10000	/* training scores kept for vae_threshold */
#define VC_MAX_ENSEMBLE		16		/* networks in one model value (option ensemble) */

/*
 * Bounds of the soft-clamped log-variances: lv = B * tanh(raw / B).  The
 * decoder's is tighter (sigma >= e^-2.5, about 0.08 standard deviations):
 * with rare one-hot columns a looser floor lets the decoder become so sure
 * of the common value that one held-out rare row dominates the validation
 * loss, and early stopping then keeps an undertrained epoch (seen on KDD).
 */
#define VC_LATENT_LOGVAR_BOUND	8.0f
#define VC_DECODER_LOGVAR_BOUND 5.0f

typedef enum VcLikelihood
{
	VC_LIK_GAUSSIAN = 0,
	VC_LIK_BERNOULLI = 1
} VcLikelihood;

typedef enum VcActivation
{
	VC_ACT_RELU = 0,
	VC_ACT_TANH = 1
} VcActivation;

typedef enum VcNormalize
{
	VC_NORM_STANDARD = 0,
	VC_NORM_MINMAX = 1,
	VC_NORM_NONE = 2
} VcNormalize;

typedef enum VcMethod
{
	VC_METHOD_RECON_PROB = 0,
	VC_METHOD_ELBO = 1,
	VC_METHOD_MSE = 2
} VcMethod;
#define VC_N_METHODS 3

typedef enum VcDevice
{
	VC_DEVICE_CPU = 0,
	VC_DEVICE_GPU = 1,
	VC_DEVICE_AUTO = 2
} VcDevice;

/*
 * Training options.  A value of -1 (for doubles too) means "not given":
 * vc_options_resolve() picks it from the data the way a careful practitioner
 * would.  n_hidden == -1 means "choose"; n_hidden == 0 is a valid explicit
 * choice (no hidden layer).  Names, ranges, markers and encodings of every
 * field are in the option table, vc_options.h: a new field needs a line there.
 */
typedef struct VcOptions
{
	int			n_hidden;
	int			hidden[VC_MAX_HIDDEN];
	int			latent_dim;
	int			likelihood;		/* VcLikelihood */
	int			activation;		/* VcActivation */
	int			normalize;		/* VcNormalize, -1 = by likelihood */
	int			epochs;
	int			batch_size;
	double		learning_rate;
	double		beta;
	double		weight_decay;
	uint64_t	seed;
	double		validation_fraction;
	int			patience;		/* 0 = no early stopping */
	int64_t		max_rows;		/* 0 = no cap */
	int			mc_samples;
	int			verbose;
	int			device;			/* VcDevice */
	int			ensemble;		/* networks in the model (vc_ensemble.c); not in
								 * the options block: a model records it as its
								 * member count, the GPU worker never sees it */
	int			method;			/* VcMethod: the model's scoring method, what the
								 * scoring functions use when none is given; not
								 * in the options block: the format version says
								 * where it is (docs/model-format.md) */
} VcOptions;

/* every option "not given" or at its fixed default (vc_options.c) */
void		vc_options_init(VcOptions *opt);
/* fill every "not given" field from the data shape; validates the result */
VcStatus	vc_options_resolve(VcOptions *opt, int64_t n_rows, int dim, char *errmsg);

/* one dense layer inside the parameter block: y = x W + b, W is in x out row-major */
typedef struct VcLayer
{
	int			in;
	int			out;
	size_t		w_off;			/* offsets into the parameter array */
	size_t		b_off;
} VcLayer;

/* layer index layout: encoder hidden..., encoder head (2*latent), decoder hidden..., decoder head */
#define VC_MAX_LAYERS (2 * VC_MAX_HIDDEN + 2)

typedef struct VcSchema VcSchema;	/* vc_schema.h */

typedef struct VcModel
{
	VcOptions	opt;			/* resolved options */
	int			dim;			/* network input units: the features of an array
								 * model, schema->input_width of a row model */
	VcSchema   *schema;			/* row models (format 2): the columns; NULL for
								 * array models */
	int			n_cols;			/* width of a raw row as the caller passes it: dim
								 * for array models, schema->n_columns for row models */
	int			head_dim;		/* decoder head units: 2*dim gaussian, dim bernoulli,
								 * schema->head_width for row models */
	int			n_layers;
	VcLayer		layers[VC_MAX_LAYERS];
	int			enc_head;		/* index of the encoder head layer (out = 2*latent) */
	int			dec_head;		/* index of the decoder head (out = head_dim) */
	size_t		n_params;
	float	   *params;
	float	   *center;			/* normalization: xn = (x - center) / scale */
	float	   *scale;

	/* training record */
	int64_t		rows;			/* rows trained on (after sampling) */
	int			epochs_run;
	int			best_epoch;		/* 1-based; weights are those of this epoch */
	double		train_seconds;
	double	   *train_loss;		/* per epoch, negative ELBO (beta-weighted) per row */
	double	   *val_loss;		/* per epoch, vc_validation_criterion of the held-out
								 * rows; NaN when there is no validation set */
	int			device;			/* where it was trained (VcDevice) */

	/* sorted training-row scores, one array per method, for vae_threshold */
	int			n_scores;
	float	   *scores[VC_N_METHODS];
	int			scores_out_of_fold; /* set by training when they are out-of-fold
									 * scores (vc_train.c); not in the bytes */

	/*
	 * An ensemble (format 3, vc_ensemble.c): n_members > 1 networks of one
	 * layout trained with derived seeds.  The model itself is then a view
	 * of members[0] -- every field above shares member 0's arrays -- except
	 * scores, which are the combined scores of the training rows, and
	 * opt.ensemble = n_members.  robust[(k * VC_N_METHODS + method) * 2]
	 * is member k's median training score, [.. + 1] its interquartile
	 * range.  A single network has n_members 1 and members NULL.
	 */
	int			n_members;
	struct VcModel **members;
	double	   *robust;
} VcModel;

/* ---- allocation hooks ---- */
typedef void *(*VcAllocFn) (size_t size);
typedef void (*VcFreeFn) (void *ptr);
void		vc_set_allocator(VcAllocFn alloc_fn, VcFreeFn free_fn);
void	   *vc_alloc(size_t size);	/* NULL on failure (default: malloc) */
void	   *vc_alloc0(size_t size);

/* seconds on the monotonic clock, for durations */
double		vc_now(void);
void		vc_free(void *ptr);

/* ---- model lifetime ---- */
/* allocates a model for the resolved options and dim; params zeroed */
VcStatus	vc_model_create(VcModel **out, const VcOptions *opt, int dim, char *errmsg);
/*
 * The same for a row model: a deep copy of the schema (laid out, with its
 * scaling filled in) is kept in the model; dim = schema->input_width.
 */
VcStatus	vc_model_create_rows(VcModel **out, const VcOptions *opt, const VcSchema *schema,
								 char *errmsg);
void		vc_model_free(VcModel *m);
/* parameter count of the layout for these (valid) options, allocating nothing */
size_t		vc_layout_param_count(const VcOptions *opt, int dim);
/*
 * Sizes of a run for resolved options, dim and row count, before any work
 * (vc_limits.c): the serialized model (an upper bound: the full loss history
 * and score sample), what training allocates besides the rows, and the
 * largest width w such that capping every hidden and latent layer at w gives
 * a model of at most limit bytes (0 if none does).  schema: a row model's
 * laid-out schema (its head and schema section counted exactly), NULL for
 * an array model.
 */
size_t		vc_model_size_bound(const VcOptions *opt, int dim, const VcSchema *schema,
								int64_t n_rows);
size_t		vc_train_workspace_bytes(const VcOptions *opt, int dim, int64_t n_rows);
int			vc_max_width_for(const VcOptions *opt, int dim, const VcSchema *schema,
							 int64_t n_rows, size_t limit);
/* He (relu) or Glorot (tanh) uniform init from the model's seed, or from seed */
void		vc_model_init_params(VcModel *m);
void		vc_model_init_params_seeded(VcModel *m, uint64_t seed);

/* ---- hashing and random numbers (counter based, reproducible anywhere) ---- */
uint64_t	vc_mix64(uint64_t x);
uint64_t	vc_hash_row(const float *x, int dim, uint64_t seed);
/* standard normal / uniform [0,1) deterministic in (key, counter) */
float		vc_normal(uint64_t key, uint64_t counter);
double		vc_uniform(uint64_t key, uint64_t counter);
void		vc_normals(uint64_t key, uint64_t counter0, float *out, size_t n);
/* the reparameterization noise of training: a float32 standard normal (vc_rng.h) */
void		vc_train_normals(uint64_t key, uint64_t counter0, float *out, size_t n);

/* ---- training ---- */

/* the phases of a training run, in order (VcCallbacks.phase) */
typedef enum VcPhase
{
	VC_PHASE_SORT = 0,			/* canonical order of the rows */
	VC_PHASE_SAMPLE,			/* bottom-k sample (max_rows) */
	VC_PHASE_NORMALIZE,			/* statistics and normalization in place */
	VC_PHASE_EPOCHS,			/* split, shuffles, minibatch steps, validation */
	VC_PHASE_SCORE_SAMPLE		/* training-row scores kept for vae_threshold */
} VcPhase;
#define VC_N_PHASES 5

typedef struct VcCallbacks
{
	/*
	 * Called from the calling thread, with no helper thread running, at
	 * least every few milliseconds of work in every phase (between
	 * minibatches while training).  It may longjmp (the backend's
	 * CHECK_FOR_INTERRUPTS) or return nonzero to stop with VC_ECANCELED
	 * (the GPU worker, when its client went away).
	 */
	int			(*check_interrupts) (void *arg);
	/* called at the end of every epoch when opt.verbose */
	void		(*epoch_done) (void *arg, int epoch, double train_loss,
							   double val_loss, double elapsed_seconds);
	void	   *arg;
	/* optional: a phase (VcPhase) begins, over this many rows */
	void		(*phase) (void *arg, int phase, int64_t rows);
} VcCallbacks;

const char *vc_phase_name(int phase);

/* a row and its seeded hash (vc_hash_row with the training seed) */
typedef struct VcRowRef
{
	uint64_t	hash;
	float	   *row;
} VcRowRef;

/*
 * Train on raw (unnormalized) rows.  The refs may come in any order: they are
 * put in canonical order by (hash, values) and, when opt->max_rows is
 * exceeded, cut to the bottom-k by hash, so the model depends only on the
 * multiset of rows, the options and the seed.  Training computes the
 * normalization statistics and normalizes the rows IN PLACE.  On success
 * *out is a new model.
 */
VcStatus	vc_train(VcRowRef *refs, int64_t n_rows, int dim, const VcOptions *opt,
					 const VcCallbacks *cb, VcModel **out, char *errmsg);

/*
 * Train a row model on compact rows (vc_schema.h) of schema->n_columns
 * floats, in any order, with the CPU engine.  The schema gives each column's
 * name, kind, source and (categorical) categories; training fills in the
 * robust scaling of continuous columns, each column's NULL share and whether
 * it gets a missing-indicator unit, all from the rows trained on (after
 * max_rows sampling).  Rows are normalized in place.
 */
VcStatus	vc_train_rows(VcRowRef *refs, int64_t n_rows, const VcSchema *schema,
						  const VcOptions *opt, const VcCallbacks *cb, VcModel **out,
						  char *errmsg);

/*
 * A training engine runs the minibatch steps on some device.  vc_train keeps
 * everything around them -- canonical order, sampling, normalization, the
 * split, the per-epoch shuffles, early stopping, the score sample -- so every
 * engine trains the same model for a seed, up to floating-point order.
 *
 * The random streams an engine must reproduce, with `batch` the effective
 * minibatch size that begin() receives: the eps of the minibatch that starts
 * at Adam step s (0-based over the whole run) are
 * vc_train_normals(eps_key, s * batch * latent, ...) for its rows in order;
 * the validation rows idx[at, at + batch) get vc_train_normals(val_key,
 * at * latent, ...).
 */
typedef struct VcEngine VcEngine;
struct VcEngine
{
	const char *name;
	int			device;			/* VcDevice recorded in the model */
	/*
	 * Start a run: the n rows (refs[i].row, normalized, canonical order),
	 * the initial m->params and the minibatch size (at most n).  The rows
	 * and the model stay valid until end().
	 */
	VcStatus	(*begin) (VcEngine *e, const VcModel *m, const VcRowRef *refs,
						  int64_t n, int batch, char *errmsg);
	/*
	 * One epoch: Adam steps over consecutive minibatches of idx[0, n_idx)
	 * (the last may be short), starting at global step *step, which it
	 * advances.  *loss_sum is the summed per-row loss; a non-finite value
	 * means divergence.
	 */
	VcStatus	(*train_epoch) (VcEngine *e, const int64_t *idx, int64_t n_idx,
								uint64_t eps_key, int64_t *step, double *loss_sum,
								const VcCallbacks *cb, char *errmsg);
	/*
	 * The loss of each row idx[i] into row_loss[i], i < n_idx, without
	 * updating anything (minibatch-size chunks; eps as the contract above).
	 */
	VcStatus	(*validation_loss) (VcEngine *e, const int64_t *idx, int64_t n_idx,
									uint64_t val_key, double *row_loss,
									const VcCallbacks *cb, char *errmsg);
	/* remember the current weights as the best so far */
	VcStatus	(*save_best) (VcEngine *e, char *errmsg);
	/* copy the best (or, if none was saved, current) weights into dst */
	VcStatus	(*get_params) (VcEngine *e, float *dst, char *errmsg);
	/* release everything begin() took; safe after any failure */
	void		(*end) (VcEngine *e);
	void	   *state;
};

/* the CPU engine (OpenBLAS); vc_train uses it */
void		vc_engine_cpu_init(VcEngine *e);

/* vc_train on a given engine */
VcStatus	vc_train_engine(VcRowRef *refs, int64_t n_rows, int dim, const VcOptions *opt,
							const VcCallbacks *cb, VcEngine *engine, VcModel **out,
							char *errmsg);

/*
 * Sort refs into canonical order, asking cb's check_interrupts as it goes:
 * VC_OK, or VC_ECANCELED (refs' order is then undefined).
 */
VcStatus	vc_canonical_sort(VcRowRef *refs, int64_t n, int dim, const VcCallbacks *cb,
							  char *errmsg);
/*
 * Keep the k refs of smallest (hash, values), in canonical order, in
 * refs[0, *kept); as vc_canonical_sort for interrupts.
 */
VcStatus	vc_bottom_k(VcRowRef *refs, int64_t n, int64_t k, int dim,
						const VcCallbacks *cb, int64_t *kept, char *errmsg);
/* the canonical order: a total order (rows equal under it have the same bits) */
int			vc_row_compare(const VcRowRef *a, const VcRowRef *b, int dim);

/*
 * ---- scoring (one row at a time; deterministic per row) ----
 *
 * A raw row x has m->n_cols floats: the features of an array model, or the
 * compact row of a row model (vc_schema.h: category codes, VC_NULL_VALUE for
 * NULL).  For a row model the scores are over the mixed likelihood: the
 * reconstruction term is the sum of the columns' terms (vc_schema.h), mse is
 * the mean squared difference between the network input units of the row
 * (one-hot categories, 0/1 booleans and NULL flags, scaled numbers) and what
 * the decoder expects of them (means, probabilities), over the units of
 * non-NULL values and every NULL flag.
 */
typedef struct VcScratch VcScratch;
VcScratch  *vc_scratch_create(const VcModel *m);
void		vc_scratch_free(VcScratch *s);

/*
 * Batched scoring (vc_score_batch.c): the scores of blocks of rows, each
 * layer one GEMM over the block, each row's scores the bits vc_score_row
 * gives it where the BLAS computes a row of a product the same whatever the
 * number of rows (docs/scoring.md says where it does not).  Every block's
 * GEMMs have the same shapes (a short block is padded), so a row's scores
 * never depend on the rows it is scored with.  vc_batch_rows: rows per block.
 */
typedef struct VcBatch VcBatch;
VcBatch    *vc_batch_create(const VcModel *m);
void		vc_batch_free(VcBatch *b);
int			vc_batch_rows(const VcBatch *b);
/*
 * The scores selected by methods (a bit mask of 1 << VcMethod) of the n <=
 * vc_batch_rows raw rows x (m->n_cols floats each) into out[r * VC_N_METHODS
 * + method]; VC_EDATA with *bad the index of the first row holding a value
 * the model cannot take (errmsg names the value), and then nothing scored.
 */
VcStatus	vc_score_batch(const VcModel *m, VcBatch *b, const float *x, int n,
						   unsigned methods, double *out, int *bad, char *errmsg);

/* normalize a raw input row; returns the feature index (0-based) of a value a
 * bernoulli model cannot take, or -1 */
int			vc_normalize_row(const VcModel *m, const float *x, float *xn);
/* scores of one raw row; 'methods' is a bit mask of (1 << VcMethod) */
VcStatus	vc_score_row(const VcModel *m, VcScratch *s, const float *x,
						 unsigned methods, double *out, char *errmsg);
/* latent mean of a raw row */
VcStatus	vc_encode_row(const VcModel *m, VcScratch *s, const float *x, float *mu, char *errmsg);
/* decoder mean at the latent mean, in input units; contrib[i] (may be NULL) the
 * per-feature negative log-likelihood at the latent mean (sums to the
 * reconstruction term); array models only (row models: vc_explain_columns).
 * Where the reconstruction overflows (a row far from the data,
 * docs/scoring.md): an error without contrib; with contrib, recon is NaN
 * there and contrib +Inf */
VcStatus	vc_reconstruct_row(const VcModel *m, VcScratch *s, const float *x,
							   float *recon, double *contrib, char *errmsg);
/*
 * decoder mean at z ~ N(0, I) drawn from (seed, index), in input units, m->n_cols
 * floats; for a row model a compact row: the most probable category and
 * boolean, VC_NULL_VALUE where NULL is more probable than not
 */
void		vc_generate_row(const VcModel *m, VcScratch *s, uint64_t seed, int64_t index, float *out);
/* score above which a fraction c of the training rows lie */
double		vc_threshold(const VcModel *m, int method, double contamination);
/* the same quantile rule on any ascending sc[0, n) (NaN when n is 0) */
double		vc_sorted_quantile(const float *sc, int n, double contamination);
/*
 * the interquartile range of the ascending sc[0, n), at least
 * VC_ROBUST_MIN_IQR: the scale of an ensemble member's robust mean and of
 * the out-of-fold sample's mapping
 */
double		vc_sorted_iqr(const float *sc, int n);
/* the automatic cut: Q3 + VC_AUTO_FENCE * (Q3 - Q1) of the training scores */
#define VC_AUTO_FENCE 1.5
double		vc_threshold_auto(const VcModel *m, int method);

/*
 * What the decoder says of one column of a row model, at the row's latent
 * mean: vc_explain_columns fills one per schema column.
 */
typedef struct VcColumnExpect
{
	double		value;			/* continuous, cyclic: the decoder mean in input units
								 * (NaN where it overflows, for a row far from the
								 * data); boolean: P(true); categorical: the code of
								 * the most probable category */
	double		prob;			/* categorical: that category's probability;
								 * boolean: P(true); else 0 */
	double		p_null;			/* probability of NULL: the null unit's, or the
								 * Laplace estimate 1 / (rows + 2) without one */
	double		contribution;	/* NLL of the row's value (0 when NULL) plus that of
								 * its NULL flag; the contributions of all columns
								 * sum to the reconstruction term */
} VcColumnExpect;

/* per-column explanation of a raw compact row of a row model */
VcStatus	vc_explain_columns(const VcModel *m, VcScratch *s, const float *x,
							   VcColumnExpect *out, char *errmsg);
/* the compact row the columns' expectations e describe (the generated row's rule) */
void		vc_expected_row(const VcSchema *schema, const VcColumnExpect *e, float *out);

/*
 * ---- ensembles (vc_ensemble.c, docs/detect.md "Ensembles in the extension") ----
 *
 * A model of K > 1 networks trained with the seeds vc_member_seed(seed, k);
 * vc_score_row on it returns the robust mean of the members' scores: each
 * member's score minus its median training score, over its interquartile
 * range (at least VC_ROBUST_MIN_IQR), averaged over the members.  Encoding,
 * reconstruction, explanation and generation use member 0.
 */
#define VC_ROBUST_MIN_IQR	1e-12
/* the seed of member k: seed + 1000 k, wrapped into [0, 2^53) */
uint64_t	vc_member_seed(uint64_t seed, int k);
/*
 * The ensemble view of k trained members (taken over: on success and on
 * failure they belong to *out or are freed; members[] itself stays the
 * caller's); its combined scores are not yet there (n_scores 0):
 * vc_ensemble_record_scores adds them.  VC_EFORMAT when the members do not
 * fit together (layout, options but the seed, rows, schema).
 */
VcStatus	vc_ensemble_assemble(VcModel **members, int k, VcModel **out, char *errmsg);
/*
 * The combined scores of the raw rows rows[0, n) (n <= VC_MAX_SCORE_SAMPLE),
 * sorted per method, become the ensemble's stored training scores; when the
 * members' own samples are out-of-fold scores, the combination of those
 * samples instead (rows then unused).
 */
VcStatus	vc_ensemble_record_scores(VcModel *m, const float *const *rows, int n,
									  const VcCallbacks *cb, char *errmsg);

/* ---- model format (docs/model-format.md) ---- */
#define VC_FORMAT_MAGIC		0x4d454156u	/* "VAEM" little-endian */
#define VC_FORMAT_VERSION	1	/* array models */
#define VC_FORMAT_VERSION_ROWS 2	/* row models: a column schema (vc_schema.h) */
#define VC_FORMAT_VERSION_ENSEMBLE 3	/* several networks: members of version 1, 2, 4 or 5 */
#define VC_FORMAT_VERSION_METHOD 4	/* version 1 with a scoring method other than
									 * recon_prob (the u16 at offset 6) */
#define VC_FORMAT_VERSION_ROWS_METHOD 5	/* version 2 with such a method */
#define VC_FORMAT_VERSION_LAST 5
/* the version vc_model_serialize writes m in */
int			vc_model_format_version(const VcModel *m);
size_t		vc_model_serialized_size(const VcModel *m);
/* writes exactly vc_model_serialized_size() bytes */
void		vc_model_serialize(const VcModel *m, uint8_t *buf);
/* validates everything; *out is a new model on success */
VcStatus	vc_model_deserialize(const uint8_t *buf, size_t len, VcModel **out, char *errmsg);
/* cheap identity of serialized bytes for caches: CRC-32C trailer and length */
uint32_t	vc_model_bytes_crc(const uint8_t *buf, size_t len);

const char *vc_likelihood_name(int v);
const char *vc_activation_name(int v);
const char *vc_normalize_name(int v);
const char *vc_method_name(int v);
const char *vc_device_name(int v);

#endif							/* VC_H */
