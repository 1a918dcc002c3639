/*
 * vgp_sha256.c - SHA-256 and HMAC-SHA256.
 *
 * A straightforward FIPS 180-4 implementation: the handshake hashes a few
 * dozen bytes per connection, so clarity beats speed here.  Test vectors
 * (FIPS 180-4 examples, RFC 4231) are in test/unit/test_protocol.c.
 */
#include "vgp_sha256.h"

#include <string.h>

static const uint32_t K[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
};

#define ROTR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void
Compress(uint32_t h[8], const uint8_t *p)
{
	uint32_t	w[64];
	uint32_t	a, b, c, d, e, f, g, hh;
	int			i;

	for (i = 0; i < 16; i++)
		w[i] = ((uint32_t) p[4 * i] << 24) | ((uint32_t) p[4 * i + 1] << 16) |
			((uint32_t) p[4 * i + 2] << 8) | (uint32_t) p[4 * i + 3];
	for (i = 16; i < 64; i++)
	{
		uint32_t	s0 = ROTR(w[i - 15], 7) ^ ROTR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t	s1 = ROTR(w[i - 2], 17) ^ ROTR(w[i - 2], 19) ^ (w[i - 2] >> 10);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = h[0];
	b = h[1];
	c = h[2];
	d = h[3];
	e = h[4];
	f = h[5];
	g = h[6];
	hh = h[7];
	for (i = 0; i < 64; i++)
	{
		uint32_t	t1 = hh + (ROTR(e, 6) ^ ROTR(e, 11) ^ ROTR(e, 25)) +
			((e & f) ^ (~e & g)) + K[i] + w[i];
		uint32_t	t2 = (ROTR(a, 2) ^ ROTR(a, 13) ^ ROTR(a, 22)) +
			((a & b) ^ (a & c) ^ (b & c));

		hh = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
	h[5] += f;
	h[6] += g;
	h[7] += hh;
}

void
vgp_sha256_init(VgpSha256 *ctx)
{
	static const uint32_t h0[8] = {
		0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
		0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
	};

	memcpy(ctx->h, h0, sizeof(h0));
	ctx->total = 0;
	ctx->buf_len = 0;
}

void
vgp_sha256_update(VgpSha256 *ctx, const void *data, size_t len)
{
	const uint8_t *p = data;

	ctx->total += len;
	if (ctx->buf_len > 0)
	{
		size_t		take = VGP_SHA256_BLOCK - ctx->buf_len;

		if (take > len)
			take = len;
		memcpy(ctx->buf + ctx->buf_len, p, take);
		ctx->buf_len += take;
		p += take;
		len -= take;
		if (ctx->buf_len < VGP_SHA256_BLOCK)
			return;
		Compress(ctx->h, ctx->buf);
		ctx->buf_len = 0;
	}
	while (len >= VGP_SHA256_BLOCK)
	{
		Compress(ctx->h, p);
		p += VGP_SHA256_BLOCK;
		len -= VGP_SHA256_BLOCK;
	}
	if (len > 0)
	{
		memcpy(ctx->buf, p, len);
		ctx->buf_len = len;
	}
}

void
vgp_sha256_final(VgpSha256 *ctx, uint8_t out[VGP_SHA256_LEN])
{
	uint64_t	bits = ctx->total * 8;
	int			i;

	ctx->buf[ctx->buf_len++] = 0x80;
	if (ctx->buf_len > VGP_SHA256_BLOCK - 8)
	{
		memset(ctx->buf + ctx->buf_len, 0, VGP_SHA256_BLOCK - ctx->buf_len);
		Compress(ctx->h, ctx->buf);
		ctx->buf_len = 0;
	}
	memset(ctx->buf + ctx->buf_len, 0, VGP_SHA256_BLOCK - 8 - ctx->buf_len);
	for (i = 0; i < 8; i++)
		ctx->buf[VGP_SHA256_BLOCK - 1 - i] = (uint8_t) (bits >> (8 * i));
	Compress(ctx->h, ctx->buf);
	for (i = 0; i < 8; i++)
	{
		out[4 * i] = (uint8_t) (ctx->h[i] >> 24);
		out[4 * i + 1] = (uint8_t) (ctx->h[i] >> 16);
		out[4 * i + 2] = (uint8_t) (ctx->h[i] >> 8);
		out[4 * i + 3] = (uint8_t) ctx->h[i];
	}
	/* the state held secret-derived bytes (HMAC pads) */
	memset(ctx, 0, sizeof(*ctx));
}

void
vgp_sha256(const void *data, size_t len, uint8_t out[VGP_SHA256_LEN])
{
	VgpSha256	ctx;

	vgp_sha256_init(&ctx);
	vgp_sha256_update(&ctx, data, len);
	vgp_sha256_final(&ctx, out);
}

void
vgp_hmac_sha256_2(const uint8_t *key, size_t key_len,
				  const void *a, size_t a_len, const void *b, size_t b_len,
				  uint8_t out[VGP_SHA256_LEN])
{
	uint8_t		k[VGP_SHA256_BLOCK];
	uint8_t		pad[VGP_SHA256_BLOCK];
	uint8_t		inner[VGP_SHA256_LEN];
	VgpSha256	ctx;
	int			i;

	/* keys longer than a block are hashed first (RFC 2104) */
	memset(k, 0, sizeof(k));
	if (key_len > VGP_SHA256_BLOCK)
		vgp_sha256(key, key_len, k);
	else if (key_len > 0)
		memcpy(k, key, key_len);

	for (i = 0; i < VGP_SHA256_BLOCK; i++)
		pad[i] = k[i] ^ 0x36;
	vgp_sha256_init(&ctx);
	vgp_sha256_update(&ctx, pad, sizeof(pad));
	if (a_len > 0)
		vgp_sha256_update(&ctx, a, a_len);
	if (b_len > 0)
		vgp_sha256_update(&ctx, b, b_len);
	vgp_sha256_final(&ctx, inner);

	for (i = 0; i < VGP_SHA256_BLOCK; i++)
		pad[i] = k[i] ^ 0x5c;
	vgp_sha256_init(&ctx);
	vgp_sha256_update(&ctx, pad, sizeof(pad));
	vgp_sha256_update(&ctx, inner, sizeof(inner));
	vgp_sha256_final(&ctx, out);

	memset(k, 0, sizeof(k));
	memset(pad, 0, sizeof(pad));
}

void
vgp_hmac_sha256(const uint8_t *key, size_t key_len, const void *data, size_t len,
				uint8_t out[VGP_SHA256_LEN])
{
	vgp_hmac_sha256_2(key, key_len, data, len, NULL, 0, out);
}
