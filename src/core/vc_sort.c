/*
 * vc_sort.c - an interruptible sort for the phases of training that touch
 * every row before the first epoch (canonical order, bottom-k sample) and
 * for the validation losses.
 *
 * qsort_r cannot be interrupted: at 20 million rows the canonical sort took
 * about 8 s during which a cancel or statement_timeout went unnoticed.  This
 * is a bottom-up merge sort (the algorithm glibc's qsort_r uses when it can
 * allocate a buffer, with the same n-element buffer) that asks the host at
 * fixed amounts of work, on the calling thread.  With a comparator that is a
 * total order the sorted result is unique, so it equals qsort_r's bit for
 * bit; without memory for the buffer it falls back to an in-place heapsort,
 * which gives the same result more slowly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vc_sort.h"

/* runs sorted by insertion before merging; the largest element size handled */
#define SORT_RUN 16
#define SORT_MAX_SIZE 64
/* merge steps between two calls of vc_tick */
#define SORT_STEP_BATCH 256

typedef int (*SortCmp) (const void *a, const void *b, void *arg);

/* a copy the compiler inlines for the sizes the core sorts */
static inline void
CopyElem(void *dst, const void *src, size_t size)
{
	if (size == 16)
		memcpy(dst, src, 16);
	else if (size == 8)
		memcpy(dst, src, 8);
	else
		memcpy(dst, src, size);
}

/* sort base[0, n) by insertion: stable, for the short runs before merging */
static void
InsertionSort(char *base, size_t n, size_t size, SortCmp cmp, void *arg)
{
	char		tmp[SORT_MAX_SIZE];
	size_t		i,
				j;

	for (i = 1; i < n; i++)
	{
		CopyElem(tmp, base + i * size, size);
		for (j = i; j > 0 && cmp(tmp, base + (j - 1) * size, arg) < 0; j--)
			CopyElem(base + j * size, base + (j - 1) * size, size);
		CopyElem(base + j * size, tmp, size);
	}
}

/* src[lo, mid) and src[mid, hi), both sorted, into dst[lo, hi); 1 if canceled */
static int
Merge(const char *src, char *dst, size_t lo, size_t mid, size_t hi, size_t size,
	  SortCmp cmp, void *arg, int64_t cost, VcTicker *t)
{
	size_t		i = lo,
				j = mid,
				k = lo,
				steps = 0;

	while (i < mid && j < hi)
	{
		/* ties take the left run: stable, like glibc's merge */
		if (cmp(src + j * size, src + i * size, arg) < 0)
			CopyElem(dst + k++ * size, src + j++ * size, size);
		else
			CopyElem(dst + k++ * size, src + i++ * size, size);
		if (++steps == SORT_STEP_BATCH)
		{
			steps = 0;
			if (vc_tick(t, SORT_STEP_BATCH * cost))
				return 1;
		}
	}
	if (i < mid)
		memcpy(dst + k * size, src + i * size, (mid - i) * size);
	else if (j < hi)
		memcpy(dst + k * size, src + j * size, (hi - j) * size);
	return vc_tick(t, (int64_t) steps * cost + (int64_t) ((hi - k) * size / 64));
}

/* move base[root] down the max-heap base[0, n) until it is no smaller than its children */
static void
SiftDown(char *base, size_t root, size_t n, size_t size, SortCmp cmp, void *arg)
{
	char		tmp[SORT_MAX_SIZE];

	for (;;)
	{
		size_t		child = 2 * root + 1;

		if (child >= n)
			return;
		if (child + 1 < n && cmp(base + child * size, base + (child + 1) * size, arg) < 0)
			child++;
		if (cmp(base + root * size, base + child * size, arg) >= 0)
			return;
		CopyElem(tmp, base + root * size, size);
		CopyElem(base + root * size, base + child * size, size);
		CopyElem(base + child * size, tmp, size);
		root = child;
	}
}

/* the fallback without a buffer: in place, same result for a total order */
static int
HeapSort(char *base, size_t n, size_t size, SortCmp cmp, void *arg, int64_t cost,
		 VcTicker *t)
{
	char		tmp[SORT_MAX_SIZE];
	size_t		i;

	for (i = n / 2; i-- > 0;)
	{
		SiftDown(base, i, n, size, cmp, arg);
		if (vc_tick(t, 4 * cost))
			return 1;
	}
	for (i = n - 1; i > 0; i--)
	{
		CopyElem(tmp, base, size);
		CopyElem(base, base + i * size, size);
		CopyElem(base + i * size, tmp, size);
		SiftDown(base, 0, i, size, cmp, arg);
		/* a sift is about log2(n) comparisons */
		if (vc_tick(t, 32 * cost))
			return 1;
	}
	return 0;
}

/*
 * Sort base[0, n) of size-byte elements by cmp, checking the host through t
 * every so much work (cost weighs one comparison); VC_ECANCELED when the host
 * asked to stop, VC_EINVAL for an element size over SORT_MAX_SIZE.
 */
VcStatus
vc_sort(void *base, size_t n, size_t size, SortCmp cmp, void *arg, int64_t cost,
		VcTicker *t, char *errmsg)
{
	char	   *buf,
			   *src = base,
			   *dst;
	size_t		lo,
				width;
	int			canceled = 0;

	if (size == 0 || size > SORT_MAX_SIZE)
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "vc_sort: element size %zu is not supported", size);
		return VC_EINVAL;
	}
	if (cost < 1)
		cost = 1;
	for (lo = 0; lo < n && !canceled; lo += SORT_RUN)
	{
		InsertionSort(src + lo * size, n - lo < SORT_RUN ? n - lo : SORT_RUN, size, cmp, arg);
		canceled = vc_tick(t, SORT_RUN * 4 * cost);
	}
	if (canceled)
		goto canceled;
	if (n <= SORT_RUN)
		return VC_OK;

	buf = n <= SIZE_MAX / size ? vc_alloc(n * size) : NULL;
	if (buf == NULL)
	{
		if (HeapSort(base, n, size, cmp, arg, cost, t))
			goto canceled;
		return VC_OK;
	}
	dst = buf;
	for (width = SORT_RUN; width < n && !canceled; width *= 2)
	{
		char	   *swap;

		for (lo = 0; lo < n && !canceled; lo += 2 * width)
		{
			size_t		mid = lo + width < n ? lo + width : n,
						hi = lo + 2 * width < n ? lo + 2 * width : n;

			canceled = Merge(src, dst, lo, mid, hi, size, cmp, arg, cost, t);
		}
		swap = src;
		src = dst;
		dst = swap;
	}
	/* the last pass may have left the result in the buffer */
	if (!canceled && src != (char *) base)
	{
		size_t		chunk = 1 << 20;

		for (lo = 0; lo < n && !canceled; lo += chunk)
		{
			size_t		m = n - lo < chunk ? n - lo : chunk;

			memcpy((char *) base + lo * size, src + lo * size, m * size);
			canceled = vc_tick(t, (int64_t) (m * size / 64));
		}
	}
	vc_free(buf);
	if (!canceled)
		return VC_OK;
canceled:
	snprintf(errmsg, VC_ERRMSG_LEN, "training was canceled");
	return VC_ECANCELED;
}

/* qsort comparator of floats, ascending */
static int
FloatCmp(const void *a, const void *b)
{
	float		x = *(const float *) a,
				y = *(const float *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

void
vc_sort_floats(float *v, size_t n)
{
	qsort(v, n, sizeof(float), FloatCmp);
}
