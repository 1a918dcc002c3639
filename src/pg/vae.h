/*
 * vae.h - shared declarations of the PostgreSQL glue.
 *
 * The glue owns everything PostgreSQL-specific: argument checking, option
 * parsing, memory contexts, interrupts and turning core status codes into
 * ereport() with the right SQLSTATE.  The numeric core (src/core) knows
 * nothing of this.
 */
#ifndef VAE_H
#define VAE_H

#include "postgres.h"

#include "fmgr.h"
#include "utils/array.h"
#include "lib/stringinfo.h"
#include "utils/jsonb.h"

#include "vc.h"

/* InitMaterializedSRF() and MarkGUCPrefixReserved() are new in 15 */
#if PG_VERSION_NUM < 150000
#error "vae needs PostgreSQL 15 or later"
#endif

/* vae.c; PostgreSQL 18 replaced pg_attribute_noreturn() by pg_noreturn */
#if PG_VERSION_NUM >= 180000
pg_noreturn extern void VaeReportStatus(VcStatus st, const char *msg);
#else
extern void VaeReportStatus(VcStatus st, const char *msg) pg_attribute_noreturn();
#endif
/* raise the ERROR of a core status that is not VC_OK (msg: the core's message) */
static inline void
VaeCheckStatus(VcStatus st, const char *msg)
{
	if (st != VC_OK)
		VaeReportStatus(st, msg);
}

/* user text quoted in a message: a prefix of at most VAE_ECHO_MAX bytes */
#define VAE_ECHO_MAX 64
extern char *VaeEchoText(const char *s, int len);

/*
 * vae_input.c: a one-dimensional SQL array of real, double precision, smallint,
 * integer, bigint or numeric as float32; 'what' names it in messages
 */
extern int	VaeArrayDim(ArrayType *a, const char *what);
typedef enum VaeElemKind
{
	VAE_ELEM_OTHER,
	VAE_ELEM_FLOAT4,
	VAE_ELEM_FLOAT8,
	VAE_ELEM_INT2,
	VAE_ELEM_INT4,
	VAE_ELEM_INT8,
	VAE_ELEM_NUMERIC
} VaeElemKind;
extern VaeElemKind VaeNumberKind(Oid typid);
extern bool VaeNumberToFloat(Datum d, VaeElemKind k, float *out, double *bad);
extern void VaeArrayToFloats(ArrayType *a, const char *what, float *out, int dim);

/* vae_options.c */
extern void VaeParseOptions(Jsonb *jb, VcOptions *opt);

/* a column kind an option may ask for: VcColumnKind, or this */
#define VAE_KIND_IGNORE 4

/* the options only training on rows takes (their names unchecked here) */
typedef struct VaeRowOptions
{
	int			n_columns;		/* -1: "columns" not given */
	char	  **columns;
	int			n_exclude;
	char	  **exclude;
	int			n_kinds;		/* "kind": column name -> VcColumnKind or VAE_KIND_IGNORE */
	char	  **kind_names;
	int		   *kinds;
	int			max_categories;
} VaeRowOptions;
extern void VaeParseRowOptions(Jsonb *jb, VcOptions *opt, VaeRowOptions *ro);

/*
 * vae_buffer.c: the training aggregates' rows, records of a seeded row hash
 * (uint64) and dim floats, in chunks of about 8 MB in the aggregate context
 */
typedef struct VaeRowBuffer
{
	int			dim;			/* floats per record */
	Size		rec_size;		/* bytes per record, 8-aligned */
	int			rows_per_chunk; /* rows in every full chunk */
	int			first_cap;		/* rows chunk 0 has room for (it starts small) */
	int64		n_rows;			/* records held */
	char	  **chunks;
	int			n_chunks;
	int			max_chunks;
} VaeRowBuffer;

static inline char *
VaeBufferRecord(const VaeRowBuffer *b, int64 i)
{
	return b->chunks[i / b->rows_per_chunk] + (i % b->rows_per_chunk) * b->rec_size;
}
extern void VaeBufferInit(MemoryContext cxt, VaeRowBuffer *b, int dim);
extern char *VaeBufferAppend(MemoryContext cxt, VaeRowBuffer *b);
extern VcRowRef *VaeBufferRefs(VaeRowBuffer *b);
extern void VaeBufferFree(VaeRowBuffer *b);
extern void VaeBufferCompact(MemoryContext cxt, VaeRowBuffer *b, int64 k);
extern void VaeBufferTrim(MemoryContext cxt, VaeRowBuffer *b, int64 k);

/* vae_agg.c: what both training aggregates share */
extern const VcCallbacks vae_train_callbacks;
extern void VaeCheckTrainingLimits(const VcOptions *opt, int dim, const VcSchema *schema,
								   int64 n_rows);
extern bool VaeBudgetCheckDue(const VaeRowBuffer *b);
extern void VaeCheckMemoryBudget(const VcOptions *opt, int64 k, int dim, const VaeRowBuffer *b,
								 double extra);
extern void VaeUseBudgetSample(VcOptions *opt, int64 k, int64 rows_in);
extern bytea *VaeModelToBytea(const VcModel *model, MemoryContext cxt);
extern void VaeCheckSameOptions(const Jsonb *a, const Jsonb *b);
extern void VaeCheckHasRows(const VaeRowBuffer *b);

/*
 * vae_state.c: vae_train_state, the shippable aggregate state: an expanded
 * object holding an aggregate's C struct, flattened by its serializer
 */
#include "utils/expandeddatum.h"
#define VAE_STATE_ARRAYS 1
#define VAE_STATE_ROWS 2
typedef struct VaeState VaeState;
typedef struct VaeStateOps
{
	uint16		kind;			/* VAE_STATE_ARRAYS or VAE_STATE_ROWS */
	/* append the payload of state to buf */
	void		(*serialize) (void *state, StringInfo buf);
	/* a state built in cxt (current) from a payload, validating it all */
	void	   *(*deserialize) (MemoryContext cxt, const char *p, Size len);
	/* the rows a state holds (for the combine's DEBUG1 line) */
	int64		(*n_rows) (const void *state);
	/* dst (new, empty) becomes a copy of state src, in dst's context */
	void		(*copy) (VaeState *dst, void *src);
	/* state src's rows and statistics added to dst, in dst's context */
	void		(*merge) (VaeState *dst, void *src);
} VaeStateOps;
struct VaeState
{
	ExpandedObjectHeader hdr;
	const VaeStateOps *ops;
	void	   *state;			/* the aggregate's struct, in hdr.eoh_context */
	bytea	   *flat;			/* the flat image, while the state is unchanged */
};
typedef struct VaeStateReader
{
	const char *p;
	Size		len;
	Size		pos;
} VaeStateReader;
extern VaeState *VaeStateCreate(MemoryContext parent, const VaeStateOps *ops);
extern const char *VaeStatePayload(Datum d, uint16 kind, Size *len);
extern VaeState *VaeStateForUpdate(FunctionCallInfo fcinfo, int argno, MemoryContext aggctx,
								   const VaeStateOps *ops);
extern VaeState *VaeStateForReading(FunctionCallInfo fcinfo, int argno, MemoryContext cxt,
									const VaeStateOps *ops, bool *temp);
extern Datum VaeStateDatum(VaeState *s);
extern Datum VaeStateCombine(FunctionCallInfo fcinfo, MemoryContext aggctx, const VaeStateOps *ops);
extern void VaeStateRead(VaeStateReader *r, void *dst, Size n);
extern char *VaeStateReadString(VaeStateReader *r);
extern void VaeStateWriteString(StringInfo buf, const char *s, int len);
extern void VaeStateCheck(bool cond, const char *what);
extern uint16 VaeStateKind(FunctionCallInfo fcinfo, int argno);
/* the two kinds' combine and final functions, which vae_train_state_* dispatch to */
extern Datum VaeArraysCombine(FunctionCallInfo fcinfo, MemoryContext aggctx);
extern Datum VaeArraysFinal(FunctionCallInfo fcinfo, MemoryContext aggctx);
extern Datum VaeRowsCombine(FunctionCallInfo fcinfo, MemoryContext aggctx);
extern Datum VaeRowsFinal(FunctionCallInfo fcinfo, MemoryContext aggctx);

/* a sample size, 0 meaning all rows: the smaller of two */
static inline int64
VaeMinSample(int64 a, int64 b)
{
	if (a == 0 || b == 0)
		return a == 0 ? b : a;
	return Min(a, b);
}

/* the bottom-k size that fits vae.max_train_memory (vae_agg.c); 0 = no limit */
extern int64 VaeBudgetSampleSize(const VcOptions *opt, int dim);
/* vae_ensemble.c: train a model of several networks (the option ensemble) */
typedef VcModel *(*VaeTrainOneFn) (void *arg, VcRowRef *refs, int64 n, const VcOptions *opt);
extern int	VaeEnsembleSize(const VcOptions *opt, int64 n_rows, int dim);
/* vae_agg.c: the member in training (1-based) and the count, for NOTICEs; 0 outside */
extern int	vae_train_member;
extern int	vae_train_members;
extern VcModel *VaeTrainEnsemble(VcRowRef *refs, int64 n, int width, int dim,
								 const VcOptions *opt, bool rehash, VaeTrainOneFn train,
								 void *arg);

/* GUC vae.max_generate_rows (vae.c) */
extern int	vae_max_generate_rows;
/* GUC vae.max_train_memory (vae.c), in kB; 0 = no limit */
extern int	vae_max_train_memory;
/* vae_score_rows.c: a row model's compact row as jsonb, column name -> value */
extern Datum VaeCompactRowJsonb(const VcSchema *schema, const float *x);

/* vae_score.c: ERROR 22023 unless 0 <= contamination <= 1 */
extern void VaeCheckContamination(double contamination);

/* vae_score.c: a vae_method enum value (its OID) as a VC_METHOD_* number; ERROR for an unknown label */
extern int	VaeEnumMethod(Oid value);
/* a method argument left out (or NULL in vae_detect): the model's own, opt.method */
#define VAE_MODEL_METHOD (-1)
/* the method a call scores by: the one it names, else (VAE_MODEL_METHOD) the model's */
static inline int
VaeMethodFor(const VcModel *m, int method)
{
	return method == VAE_MODEL_METHOD ? m->opt.method : method;
}

/* vae_model_cache.c */
typedef struct VaeModelCache
{
	VcModel    *model;
	VcScratch  *scratch;
	float	   *row;			/* input scratch: max(dim, n_cols) floats */
	/* row models: how records of one row type are read (vae_rows.c) */
	struct VaeRowMap *rowmap;
	MemoryContext rowmap_cxt;
	/* identity of the bytes the model was decoded from */
	bool		stable;			/* a Const or external Param: never changes */
	bool		from_toast;
	Oid			toastrelid;
	Oid			valueid;
	Size		len;
	uint32		crc;			/* vc_model_bytes_crc of the bytes (vae_plot_latent
								 * tells models apart by it and len) */
	char	   *bytes;			/* a copy, when identity must be checked by value */
	char	   *name;			/* the registered name it was looked up by, or NULL */
	struct VaeRegistrySnap
	{
		TransactionId xmin;
		TransactionId xmax;
		uint32		curcid;
	}			snap;			/* the snapshot the name was looked up in */
} VaeModelCache;

extern VaeModelCache *VaeGetModel(FunctionCallInfo fcinfo, int argno);
extern const float *VaeGetScoringRow(FunctionCallInfo fcinfo, VaeModelCache *c, int argno);
extern const float *VaeGetScoringRecord(FunctionCallInfo fcinfo, VaeModelCache *c, int argno,
										char **texts);
extern const float *VaeGetScoringInput(FunctionCallInfo fcinfo, VaeModelCache *c, int argno);
extern const float *VaeGetScoringInputTexts(FunctionCallInfo fcinfo, VaeModelCache *c, int argno,
											char **texts);
extern void VaeCheckArrayModel(const VcModel *m, Oid fn_oid);
extern void VaeArrayFeatures(const VcModel *m, ArrayType *a, float *out);

/*
 * vae_registry.c: named models.  A function whose model argument is
 * declared text takes a registered name, scored with its deployed version.
 */
extern bool VaeModelArgIsName(FunctionCallInfo fcinfo, int argno);
extern bytea *VaeRegistryModel(FunctionCallInfo fcinfo, const char *name, MemoryContext cxt);
extern bytea *VaeModelArgBytes(FunctionCallInfo fcinfo, int argno);
extern void VaeRegistrySnapTake(struct VaeRegistrySnap *s);
extern bool VaeRegistrySnapSame(const struct VaeRegistrySnap *s);

#endif							/* VAE_H */
