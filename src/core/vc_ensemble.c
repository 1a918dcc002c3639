/*
 * vc_ensemble.c - a model of several networks (the option ensemble).
 *
 * One network's ranking of rows depends on its seed (on the detection
 * benchmark a single default network's AUC spread over five seeds by up to
 * 0.15 on small tables).  An ensemble holds K networks trained on the same
 * rows with the seeds vc_member_seed(seed, k) and scores a row by the
 * robust mean of their scores: each member's score is put on a common scale
 * by its own training-score distribution -- minus its median, over its
 * interquartile range, both read from the member's stored score sample
 * exactly as vae_threshold reads them -- and the K results are averaged.
 * Raw scores are not averaged because their scales differ between members
 * (a member with a wider spread would dominate); ranks are not, because
 * they need the scored set.
 *
 * In memory an ensemble is a view of member 0 (vc.h, VcModel.n_members):
 * everything that is not a score -- encoding, reconstruction, explanation,
 * generation, the schema a row is read with -- is member 0's, so the rest of
 * the core needs no ensemble case.  Its stored scores are the combined
 * scores of the training rows, so vae_threshold and the automatic threshold
 * apply to what vae_score returns.  The bytes are format version 3
 * (vc_format.c, docs/model-format.md).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vc.h"
#include "vc_options.h"
#include "vc_schema.h"
#include "vc_score.h"
#include "vc_sort.h"

#define SEED_MASK	((UINT64_C(1) << 53) - 1)

/* seed + 1000 k within the seed's range [0, 2^53), wrapping at its end */
uint64_t
vc_member_seed(uint64_t seed, int k)
{
	return (seed + UINT64_C(1000) * (uint64_t) k) & SEED_MASK;
}

static VcStatus
Refuse(char *errmsg, const char *what, int k)
{
	if (errmsg)
		snprintf(errmsg, VC_ERRMSG_LEN, "ensemble member %d does not fit member 1: %s",
				 k + 1, what);
	return VC_EFORMAT;
}

/* the options block of o with the seed zeroed: equal for fitting members */
static void
BlockWithoutSeed(const VcOptions *o, uint8_t *block)
{
	VcOptions	c = *o;

	c.seed = 0;
	memset(block, 0, VC_OPTIONS_BLOCK_SIZE);
	vc_options_encode(block, &c);
}

/* whether two schemas serialize to the same bytes (names, kinds, scaling, categories) */
static int
SameSchema(const VcSchema *a, const VcSchema *b, int *oom)
{
	size_t		na = vc_schema_serialized_size(a),
				nb = vc_schema_serialized_size(b);
	uint8_t    *ba,
			   *bb;
	int			same;

	if (na != nb)
		return 0;
	ba = vc_alloc(na);
	bb = vc_alloc(nb);
	if (!ba || !bb)
	{
		vc_free(ba);
		vc_free(bb);
		*oom = 1;
		return 0;
	}
	vc_schema_serialize(a, ba);
	vc_schema_serialize(b, bb);
	same = memcmp(ba, bb, na) == 0;
	vc_free(ba);
	vc_free(bb);
	return same;
}

/*
 * Member k fits member 0: one network each, the same layout and options but
 * the seed (which must be the derived one), the same rows, the same column
 * schema (a row is read once, with member 0's, for all of them), and a score
 * sample to take its median and interquartile range from.
 */
static VcStatus
CheckMember(const VcModel *m0, const VcModel *m, int k, char *errmsg)
{
	uint8_t		b0[VC_OPTIONS_BLOCK_SIZE],
				b[VC_OPTIONS_BLOCK_SIZE];
	int			oom = 0;

	if (m->n_members > 1)
		return Refuse(errmsg, "it is an ensemble itself", k);
	if (m->n_scores < 1)
		return Refuse(errmsg, "it has no training scores", k);
	if (k == 0)
		return VC_OK;
	if ((m->schema == NULL) != (m0->schema == NULL))
		return Refuse(errmsg, "one is a row model, the other an array model", k);
	if (m->dim != m0->dim || m->n_cols != m0->n_cols || m->head_dim != m0->head_dim ||
		m->n_params != m0->n_params)
		return Refuse(errmsg, "another layout", k);
	BlockWithoutSeed(&m0->opt, b0);
	BlockWithoutSeed(&m->opt, b);
	if (memcmp(b0, b, sizeof(b)) != 0 || m->opt.method != m0->opt.method)
		return Refuse(errmsg, "other options", k);
	if (m->opt.seed != vc_member_seed(m0->opt.seed, k))
		return Refuse(errmsg, "its seed is not the derived one", k);
	if (m->rows != m0->rows)
		return Refuse(errmsg, "trained on another number of rows", k);
	if (m->schema && !SameSchema(m0->schema, m->schema, &oom))
	{
		if (oom)
		{
			if (errmsg)
				snprintf(errmsg, VC_ERRMSG_LEN, "out of memory loading the model");
			return VC_ENOMEM;
		}
		return Refuse(errmsg, "another column schema", k);
	}
	return VC_OK;
}

VcStatus
vc_ensemble_assemble(VcModel **members, int k, VcModel **out, char *errmsg)
{
	VcModel    *e = NULL;
	VcStatus	st = VC_OK;
	int			i,
				meth;

	*out = NULL;
	if (k < 2 || k > VC_MAX_ENSEMBLE)
	{
		if (errmsg)
			snprintf(errmsg, VC_ERRMSG_LEN, "an ensemble has 2 to %d members, not %d",
					 VC_MAX_ENSEMBLE, k);
		st = VC_EFORMAT;
		goto fail;
	}
	for (i = 0; i < k; i++)
		if ((st = CheckMember(members[0], members[i], i, errmsg)) != VC_OK)
			goto fail;
	e = vc_alloc(sizeof(VcModel));
	if (e)
	{
		*e = *members[0];		/* the view: member 0's arrays, shared */
		e->members = vc_alloc(sizeof(VcModel *) * (size_t) k);
		e->robust = vc_alloc(sizeof(double) * 2 * VC_N_METHODS * (size_t) k);
	}
	if (!e || !e->members || !e->robust)
	{
		if (e)
		{
			vc_free(e->members);
			vc_free(e->robust);
			vc_free(e);
		}
		e = NULL;
		if (errmsg)
			snprintf(errmsg, VC_ERRMSG_LEN, "out of memory assembling the ensemble");
		st = VC_ENOMEM;
		goto fail;
	}
	e->n_members = k;
	e->opt.ensemble = k;
	e->n_scores = 0;
	for (meth = 0; meth < VC_N_METHODS; meth++)
		e->scores[meth] = NULL;
	for (i = 0; i < k; i++)
	{
		e->members[i] = members[i];
		for (meth = 0; meth < VC_N_METHODS; meth++)
		{
			/* the quantiles vae_threshold(member, 0.5 / 0.25 / 0.75) returns */
			e->robust[(i * VC_N_METHODS + meth) * 2] = vc_threshold(members[i], meth, 0.5);
			e->robust[(i * VC_N_METHODS + meth) * 2 + 1] =
				vc_sorted_iqr(members[i]->scores[meth], members[i]->n_scores);
		}
	}
	*out = e;
	return VC_OK;

fail:
	for (i = 0; i < k; i++)
		vc_model_free(members[i]);
	return st;
}

/*
 * The robust mean of the members' scores of raw row x (vc_score_row on an
 * ensemble): each member normalizes and scores x in the shared scratch (the
 * members have one layout), pointed at the member while it does.  The sum runs over the members in order, then
 * divides by K, so the result is reproducible to the bit.
 */
VcStatus
vc_ensemble_score_row(const VcModel *m, VcScratch *s, const float *x, unsigned methods,
					  double *out, char *errmsg)
{
	double		sum[VC_N_METHODS] = {0},
				one[VC_N_METHODS];
	int			i,
				meth;
	VcStatus	st;

	for (i = 0; i < m->n_members; i++)
	{
		vc_scratch_use(s, m->members[i]);
		st = vc_score_row(m->members[i], s, x, methods, one, errmsg);
		vc_scratch_use(s, m);
		if (st != VC_OK)
			return st;
		for (meth = 0; meth < VC_N_METHODS; meth++)
			if (methods & (1u << meth))
			{
				const double *r = &m->robust[(i * VC_N_METHODS + meth) * 2];

				sum[meth] += (one[meth] - r[0]) / r[1];
			}
	}
	for (meth = 0; meth < VC_N_METHODS; meth++)
		if (methods & (1u << meth))
			out[meth] = sum[meth] / m->n_members;
	return VC_OK;
}

/*
 * The combined sample of members whose samples are out-of-fold scores
 * (vc_train.c, small tables).  Their out-of-fold scores come from networks
 * of their own folds, so there is no one row's set of member scores to
 * combine; the i-th smallest combined score is the robust mean of the
 * members' i-th smallest scores instead: the distribution of the robust
 * mean when the members rank the rows alike.  Members agree closely on
 * that (their scores of one row are strongly correlated), and where they
 * do not this spreads the sample a little wider than the true one, so the
 * automatic threshold errs towards flagging fewer rows.
 */
static VcStatus
CombineOutOfFold(VcModel *m, char *errmsg)
{
	int			ns = m->members[0]->n_scores,
				i,
				k,
				meth;
	VcStatus	st;

	if ((st = vc_score_sample_alloc(m, ns, errmsg)) != VC_OK)
		return st;
	for (meth = 0; meth < VC_N_METHODS; meth++)
		for (i = 0; i < ns; i++)
		{
			double		sum = 0.0;

			for (k = 0; k < m->n_members; k++)
			{
				const double *r = &m->robust[(k * VC_N_METHODS + meth) * 2];

				sum += (m->members[k]->scores[meth][i] - r[0]) / r[1];
			}
			m->scores[meth][i] = (float) (sum / m->n_members);
		}
	m->n_scores = ns;
	m->scores_out_of_fold = 1;
	return VC_OK;
}

/* every member holds an out-of-fold sample of the same size */
static int
MembersOutOfFold(const VcModel *m)
{
	int			k;

	for (k = 0; k < m->n_members; k++)
		if (!m->members[k]->scores_out_of_fold ||
			m->members[k]->n_scores != m->members[0]->n_scores)
			return 0;
	return 1;
}

VcStatus
vc_ensemble_record_scores(VcModel *m, const float *const *rows, int n,
						  const VcCallbacks *cb, char *errmsg)
{
	VcScratch  *s = NULL;
	double		sc[VC_N_METHODS],
				last = -INFINITY;
	VcStatus	st = VC_OK;
	int			i,
				meth;

	if (n < 0 || n > VC_MAX_SCORE_SAMPLE || m->n_members < 2 || m->n_scores != 0)
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "bad call of vc_ensemble_record_scores");
		return VC_EINVAL;
	}
	if (MembersOutOfFold(m))
	{
		st = CombineOutOfFold(m, errmsg);
		goto done;
	}
	if ((st = vc_score_sample_alloc(m, n, errmsg)) != VC_OK)
		goto done;
	if (!(s = vc_scratch_create(m)))
	{
		snprintf(errmsg, VC_ERRMSG_LEN, "out of memory scoring the training rows");
		st = VC_ENOMEM;
		goto done;
	}
	vc_phase(cb, VC_PHASE_SCORE_SAMPLE, n);
	for (i = 0; i < n; i++)
	{
		if (cb && cb->check_interrupts && vc_now() - last >= 0.02)
		{
			if (cb->check_interrupts(cb->arg))
			{
				snprintf(errmsg, VC_ERRMSG_LEN, "training was canceled");
				st = VC_ECANCELED;
				goto done;
			}
			last = vc_now();
		}
		if ((st = vc_ensemble_score_row(m, s, rows[i], (1u << VC_N_METHODS) - 1, sc,
										errmsg)) != VC_OK)
			goto done;
		for (meth = 0; meth < VC_N_METHODS; meth++)
		{
			if (!isfinite((float) sc[meth]))
			{
				snprintf(errmsg, VC_ERRMSG_LEN,
						 "training produced an ensemble whose %s scores are not finite; "
						 "lower learning_rate or check the scale of the input",
						 vc_method_name(meth));
				st = VC_EDIVERGED;
				goto done;
			}
			m->scores[meth][i] = (float) sc[meth];
		}
	}
	for (meth = 0; meth < VC_N_METHODS; meth++)
		vc_sort_floats(m->scores[meth], (size_t) n);
	m->n_scores = n;

done:
	vc_scratch_free(s);
	if (st != VC_OK)
		for (meth = 0; meth < VC_N_METHODS; meth++)
		{
			vc_free(m->scores[meth]);
			m->scores[meth] = NULL;
		}
	return st;
}
