/*
 * counting_alloc.c - the unit tests' counting, failing allocator
 * (counting_alloc.h).
 */
#include <stdlib.h>

#include "counting_alloc.h"

long		live_allocs;
size_t		max_request;
long		fail_after = -1;

/* vc_alloc's allocator in a test: counts live blocks and the largest request; see fail_after */
void *
CountingAlloc(size_t size)
{
	void	   *p;

	if (size > max_request)
		max_request = size;
	if (fail_after == 0)
		return NULL;
	if (fail_after > 0)
		fail_after--;
	p = malloc(size);
	if (p)
		live_allocs++;
	return p;
}

/* frees a CountingAlloc block and counts it off */
void
CountingFree(void *p)
{
	live_allocs--;
	free(p);
}
