/*
 * vae_ensemble.c - training a model of several networks (the option
 * ensemble, src/core/vc_ensemble.c) for both training aggregates.
 *
 * The members train one after the other, each exactly as a single network
 * of its own seed would (on the CPU, or on the GPU worker through the same
 * call as a single model), on the same rows: the table's rows, or with
 * max_rows the sample the model's seed draws.  Training normalizes the rows
 * it is given in place, so each member gets a copy of the buffered rows (one
 * copy at a time; the memory budget counts it).  Then the combined scores of
 * the first rows in canonical order (the score sample) are stored.
 */
#include "vae.h"

#include "miscadmin.h"
#include "utils/memutils.h"

/*
 * The networks a run of these (unresolved) options trains on n_rows rows of
 * dim network inputs: the option ensemble, or its default for the data
 * (vc_options_resolve).  1 when the options do not resolve: training
 * reports that itself.
 */
int
VaeEnsembleSize(const VcOptions *options, int64 n_rows, int dim)
{
	VcOptions	opt = *options;
	char		msg[VC_ERRMSG_LEN];

	if (vc_options_resolve(&opt, Max(n_rows, VC_MIN_ROWS), dim, msg) != VC_OK)
		return 1;
	return opt.ensemble;
}

/*
 * Train an ensemble of opt's resolved number of networks on the raw rows
 * refs[0, n) (width floats each, hashed with opt->seed; they are reordered
 * but not modified).  rehash: a member's canonical order comes from its own
 * seed's row hash (vc_hash_row, what the array aggregate computes), so that
 * member k is the model vae_train trains with seed k; otherwise from the
 * given hashes (a row model's hash is of category texts the final function
 * no longer has).  train trains one network on its rows (it may normalize
 * them in place).  Returns the ensemble with its combined scores.
 */
VcModel *
VaeTrainEnsemble(VcRowRef *refs, int64 n, int width, int dim, const VcOptions *opt,
				 bool rehash, VaeTrainOneFn train, void *arg)
{
	VcOptions	resolved = *opt;
	VcModel    *members[VC_MAX_ENSEMBLE];
	VcModel    *model;
	const float **rows;
	char		msg[VC_ERRMSG_LEN];
	VcStatus	status;
	int64		n_sel,
				i;
	int			k,
				n_members,
				n_sample;

	VaeCheckStatus(vc_options_resolve(&resolved, n, dim, msg), msg);
	n_members = resolved.ensemble;

	/* the rows every member trains on: all, or the model seed's bottom-k */
	n_sel = n;
	if (opt->max_rows > 0 && n > opt->max_rows)
	{
		VaeCheckStatus(vc_bottom_k(refs, n, opt->max_rows, width, &vae_train_callbacks,
								   &n_sel, msg), msg);
	}
	else
		VaeCheckStatus(vc_canonical_sort(refs, n, width, &vae_train_callbacks, msg), msg);

	for (k = 0; k < n_members; k++)
	{
		VcOptions	o = *opt;
		VcRowRef   *copy;
		float	   *data;

		CHECK_FOR_INTERRUPTS();
		o.seed = vc_member_seed(opt->seed, k);
		o.ensemble = 1;
		copy = palloc_extended(sizeof(VcRowRef) * n_sel, MCXT_ALLOC_HUGE);
		data = palloc_extended(sizeof(float) * (Size) width * n_sel, MCXT_ALLOC_HUGE);
		for (i = 0; i < n_sel; i++)
		{
			copy[i].row = data + (Size) width * i;
			memcpy(copy[i].row, refs[i].row, sizeof(float) * width);
			copy[i].hash = rehash ? vc_hash_row(copy[i].row, width, o.seed) : refs[i].hash;
			if ((i & 65535) == 0)
				CHECK_FOR_INTERRUPTS();
		}
		vae_train_member = k + 1;
		vae_train_members = n_members;
		PG_TRY();
		{
			members[k] = train(arg, copy, n_sel, &o);
		}
		PG_FINALLY();
		{
			vae_train_member = vae_train_members = 0;
		}
		PG_END_TRY();
		pfree(data);
		pfree(copy);
		elog(DEBUG1, "vae_train: ensemble member %d of %d trained (seed %llu)",
			 k + 1, n_members, (unsigned long long) o.seed);
	}
	CHECK_FOR_INTERRUPTS();
	status = vc_ensemble_assemble(members, n_members, &model, msg);
	VaeCheckStatus(status, msg);

	/* the combined scores of the score sample: the first rows in canonical order */
	n_sample = (int) Min(n_sel, VC_MAX_SCORE_SAMPLE);
	rows = palloc(sizeof(float *) * Max(n_sample, 1));
	for (i = 0; i < n_sample; i++)
		rows[i] = refs[i].row;
	status = vc_ensemble_record_scores(model, rows, n_sample, &vae_train_callbacks, msg);
	VaeCheckStatus(status, msg);
	pfree(rows);
	return model;
}
