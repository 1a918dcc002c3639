/*
 * vae_detect_srf.c - vae_detect(model, source regclass | query text
 * [, contamination [, anomalies_only [, top_columns [, method]]]]):
 * detection over a whole relation or query, the rows read by the function
 * itself.
 *
 * The rows come through SPI from a read-only cursor, DETECT_FETCH_ROWS at a
 * time; each fetch is read into raw rows and scored by the core's batched
 * scorer (vc_score_batch: one GEMM per layer over a block of rows), then
 * put into the result's tuplestore.  A fetch's memory is reset after it and
 * interrupts are checked at every fetch and block.  Every error raised while
 * a row is read, scored or explained names the row (its position in the
 * source) in its context.
 *
 * A row's score is the one vae_score and the per-row vae_detect give it
 * with the same method, bit for bit wherever the BLAS computes a row of a
 * product the same at any row count (docs/scoring.md, test/unit/test_batch.c).  Explaining a row
 * costs a decoder pass and a jsonb: top and row_data are given for the
 * anomalies only, NULL for the other rows.
 */
#include "vae_detect.h"
#include "vae_rows.h"

#include <ctype.h>
#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/tuplestore.h"

PG_FUNCTION_INFO_V1(vae_detect_source);

/* rows per cursor fetch */
#define DETECT_FETCH_ROWS 1024

/* the result's columns, in order */
enum
{
	COL_ROW_NUMBER,
	COL_SCORE,
	COL_THRESHOLD,
	COL_IS_ANOMALY,
	COL_PERCENTILE,
	COL_TOP,
	COL_ROW_DATA,
	N_COLS
};

typedef struct DetectRun
{
	VaeModelCache *c;
	const VcModel *m;
	VcBatch    *batch;
	int			method;			/* VC_METHOD_* */
	double		threshold;
	bool		anomalies_only;
	int			top;
	const char *what;			/* the source, for messages */
	int64		row;			/* 1-based position of the row at hand, 0: none */
	/* how rows are read, decided at the first fetch */
	bool		reader_ready;
	VaeRowMap  *map;			/* row models */
	int			features_attno; /* array models: 1-based */
	TupleDesc	row_desc;		/* the cursor's row type, blessed, for row_data */
	float	   *raw;			/* [DETECT_FETCH_ROWS x n_cols] */
	bool	   *isnull;			/* [DETECT_FETCH_ROWS] array models: features NULL */
	int		   *order;			/* the non-NULL rows of a fetch */
	float	   *block;			/* [block rows x n_cols] */
	double	   *scores;			/* [block rows x VC_N_METHODS] */
	double	   *fetch_scores;	/* [DETECT_FETCH_ROWS] */
} DetectRun;

/* error context: the row being read, scored or explained */
static void
DetectErrorContext(void *arg)
{
	DetectRun  *run = arg;

	if (run->row > 0)
		errcontext("vae_detect, row %lld of %s", (long long) run->row, run->what);
}

/*
 * The query that reads source: SELECT * FROM the relation; a text that is a
 * name (no white space, no parenthesis) names a relation as well, so that
 * vae_detect(model, 'traffic') does what it says; any other text is the
 * query itself.  *what: the source in messages.
 */
static char *
SourceQuery(FunctionCallInfo fcinfo, const char **what)
{
	Oid			relid;
	char	   *name;

	if (get_fn_expr_argtype(fcinfo->flinfo, 1) == REGCLASSOID)
		relid = PG_GETARG_OID(1);
	else
	{
		char	   *q = text_to_cstring(PG_GETARG_TEXT_PP(1));
		const char *p;

		for (p = q; *p && !isspace((unsigned char) *p) && *p != '('; p++)
			;
		if (*p || !*q)
		{
			*what = "the query";
			return q;
		}
		relid = DatumGetObjectId(DirectFunctionCall1(regclassin, CStringGetDatum(q)));
	}
	name = get_rel_name(relid);
	if (name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	name = quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)), name);
	*what = psprintf("relation %s", name);
	return psprintf("SELECT * FROM %s", name);
}

/*
 * An array model's features: the column named "features", else the one
 * column of an array type; ERROR 42703 when there is none or no one
 */
static int
FeaturesColumn(TupleDesc td)
{
	int			i,
				found = 0,
				n = 0;

	if ((i = VaeFindAttribute(td, "features")) >= 0)
		return i + 1;
	for (i = 0; i < td->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(td, i);

		if (!att->attisdropped && type_is_array(att->atttypid))
		{
			found = i + 1;
			n++;
		}
	}
	if (n != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("this model was trained on feature arrays, and the rows have %s",
						n == 0 ? "no array column" : "several array columns"),
				 errhint("Name the features column \"features\" (SELECT f AS features, ...); "
						 "the rows have: %s.", VaeAttributeList(td))));
	return found;
}

/* the reading of rows of the cursor's type, and the buffers: once, at the first fetch */
static void
ReaderInit(DetectRun *run, TupleDesc td, MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	int			w = run->m->n_cols,
				br = vc_batch_rows(run->batch);

	run->row_desc = BlessTupleDesc(CreateTupleDescCopy(td));
	if (run->m->schema)
		run->map = VaeBuildRowMap(run->m->schema, td, RECORDOID, -1, cxt);
	else
		run->features_attno = FeaturesColumn(td);
	run->raw = palloc(sizeof(float) * DETECT_FETCH_ROWS * w);
	run->isnull = palloc(sizeof(bool) * DETECT_FETCH_ROWS);
	run->order = palloc(sizeof(int) * DETECT_FETCH_ROWS);
	run->block = palloc(sizeof(float) * br * w);
	run->scores = palloc(sizeof(double) * br * VC_N_METHODS);
	run->fetch_scores = palloc(sizeof(double) * DETECT_FETCH_ROWS);
	run->reader_ready = true;
	MemoryContextSwitchTo(old);
}

/* row i of a fetch into run->raw (errors name the row through the context) */
static void
ReadRow(DetectRun *run, HeapTuple tuple, TupleDesc td, int i)
{
	float	   *x = run->raw + (size_t) i * run->m->n_cols;

	run->isnull[i] = false;
	if (run->m->schema)
	{
		VaeReadTuple(run->map, run->m->schema, tuple, x, NULL);
		return;
	}
	else
	{
		bool		null;
		Datum		d = SPI_getbinval(tuple, td, run->features_attno, &null);

		if (null)
		{
			run->isnull[i] = true;
			return;
		}
		VaeArrayFeatures(run->m, DatumGetArrayTypeP(d), x);
	}
}

/* the scores of the fetch's non-NULL rows, block by block, into run->fetch_scores */
static void
ScoreFetch(DetectRun *run, int64 first, int n)
{
	int			w = run->m->n_cols,
				br = vc_batch_rows(run->batch),
				n_rows = 0,
				at,
				i;
	char		msg[VC_ERRMSG_LEN];

	for (i = 0; i < n; i++)
		if (!run->isnull[i])
			run->order[n_rows++] = i;
	for (at = 0; at < n_rows; at += br)
	{
		int			nb = n_rows - at < br ? n_rows - at : br,
					bad;
		VcStatus	st;

		CHECK_FOR_INTERRUPTS();
		for (i = 0; i < nb; i++)
			memcpy(run->block + (size_t) i * w, run->raw + (size_t) run->order[at + i] * w,
				   sizeof(float) * w);
		st = vc_score_batch(run->m, run->batch, run->block, nb, 1u << run->method,
							run->scores, &bad, msg);
		if (st != VC_OK)
		{
			run->row = bad >= 0 ? first + run->order[at + bad] : 0;
			VaeReportStatus(st, msg);
		}
		for (i = 0; i < nb; i++)
			run->fetch_scores[run->order[at + i]] =
				run->scores[(size_t) i * VC_N_METHODS + run->method];
	}
}

/* a row of the cursor as jsonb: row_to_json's text, read as jsonb */
static Datum
RowJsonb(DetectRun *run, HeapTuple tuple)
{
	Datum		rec = heap_copy_tuple_as_datum(tuple, run->row_desc);
	Datum		json = DirectFunctionCall1(row_to_json, rec);

	return DirectFunctionCall1(jsonb_in, CStringGetDatum(TextDatumGetCString(json)));
}

/* the result rows of a fetch: every row, or the anomalies only */
static void
EmitFetch(DetectRun *run, ReturnSetInfo *rsinfo, SPITupleTable *tt, int64 first, int n)
{
	char	  **texts = run->m->schema ? palloc(sizeof(char *) * run->m->n_cols) : NULL;
	float	   *x = palloc(sizeof(float) * run->m->n_cols);
	int			i;

	for (i = 0; i < n; i++)
	{
		Datum		v[N_COLS];
		bool		nulls[N_COLS];
		double		score = run->fetch_scores[i];
		bool		anomaly = !run->isnull[i] && score > run->threshold;

		if (run->anomalies_only && !anomaly)
			continue;
		memset(nulls, true, sizeof(nulls));
		v[COL_ROW_NUMBER] = Int64GetDatum(first + i);
		nulls[COL_ROW_NUMBER] = false;
		v[COL_THRESHOLD] = Float8GetDatum(run->threshold);
		nulls[COL_THRESHOLD] = isnan(run->threshold);
		if (!run->isnull[i])
		{
			double		pct = VaeDetectPercentile(run->m, run->method, score);

			v[COL_SCORE] = Float8GetDatum(score);
			nulls[COL_SCORE] = false;
			v[COL_IS_ANOMALY] = BoolGetDatum(anomaly);
			nulls[COL_IS_ANOMALY] = isnan(run->threshold);
			v[COL_PERCENTILE] = Float8GetDatum(pct);
			nulls[COL_PERCENTILE] = isnan(pct);
		}
		if (anomaly)
		{
			run->row = first + i;
			/* a row model's texts: read the row again, with them */
			if (run->m->schema)
				VaeReadTuple(run->map, run->m->schema, tt->vals[i], x, texts);
			else
				memcpy(x, run->raw + (size_t) i * run->m->n_cols, sizeof(float) * run->m->n_cols);
			v[COL_TOP] = VaeDetectTop(run->m, run->c->scratch, x, texts, run->top);
			nulls[COL_TOP] = false;
			v[COL_ROW_DATA] = RowJsonb(run, tt->vals[i]);
			nulls[COL_ROW_DATA] = false;
			run->row = 0;
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, v, nulls);
	}
}

/*
 * vae_detect(model, source regclass or query text, contamination,
 * anomalies_only, top_columns, method): one result row per source row (or
 * per anomaly), in the source's order.  Not STRICT, for the NULL
 * contamination (the automatic threshold); a NULL model, source or method
 * gives no rows.
 */
Datum
vae_detect_source(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	DetectRun	run;
	ErrorContextCallback errcb;
	MemoryContext fetch_cxt,
				run_cxt;
	SPIPlanPtr	plan;
	Portal		portal;
	char	   *query;
	int64		done = 0;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		return (Datum) 0;
	memset(&run, 0, sizeof(run));
	run.method = VaeDetectMethod(fcinfo, 5);
	run.c = VaeGetModel(fcinfo, 0);
	run.m = run.c->model;
	run.method = VaeMethodFor(run.m, run.method);
	run.threshold = VaeDetectThreshold(run.m, run.method, PG_ARGISNULL(2) ? 0.0 : PG_GETARG_FLOAT8(2),
									   PG_ARGISNULL(2));
	run.anomalies_only = !PG_ARGISNULL(3) && PG_GETARG_BOOL(3);
	run.top = VaeDetectTopCount(PG_ARGISNULL(4) ? 0 : PG_GETARG_INT32(4), PG_ARGISNULL(4));
	query = SourceQuery(fcinfo, &run.what);

	run_cxt = AllocSetContextCreate(CurrentMemoryContext, "vae_detect",
									ALLOCSET_DEFAULT_SIZES);
	fetch_cxt = AllocSetContextCreate(run_cxt, "vae_detect fetch", ALLOCSET_DEFAULT_SIZES);
	run.batch = vc_batch_create(run.m);
	if (run.batch == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));

	/*
	 * Pushed inside PG_TRY: PG_TRY saves error_context_stack and PG_END_TRY
	 * restores it, so a callback pushed before it would stay on the stack
	 * after we return, pointing into this dead frame (the next error in the
	 * statement, a statement_timeout say, called through it).
	 */
	PG_TRY();
	{
		errcb.callback = DetectErrorContext;
		errcb.arg = &run;
		errcb.previous = error_context_stack;
		error_context_stack = &errcb;
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		plan = SPI_prepare(query, 0, NULL);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		if (!SPI_is_cursor_plan(plan))
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("vae_detect needs a query that returns rows"),
					 errhint("Pass a SELECT, TABLE or VALUES query, or a relation.")));
		/* read-only: the caller's snapshot, and no data-modifying query */
		portal = SPI_cursor_open(NULL, plan, NULL, NULL, true);
		for (;;)
		{
			SPITupleTable *tt;
			MemoryContext old;
			int			n,
						i;

			CHECK_FOR_INTERRUPTS();
			SPI_cursor_fetch(portal, true, DETECT_FETCH_ROWS);
			tt = SPI_tuptable;
			n = (int) SPI_processed;
			if (n == 0)
				break;
			if (!run.reader_ready)
				ReaderInit(&run, tt->tupdesc, run_cxt);
			old = MemoryContextSwitchTo(fetch_cxt);
			for (i = 0; i < n; i++)
			{
				run.row = done + i + 1;
				ReadRow(&run, tt->vals[i], tt->tupdesc, i);
			}
			run.row = 0;
			ScoreFetch(&run, done + 1, n);
			EmitFetch(&run, rsinfo, tt, done + 1, n);
			MemoryContextSwitchTo(old);
			MemoryContextReset(fetch_cxt);
			SPI_freetuptable(tt);
			done += n;
		}
		SPI_cursor_close(portal);
		SPI_finish();
	}
	PG_FINALLY();
	{
		/* (PG_FINALLY has restored error_context_stack) */
		vc_batch_free(run.batch);
	}
	PG_END_TRY();
	MemoryContextDelete(run_cxt);
	return (Datum) 0;
}
