/*
 * counting_alloc.h - an allocator for vc_set_allocator that counts live
 * blocks and the largest request, and fails on demand: the unit tests'
 * checks for leaks, huge allocations and out-of-memory paths
 * (counting_alloc.c).
 */
#ifndef COUNTING_ALLOC_H
#define COUNTING_ALLOC_H

#include <stddef.h>

extern long live_allocs;		/* blocks allocated and not yet freed */
extern size_t max_request;		/* the largest size asked for */
extern long fail_after;			/* >= 0: that many allocations succeed, then
								 * NULL; -1: never fail */

void	   *CountingAlloc(size_t size);
void		CountingFree(void *p);

#endif							/* COUNTING_ALLOC_H */
