/*
 * vc_bytes.h - little-endian encoding of fixed-width values, independent of
 * the host's byte order and alignment.  Shared by the model format
 * (vc_format.c) and the GPU worker's wire protocol (vgp_protocol.c).
 */
#ifndef VC_BYTES_H
#define VC_BYTES_H

#include <stdint.h>
#include <string.h>

/* store v at p[0, 2), little-endian */
static inline void
vc_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t) v;
	p[1] = (uint8_t) (v >> 8);
}

/* store v at p[0, 4), little-endian */
static inline void
vc_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) v;
	p[1] = (uint8_t) (v >> 8);
	p[2] = (uint8_t) (v >> 16);
	p[3] = (uint8_t) (v >> 24);
}

/* store v at p[0, 8), little-endian */
static inline void
vc_put_u64(uint8_t *p, uint64_t v)
{
	vc_put_u32(p, (uint32_t) v);
	vc_put_u32(p + 4, (uint32_t) (v >> 32));
}

/* store v at p[0, 4), two's complement little-endian */
static inline void
vc_put_i32(uint8_t *p, int32_t v)
{
	vc_put_u32(p, (uint32_t) v);	/* well defined: conversion to unsigned wraps */
}

/* store v at p[0, 8), two's complement little-endian */
static inline void
vc_put_i64(uint8_t *p, int64_t v)
{
	vc_put_u64(p, (uint64_t) v);
}

/* store the bits of v at p[0, 4), little-endian */
static inline void
vc_put_f32(uint8_t *p, float v)
{
	uint32_t	bits;

	memcpy(&bits, &v, sizeof(bits));
	vc_put_u32(p, bits);
}

/* store the bits of v at p[0, 8), little-endian */
static inline void
vc_put_f64(uint8_t *p, double v)
{
	uint64_t	bits;

	memcpy(&bits, &v, sizeof(bits));
	vc_put_u64(p, bits);
}

/* the little-endian value at p[0, 2) */
static inline uint16_t
vc_get_u16(const uint8_t *p)
{
	return (uint16_t) (p[0] | (uint16_t) p[1] << 8);
}

/* the little-endian value at p[0, 4) */
static inline uint32_t
vc_get_u32(const uint8_t *p)
{
	return (uint32_t) p[0] | (uint32_t) p[1] << 8 |
		(uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

/* the little-endian value at p[0, 8) */
static inline uint64_t
vc_get_u64(const uint8_t *p)
{
	return (uint64_t) vc_get_u32(p) | (uint64_t) vc_get_u32(p + 4) << 32;
}

/*
 * Unsigned to signed without relying on implementation-defined conversion of
 * out-of-range values: two's complement by arithmetic.
 */
static inline int32_t
vc_get_i32(const uint8_t *p)
{
	uint32_t	u = vc_get_u32(p);

	if (u <= (uint32_t) INT32_MAX)
		return (int32_t) u;
	return (int32_t) (u - (uint32_t) INT32_MAX - 1) + INT32_MIN;
}

/* the 64-bit counterpart of vc_get_i32 */
static inline int64_t
vc_get_i64(const uint8_t *p)
{
	uint64_t	u = vc_get_u64(p);

	if (u <= (uint64_t) INT64_MAX)
		return (int64_t) u;
	return (int64_t) (u - (uint64_t) INT64_MAX - 1) + INT64_MIN;
}

/* the float whose bits are the little-endian value at p[0, 4) */
static inline float
vc_get_f32(const uint8_t *p)
{
	uint32_t	bits = vc_get_u32(p);
	float		v;

	memcpy(&v, &bits, sizeof(v));
	return v;
}

/* the double whose bits are the little-endian value at p[0, 8) */
static inline double
vc_get_f64(const uint8_t *p)
{
	uint64_t	bits = vc_get_u64(p);
	double		v;

	memcpy(&v, &bits, sizeof(v));
	return v;
}

#endif							/* VC_BYTES_H */
