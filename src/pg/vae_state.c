/*
 * vae_state.c - vae_train_state, the SQL type of the shippable training
 * aggregates' state (docs/scale-out.md).
 *
 * Distributed engines split an aggregate into partial aggregates on the
 * shards and a combine on the coordinator only when its state is a real
 * type that travels between servers (Citus sends it through the type's text
 * output and input functions; postgres_fdw brings a whole aggregate's result
 * back as text too).  In memory the state is an expanded object
 * (utils/expandeddatum.h), as arrays are in array_append: the aggregate's own
 * C struct lives in the object's memory context, a child of the aggregate
 * context, and the transition function updates it in place and returns the
 * same read-write pointer, so nothing is copied per row.  Only when the
 * state leaves the aggregate (a partial result, a whole aggregate's value)
 * is it flattened, by the aggregate's serializer, into
 *
 *   varlena header | uint32 magic | uint16 format | uint16 kind | payload
 *
 * in the server's native byte order (the magic tells a node of the other
 * order, which is refused); the text form is that image in base64, the
 * binary form (send/recv) the image itself.  Input functions check only the
 * header: each aggregate validates the whole payload when it reads one, so a
 * damaged value is an ERROR, never a crash.
 */
#include "vae.h"

#include "common/base64.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#define VAE_STATE_MAGIC 0x53454156	/* "VAES" in little-endian memory */
#define VAE_STATE_FORMAT 1
#define VAE_STATE_HEADER (sizeof(uint32) + 2 * sizeof(uint16))

PG_FUNCTION_INFO_V1(vae_train_state_in);
PG_FUNCTION_INFO_V1(vae_train_state_out);
PG_FUNCTION_INFO_V1(vae_train_state_recv);
PG_FUNCTION_INFO_V1(vae_train_state_send);
PG_FUNCTION_INFO_V1(vae_train_state_combine);
PG_FUNCTION_INFO_V1(vae_train_state_final);

/* the flat image, serialized once and kept until the state changes */
static bytea *
Flatten(VaeState *s)
{
	if (s->flat == NULL)
	{
		StringInfoData buf;
		uint32		magic = VAE_STATE_MAGIC;
		uint16		format = VAE_STATE_FORMAT,
					kind = s->ops->kind;
		MemoryContext old = MemoryContextSwitchTo(s->hdr.eoh_context);

		initStringInfo(&buf);
		appendBinaryStringInfo(&buf, "    ", VARHDRSZ);
		appendBinaryStringInfo(&buf, (char *) &magic, sizeof(magic));
		appendBinaryStringInfo(&buf, (char *) &format, sizeof(format));
		appendBinaryStringInfo(&buf, (char *) &kind, sizeof(kind));
		s->ops->serialize(s->state, &buf);
		if (!AllocSizeIsValid(buf.len))
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("vae_train state exceeds 1 GB"),
					 errhint("Set the option max_rows so that each part sends a sample.")));
		SET_VARSIZE(buf.data, buf.len);
		s->flat = (bytea *) buf.data;
		MemoryContextSwitchTo(old);
	}
	return s->flat;
}

static Size
StateFlatSize(ExpandedObjectHeader *eoh)
{
	return VARSIZE(Flatten((VaeState *) eoh));
}

static void
StateFlattenInto(ExpandedObjectHeader *eoh, void *result, Size allocated_size)
{
	bytea	   *flat = Flatten((VaeState *) eoh);

	Assert(allocated_size == VARSIZE(flat));
	memcpy(result, flat, VARSIZE(flat));
}

static const ExpandedObjectMethods vae_state_methods = {
	StateFlatSize, StateFlattenInto
};

/*
 * A new, empty expanded state of the given kind, its memory context a child
 * of parent (the aggregate context, so that nodeAgg keeps the read-write
 * pointer instead of copying it); the caller builds its struct in
 * s->hdr.eoh_context and sets s->state.
 */
VaeState *
VaeStateCreate(MemoryContext parent, const VaeStateOps *ops)
{
	MemoryContext cxt = AllocSetContextCreate(parent, "vae_train state",
											  ALLOCSET_DEFAULT_SIZES);
	VaeState   *s = MemoryContextAllocZero(cxt, sizeof(VaeState));

	EOH_init_header(&s->hdr, &vae_state_methods, cxt);
	s->ops = ops;
	return s;
}

/* whether d is one of our expanded states (of either kind of pointer) */
static bool
IsExpandedState(Datum d)
{
	return VARATT_IS_EXTERNAL_EXPANDED(DatumGetPointer(d)) &&
		DatumGetEOHP(d)->eoh_methods == &vae_state_methods;
}

/* ERROR: a state of kind `have` where one of kind `want` was expected */
static void
KindMismatch(uint16 have, uint16 want)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATATYPE_MISMATCH),
			 errmsg("vae_train_state of an aggregate over %s where one over %s was expected",
					have == VAE_STATE_ROWS ? "rows" : "feature arrays",
					want == VAE_STATE_ROWS ? "rows" : "feature arrays"),
			 errhint("Combine the states of one aggregate: vae_sample(vae_row(t)) or "
					 "vae_sample(t) for rows, vae_sample(vae_features(f)) for arrays.")));
}

/*
 * The payload of a flat state of the expected kind (its header checked);
 * *len its length.  Detoasts (and flattens a foreign expanded object) in
 * the current context.
 */
const char *
VaeStatePayload(Datum d, uint16 kind, Size *len)
{
	bytea	   *b = DatumGetByteaPP(d);
	const char *p = VARDATA_ANY(b);
	Size		n = VARSIZE_ANY_EXHDR(b);
	uint32		magic;
	uint16		format,
				k;

	if (n < VAE_STATE_HEADER)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid vae_train_state: truncated")));
	memcpy(&magic, p, sizeof(magic));
	memcpy(&format, p + sizeof(magic), sizeof(format));
	memcpy(&k, p + sizeof(magic) + sizeof(format), sizeof(k));
	if (magic != VAE_STATE_MAGIC)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid vae_train_state: bad magic number"),
				 errdetail("States travel between servers of the same byte order only.")));
	if (format != VAE_STATE_FORMAT)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("vae_train_state of format %u, this server reads format %u",
						format, VAE_STATE_FORMAT),
				 errhint("Install the same version of vae on every node.")));
	if (kind != 0 && k != kind)
		KindMismatch(k, kind);
	*len = n - VAE_STATE_HEADER;
	return p + VAE_STATE_HEADER;
}

/*
 * The state of argument argno to update in place: NULL when the argument is
 * NULL; our read-write expanded state when that is what came; otherwise (a
 * flat value from a table or another server, or a read-only pointer) a new
 * expanded copy in aggctx, made by deserialize.
 */
VaeState *
VaeStateForUpdate(FunctionCallInfo fcinfo, int argno, MemoryContext aggctx,
				  const VaeStateOps *ops)
{
	Datum		d;
	Size		len;
	const char *p;
	MemoryContext old;
	VaeState   *s;

	if (PG_ARGISNULL(argno))
		return NULL;
	d = PG_GETARG_DATUM(argno);
	if (IsExpandedState(d) && VARATT_IS_EXTERNAL_EXPANDED_RW(DatumGetPointer(d)))
	{
		s = (VaeState *) DatumGetEOHP(d);
		if (s->ops != ops)
			KindMismatch(s->ops->kind, ops->kind);
		return s;
	}
	p = VaeStatePayload(d, ops->kind, &len);
	s = VaeStateCreate(aggctx, ops);
	old = MemoryContextSwitchTo(s->hdr.eoh_context);
	s->state = ops->deserialize(s->hdr.eoh_context, p, len);
	MemoryContextSwitchTo(old);
	return s;
}

/*
 * The state of argument argno, to read only: the expanded state itself when
 * one came, else one deserialized into a new child of cxt (*temp set, so the
 * caller can delete its context, s->hdr.eoh_context, when done).
 */
VaeState *
VaeStateForReading(FunctionCallInfo fcinfo, int argno, MemoryContext cxt,
				   const VaeStateOps *ops, bool *temp)
{
	Datum		d;

	*temp = false;
	if (PG_ARGISNULL(argno))
		return NULL;
	d = PG_GETARG_DATUM(argno);
	if (IsExpandedState(d))
	{
		VaeState   *s = (VaeState *) DatumGetEOHP(d);

		if (s->ops != ops)
			KindMismatch(s->ops->kind, ops->kind);
		return s;
	}
	*temp = true;
	return VaeStateForUpdate(fcinfo, argno, cxt, ops);
}

/* the read-write datum of a state, which changed: its flat image is stale */
Datum
VaeStateDatum(VaeState *s)
{
	if (s->flat)
	{
		pfree(s->flat);
		s->flat = NULL;
	}
	return EOHPGetRWDatum(&s->hdr);
}

/*
 * The kind of state argument argno holds (0: NULL): read from an expanded
 * state, or from the header of a flat one (a slice, not the whole value).
 */
uint16
VaeStateKind(FunctionCallInfo fcinfo, int argno)
{
	Datum		d;
	bytea	   *head;
	uint16		kind;

	if (PG_ARGISNULL(argno))
		return 0;
	d = PG_GETARG_DATUM(argno);
	if (IsExpandedState(d))
		return ((VaeState *) DatumGetEOHP(d))->ops->kind;
	head = DatumGetByteaPSlice(d, 0, VAE_STATE_HEADER);
	if (VARSIZE_ANY_EXHDR(head) < VAE_STATE_HEADER)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid vae_train_state: truncated")));
	memcpy(&kind, VARDATA_ANY(head) + sizeof(uint32) + sizeof(uint16), sizeof(kind));
	return kind;
}

/*
 * Combine state argument 1 into state argument 0 (a kind's ops do the copy
 * and the merge): argument 0 is updated in place, or, when it is NULL,
 * becomes argument 1 itself if that was read into a copy for this call, else
 * a copy of it.  A copy made for this call is freed once merged.
 */
Datum
VaeStateCombine(FunctionCallInfo fcinfo, MemoryContext aggctx, const VaeStateOps *ops)
{
	VaeState   *dst,
			   *src;
	bool		temp;

	src = VaeStateForReading(fcinfo, 1, aggctx, ops, &temp);
	if (src == NULL)
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	/* what each part sent, for tests and for watching a distributed plan */
	elog(DEBUG1, "vae_train: combining a state of %lld rows",
		 (long long) ops->n_rows(src->state));
	dst = VaeStateForUpdate(fcinfo, 0, aggctx, ops);
	if (dst == NULL && temp)
		PG_RETURN_DATUM(VaeStateDatum(src));
	if (dst == NULL)
	{
		dst = VaeStateCreate(aggctx, ops);
		ops->copy(dst, src->state);
		PG_RETURN_DATUM(VaeStateDatum(dst));
	}
	ops->merge(dst, src->state);
	if (temp)
		MemoryContextDelete(src->hdr.eoh_context);
	PG_RETURN_DATUM(VaeStateDatum(dst));
}

/*
 * Combine two states (the combine function of every shippable aggregate and
 * the transition of vae_train_samples): by the kind of state, the array
 * aggregates' (vae_agg.c) or the record aggregates' (vae_agg_rows.c).
 */
Datum
vae_train_state_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx;

	if (!AggCheckCallContext(fcinfo, &aggctx))
		elog(ERROR, "vae_train_state_combine called in non-aggregate context");
	if ((PG_ARGISNULL(1) ? VaeStateKind(fcinfo, 0) : VaeStateKind(fcinfo, 1)) == VAE_STATE_ARRAYS)
		return VaeArraysCombine(fcinfo, aggctx);
	return VaeRowsCombine(fcinfo, aggctx);
}

/* Train from a state: the final function of every shippable aggregate */
Datum
vae_train_state_final(PG_FUNCTION_ARGS)
{
	MemoryContext aggctx;

	if (!AggCheckCallContext(fcinfo, &aggctx))
		elog(ERROR, "vae_train_state_final called in non-aggregate context");
	if (VaeStateKind(fcinfo, 0) == VAE_STATE_ARRAYS)
		return VaeArraysFinal(fcinfo, aggctx);
	return VaeRowsFinal(fcinfo, aggctx);
}

/* ---- the type's I/O: base64 text, binary image ---- */

/* a flat value (its header checked) from len bytes at p, in the current context */
static bytea *
FlatFromBytes(const char *p, Size len)
{
	bytea	   *b;
	Size		dummy;

	if (!AllocSizeIsValid(len + VARHDRSZ))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("vae_train_state exceeds 1 GB")));
	b = palloc(len + VARHDRSZ);
	SET_VARSIZE(b, len + VARHDRSZ);
	memcpy(VARDATA(b), p, len);
	(void) VaeStatePayload(PointerGetDatum(b), 0, &dummy);
	return b;
}

Datum
vae_train_state_in(PG_FUNCTION_ARGS)
{
	char	   *text = PG_GETARG_CSTRING(0);
	int			len = strlen(text),
				max = pg_b64_dec_len(len),
				n;
	char	   *raw = palloc(max + 1);

	n = pg_b64_decode(text, len, raw, max);
	if (n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid input syntax for type vae_train_state: not base64")));
	PG_RETURN_BYTEA_P(FlatFromBytes(raw, n));
}

Datum
vae_train_state_out(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	int			len = VARSIZE_ANY_EXHDR(b),
				max;
	char	   *out;

	if ((Size) len > (MaxAllocSize / 4) * 3 - 4)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("vae_train_state of %d bytes is too large for its text form", len),
				 errhint("Set the option max_rows so that each part sends a sample.")));
	max = pg_b64_enc_len(len);
	out = palloc(max + 1);
	len = pg_b64_encode(VARDATA_ANY(b), len, out, max);
	if (len < 0)
		elog(ERROR, "could not encode vae_train_state");
	out[len] = '\0';
	PG_RETURN_CSTRING(out);
}

Datum
vae_train_state_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int			n = buf->len - buf->cursor;
	const char *p = pq_getmsgbytes(buf, n);

	PG_RETURN_BYTEA_P(FlatFromBytes(p, n));
}

Datum
vae_train_state_send(PG_FUNCTION_ARGS)
{
	bytea	   *b = PG_GETARG_BYTEA_PP(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbytes(&buf, VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b));
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* ---- reading a payload, every length checked ---- */

/* take n bytes from the reader into dst; ERROR when the payload is too short */
void
VaeStateRead(VaeStateReader *r, void *dst, Size n)
{
	if (n > r->len - r->pos)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid vae_train_state: truncated")));
	memcpy(dst, r->p + r->pos, n);
	r->pos += n;
}

/* a length-prefixed string (int32 length, bytes; -1 = NULL), NUL-terminated, palloc'd */
char *
VaeStateReadString(VaeStateReader *r)
{
	int32		n;
	char	   *s;

	VaeStateRead(r, &n, sizeof(n));
	if (n == -1)
		return NULL;
	if (n < 0 || (Size) n > r->len - r->pos)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid vae_train_state: bad string length")));
	s = palloc(n + 1);
	VaeStateRead(r, s, n);
	s[n] = '\0';
	return s;
}

void
VaeStateWriteString(StringInfo buf, const char *s, int len)
{
	int32		n = s ? len : -1;

	appendBinaryStringInfo(buf, (char *) &n, sizeof(n));
	if (s)
		appendBinaryStringInfo(buf, s, len);
}

/* ERROR unless cond: the payload is inconsistent (what: which part) */
void
VaeStateCheck(bool cond, const char *what)
{
	if (!cond)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid vae_train_state: %s", what)));
}
