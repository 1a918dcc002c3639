/*
 * vae_buffer.c - the chunked row buffer of the training aggregates.
 *
 * Both vae_train aggregates (over arrays, vae_agg.c, and over records,
 * vae_agg_rows.c) hold their rows as records of a seeded 64-bit row hash
 * followed by `dim` floats, in chunks of about 8 MB allocated in the
 * aggregate context, so no single allocation approaches palloc's 1 GB limit
 * however many rows arrive.  The hash gives the canonical training order and
 * the bottom-k sample of max_rows.
 */
#include "vae.h"

#include "miscadmin.h"
#include "utils/memutils.h"

#define CHUNK_BYTES (8 * 1024 * 1024)
#define FIRST_CHUNK_BYTES (64 * 1024)

/* an empty buffer of rows of dim floats, its chunk table in cxt */
void
VaeBufferInit(MemoryContext cxt, VaeRowBuffer *b, int dim)
{
	memset(b, 0, sizeof(*b));
	b->dim = dim;
	b->rec_size = MAXALIGN(sizeof(uint64) + sizeof(float) * dim);
	b->rows_per_chunk = Max(1, CHUNK_BYTES / (int) b->rec_size);
	b->max_chunks = 16;
	b->chunks = MemoryContextAlloc(cxt, sizeof(char *) * b->max_chunks);
}

/*
 * A slot for one more record.  Chunk 0 starts at 64 kB and doubles (moving
 * is fine: nothing points into it until the final function) until it holds
 * a full chunk, so a GROUP BY with many small groups does not reserve 8 MB
 * per group; later chunks are allocated full size.
 */
char *
VaeBufferAppend(MemoryContext cxt, VaeRowBuffer *b)
{
	if (b->n_chunks == 0)
	{
		b->first_cap = Min(b->rows_per_chunk, Max(1, FIRST_CHUNK_BYTES / (int) b->rec_size));
		b->chunks[b->n_chunks++] = MemoryContextAllocHuge(cxt, b->rec_size * b->first_cap);
	}
	else if (b->n_chunks == 1 && b->n_rows == b->first_cap &&
			 b->first_cap < b->rows_per_chunk)
	{
		b->first_cap = Min(b->rows_per_chunk, 2 * b->first_cap);
		b->chunks[0] = repalloc_huge(b->chunks[0], b->rec_size * b->first_cap);
	}
	else if (b->n_rows == (int64) b->n_chunks * b->rows_per_chunk)
	{
		if (b->n_chunks == b->max_chunks)
		{
			b->max_chunks *= 2;
			b->chunks = repalloc_huge(b->chunks, sizeof(char *) * b->max_chunks);
		}
		b->chunks[b->n_chunks++] =
			MemoryContextAllocHuge(cxt, b->rec_size * b->rows_per_chunk);
	}
	return VaeBufferRecord(b, b->n_rows++);
}

/* the core's view of the records, in buffer order (allocated in the current context) */
VcRowRef *
VaeBufferRefs(VaeRowBuffer *b)
{
	VcRowRef   *refs = palloc_extended(sizeof(VcRowRef) * Max(b->n_rows, 1), MCXT_ALLOC_HUGE);
	int64		i;

	for (i = 0; i < b->n_rows; i++)
	{
		char	   *rec = VaeBufferRecord(b, i);

		memcpy(&refs[i].hash, rec, sizeof(uint64));
		refs[i].row = (float *) (rec + sizeof(uint64));
		if ((i & 65535) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	return refs;
}

/* release every record (the chunk table stays) */
void
VaeBufferFree(VaeRowBuffer *b)
{
	int			c;

	for (c = 0; c < b->n_chunks; c++)
		pfree(b->chunks[c]);
	b->n_chunks = 0;
	b->n_rows = 0;
	b->first_cap = 0;
}

/*
 * Keep only the k records of smallest (hash, values) once the buffer
 * reaches twice that (k > 0), so memory stays bounded by the max_rows cap.
 * Because bottom-k of a union is bottom-k of the parts' bottom-k, this is
 * the sample a single pass over all the rows would keep.
 */
void
VaeBufferCompact(MemoryContext cxt, VaeRowBuffer *b, int64 k)
{
	if (k > 0 && b->n_rows >= 2 * k)
		VaeBufferTrim(cxt, b, k);
}

/*
 * Keep exactly the k records of smallest (hash, values) when there are more
 * (k > 0): the sample itself, whatever the order the rows came in.
 */
void
VaeBufferTrim(MemoryContext cxt, VaeRowBuffer *b, int64 k)
{
	VcRowRef   *refs;
	VaeRowBuffer old = *b;
	char		msg[VC_ERRMSG_LEN];
	VcStatus	status;
	int64		i;

	if (k <= 0 || b->n_rows <= k)
		return;
	refs = VaeBufferRefs(b);
	status = vc_bottom_k(refs, b->n_rows, k, b->dim, &vae_train_callbacks, &k, msg);
	if (status != VC_OK)
		VaeReportStatus(status, msg);
	b->chunks = MemoryContextAlloc(cxt, sizeof(char *) * b->max_chunks);
	b->n_chunks = 0;
	b->n_rows = 0;
	b->first_cap = 0;
	for (i = 0; i < k; i++)
	{
		char	   *rec = VaeBufferAppend(cxt, b);

		memcpy(rec, &refs[i].hash, sizeof(uint64));
		memcpy(rec + sizeof(uint64), refs[i].row, sizeof(float) * b->dim);
		if ((i & 65535) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	VaeBufferFree(&old);
	pfree(old.chunks);
	pfree(refs);
	elog(DEBUG1, "vae_train: scan phase, %lld rows kept", (long long) k);
}
