/*
 * test_protocol.c - the vae_gpud wire protocol (src/protocol/vgp_protocol.c):
 * its HMAC-SHA256 (libcrypto) against the RFC 4231 vectors, round
 * trips of every message, rejection of every malformed field, and 100,000
 * random corruptions that must be rejected or decoded without a crash
 * (this program runs under ASan + UBSan).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vc.h"
#include "vgp_protocol.h"
#include "vgp_tls.h"

#include <arpa/inet.h>
#include <netinet/in.h>

/* the n bytes at b as lowercase hex into out (2n + 1 bytes with the NUL) */
static void
Hex(const uint8_t *b, size_t n, char *out)
{
	size_t		i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* is the HMAC-SHA256 of d under key k the hex digest want */
static int
Hmac(const uint8_t *k, size_t kn, const void *d, size_t n, const char *want)
{
	uint8_t		h[32];
	char		x[65];

	if (vgp_hmac_sha256(k, kn, d, n, h) != 0)
		return 0;
	Hex(h, 32, x);
	return strcmp(x, want) == 0;
}

/* HMAC-SHA256 of libcrypto, as the protocol calls it: the RFC 4231 vectors */
static void
TestHmac(void)
{
	uint8_t		k[131],
				d[50];
	size_t		i;

	memset(k, 0x0b, 20);
	ok(Hmac(k, 20, "Hi There", 8,
			"b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
	   "HMAC-SHA256 RFC 4231 test case 1");
	ok(Hmac((const uint8_t *) "Jefe", 4, "what do ya want for nothing?", 28,
			"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
	   "HMAC-SHA256 RFC 4231 test case 2");
	memset(k, 0xaa, 20);
	memset(d, 0xdd, 50);
	ok(Hmac(k, 20, d, 50, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
	   "HMAC-SHA256 RFC 4231 test case 3");
	for (i = 0; i < 25; i++)
		k[i] = (uint8_t) (i + 1);
	memset(d, 0xcd, 50);
	ok(Hmac(k, 25, d, 50, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
	   "HMAC-SHA256 RFC 4231 test case 4");
	memset(k, 0xaa, 131);
	ok(Hmac(k, 131, "Test Using Larger Than Block-Size Key - Hash Key First", 54,
			"60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
	   "HMAC-SHA256 RFC 4231 test case 6 (key longer than a block)");
	{
		const char *m = "This is a test using a larger than block-size key and a larger "
			"than block-size data. The key needs to be hashed before being used by the "
			"HMAC algorithm.";

		ok(Hmac(k, 131, m, strlen(m),
				"9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
		   "HMAC-SHA256 RFC 4231 test case 7");
	}
}

/* vgp_addr_is_loopback on the text form of an address */
static int
Loopback(const char *text)
{
	struct sockaddr_in in4;
	struct sockaddr_in6 in6;

	memset(&in4, 0, sizeof(in4));
	memset(&in6, 0, sizeof(in6));
	if (inet_pton(AF_INET, text, &in4.sin_addr) == 1)
	{
		in4.sin_family = AF_INET;
		return vgp_addr_is_loopback((struct sockaddr *) &in4);
	}
	if (inet_pton(AF_INET6, text, &in6.sin6_addr) == 1)
	{
		in6.sin6_family = AF_INET6;
		return vgp_addr_is_loopback((struct sockaddr *) &in6);
	}
	return -1;
}

/* what plain TCP is allowed to: 127.0.0.0/8, ::1 and IPv4-mapped 127.x */
static void
TestLoopback(void)
{
	ok(Loopback("127.0.0.1") == 1 && Loopback("127.255.3.4") == 1,
	   "127.0.0.0/8 is loopback");
	ok(Loopback("::1") == 1 && Loopback("::ffff:127.0.0.1") == 1,
	   "::1 and ::ffff:127.0.0.1 are loopback");
	ok(Loopback("0.0.0.0") == 0 && Loopback("10.0.0.5") == 0 && Loopback("128.0.0.1") == 0 &&
	   Loopback("192.0.2.1") == 0, "0.0.0.0, 10.0.0.5, 128.0.0.1, 192.0.2.1 are not");
	ok(Loopback("::") == 0 && Loopback("::2") == 0 && Loopback("::ffff:10.0.0.1") == 0 &&
	   Loopback("fe80::1") == 0, ":: , ::2, ::ffff:10.0.0.1, fe80::1 are not");
}

/*
 * The authentication mac against an independently computed value, and
 * vgp_mac_equal on macs that differ in one bit or in the secret.
 */
static void
TestAuth(void)
{
	uint8_t		nonce[VGP_NONCE_LEN],
				mac[VGP_MAC_LEN],
				other[VGP_MAC_LEN];
	char		x[65];
	int			i;

	for (i = 0; i < VGP_NONCE_LEN; i++)
		nonce[i] = (uint8_t) i;
	ok(vgp_auth_mac((const uint8_t *) "s3cret", 6, nonce, mac) == 0, "auth mac computed");
	Hex(mac, 32, x);
	/* computed independently: Python hmac.new(b's3cret', nonce + b'vae_gpud v1', sha256) */
	ok(strcmp(x, "974d1a795d0c80a05390f169e190ab0b8a01c0c069b8b9d4792e884d765a10c6") == 0,
	   "auth mac = HMAC-SHA256(secret, nonce || \"vae_gpud v1\")");
	memcpy(other, mac, sizeof(mac));
	ok(vgp_mac_equal(mac, other), "equal macs compare equal");
	other[31] ^= 1;
	ok(!vgp_mac_equal(mac, other), "a mac differing in the last bit compares unequal");
	other[31] ^= 1;
	other[0] ^= 0x80;
	ok(!vgp_mac_equal(mac, other), "a mac differing in the first bit compares unequal");
	vgp_auth_mac((const uint8_t *) "s3creT", 6, nonce, other);
	ok(!vgp_mac_equal(mac, other), "another secret gives another mac");
}

/*
 * Frame header round trip for every type; bad magic, another version, an
 * unknown type and lengths over the limits rejected.
 */
static void
TestFrameHeader(void)
{
	uint8_t		b[VGP_FRAME_HEADER_SIZE];
	VgpFrameHeader fh;
	char		err[VC_ERRMSG_LEN];
	int			t,
				good = 1;

	for (t = VGP_MSG_HELLO; t <= VGP_MSG_ERROR; t++)
	{
		vgp_encode_frame_header(b, (uint16_t) t, 100);
		good &= vgp_decode_frame_header(b, 1000, &fh, err) == VC_OK &&
			fh.magic == VGP_MAGIC && fh.type == t && fh.version == VGP_VERSION &&
			fh.length == 100;
	}
	ok(good, "frame header round trip for every type");
	ok(b[0] == 'A' && b[1] == 'V' && b[2] == 'G' && b[3] == 'P', "magic bytes are \"AVGP\"");

	vgp_encode_frame_header(b, VGP_MSG_TRAIN, 100);
	b[2] ^= 1;
	ok(vgp_decode_frame_header(b, 1000, &fh, err) == VC_EFORMAT, "bad magic rejected");
	vgp_encode_frame_header(b, VGP_MSG_TRAIN, 100);
	b[6] = 2;
	ok(vgp_decode_frame_header(b, 1000, &fh, err) == VC_EFORMAT, "other version rejected");
	vgp_encode_frame_header(b, 0, 0);
	ok(vgp_decode_frame_header(b, 1000, &fh, err) == VC_EFORMAT, "type 0 rejected");
	vgp_encode_frame_header(b, VGP_MSG_ERROR + 1, 0);
	ok(vgp_decode_frame_header(b, 1000, &fh, err) == VC_EFORMAT, "unknown type rejected");
	vgp_encode_frame_header(b, VGP_MSG_TRAIN, 1001);
	ok(vgp_decode_frame_header(b, 1000, &fh, err) == VC_ELIMIT, "TRAIN over the limit rejected");
	vgp_encode_frame_header(b, VGP_MSG_TRAIN, UINT64_MAX);
	ok(vgp_decode_frame_header(b, 1000, &fh, err) == VC_ELIMIT, "TRAIN of 2^64-1 bytes rejected");
	vgp_encode_frame_header(b, VGP_MSG_RESULT, 5000);
	ok(vgp_decode_frame_header(b, 10000, &fh, err) == VC_OK, "RESULT within the caller's limit accepted");
	ok(vgp_decode_frame_header(b, 4999, &fh, err) == VC_ELIMIT, "RESULT over the caller's limit rejected");
	vgp_encode_frame_header(b, VGP_MSG_ERROR, VGP_MAX_SMALL_PAYLOAD + 1);
	ok(vgp_decode_frame_header(b, UINT64_MAX, &fh, err) == VC_ELIMIT,
	   "small message over VGP_MAX_SMALL_PAYLOAD rejected whatever the limit");
}

/*
 * HELLO round trip; a short HELLO, unknown flags, backend 'auto' and a tiny
 * request limit rejected.
 */
static void
TestHello(void)
{
	VgpHello	h,
				g;
	uint8_t		b[VGP_HELLO_SIZE];
	char		err[VC_ERRMSG_LEN];
	int			i;

	h.flags = VGP_HELLO_AUTH;
	for (i = 0; i < VGP_NONCE_LEN; i++)
		h.nonce[i] = (uint8_t) (i * 7);
	h.backend = VC_DEVICE_GPU;
	h.max_request_bytes = UINT64_C(1) << 33;
	ok(vgp_encode_hello(b, &h) == VGP_HELLO_SIZE, "HELLO encodes to %d bytes", VGP_HELLO_SIZE);
	ok(vgp_decode_hello(b, sizeof(b), &g, err) == VC_OK && g.flags == h.flags &&
	   memcmp(g.nonce, h.nonce, VGP_NONCE_LEN) == 0 && g.backend == h.backend &&
	   g.max_request_bytes == h.max_request_bytes, "HELLO round trip");
	ok(vgp_decode_hello(b, sizeof(b) - 1, &g, err) == VC_EFORMAT, "short HELLO rejected");
	h.flags = 2;
	vgp_encode_hello(b, &h);
	ok(vgp_decode_hello(b, sizeof(b), &g, err) == VC_EFORMAT, "HELLO with unknown flags rejected");
	h.flags = 0;
	h.backend = VC_DEVICE_AUTO;
	vgp_encode_hello(b, &h);
	ok(vgp_decode_hello(b, sizeof(b), &g, err) == VC_EFORMAT, "HELLO with backend 'auto' rejected");
	h.backend = VC_DEVICE_CPU;
	h.max_request_bytes = 10;
	vgp_encode_hello(b, &h);
	ok(vgp_decode_hello(b, sizeof(b), &g, err) == VC_EFORMAT, "HELLO with a tiny request limit rejected");
}

/* a TRAIN header with every option given, many at the top of their ranges */
static void
FullHeader(VgpTrainHeader *h)
{
	memset(h, 0, sizeof(*h));
	vc_options_init(&h->opt);
	h->opt.n_hidden = 3;
	h->opt.hidden[0] = 64;
	h->opt.hidden[1] = 32;
	h->opt.hidden[2] = 4096;
	h->opt.latent_dim = 7;
	h->opt.likelihood = VC_LIK_BERNOULLI;
	h->opt.activation = VC_ACT_TANH;
	h->opt.normalize = VC_NORM_NONE;
	h->opt.epochs = 123;
	h->opt.batch_size = 65536;
	h->opt.learning_rate = 0.0025;
	h->opt.beta = 0.5;
	h->opt.weight_decay = 1e-4;
	h->opt.seed = UINT64_C(9007199254740991);
	h->opt.validation_fraction = 0.25;
	h->opt.patience = 17;
	h->opt.max_rows = INT64_C(1) << 40;
	h->opt.mc_samples = 1024;
	h->opt.verbose = 1;
	h->opt.device = VC_DEVICE_AUTO;
	h->dim = 16384;
	h->n_rows = 1000000;
}

static int
SameHeader(const VgpTrainHeader *a, const VgpTrainHeader *b)
{
	return memcmp(&a->opt, &b->opt, sizeof(VcOptions)) == 0 && a->dim == b->dim &&
		a->n_rows == b->n_rows;
}

/* v as n little-endian bytes at p */
static void
PutLE(uint8_t *p, uint64_t v, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t) (v >> (8 * i));
}

/* the bits of d as 8 little-endian bytes at p */
static void
PutDouble(uint8_t *p, double d)
{
	uint64_t	u;

	memcpy(&u, &d, 8);
	PutLE(p, u, 8);
}

typedef struct BadField
{
	const char *what;
	int			off;
	int			size;			/* 4, 8, or -8 for a double */
	double		value;
} BadField;

/*
 * TRAIN header round trips (every option given, none given), hidden sizes
 * past n_hidden ignored; the wrong length and every malformed field rejected.
 */
static void
TestTrainHeader(void)
{
	VgpTrainHeader h,
				g;
	uint8_t		b[VGP_TRAIN_HEADER_SIZE],
				m[VGP_TRAIN_HEADER_SIZE];
	char		err[VC_ERRMSG_LEN];
	static const BadField bad[] = {
		{"n_hidden -2", 0, 4, -2}, {"n_hidden 9", 0, 4, 9},
		{"hidden[0] 0", 4, 4, 0}, {"hidden[1] 4097", 8, 4, 4097}, {"hidden[2] -1", 12, 4, -1},
		{"latent_dim 0", 36, 4, 0}, {"latent_dim 4097", 36, 4, 4097}, {"latent_dim -2", 36, 4, -2},
		{"likelihood 2", 40, 4, 2}, {"likelihood -1", 40, 4, -1},
		{"activation 2", 44, 4, 2}, {"normalize 3", 48, 4, 3}, {"normalize -2", 48, 4, -2},
		{"epochs 0", 52, 4, 0}, {"epochs 100001", 52, 4, 100001},
		{"batch_size 0", 56, 4, 0}, {"batch_size 65537", 56, 4, 65537},
		{"learning_rate 0", 60, -8, 0}, {"learning_rate 11", 60, -8, 11},
		{"learning_rate NaN", 60, -8, NAN}, {"learning_rate -inf", 60, -8, -INFINITY},
		{"beta 1e7", 68, -8, 1e7}, {"beta inf", 68, -8, INFINITY},
		{"weight_decay 2", 76, -8, 2}, {"weight_decay NaN", 76, -8, NAN},
		{"seed 2^53", 84, 8, 9007199254740992.0},
		{"validation_fraction 0.95", 92, -8, 0.95}, {"validation_fraction NaN", 92, -8, NAN},
		{"patience -2", 100, 4, -2}, {"patience 100001", 100, 4, 100001},
		{"max_rows -1", 104, 8, -1}, {"max_rows 1", 104, 8, 1},
		{"mc_samples 0", 112, 4, 0}, {"mc_samples 1025", 112, 4, 1025},
		{"verbose 2", 116, 4, 2}, {"device 3", 120, 4, 3}, {"device -1", 120, 4, -1},
		{"dim 0", 124, 4, 0}, {"dim 16385", 124, 4, 16385},
		{"n_rows 0", 128, 8, 0}, {"n_rows 1", 128, 8, 1},
		{"n_rows 2^62 (overflows n_rows * dim * 4)", 128, 8, 4611686018427387904.0},
	};
	size_t		i;
	int			all = 1;

	FullHeader(&h);
	ok(vgp_encode_train_header(b, &h) == VGP_TRAIN_HEADER_SIZE,
	   "TRAIN header encodes to VGP_TRAIN_HEADER_SIZE (%d) bytes", VGP_TRAIN_HEADER_SIZE);
	ok(vgp_decode_train_header(b, sizeof(b), &g, err) == VC_OK && SameHeader(&h, &g),
	   "TRAIN header round trip with every field set");
	vc_options_init(&h.opt);
	h.dim = 3;
	h.n_rows = 2;
	vgp_encode_train_header(b, &h);
	ok(vgp_decode_train_header(b, sizeof(b), &g, err) == VC_OK && SameHeader(&h, &g),
	   "TRAIN header round trip with every option \"not given\"");
	h.opt.n_hidden = 0;
	h.opt.hidden[0] = 99;		/* beyond n_hidden: not sent */
	vgp_encode_train_header(b, &h);
	PutLE(b + 4, 12345, 4);		/* and ignored if it is */
	ok(vgp_decode_train_header(b, sizeof(b), &g, err) == VC_OK && g.opt.n_hidden == 0 &&
	   g.opt.hidden[0] == 0, "hidden sizes past n_hidden are ignored and decode as 0");
	ok(vgp_decode_train_header(b, sizeof(b) - 1, &g, err) == VC_EFORMAT,
	   "TRAIN header of the wrong length rejected");

	FullHeader(&h);
	vgp_encode_train_header(b, &h);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		VcStatus	st;

		memcpy(m, b, sizeof(b));
		if (bad[i].size == -8)
			PutDouble(m + bad[i].off, bad[i].value);
		else
			PutLE(m + bad[i].off, (uint64_t) (int64_t) bad[i].value, bad[i].size);
		st = vgp_decode_train_header(m, sizeof(m), &g, err);
		if (!ok(st != VC_OK, "TRAIN header with %s rejected (%s)", bad[i].what, err))
			all = 0;
	}
	ok(all, "every malformed TRAIN field rejected");
}

/*
 * PROGRESS round trip with a NaN validation loss; the wrong length, epoch 0,
 * an infinite loss and a negative time rejected.
 */
static void
TestProgress(void)
{
	VgpProgress p = {42, 1.5, NAN, 3.25},
				q;
	uint8_t		b[VGP_PROGRESS_SIZE];
	char		err[VC_ERRMSG_LEN];

	ok(vgp_encode_progress(b, &p) == VGP_PROGRESS_SIZE, "PROGRESS encodes to %d bytes", VGP_PROGRESS_SIZE);
	ok(vgp_decode_progress(b, sizeof(b), &q, err) == VC_OK && q.epoch == 42 &&
	   q.train_loss == 1.5 && isnan(q.val_loss) && q.elapsed == 3.25,
	   "PROGRESS round trip (NaN val_loss = no validation set)");
	ok(vgp_decode_progress(b, sizeof(b) + 1, &q, err) == VC_EFORMAT, "long PROGRESS rejected");
	p.epoch = 0;
	vgp_encode_progress(b, &p);
	ok(vgp_decode_progress(b, sizeof(b), &q, err) == VC_EFORMAT, "PROGRESS epoch 0 rejected");
	p.epoch = 1;
	p.train_loss = INFINITY;
	vgp_encode_progress(b, &p);
	ok(vgp_decode_progress(b, sizeof(b), &q, err) == VC_EFORMAT, "PROGRESS infinite loss rejected");
	p.train_loss = 1;
	p.elapsed = -1;
	vgp_encode_progress(b, &p);
	ok(vgp_decode_progress(b, sizeof(b), &q, err) == VC_EFORMAT, "PROGRESS negative time rejected");
}

/*
 * ERROR round trip, a long message cut to VC_ERRMSG_LEN - 1 bytes; wrong
 * lengths, status VC_OK or an unknown one, and a NUL in the message rejected.
 */
static void
TestError(void)
{
	uint8_t		b[VGP_ERROR_MAX_SIZE + 16];
	char		msg[VC_ERRMSG_LEN],
				err[VC_ERRMSG_LEN],
				longmsg[600];
	VcStatus	st;
	size_t		n;

	n = vgp_encode_error(b, VC_ELIMIT, "queue full");
	ok(n == 18 && vgp_decode_error(b, n, &st, msg, err) == VC_OK && st == VC_ELIMIT &&
	   strcmp(msg, "queue full") == 0, "ERROR round trip");
	memset(longmsg, 'x', sizeof(longmsg) - 1);
	longmsg[sizeof(longmsg) - 1] = '\0';
	n = vgp_encode_error(b, VC_EDATA, longmsg);
	ok(n == VGP_ERROR_MAX_SIZE && vgp_decode_error(b, n, &st, msg, err) == VC_OK &&
	   strlen(msg) == VC_ERRMSG_LEN - 1, "a long ERROR message is cut to VC_ERRMSG_LEN - 1 bytes");
	n = vgp_encode_error(b, VC_EDATA, "abc");
	ok(vgp_decode_error(b, 7, &st, msg, err) == VC_EFORMAT, "truncated ERROR rejected");
	ok(vgp_decode_error(b, n + 1, &st, msg, err) == VC_EFORMAT, "ERROR longer than its message rejected");
	ok(vgp_decode_error(b, n - 1, &st, msg, err) == VC_EFORMAT, "ERROR shorter than its message rejected");
	PutLE(b, VC_OK, 4);
	ok(vgp_decode_error(b, n, &st, msg, err) == VC_EFORMAT, "ERROR with status VC_OK rejected");
	PutLE(b, VC_EDEVICE + 1, 4);
	ok(vgp_decode_error(b, n, &st, msg, err) == VC_EFORMAT, "ERROR with an unknown status rejected");
	PutLE(b, VC_EDATA, 4);
	b[9] = '\0';
	ok(vgp_decode_error(b, n, &st, msg, err) == VC_EFORMAT, "ERROR message with a NUL rejected");
	PutLE(b + 4, 300, 4);
	ok(vgp_decode_error(b, n, &st, msg, err) == VC_EFORMAT, "ERROR message length over the limit rejected");
}

/*
 * A RESULT (device GPU): an mlen-byte model (bytes 0, 1, ...) and `epochs`
 * (at most 4) of loss history; malloc'ed, its length into *len.
 */
static uint8_t *
MakeResult(size_t mlen, uint32_t epochs, size_t *len)
{
	double		tl[4] = {3, 2, 1.5, 1.25},
				vl[4] = {NAN, 2.5, 2, 1.75};
	size_t		n = VGP_RESULT_PREFIX_SIZE + mlen + vgp_result_history_size(epochs);
	uint8_t    *b = malloc(n);
	size_t		i;

	vgp_encode_result_prefix(b, VC_DEVICE_GPU, mlen);
	for (i = 0; i < mlen; i++)
		b[VGP_RESULT_PREFIX_SIZE + i] = (uint8_t) i;
	vgp_encode_result_history(b + VGP_RESULT_PREFIX_SIZE + mlen, epochs, tl, vl);
	*len = n;
	return b;
}

/*
 * RESULT and its history round trip; truncation, a wrong model length or
 * epoch count, an unknown device and an infinite loss rejected.
 */
static void
TestResult(void)
{
	size_t		len;
	uint8_t    *b = MakeResult(300, 4, &len);
	uint32_t	device,
				epochs;
	const uint8_t *model;
	uint64_t	mlen;
	double		tl[4],
				vl[4];
	char		err[VC_ERRMSG_LEN];

	ok(vgp_result_history_size(4) == 4 + 64, "history size is 4 + 16 per epoch");
	ok(vgp_decode_result(b, len, &device, &model, &mlen, &epochs, err) == VC_OK &&
	   device == VC_DEVICE_GPU && mlen == 300 && epochs == 4 &&
	   model == b + VGP_RESULT_PREFIX_SIZE && model[299] == (uint8_t) 299,
	   "RESULT round trip, model in place");
	ok(vgp_decode_result_history(b, len, tl, vl, err) == VC_OK && tl[0] == 3 && tl[3] == 1.25 &&
	   isnan(vl[0]) && vl[3] == 1.75, "RESULT history round trip");
	ok(vgp_decode_result(b, len - 1, &device, &model, &mlen, &epochs, err) == VC_EFORMAT,
	   "truncated RESULT rejected");
	ok(vgp_decode_result(b, 15, &device, &model, &mlen, &epochs, err) == VC_EFORMAT,
	   "RESULT shorter than its fixed parts rejected");
	PutLE(b + 4, 301, 8);
	ok(vgp_decode_result(b, len, &device, &model, &mlen, &epochs, err) == VC_EFORMAT,
	   "RESULT with a wrong model length rejected");
	PutLE(b + 4, UINT64_MAX, 8);
	ok(vgp_decode_result(b, len, &device, &model, &mlen, &epochs, err) == VC_EFORMAT,
	   "RESULT with a model length of 2^64-1 rejected");
	PutLE(b + 4, 300, 8);
	PutLE(b + VGP_RESULT_PREFIX_SIZE + 300, 5, 4);
	ok(vgp_decode_result(b, len, &device, &model, &mlen, &epochs, err) == VC_EFORMAT,
	   "RESULT whose epoch count disagrees with its length rejected");
	PutLE(b + VGP_RESULT_PREFIX_SIZE + 300, 4, 4);
	PutLE(b, 7, 4);
	ok(vgp_decode_result(b, len, &device, &model, &mlen, &epochs, err) == VC_EFORMAT,
	   "RESULT with an unknown device rejected");
	PutLE(b, 0, 4);
	PutDouble(b + VGP_RESULT_PREFIX_SIZE + 300 + 4 + 16, INFINITY);
	ok(vgp_decode_result_history(b, len, tl, vl, err) == VC_EFORMAT,
	   "RESULT history with an infinite loss rejected");
	free(b);
}

/* flip, overwrite and truncate valid encodings; decoders must never crash */
static void
TestCorruption(void)
{
	uint8_t		valid[6][512];
	size_t		vlen[6];
	uint8_t		buf[512];
	uint64_t	state = 12345;
	long		iter,
				accepted = 0;
	VgpHello	h;
	VgpTrainHeader th;
	VgpProgress p = {3, 1, 2, 3};
	size_t		rlen;
	uint8_t    *r = MakeResult(100, 4, &rlen);
	char		err[VC_ERRMSG_LEN],
				msg[VC_ERRMSG_LEN];

	memset(&h, 0, sizeof(h));
	h.max_request_bytes = 1 << 20;
	vlen[0] = vgp_encode_hello(valid[0], &h);
	FullHeader(&th);
	vlen[1] = vgp_encode_train_header(valid[1], &th);
	vlen[2] = vgp_encode_progress(valid[2], &p);
	vlen[3] = vgp_encode_error(valid[3], VC_EDATA, "row 3 feature 2 is NaN");
	memcpy(valid[4], r, rlen);
	vlen[4] = rlen;
	vgp_encode_frame_header(valid[5], VGP_MSG_TRAIN, 1000);
	vlen[5] = VGP_FRAME_HEADER_SIZE;
	free(r);

	for (iter = 0; iter < 100000; iter++)
	{
		int			k = (int) (iter % 6);
		size_t		len = vlen[k];
		int			flips,
					f;
		uint8_t    *copy;
		VcStatus	st = VC_EFORMAT;

		memcpy(buf, valid[k], len);
		state = vc_mix64(state + (uint64_t) iter);
		flips = 1 + (int) (state % 4);
		for (f = 0; f < flips; f++)
		{
			state = vc_mix64(state);
			buf[state % len] = (uint8_t) (state >> 32);
		}
		state = vc_mix64(state);
		if (state % 4 == 0)
			len = (size_t) (state >> 16) % (len + 1);
		/* exact-size heap copy, so ASan sees any read past the end */
		copy = malloc(len ? len : 1);
		memcpy(copy, buf, len);
		switch (k)
		{
			case 0:
				st = vgp_decode_hello(copy, len, &h, err);
				break;
			case 1:
				st = vgp_decode_train_header(copy, len, &th, err);
				break;
			case 2:
				st = vgp_decode_progress(copy, len, &p, err);
				break;
			case 3:
				{
					VcStatus	es;

					st = vgp_decode_error(copy, len, &es, msg, err);
					if (st == VC_OK && strlen(msg) > VC_ERRMSG_LEN - 1)
						st = VC_EINVAL;
				}
				break;
			case 4:
				{
					uint32_t	d,
								e;
					const uint8_t *mp;
					uint64_t	ml;
					double		tl[8],
								vl[8];

					st = vgp_decode_result(copy, len, &d, &mp, &ml, &e, err);
					if (st == VC_OK && e <= 8)
						st = vgp_decode_result_history(copy, len, tl, vl, err);
				}
				break;
			case 5:
				if (len == VGP_FRAME_HEADER_SIZE)
				{
					VgpFrameHeader fh;

					st = vgp_decode_frame_header(copy, 1 << 20, &fh, err);
				}
				break;
		}
		if (st == VC_OK)
			accepted++;
		free(copy);
	}
	ok(1, "100000 corrupted messages decoded without a crash (%ld still valid)", accepted);
}

/* checks the wire protocol: HMAC, loopback, auth, every message, random corruptions */
int
main(void)
{
	TestHmac();
	TestLoopback();
	TestAuth();
	TestFrameHeader();
	TestHello();
	TestTrainHeader();
	TestProgress();
	TestError();
	TestResult();
	TestCorruption();
	return done_testing();
}
