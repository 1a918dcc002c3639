/*
 * vgp_sha256.h - SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104), in plain
 * C99, for the GPU worker's shared-secret handshake.
 *
 * Linked into both vae_gpud and vae.so, so it has no globals, no allocation
 * and no dependency on OpenSSL (which the server may or may not link).
 */
#ifndef VGP_SHA256_H
#define VGP_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define VGP_SHA256_LEN		32
#define VGP_SHA256_BLOCK	64

typedef struct VgpSha256
{
	uint32_t	h[8];
	uint64_t	total;			/* bytes hashed so far */
	uint8_t		buf[VGP_SHA256_BLOCK];
	size_t		buf_len;
} VgpSha256;

void		vgp_sha256_init(VgpSha256 *ctx);
void		vgp_sha256_update(VgpSha256 *ctx, const void *data, size_t len);
void		vgp_sha256_final(VgpSha256 *ctx, uint8_t out[VGP_SHA256_LEN]);
void		vgp_sha256(const void *data, size_t len, uint8_t out[VGP_SHA256_LEN]);

void		vgp_hmac_sha256(const uint8_t *key, size_t key_len,
							const void *data, size_t len,
							uint8_t out[VGP_SHA256_LEN]);
/* HMAC over the concatenation of two messages, without copying them */
void		vgp_hmac_sha256_2(const uint8_t *key, size_t key_len,
							  const void *a, size_t a_len,
							  const void *b, size_t b_len,
							  uint8_t out[VGP_SHA256_LEN]);

#endif							/* VGP_SHA256_H */
