/*
 * vc_limits.c - the sizes a training run will need, computed from the
 * options and the row shape before any work, so that a model that cannot be
 * stored is refused at the first row instead of after hours of training and
 * gigabytes of memory.
 */
#include <string.h>

#include "vc.h"
#include "vc_schema.h"

/*
 * The model's layout for these options, with nothing allocated.  A row
 * model (schema laid out, else NULL) has its schema's head and its schema
 * section instead of the array model's centers and scales, so its size is
 * counted from the schema itself.
 */
static void
Layout(VcModel *tmp, const VcOptions *opt, int dim, const VcSchema *schema, int64_t n_rows)
{
	memset(tmp, 0, sizeof(*tmp));
	tmp->opt = *opt;
	tmp->dim = dim;
	tmp->schema = (VcSchema *) schema;	/* only read, for its serialized size */
	tmp->n_params = schema ? vc_schema_param_count(opt, schema) : vc_layout_param_count(opt, dim);
	/* the loss history holds at most opt->epochs entries, the score sample 10,000 rows */
	tmp->epochs_run = opt->epochs;
	tmp->n_scores = (int) (n_rows < VC_MAX_SCORE_SAMPLE ? n_rows : VC_MAX_SCORE_SAMPLE);
}

/*
 * The largest serialized size of a model trained with these options on
 * n_rows rows of dim features; an ensemble (opt->ensemble > 1, format 3)
 * is its members, each with a u32 length, its 16-byte header, its combined
 * score sample and its trailer.
 */
size_t
vc_model_size_bound(const VcOptions *opt, int dim, const VcSchema *schema, int64_t n_rows)
{
	VcModel		tmp;
	size_t		one;

	Layout(&tmp, opt, dim, schema, n_rows);
	one = vc_model_serialized_size(&tmp);
	if (opt->ensemble <= 1)
		return one;
	return 16 + (size_t) opt->ensemble * (4 + one) +
		(size_t) VC_N_METHODS * (size_t) tmp.n_scores * sizeof(float) + 4;
}

/*
 * What vc_train allocates besides the rows themselves: the weights, Adam's
 * two moments, the two halves' gradients and the best epoch's copy (six
 * floats per parameter), the two halves' minibatch buffers, the score
 * sample's two block buffers, and per row the index, the canonical sort's
 * merge buffer (freed before the epochs, counted anyway) and the validation
 * losses.
 */
size_t
vc_train_workspace_bytes(const VcOptions *opt, int dim, int64_t n_rows)
{
	VcModel		tmp;
	size_t		per_row_floats = 0,
				widest = (size_t) dim * 2,
				head,
				bytes;
	int			l,
				half = (opt->batch_size + 1) / 2,
				block;

	Layout(&tmp, opt, dim, NULL, n_rows);
	/* vc_net_init's buffers per row of capacity: every layer's output, ... */
	for (l = 0; l < opt->n_hidden; l++)
	{
		per_row_floats += 2 * (size_t) opt->hidden[l];	/* encoder and decoder */
		if ((size_t) opt->hidden[l] > widest)
			widest = (size_t) opt->hidden[l];
	}
	head = (size_t) dim * (opt->likelihood == VC_LIK_GAUSSIAN ? 2 : 1);
	if (2 * (size_t) opt->latent_dim > widest)
		widest = 2 * (size_t) opt->latent_dim;
	if (head > widest)
		widest = head;
	/* ... the two heads, x and lvx, eps, z and lvz */
	per_row_floats += 2 * (size_t) opt->latent_dim + head + 2 * (size_t) dim +
		3 * (size_t) opt->latent_dim;
	block = 64 * (1 + opt->mc_samples);
	bytes = 6 * tmp.n_params * sizeof(float);
	bytes += 2 * (size_t) half * (per_row_floats + 2 * widest) * sizeof(float);
	bytes += 2 * (size_t) block * per_row_floats * sizeof(float);
	bytes += (size_t) n_rows * (sizeof(VcRowRef) + sizeof(int64_t) + sizeof(double));
	return bytes;
}

/*
 * The largest width w (at most VC_MAX_WIDTH) such that capping every hidden
 * layer and the latent layer at w keeps the model within limit bytes, by
 * bisection; 0 if none does.
 */
int
vc_max_width_for(const VcOptions *opt, int dim, const VcSchema *schema, int64_t n_rows,
				 size_t limit)
{
	int			lo = 0,
				hi = VC_MAX_WIDTH;

	/* the size grows with the cap: bisect for the largest that fits */
	while (lo < hi)
	{
		int			mid = lo + (hi - lo + 1) / 2,
					i;
		VcOptions	o = *opt;

		for (i = 0; i < o.n_hidden; i++)
			if (o.hidden[i] > mid)
				o.hidden[i] = mid;
		if (o.latent_dim > mid)
			o.latent_dim = mid;
		if (vc_model_size_bound(&o, dim, schema, n_rows) <= limit)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}
