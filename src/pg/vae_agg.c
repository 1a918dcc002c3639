/*
 * vae_agg.c - the vae_train aggregate: transition, combine, serialize,
 * deserialize and final functions.
 *
 * State: the rows as float32 records (seeded row hash + values) in the
 * chunked buffer of vae_buffer.c.  The hash is computed once per row on
 * arrival; it gives the canonical training order and
 * the bottom-k sample when max_rows is set, and because bottom-k of a union
 * is bottom-k of the parts' bottom-k, partial aggregates from parallel
 * workers merge into exactly the sample a serial scan would take.
 *
 * The 1.0 aggregate's state is internal; vae_train(vae_features(f)) keeps
 * the same struct in a vae_train_state (vae_state.c; the end of this file),
 * which Citus and postgres_fdw can ship (docs/scale-out.md).
 */
#include "vae.h"

#include <math.h>

#include "vae_gpu.h"
#include "vc_schema.h"

#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"

typedef struct VaeTrainState
{
	int			dim;
	VaeRowBuffer buf;			/* the records */
	int64		seen;			/* rows this state has been fed, for messages */
	int64		rows_in;		/* rows appended (before any trimming) */
	int64		k;				/* the sample kept: max_rows, or the memory budget's (0: all) */
	Jsonb	   *options;		/* the first row's options (NULL = none) */
	VcOptions	opt;
	bytea	   *result;			/* the trained model, once the final function ran */
	bool		transient;		/* made by deserialize for one combine call, which owns it */
	bool		cpu_only;		/* an ensemble member fell back to the CPU: so do the rest */
} VaeTrainState;

PG_FUNCTION_INFO_V1(vae_train_trans);
PG_FUNCTION_INFO_V1(vae_train_combine);
PG_FUNCTION_INFO_V1(vae_train_serialize);
PG_FUNCTION_INFO_V1(vae_train_deserialize);
PG_FUNCTION_INFO_V1(vae_train_final);

/*
 * An empty state in aggctx for rows of dim features, with a copy of the
 * options and their parsed form
 */
static VaeTrainState *
CreateState(MemoryContext aggctx, int dim, Jsonb *options)
{
	VaeTrainState *st = MemoryContextAllocZero(aggctx, sizeof(VaeTrainState));

	st->dim = dim;
	VaeBufferInit(aggctx, &st->buf, dim);
	if (options)
	{
		st->options = MemoryContextAlloc(aggctx, VARSIZE(options));
		memcpy(st->options, options, VARSIZE(options));
	}
	VaeParseOptions(st->options, &st->opt);
	st->k = st->opt.max_rows > 0 ? st->opt.max_rows : VaeBudgetSampleSize(&st->opt, dim);
	return st;
}

/* ---- the core's callbacks: interrupts, phases, epochs ---- */

static int
TrainCheckInterrupts(void *arg)
{
	CHECK_FOR_INTERRUPTS();
	return 0;
}

/* in the server log at DEBUG1: when each phase began, to tell where time goes */
static void
TrainPhase(void *arg, int phase, int64_t rows)
{
	elog(DEBUG1, "vae_train: %s phase, %lld rows", vc_phase_name(phase), (long long) rows);
}

/* the ensemble member in training, for the epoch NOTICEs (vae_ensemble.c); 0: none */
int			vae_train_member = 0;
int			vae_train_members = 0;

/*
 * The NOTICE of one epoch, for the CPU's training loop and the worker's
 * PROGRESS; in an ensemble it names the network
 */
static void
TrainEpochDone(void *arg, int epoch, double train_loss, double val_loss, double elapsed)
{
	char		network[64] = "";

	if (vae_train_members > 1)
		snprintf(network, sizeof(network), " (network %d of %d)", vae_train_member,
				 vae_train_members);
	if (isnan(val_loss))
		ereport(NOTICE,
				(errmsg("vae_train epoch %d%s: loss %.4f, %.3f s", epoch, network, train_loss,
						elapsed)));
	else
		ereport(NOTICE,
				(errmsg("vae_train epoch %d%s: loss %.4f, validation loss %.4f, %.3f s",
						epoch, network, train_loss, val_loss, elapsed)));
}

const VcCallbacks vae_train_callbacks = {
	TrainCheckInterrupts, TrainEpochDone, NULL, TrainPhase
};

/* bytes for messages, in binary units as PostgreSQL's own size limits are */
static char *
FormatBytes(double bytes)
{
	if (bytes >= 1024.0 * 1024 * 1024)
		return psprintf("%.3f GB", bytes / (1024.0 * 1024 * 1024));
	return psprintf("%.1f MB", bytes / (1024.0 * 1024));
}

/*
 * Refuse, before any work, a run whose model could not be stored in a
 * bytea: at the first row (the row count unknown, so with the longest loss
 * history and score sample the options allow) and again in the final
 * function with the row count.  Until this check, such a run trained to the
 * end (seconds to hours, gigabytes of weights and optimizer state) and
 * failed when serializing.  The message says what would fit.  A row model
 * passes its laid-out schema, so that its head and schema section count
 * exactly (NULL for arrays).
 */
void
VaeCheckTrainingLimits(const VcOptions *options, int dim, const VcSchema *schema, int64 n_rows)
{
	VcOptions	opt = *options;
	char		msg[VC_ERRMSG_LEN];
	size_t		limit = MaxAllocSize - VARHDRSZ,
				size,
				workspace;
	StringInfoData hidden;
	int			i,
				width;

	/* a bad option is reported by training itself, with its own message */
	if (vc_options_resolve(&opt, Max(n_rows, VC_MIN_ROWS), dim, msg) != VC_OK)
		return;
	size = vc_model_size_bound(&opt, dim, schema, Max(n_rows, VC_MIN_ROWS));
	if (size <= limit)
		return;
	initStringInfo(&hidden);
	for (i = 0; i < opt.n_hidden; i++)
		appendStringInfo(&hidden, "%s%d", i ? ", " : "", opt.hidden[i]);
	n_rows = Max(n_rows, VC_MIN_ROWS);
	width = vc_max_width_for(&opt, dim, schema, n_rows, limit);
	workspace = vc_train_workspace_bytes(&opt, dim, n_rows);
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("vae_train: the model would take %zu bytes (%s), more than the %zu bytes "
					"(1 GB) a bytea can hold", size, FormatBytes((double) size), limit),
			 errdetail("%zu parameters for %d features, hidden [%s], latent_dim %d; "
					   "training would also allocate about %s besides the rows.",
					   schema ? vc_schema_param_count(&opt, schema) :
					   vc_layout_param_count(&opt, dim), dim, hidden.data,
					   opt.latent_dim, FormatBytes((double) workspace)),
			 width > 0 ?
			 errhint("Use at most %d units in each hidden layer and in latent_dim, "
					 "or fewer hidden layers%s.", width,
					 opt.ensemble > 1 ? ", or fewer networks (option ensemble)" : "") :
			 errhint("Use fewer features%s.",
					 opt.ensemble > 1 ? " or fewer networks (option ensemble)" : "")));
}

/*
 * Whether the memory budget is due for a check after the row just appended:
 * at the first row and whenever the buffer has just begun a new chunk
 * (every 8 MB or so; rows wider than a chunk, at every power of two).
 */
bool
VaeBudgetCheckDue(const VaeRowBuffer *b)
{
	if (b->n_rows == 1)
		return true;
	if (b->rows_per_chunk > 1)
		return b->n_rows % b->rows_per_chunk == 1;
	return (b->n_rows & (b->n_rows - 1)) == 0;
}

/*
 * The memory a run will need, against vae.max_train_memory: the rows the
 * buffer has room for (b->dim floats each, with their hashes), `extra`
 * bytes more (a row aggregate's category dictionaries), training's
 * workspace and the model, for a network input of dim units.  The
 * transition functions call it when VaeBudgetCheckDue says so, so a table
 * that cannot be trained within the budget fails during the scan, with the
 * max_rows that would fit, instead of exhausting the machine's memory; the
 * row aggregate's final function calls it again with the network's real
 * input width (its transition knows only the compact width, a lower bound).
 */
void
VaeCheckMemoryBudget(const VcOptions *options, int64 k, int dim, const VaeRowBuffer *b,
					 double extra)
{
	VcOptions	opt = *options;
	char		msg[VC_ERRMSG_LEN];
	double		budget = (double) vae_max_train_memory * 1024.0,
				rows,
				workspace,
				model,
				per_row,
				base,
				fixed;
	int64		n = Max(b->n_rows, VC_MIN_ROWS);

	if (vae_max_train_memory <= 0)
		return;
	if (vc_options_resolve(&opt, n, dim, msg) != VC_OK)
		return;					/* training reports a bad option itself */
	/* training sees at most k of the rows the buffer holds */
	if (k > 0)
		n = Max(Min(n, k), VC_MIN_ROWS);
	/* what the buffer has allocated: chunk 0 grows by doubling, the rest are full */
	rows = (double) b->rec_size *
		(double) (b->n_chunks <= 1 ? b->first_cap : (int64) b->n_chunks * b->rows_per_chunk) +
		extra;
	workspace = (double) vc_train_workspace_bytes(&opt, dim, n);
	/* an ensemble trains each member on its own copy of the rows (vae_ensemble.c) */
	if (opt.ensemble > 1)
		workspace += (double) n * (sizeof(VcRowRef) + sizeof(float) * (double) b->dim);
	model = (double) vc_model_size_bound(&opt, dim, NULL, n);
	if (rows + workspace + model <= budget)
		return;
	base = (double) vc_train_workspace_bytes(&opt, dim, 0);	/* without the rows */
	fixed = base + model + extra;
	per_row = (double) b->rec_size + (workspace - base) / n;
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("vae_train would need about %s of memory after %lld rows, more than "
					"vae.max_train_memory (%s)",
					FormatBytes(rows + workspace + model), (long long) b->n_rows,
					FormatBytes(budget)),
			 errdetail("The rows take %s, training's workspace %s and the model %s.",
					   FormatBytes(rows), FormatBytes(workspace), FormatBytes(model)),
			 fixed < budget && opt.max_rows == 0 ?
			 errhint("Set the option max_rows to train on a seeded sample (about %lld rows "
					 "fit), or raise vae.max_train_memory.",
					 (long long) Max((budget - fixed) / per_row / 2, VC_MIN_ROWS)) :
			 errhint("Use a smaller network, batch_size or max_rows, or raise "
					 "vae.max_train_memory.")));
}

/*
 * The largest bottom-k sample of rows of dim floats that fits
 * vae.max_train_memory (0: no budget, or the options ask for max_rows,
 * which the budget check then holds to): the buffer holds up to 2k records
 * before it trims to k, training's workspace grows with k, the model is
 * bounded at its largest score sample.  It depends only on the setting, the
 * options and dim, never on the scan, so the sample is deterministic; when
 * the rows turn out to fit, all are trained on.  At least VC_MIN_ROWS: a
 * network that does not fit at all is the budget check's ERROR.
 */
int64
VaeBudgetSampleSize(const VcOptions *options, int dim)
{
	VcOptions	opt = *options;
	char		msg[VC_ERRMSG_LEN];
	const int64 ref = 1 << 20;
	double		budget = (double) vae_max_train_memory * 1024.0,
				rec = (double) MAXALIGN(sizeof(uint64) + sizeof(float) * dim),
				base,
				per_row,
				model;

	if (vae_max_train_memory <= 0 || opt.max_rows > 0)
		return 0;
	if (vc_options_resolve(&opt, VC_MAX_SCORE_SAMPLE, dim, msg) != VC_OK)
		return 0;				/* training reports a bad option itself */
	base = (double) vc_train_workspace_bytes(&opt, dim, 0);
	per_row = 2 * rec + ((double) vc_train_workspace_bytes(&opt, dim, ref) - base) / ref;
	model = (double) vc_model_size_bound(&opt, dim, NULL, VC_MAX_SCORE_SAMPLE);
	return (int64) Max((budget - base - model) / per_row, VC_MIN_ROWS);
}

/*
 * Train on the budget's sample when the rows did not fit (*opt's max_rows
 * set to k, so the model is the one max_rows = k trains), with a NOTICE
 * saying so and how to change it; rows_in: the rows the aggregate took.
 */
void
VaeUseBudgetSample(VcOptions *opt, int64 k, int64 rows_in)
{
	if (k <= 0 || opt->max_rows > 0 || rows_in <= k)
		return;
	opt->max_rows = k;
	ereport(NOTICE,
			(errmsg("vae_train is training on a sample of %lld of the %lld rows: all of them "
					"would not fit vae.max_train_memory (%s)", (long long) k,
					(long long) rows_in, FormatBytes((double) vae_max_train_memory * 1024.0)),
			 errdetail("The sample is the bottom-k by the seeded row hash, the rows the option "
					   "max_rows = %lld keeps.", (long long) k),
			 errhint("Raise vae.max_train_memory to train on more rows, or set the option "
					 "max_rows to choose the sample size.")));
}

/*
 * Whether two rows' options are the same jsonb, byte for byte (both NULL
 * counts as the same)
 */
static bool
SameOptions(const Jsonb *a, const Jsonb *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return VARSIZE(a) == VARSIZE(b) && memcmp(a, b, VARSIZE(a)) == 0;
}

/* every row of one aggregate must come with the same options */
void
VaeCheckSameOptions(const Jsonb *a, const Jsonb *b)
{
	if (!SameOptions(a, b))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("vae_train options must be the same for every row")));
}

/*
 * Append one row's features array to st (NULL: create the state in cxt,
 * checking the limits) as a record with its seeded hash, trimming to the
 * bottom-k when max_rows or the memory budget asks for a sample.  Returns
 * the state.
 */
static VaeTrainState *
AddArrayRow(MemoryContext cxt, VaeTrainState *st, ArrayType *arr, Jsonb *options)
{
	char	   *rec;
	float	   *row;
	uint64		hash;
	int			dim = VaeArrayDim(arr, "features");

	if (st == NULL)
	{
		st = CreateState(cxt, dim, options);
		VaeCheckTrainingLimits(&st->opt, st->dim, NULL, VC_MAX_SCORE_SAMPLE);
	}
	else
		VaeCheckSameOptions(st->options, options);
	st->seen++;
	if (dim != st->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("vae_train rows must all have the same number of features"),
				 errdetail("Row %lld has %d features, but the first row had %d.",
						   (long long) st->seen, dim, st->dim)));

	/* a bad element raises an ERROR, which ends the whole aggregation */
	rec = VaeBufferAppend(cxt, &st->buf);
	row = (float *) (rec + sizeof(uint64));
	VaeArrayToFloats(arr, "features", row, dim);
	hash = vc_hash_row(row, dim, st->opt.seed);
	memcpy(rec, &hash, sizeof(hash));
	st->rows_in++;
	VaeBufferCompact(cxt, &st->buf, st->k);
	if (VaeBudgetCheckDue(&st->buf))
		VaeCheckMemoryBudget(&st->opt, st->k, st->dim, &st->buf, 0);
	return st;
}

/*
 * Transition: append the features array of one row (NULL rows skipped) to
 * the state; the first row creates the state and checks the limits.
 */
Datum
vae_train_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx;
	VaeTrainState *st;

	if (!AggCheckCallContext(fcinfo, &aggctx))
		elog(ERROR, "vae_train_trans called in non-aggregate context");
	st = PG_ARGISNULL(0) ? NULL : (VaeTrainState *) PG_GETARG_POINTER(0);

	/* NULL rows are skipped, as every built-in aggregate does */
	if (PG_ARGISNULL(1))
	{
		if (st == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st);
	}
	st = AddArrayRow(aggctx, st, PG_GETARG_ARRAYTYPE_P(1),
					 (PG_NARGS() > 2 && !PG_ARGISNULL(2)) ? PG_GETARG_JSONB_P(2) : NULL);
	PG_RETURN_POINTER(st);
}

/* append src's records to dst, then trim dst to its max_rows sample */
static void
AppendRecords(MemoryContext aggctx, VaeTrainState *dst, VaeTrainState *src)
{
	int64		i;

	for (i = 0; i < src->buf.n_rows; i++)
	{
		memcpy(VaeBufferAppend(aggctx, &dst->buf), VaeBufferRecord(&src->buf, i),
			   dst->buf.rec_size);
		if ((i & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	dst->seen += src->seen;
	dst->rows_in += src->rows_in;
	VaeBufferCompact(aggctx, &dst->buf, dst->k);
}

/* two partial states must have the same options and number of features */
static void
CheckSameShape(const VaeTrainState *a, const VaeTrainState *b)
{
	VaeCheckSameOptions(a->options, b->options);
	if (a->dim != b->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("vae_train rows must all have the same number of features"),
				 errdetail("Some rows have %d features and others %d.", a->dim, b->dim)));
}

/*
 * Combine: append the second partial state's records to the first, after
 * checking that both have the same options and number of features.
 */
Datum
vae_train_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx;
	VaeTrainState *s1,
			   *s2;

	if (!AggCheckCallContext(fcinfo, &aggctx))
		elog(ERROR, "vae_train_combine called in non-aggregate context");
	s1 = PG_ARGISNULL(0) ? NULL : (VaeTrainState *) PG_GETARG_POINTER(0);
	s2 = PG_ARGISNULL(1) ? NULL : (VaeTrainState *) PG_GETARG_POINTER(1);
	if (s2 == NULL)
	{
		if (s1 == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(s1);
	}
	/*
	 * A deserialized partial state is used by this call only, so the first
	 * one is adopted as it is and later ones are freed once appended: the
	 * leader then holds the rows about once, not once per copy.
	 */
	if (s1 == NULL && s2->transient)
	{
		s2->transient = false;
		PG_RETURN_POINTER(s2);
	}
	if (s1 == NULL)
		s1 = CreateState(aggctx, s2->dim, s2->options);
	else
		CheckSameShape(s1, s2);
	AppendRecords(aggctx, s1, s2);
	if (s2->transient)
		VaeBufferFree(&s2->buf);
	PG_RETURN_POINTER(s1);
}

/*
 * serialized: int32 dim | int64 n_rows | int64 seen | int32 options length
 * | options | int64 rows_in | records
 */
#define SER_HEADER (sizeof(int32) + 2 * sizeof(int64) + sizeof(int32))

/* Serialize a partial state for a parallel worker, in the layout of SER_HEADER's comment */
Datum
vae_train_serialize(PG_FUNCTION_ARGS)
{
	VaeTrainState *st;
	int32		opt_len;
	Size		total;
	bytea	   *out;
	char	   *p;
	int64		i;

	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "vae_train_serialize called in non-aggregate context");
	st = (VaeTrainState *) PG_GETARG_POINTER(0);
	opt_len = st->options ? VARSIZE(st->options) : 0;
	total = VARHDRSZ + SER_HEADER + opt_len + sizeof(int64) +
		(Size) st->buf.n_rows * st->buf.rec_size;
	if ((Size) st->buf.n_rows > (MaxAllocSize / st->buf.rec_size) || !AllocSizeIsValid(total))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("vae_train state of a parallel worker exceeds 1 GB (%lld rows)",
						(long long) st->buf.n_rows),
				 errhint("Set the max_rows option, or SET max_parallel_workers_per_gather = 0.")));
	out = palloc(total);
	SET_VARSIZE(out, total);
	p = VARDATA(out);
	memcpy(p, &st->dim, sizeof(int32));
	p += sizeof(int32);
	memcpy(p, &st->buf.n_rows, sizeof(int64));
	p += sizeof(int64);
	memcpy(p, &st->seen, sizeof(int64));
	p += sizeof(int64);
	memcpy(p, &opt_len, sizeof(int32));
	p += sizeof(int32);
	if (opt_len)
		memcpy(p, st->options, opt_len);
	p += opt_len;
	memcpy(p, &st->rows_in, sizeof(int64));
	p += sizeof(int64);
	for (i = 0; i < st->buf.n_rows; i++, p += st->buf.rec_size)
	{
		memcpy(p, VaeBufferRecord(&st->buf, i), st->buf.rec_size);
		if ((i & 65535) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	PG_RETURN_BYTEA_P(out);
}

/*
 * Deserialize a partial state, checking its sizes; the state is marked
 * transient for combine
 */
Datum
vae_train_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx;
	bytea	   *in;
	const char *p;
	Size		len;
	int32		dim,
				opt_len;
	int64		n_rows,
				seen,
				i;
	VaeTrainState *st;

	if (!AggCheckCallContext(fcinfo, &aggctx))
		elog(ERROR, "vae_train_deserialize called in non-aggregate context");
	in = PG_GETARG_BYTEA_PP(0);
	p = VARDATA_ANY(in);
	len = VARSIZE_ANY_EXHDR(in);
	if (len < SER_HEADER)
		elog(ERROR, "vae_train state is truncated");
	memcpy(&dim, p, sizeof(int32));
	memcpy(&n_rows, p + sizeof(int32), sizeof(int64));
	memcpy(&seen, p + sizeof(int32) + sizeof(int64), sizeof(int64));
	memcpy(&opt_len, p + sizeof(int32) + 2 * sizeof(int64), sizeof(int32));
	p += SER_HEADER;
	len -= SER_HEADER;
	if (dim < 1 || dim > VC_MAX_INPUT_DIM || n_rows < 0 || opt_len < 0 || (Size) opt_len > len ||
		(opt_len > 0 && (opt_len < VARHDRSZ || VARSIZE(p) != (Size) opt_len)))
		elog(ERROR, "vae_train state is inconsistent");
	{
		Jsonb	   *options = NULL;

		if (opt_len > 0)
		{
			options = palloc(opt_len);
			memcpy(options, p, opt_len);
		}
		st = CreateState(aggctx, dim, options);
	}
	p += opt_len;
	len -= opt_len;
	if (len < sizeof(int64))
		elog(ERROR, "vae_train state is truncated");
	memcpy(&st->rows_in, p, sizeof(int64));
	p += sizeof(int64);
	len -= sizeof(int64);
	if ((Size) n_rows != len / st->buf.rec_size || len % st->buf.rec_size != 0)
		elog(ERROR, "vae_train state is inconsistent");
	for (i = 0; i < n_rows; i++, p += st->buf.rec_size)
	{
		memcpy(VaeBufferAppend(aggctx, &st->buf), p, st->buf.rec_size);
		if ((i & 65535) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	st->seen = seen;
	st->transient = true;
	PG_RETURN_POINTER(st);
}

/* ---- final: train ---- */

static const float *
StateRow(void *arg, int64 i)
{
	return (const float *) (VaeBufferRecord(&((VaeTrainState *) arg)->buf, i) + sizeof(uint64));
}

/*
 * Train on the GPU worker when the device option asks for it and one is
 * configured.  Returns the model, or NULL when the CPU should train: device
 * 'cpu', 'auto' with no worker configured (silently), or 'auto' with a
 * worker that failed (with a NOTICE saying why).  The rows are only read
 * here, so they are intact for the CPU after a failure.
 */
static VcModel *
TrainOnWorker(const VcOptions *opt, VaeGpuRowFn row, void *row_arg, int64 n_rows, int dim,
			  const VcCallbacks *cb)
{
	const char *target;
	VcModel    *model;
	VcStatus	status;
	bool		worker_failed;
	char		msg[VC_ERRMSG_LEN];

	if (opt->device == VC_DEVICE_CPU)
		return NULL;
	target = VaeGpuWorkerTarget();
	if (target == NULL)
	{
		if (opt->device == VC_DEVICE_GPU)
			ereport(ERROR,
					(errcode(ERRCODE_SYSTEM_ERROR),
					 errmsg("vae_train option \"device\" = 'gpu' needs a GPU worker, and none is configured"),
					 errhint("Set vae.gpu_worker to the socket path or host:port of a running vae_gpud, "
							 "or turn on vae.gpu_worker_autostart; or use device 'auto' or 'cpu'.")));
		return NULL;
	}

	status = VaeGpuTrain(target, row, row_arg, n_rows, dim, opt, cb, &model, msg,
						 &worker_failed);
	if (status == VC_OK)
	{
		VcOptions	resolved = *opt;

		/*
		 * The TRAIN header does not carry the scoring method: set the one
		 * the options resolve to here (a worker of an older build writes
		 * recon_prob models).  The options resolved for the worker, so
		 * they resolve again.
		 */
		if (vc_options_resolve(&resolved, n_rows, dim, msg) == VC_OK)
			model->opt.method = resolved.method;
		return model;
	}
	if (!worker_failed)
		VaeReportStatus(status, msg);
	if (opt->device == VC_DEVICE_GPU)
		ereport(ERROR,
				(errcode(status == VC_EDEVICE ? ERRCODE_SYSTEM_ERROR :
						 status == VC_ENOMEM ? ERRCODE_OUT_OF_MEMORY :
						 ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("vae_train could not train on the GPU worker: %s", msg),
				 errdetail("vae.gpu_worker is \"%s\".", VaeEchoText(target, strlen(target))),
				 errhint("Check that vae_gpud is running there and that vae.gpu_worker (and, over TCP, "
						 "vae.gpu_secret) match it, or use device 'auto' to fall back to the CPU.")));
	ereport(NOTICE,
			(errmsg("vae_train is training on the CPU: the GPU worker failed: %s", msg),
			 errdetail("vae.gpu_worker is \"%s\".", VaeEchoText(target, strlen(target)))));
	return NULL;
}

/* row i of an array of refs (an ensemble member's rows, for the worker) */
static const float *
RefRow(void *arg, int64 i)
{
	return ((const VcRowRef *) arg)[i].row;
}

/*
 * One ensemble member of an array model: on the worker as a single model
 * would be, else on the CPU.  Once a member fell back to the CPU (device
 * 'auto' without a working worker) the rest train there too, without asking
 * the worker again (one NOTICE, not one per member).
 */
static VcModel *
TrainMember(void *arg, VcRowRef *refs, int64 n, const VcOptions *opt)
{
	VaeTrainState *st = arg;
	VcModel    *model = NULL;
	char		msg[VC_ERRMSG_LEN];

	if (!st->cpu_only)
		model = TrainOnWorker(opt, RefRow, refs, n, st->dim, &vae_train_callbacks);
	if (model == NULL)
	{
		st->cpu_only = true;
		VaeCheckStatus(vc_train(refs, n, st->dim, opt, &vae_train_callbacks, &model, msg), msg);
	}
	return model;
}

/*
 * Train on st's rows (on the GPU worker when the device option and the
 * configuration allow, else on the CPU) and return the model as a bytea in
 * st's context, kept in the state so that a second call returns the same one.
 * An ensemble trains its members one by one (vae_ensemble.c), each the model
 * vae_train trains with the member's seed.
 */
static bytea *
TrainArrays(VaeTrainState *st)
{
	MemoryContext train_ctx,
				old;
	VcRowRef   *refs;
	VcModel    *model = NULL;
	char		msg[VC_ERRMSG_LEN];
	VcStatus	status;

	VaeCheckHasRows(st ? &st->buf : NULL);

	/*
	 * Training sorts and normalizes the rows in place, so a second call on
	 * the same state (a re-scanned hash aggregate) must return the model the
	 * first call trained rather than train again.
	 */
	if (st->result)
		return st->result;
	/* a state combined from parts: this server's budget holds too */
	if (st->opt.max_rows == 0)
		st->k = VaeMinSample(st->k, VaeBudgetSampleSize(&st->opt, st->dim));
	VaeUseBudgetSample(&st->opt, st->k, st->rows_in);
	VaeCheckTrainingLimits(&st->opt, st->dim, NULL, st->buf.n_rows);

	/*
	 * Everything the core allocates lives in this context: an ERROR or a
	 * cancel anywhere in training releases it with the context.
	 */
	train_ctx = AllocSetContextCreate(CurrentMemoryContext, "vae_train",
									  ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(train_ctx);
	if (VaeEnsembleSize(&st->opt, st->buf.n_rows, st->dim) > 1)
		model = VaeTrainEnsemble(VaeBufferRefs(&st->buf), st->buf.n_rows, st->dim, st->dim,
								 &st->opt, true, TrainMember, st);
	else
		model = TrainOnWorker(&st->opt, StateRow, st, st->buf.n_rows, st->dim,
							  &vae_train_callbacks);
	if (model == NULL)
	{
		refs = VaeBufferRefs(&st->buf);
		status = vc_train(refs, st->buf.n_rows, st->dim, &st->opt, &vae_train_callbacks,
						  &model, msg);
		if (status != VC_OK)
			VaeReportStatus(status, msg);
	}
	MemoryContextSwitchTo(old);

	st->result = VaeModelToBytea(model, GetMemoryChunkContext(st));
	MemoryContextDelete(train_ctx);
	return st->result;
}

/* Final: train (TrainArrays) */
Datum
vae_train_final(PG_FUNCTION_ARGS)
{
	if (!AggCheckCallContext(fcinfo, NULL))
		elog(ERROR, "vae_train_final called in non-aggregate context");
	PG_RETURN_BYTEA_P(TrainArrays(PG_ARGISNULL(0) ? NULL :
								  (VaeTrainState *) PG_GETARG_POINTER(0)));
}

/* a final function's state must hold rows (NULL: no row came) */
void
VaeCheckHasRows(const VaeRowBuffer *b)
{
	if (b == NULL || b->n_rows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("vae_train needs at least %d rows, got none", VC_MIN_ROWS),
				 errdetail("NULL rows are skipped.")));
}

/* the serialized model as a bytea allocated in cxt (it outlives the training context) */
bytea *
VaeModelToBytea(const VcModel *model, MemoryContext cxt)
{
	Size		size = vc_model_serialized_size(model);
	bytea	   *out;

	if (!AllocSizeIsValid(size + VARHDRSZ))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("the trained model would take %zu bytes, more than a bytea can hold", size),
				 errhint("Use fewer or smaller hidden layers.")));
	out = MemoryContextAllocHuge(cxt, size + VARHDRSZ);
	SET_VARSIZE(out, size + VARHDRSZ);
	vc_model_serialize(model, (uint8_t *) VARDATA(out));
	return out;
}

/* ---- shipping: the state as vae_train_state (docs/scale-out.md) ---- */

PG_FUNCTION_INFO_V1(vae_train_arrays_trans);
PG_FUNCTION_INFO_V1(vae_features);
PG_FUNCTION_INFO_V1(vae_features_in);
PG_FUNCTION_INFO_V1(vae_features_out);

static void SerializeArrays(void *state, StringInfo buf);
static void *DeserializeArrays(MemoryContext cxt, const char *p, Size len);
static int64 ArraysRows(const void *state);
static void ArraysCopy(VaeState *dst, void *src);
static void ArraysMerge(VaeState *dst, void *src);
static const VaeStateOps vae_arrays_state_ops = {VAE_STATE_ARRAYS, SerializeArrays,
DeserializeArrays, ArraysRows, ArraysCopy, ArraysMerge};

#define PUT(buf, v) appendBinaryStringInfo((buf), (const char *) &(v), sizeof(v))
#define GET(r, v) VaeStateRead((r), &(v), sizeof(v))

/*
 * The payload of an array aggregate's state: the options (as JSON text),
 * the counters, dim, then the sample's rows as (hash, dim floats), unpadded;
 * a sample travels as its k rows.
 */
static void
SerializeArrays(void *state, StringInfo buf)
{
	VaeTrainState *st = state;
	char	   *o = st->options ?
		DatumGetCString(DirectFunctionCall1(jsonb_out, PointerGetDatum(st->options))) : NULL;
	int32		dim = st->dim;
	int64		i;

	VaeBufferTrim(GetMemoryChunkContext(st), &st->buf, st->k);
	VaeStateWriteString(buf, o, o ? strlen(o) : 0);
	PUT(buf, st->seen);
	PUT(buf, st->rows_in);
	PUT(buf, st->k);
	PUT(buf, dim);
	PUT(buf, st->buf.n_rows);
	for (i = 0; i < st->buf.n_rows; i++)
	{
		appendBinaryStringInfo(buf, VaeBufferRecord(&st->buf, i),
							   sizeof(uint64) + sizeof(float) * dim);
		if ((i & 65535) == 0)
			CHECK_FOR_INTERRUPTS();
	}
}

/* a state from a payload (in cxt, the current context), every size checked */
static void *
DeserializeArrays(MemoryContext cxt, const char *p, Size len)
{
	VaeStateReader r = {p, len, 0};
	char	   *o = VaeStateReadString(&r);
	Jsonb	   *options = o ? DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(o))) : NULL;
	int64		seen,
				rows_in,
				k,
				n_rows,
				i;
	int32		dim;
	Size		rec;
	VaeTrainState *st;

	GET(&r, seen);
	GET(&r, rows_in);
	GET(&r, k);
	GET(&r, dim);
	GET(&r, n_rows);
	VaeStateCheck(seen >= 0 && rows_in >= 0 && k >= 0 && n_rows >= 0 &&
				  dim >= 1 && dim <= VC_MAX_INPUT_DIM, "counters");
	rec = sizeof(uint64) + sizeof(float) * dim;
	VaeStateCheck((Size) n_rows == (len - r.pos) / rec && (len - r.pos) % rec == 0,
				  "row count");
	st = CreateState(cxt, dim, options);
	st->seen = seen;
	st->rows_in = rows_in;
	st->k = k;
	for (i = 0; i < n_rows; i++)
	{
		VaeStateRead(&r, VaeBufferAppend(cxt, &st->buf), rec);
		if ((i & 65535) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	return st;
}

/*
 * Transition of vae_train(vae_features(f)) and vae_sample(vae_features(f)):
 * as vae_train_trans, with the state an expanded vae_train_state updated in
 * place.
 */
Datum
vae_train_arrays_trans(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx;
	VaeState   *vs;

	if (!AggCheckCallContext(fcinfo, &aggctx))
		elog(ERROR, "vae_train_arrays_trans called in non-aggregate context");
	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	vs = VaeStateForUpdate(fcinfo, 0, aggctx, &vae_arrays_state_ops);
	if (vs == NULL)
		vs = VaeStateCreate(aggctx, &vae_arrays_state_ops);
	vs->state = AddArrayRow(vs->hdr.eoh_context, vs->state, PG_GETARG_ARRAYTYPE_P(1),
							(PG_NARGS() > 2 && !PG_ARGISNULL(2)) ? PG_GETARG_JSONB_P(2) : NULL);
	PG_RETURN_DATUM(VaeStateDatum(vs));
}

/* the rows an array state holds */
static int64
ArraysRows(const void *state)
{
	return ((const VaeTrainState *) state)->buf.n_rows;
}

/* array state src's rows appended to dst's (same options and width), the smaller k kept */
static void
ArraysMerge(VaeState *dst, void *src)
{
	VaeTrainState *d = dst->state,
			   *s = src;

	CheckSameShape(d, s);
	d->k = VaeMinSample(d->k, s->k);
	AppendRecords(dst->hdr.eoh_context, d, s);
}

/* dst an empty array state of src's options, width and k, then src's rows merged in */
static void
ArraysCopy(VaeState *dst, void *src)
{
	VaeTrainState *s = src;

	dst->state = CreateState(dst->hdr.eoh_context, s->dim, s->options);
	((VaeTrainState *) dst->state)->k = s->k;
	ArraysMerge(dst, src);
}

/* combine two array states (vae_train_state_combine dispatches here) */
Datum
VaeArraysCombine(FunctionCallInfo fcinfo, MemoryContext aggctx)
{
	return VaeStateCombine(fcinfo, aggctx, &vae_arrays_state_ops);
}

/* train from an array state (vae_train_state_final dispatches here) */
Datum
VaeArraysFinal(FunctionCallInfo fcinfo, MemoryContext aggctx)
{
	VaeState   *vs = VaeStateForUpdate(fcinfo, 0, aggctx, &vae_arrays_state_ops);

	PG_RETURN_BYTEA_P(TrainArrays(vs ? (VaeTrainState *) vs->state : NULL));
}

/*
 * vae_features(f): the array itself, typed vae_features, for the reason
 * vae_row exists (vae_agg_rows.c): Citus needs an argument type that is the
 * same on every shard, which anyarray is not.  Made only by this function.
 */
Datum
vae_features(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(PointerGetDatum(PG_GETARG_ARRAYTYPE_P(0)));
}

Datum
vae_features_in(PG_FUNCTION_ARGS)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("vae_features values cannot be entered as text"),
			 errhint("Use vae_features(f) on an array.")));
	PG_RETURN_NULL();
}

/* the array's text, as array_out writes it */
Datum
vae_features_out(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(OidFunctionCall1(F_ARRAY_OUT, PointerGetDatum(PG_GETARG_ARRAYTYPE_P(0))));
}
