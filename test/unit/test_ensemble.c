/*
 * test_ensemble.c - format version 3 (an ensemble of networks,
 * docs/model-format.md) and its score:
 *
 *  - an ensemble round-trips to the same bytes, lays out as documented
 *    (header, each member as a standalone model with its length, combined
 *    scores, CRC), and its members read back as the models they were;
 *  - vc_score_row of an ensemble is, to the bit, the robust mean of its
 *    members' scores with the medians and interquartile ranges that
 *    vc_threshold reads from each member's score sample;
 *  - the reader refuses hostile bytes with a message (member counts and
 *    lengths, truncation at every length, trailing bytes, checksums,
 *    reserved bits, members that do not fit together, a nested ensemble,
 *    unsorted or non-finite combined scores) and never crashes on random
 *    damage (AddressSanitizer checks the reads).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vc.h"
#include "vc_bytes.h"
#include "vc_crc32c.h"
#include "vc_schema.h"

#define DIM 4
#define K 3
#define N_ROWS 40

static int
CompareFloat(const void *a, const void *b)
{
	float		x = *(const float *) a,
				y = *(const float *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/*
 * Member k of the test ensemble: seed vc_member_seed(77, k), parameters from
 * it, a training record and a score sample of its own.  layout_variant != 0
 * gives another latent size (a member that does not fit).
 */
static VcModel *
Member(int k, int layout_variant)
{
	VcOptions	opt;
	VcModel    *m = NULL;
	char		err[VC_ERRMSG_LEN];
	int			i,
				meth;

	vc_options_init(&opt);
	opt.seed = vc_member_seed(77, k);
	opt.epochs = 5;
	opt.mc_samples = 4;
	opt.ensemble = 1;
	if (layout_variant)
		opt.latent_dim = 3;
	if (vc_options_resolve(&opt, N_ROWS, DIM, err) != VC_OK ||
		vc_model_create(&m, &opt, DIM, err) != VC_OK)
	{
		diag("member: %s", err);
		return NULL;
	}
	vc_model_init_params(m);
	for (i = 0; i < DIM; i++)
	{
		m->center[i] = 0.25f * (float) i;
		m->scale[i] = 1.0f + 0.5f * (float) i;
	}
	m->rows = N_ROWS;
	m->epochs_run = 2;
	m->best_epoch = 2;
	m->train_seconds = 0.5 * (k + 1);
	m->train_loss = vc_alloc(2 * sizeof(double));
	m->val_loss = vc_alloc(2 * sizeof(double));
	m->train_loss[0] = 9.0 - k;
	m->train_loss[1] = 8.0 - k;
	m->val_loss[0] = m->val_loss[1] = NAN;
	m->n_scores = 20;
	for (meth = 0; meth < VC_N_METHODS; meth++)
	{
		m->scores[meth] = vc_alloc(20 * sizeof(float));
		for (i = 0; i < 20; i++)
			m->scores[meth][i] = (float) (5.0 * meth + k + 4.0 * vc_uniform(11 + k, i));
		qsort(m->scores[meth], 20, sizeof(float), CompareFloat);
	}
	return m;
}

/* raw row i of the test data */
static void
Row(int i, float *x)
{
	int			j;

	for (j = 0; j < DIM; j++)
		x[j] = (float) sin(0.3 * i + j) * (1.0f + j);
}

/* the ensemble of K members, its combined scores from the test rows */
static VcModel *
Ensemble(void)
{
	VcModel    *members[K],
			   *e = NULL;
	static float data[N_ROWS][DIM];
	const float *rows[N_ROWS];
	char		err[VC_ERRMSG_LEN];
	int			k,
				i;

	for (k = 0; k < K; k++)
		members[k] = Member(k, 0);
	if (vc_ensemble_assemble(members, K, &e, err) != VC_OK)
	{
		diag("assemble: %s", err);
		return NULL;
	}
	for (i = 0; i < N_ROWS; i++)
	{
		Row(i, data[i]);
		rows[i] = data[i];
	}
	if (vc_ensemble_record_scores(e, rows, N_ROWS, NULL, err) != VC_OK)
	{
		diag("record scores: %s", err);
		vc_model_free(e);
		return NULL;
	}
	return e;
}

static uint8_t *
Serialize(const VcModel *m, size_t *len)
{
	uint8_t    *b;

	*len = vc_model_serialized_size(m);
	b = malloc(*len);
	vc_model_serialize(m, b);
	return b;
}

static void
Resign(uint8_t *buf, size_t len)
{
	vc_put_u32(buf + len - 4, vc_crc32c(0, buf, len - 4));
}

/* whether the reader refuses buf with a message containing want (NULL: any) */
static int
Refuses(const uint8_t *buf, size_t len, const char *want, char *msg)
{
	VcModel    *m = NULL;
	VcStatus	st;

	msg[0] = '\0';
	st = vc_model_deserialize(buf, len, &m, msg);
	if (st == VC_OK)
	{
		vc_model_free(m);
		return 0;
	}
	return m == NULL && st == VC_EFORMAT && msg[0] && (!want || strstr(msg, want));
}

/* round trip, layout, members and the score */
static void
TestRoundTripAndScore(VcModel *e, const uint8_t *buf, size_t len)
{
	VcModel    *back = NULL;
	VcScratch  *s;
	uint8_t    *again;
	size_t		len2,
				at = 16;
	char		err[VC_ERRMSG_LEN];
	float		x[DIM];
	double		got[VC_N_METHODS],
				one[VC_N_METHODS];
	int			k,
				i,
				meth,
				same = 1,
				members_ok = 1;

	ok(vc_get_u32(buf) == VC_FORMAT_MAGIC && vc_get_u16(buf + 4) == 3 &&
	   vc_get_u16(buf + 6) == 0 && vc_get_u32(buf + 8) == K && vc_get_u32(buf + 12) == N_ROWS,
	   "header: magic, version 3, reserved 0, %d members, %d combined scores", K, N_ROWS);
	for (k = 0; k < K; k++)
	{
		size_t		ml = vc_get_u32(buf + at),
					want;
		uint8_t    *mb = Serialize(e->members[k], &want);

		members_ok &= ml == want && at + 4 + ml <= len && memcmp(buf + at + 4, mb, ml) == 0;
		free(mb);
		at += 4 + ml;
	}
	ok(members_ok, "each member is its length and its standalone (version 1) bytes");
	ok(at + 12 * N_ROWS + 4 == len, "then 3 x %d combined scores and the CRC", N_ROWS);

	err[0] = '\0';
	ok(vc_model_deserialize(buf, len, &back, err) == VC_OK, "the ensemble reads back%s%s",
	   back ? "" : ": ", back ? "" : err);
	if (!back)
		return;
	ok(back->n_members == K && back->opt.ensemble == K && back->opt.seed == 77 &&
	   back->members[2]->opt.seed == 2077, "members, ensemble option and seeds read back");
	again = Serialize(back, &len2);
	ok(len2 == len && memcmp(again, buf, len) == 0, "it writes the same bytes again");
	free(again);

	/* the robust mean, recomputed from the members as SQL would */
	s = vc_scratch_create(back);
	for (i = 0; i < N_ROWS && s; i++)
	{
		Row(i + 100, x);
		if (vc_score_row(back, s, x, 7u, got, err) != VC_OK)
		{
			same = 0;
			break;
		}
		for (meth = 0; meth < VC_N_METHODS; meth++)
		{
			double		sum = 0.0;

			for (k = 0; k < K; k++)
			{
				const VcModel *mk = back->members[k];
				VcScratch  *sk = vc_scratch_create(mk);
				double		med = vc_threshold(mk, meth, 0.5),
							iqr = vc_threshold(mk, meth, 0.25) - vc_threshold(mk, meth, 0.75);

				vc_score_row(mk, sk, x, 7u, one, err);
				vc_scratch_free(sk);
				sum += (one[meth] - med) / (iqr > VC_ROBUST_MIN_IQR ? iqr : VC_ROBUST_MIN_IQR);
			}
			if (got[meth] != sum / K)
				same = 0;
		}
	}
	ok(s && same, "an ensemble's scores are the robust mean of its members', to the bit");
	vc_scratch_free(s);
	{
		double		in_sample = 0;
		int			below = 0;

		/* the stored scores are the combined scores of the training rows */
		s = vc_scratch_create(back);
		for (i = 0; i < N_ROWS; i++)
		{
			Row(i, x);
			vc_score_row(back, s, x, 1u << VC_METHOD_MSE, got, err);
			in_sample = got[VC_METHOD_MSE];
			below += (float) in_sample <= back->scores[VC_METHOD_MSE][N_ROWS - 1] &&
				(float) in_sample >= back->scores[VC_METHOD_MSE][0];
		}
		vc_scratch_free(s);
		ok(below == N_ROWS, "the stored scores are the training rows' combined scores");
	}
	vc_model_free(back);
}

/* hand-edited bytes (CRC fixed afterwards) that must be refused */
static void
TestRefusals(const uint8_t *buf, size_t len)
{
	uint8_t    *b = malloc(len + 8);
	char		msg[VC_ERRMSG_LEN];
	size_t		m0 = vc_get_u32(buf + 16),
				cut;
	int			all = 1;

#define EDIT(what, want, stmt) \
	do { \
		memcpy(b, buf, len); \
		stmt; \
		Resign(b, len); \
		ok(Refuses(b, len, want, msg), "refuses %s: %s", what, msg); \
	} while (0)

	EDIT("one member", "ensemble members", vc_put_u32(b + 8, 1));
	EDIT("17 members", "ensemble members", vc_put_u32(b + 8, 17));
	EDIT("no combined scores", "score sample", vc_put_u32(b + 12, 0));
	EDIT("10001 combined scores", "score sample", vc_put_u32(b + 12, 10001));
	EDIT("more combined scores than bytes", "truncated", vc_put_u32(b + 12, N_ROWS + 1));
	EDIT("a member length past the end", "truncated", vc_put_u32(b + 16, (uint32_t) len));
	EDIT("a member length shorter than any model", "shorter", vc_put_u32(b + 16, 10));
	EDIT("a member length off by 4", NULL, vc_put_u32(b + 16, (uint32_t) m0 - 4));
	EDIT("nonzero reserved bits", "reserved", vc_put_u16(b + 6, 1));
	EDIT("a member's seed that is not derived", "member 2",
		 vc_put_u64(b + 16 + 4 + m0 + 4 + 96, 5);
		 vc_put_u32(b + 16 + 4 + m0 + 4 + m0 - 4,
					vc_crc32c(0, b + 16 + 4 + m0 + 4, m0 - 4)));
	EDIT("a damaged member (its own CRC)", "ensemble member 1: model checksum mismatch",
		 b[16 + 4 + 200] ^= 1);
	EDIT("a nested ensemble", "ensemble member 1",
		 vc_put_u16(b + 16 + 4 + 4, 3);
		 vc_put_u32(b + 16 + 4 + m0 - 4, vc_crc32c(0, b + 16 + 4, m0 - 4)));
	EDIT("unsorted combined scores", "out of order",
		 vc_put_f32(b + len - 8, -1e30f));
	EDIT("a NaN combined score", "not finite", vc_put_f32(b + len - 8, NAN));

	memcpy(b, buf, len);
	b[len / 2] ^= 0x10;
	ok(Refuses(b, len, "checksum", msg), "refuses a flipped bit: %s", msg);
	memcpy(b, buf, len);
	memset(b + len, 0, 8);
	Resign(b, len + 8);
	ok(Refuses(b, len + 8, "trailing", msg), "refuses trailing bytes: %s", msg);
	for (cut = 0; cut < len; cut++)
		all &= Refuses(buf, cut, NULL, msg);
	ok(all, "refuses every truncation (%zu lengths)", len);
	free(b);
#undef EDIT
}

/* members that do not fit together */
static void
TestMisfits(void)
{
	VcModel    *members[K],
			   *e = NULL;
	char		err[VC_ERRMSG_LEN];
	int			k;

	for (k = 0; k < K; k++)
		members[k] = Member(k, k == 1);
	ok(vc_ensemble_assemble(members, K, &e, err) == VC_EFORMAT && e == NULL &&
	   strstr(err, "member 2"), "refuses a member of another layout: %s", err);
	for (k = 0; k < K; k++)
		members[k] = Member(k, 0);
	members[2]->rows = N_ROWS - 1;
	ok(vc_ensemble_assemble(members, K, &e, err) == VC_EFORMAT && strstr(err, "rows"),
	   "refuses a member trained on other rows: %s", err);
	for (k = 0; k < K; k++)
		members[k] = Member(k, 0);
	members[1]->opt.beta = 2.0;
	ok(vc_ensemble_assemble(members, K, &e, err) == VC_EFORMAT && strstr(err, "options"),
	   "refuses a member with other options: %s", err);
	for (k = 0; k < K; k++)
		members[k] = Member(k, 0);
	/* the scoring method is not in the options block the check compares */
	members[2]->opt.method = members[0]->opt.method == VC_METHOD_MSE ? VC_METHOD_ELBO : VC_METHOD_MSE;
	ok(vc_ensemble_assemble(members, K, &e, err) == VC_EFORMAT && strstr(err, "member 3") &&
	   strstr(err, "options"), "refuses a member with another scoring method: %s", err);
	members[0] = Member(0, 0);
	ok(vc_ensemble_assemble(members, 1, &e, err) == VC_EFORMAT,
	   "refuses an ensemble of one: %s", err);
	ok(vc_member_seed(0, 2) == 2000 && vc_member_seed((UINT64_C(1) << 53) - 1, 1) == 999,
	   "member seeds: seed + 1000 k within [0, 2^53)");
}

/*
 * Row member k of a schema of one continuous column of the given center
 * and a categorical one of categories "a" and cat1; scores filled in
 */
static VcModel *
RowMember(int k, float center, const char *cat1)
{
	VcColumn	cols[2];
	VcSchema	s;
	VcOptions	opt;
	VcModel    *m = NULL;
	char	   *cats[2] = {"a", (char *) cat1};
	char		err[VC_ERRMSG_LEN];
	int			meth,
				i;

	memset(cols, 0, sizeof(cols));
	memset(&s, 0, sizeof(s));
	cols[0].name = cols[0].attribute = "x";
	cols[0].kind = VC_COL_CONTINUOUS;
	cols[0].center = center;
	cols[0].scale = 1.0f;
	cols[1].name = cols[1].attribute = "c";
	cols[1].kind = VC_COL_CATEGORICAL;
	cols[1].n_categories = 3;
	cols[1].categories = cats;
	cols[1].scale = 1.0f;
	s.columns = cols;
	s.n_columns = 2;
	s.max_categories = 32;
	vc_options_init(&opt);
	opt.seed = vc_member_seed(9, k);
	opt.epochs = 3;
	if (vc_options_resolve(&opt, N_ROWS, 5, err) != VC_OK ||
		vc_model_create_rows(&m, &opt, &s, err) != VC_OK)
	{
		diag("row member: %s", err);
		return NULL;
	}
	vc_model_init_params(m);
	m->rows = N_ROWS;
	m->epochs_run = 1;
	m->best_epoch = 1;
	m->train_loss = vc_alloc(sizeof(double));
	m->val_loss = vc_alloc(sizeof(double));
	m->train_loss[0] = 3.0;
	m->val_loss[0] = NAN;
	m->n_scores = 5;
	for (meth = 0; meth < VC_N_METHODS; meth++)
	{
		m->scores[meth] = vc_alloc(5 * sizeof(float));
		for (i = 0; i < 5; i++)
			m->scores[meth][i] = (float) (i + k);
	}
	return m;
}

/* row models: the members must share their column schema, byte for byte */
static void
TestRowMembers(void)
{
	VcModel    *members[2],
			   *e = NULL,
			   *back = NULL;
	char		err[VC_ERRMSG_LEN];
	uint8_t    *buf;
	size_t		len;

	members[0] = RowMember(0, 1.5f, "b");
	members[1] = RowMember(1, 1.5f, "b");
	ok(members[0] && members[1] && vc_ensemble_assemble(members, 2, &e, err) == VC_OK,
	   "row members of one schema assemble");
	if (!e)
		return;
	e->n_scores = 1;
	e->scores[0] = vc_alloc(sizeof(float));
	e->scores[1] = vc_alloc(sizeof(float));
	e->scores[2] = vc_alloc(sizeof(float));
	e->scores[0][0] = e->scores[1][0] = e->scores[2][0] = 0.5f;
	buf = Serialize(e, &len);
	ok(vc_get_u16(buf + 4) == 3 &&
	   vc_get_u16(buf + 16 + 4 + 4) == vc_model_format_version(members[0]) &&
	   vc_model_deserialize(buf, len, &back, err) == VC_OK && back->schema != NULL &&
	   back->opt.method == members[0]->opt.method,
	   "a row ensemble round-trips (version 3 of version 2 or 5 members, their method kept)");
	vc_model_free(back);
	free(buf);
	vc_model_free(e);

	members[0] = RowMember(0, 1.5f, "b");
	members[1] = RowMember(1, 1.5f, "z");
	ok(vc_ensemble_assemble(members, 2, &e, err) == VC_EFORMAT && strstr(err, "schema"),
	   "refuses members with other categories: %s", err);
	members[0] = RowMember(0, 1.5f, "b");
	members[1] = RowMember(1, 2.5f, "b");
	ok(vc_ensemble_assemble(members, 2, &e, err) == VC_EFORMAT && strstr(err, "schema"),
	   "refuses members with another scaling: %s", err);
	members[0] = RowMember(0, 1.5f, "b");
	members[1] = Member(1, 0);
	ok(vc_ensemble_assemble(members, 2, &e, err) == VC_EFORMAT,
	   "refuses a row member with an array member: %s", err);
}

/* random damage: refused, or read back to the same bytes; never a crash */
static void
TestFuzz(const uint8_t *buf, size_t len)
{
	uint8_t    *b = malloc(len);
	uint64_t	r = 0x1234567;
	int			i,
				bad = 0;

	for (i = 0; i < 3000; i++)
	{
		VcModel    *m = NULL;
		char		msg[VC_ERRMSG_LEN];
		size_t		at;

		memcpy(b, buf, len);
		r = r * 6364136223846793005ULL + 1442695040888963407ULL;
		at = (size_t) (r >> 33) % len;
		b[at] ^= (uint8_t) (1 + (r >> 20) % 255);
		if (i % 2)
			Resign(b, len);
		if (vc_model_deserialize(b, len, &m, msg) == VC_OK)
		{
			uint8_t    *again;
			size_t		l2;

			again = Serialize(m, &l2);
			bad += l2 != len || memcmp(again, b, len) != 0;
			free(again);
			vc_model_free(m);
		}
	}
	ok(bad == 0, "3000 random byte edits: each refused or read back to the same bytes");
	free(b);
}

int
main(void)
{
	VcModel    *e = Ensemble();
	uint8_t    *buf;
	size_t		len;

	if (!ok(e != NULL, "an ensemble of %d members assembles", K))
		return done_testing();
	buf = Serialize(e, &len);
	{
		/* the size bound training checks before any work covers every member */
		VcOptions	o = e->members[0]->opt;
		size_t		one,
					three;

		o.ensemble = 1;
		one = vc_model_size_bound(&o, DIM, NULL, N_ROWS);
		o.ensemble = K;
		three = vc_model_size_bound(&o, DIM, NULL, N_ROWS);
		ok(three >= len && three == 16 + K * (4 + one) + 12 * N_ROWS + 4,
		   "the size bound of %d members (%zu) is theirs plus the container's, at least the "
		   "ensemble's %zu bytes", K, three, len);
	}
	TestRoundTripAndScore(e, buf, len);
	TestRefusals(buf, len);
	TestMisfits();
	TestRowMembers();
	TestFuzz(buf, len);
	free(buf);
	vc_model_free(e);
	return done_testing();
}
