/*
 * vae_options.c - the jsonb options of vae_train().
 *
 * Every key is optional.  An unknown key, a wrong type or a value out of
 * range is an ERROR that names the key and what it accepts, so a typo never
 * trains a model with silently ignored settings.
 */
#include "vae.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "utils/builtins.h"
#include "utils/jsonb.h"

#define VALID_KEYS "hidden, latent_dim, likelihood, activation, normalize, epochs, " \
	"batch_size, learning_rate, beta, weight_decay, seed, validation_fraction, " \
	"patience, max_rows, mc_samples, verbose, device"

static void
OptionError(const char *key, const char *expected)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("vae_train option \"%s\" must be %s", key, expected)));
}

static double
NumberValue(JsonbValue *v, const char *key, const char *expected)
{
	if (v->type != jbvNumeric)
		OptionError(key, expected);
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
											  NumericGetDatum(v->val.numeric)));
}

/*
 * Exact integer conversion from the numeric's decimal text (numeric_out never
 * uses exponents): a double would round values near 2^63 and make the range
 * check lie.
 */
static int64
IntValue(JsonbValue *v, const char *key, int64 lo, int64 hi, const char *expected)
{
	char	   *text,
			   *end;
	long long	n;

	if (v->type != jbvNumeric)
		OptionError(key, expected);
	text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
	errno = 0;
	n = strtoll(text, &end, 10);
	if (*end == '.')
		for (end++; *end == '0'; end++)
			;
	if (errno != 0 || end == text || *end != '\0' || n < lo || n > hi)
		OptionError(key, expected);
	return (int64) n;
}

static double
RealValue(JsonbValue *v, const char *key, double lo, double hi, bool lo_open, const char *expected)
{
	double		d = NumberValue(v, key, expected);

	if (!isfinite(d) || d > hi || d < lo || (lo_open && d == lo))
		OptionError(key, expected);
	return d;
}

/* a string option: index of the matching name, or an ERROR listing the choices */
static int
ChoiceValue(JsonbValue *v, const char *key, const char *const *names, int n, const char *expected)
{
	int			i;

	if (v->type == jbvString)
		for (i = 0; i < n; i++)
			if (strlen(names[i]) == (size_t) v->val.string.len &&
				strncmp(names[i], v->val.string.val, v->val.string.len) == 0)
				return i;
	OptionError(key, expected);
	return -1;					/* unreachable */
}

static const char *const likelihoods[] = {"gaussian", "bernoulli"};
static const char *const activations[] = {"relu", "tanh"};
static const char *const normalizations[] = {"standard", "minmax", "none"};
static const char *const devices[] = {"cpu", "gpu", "auto"};

/* nested containers arrive as jbvBinary because the iterators skip nesting */
static void
ParseHidden(JsonbValue *hv, VcOptions *opt)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	int			n = 0;

	if (hv->type != jbvBinary || !JsonContainerIsArray(hv->val.binary.data))
		OptionError("hidden", "an array of layer sizes, for example [64, 32]");
	it = JsonbIteratorInit(hv->val.binary.data);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok != WJB_ELEM)
			continue;
		if (n >= VC_MAX_HIDDEN)
			OptionError("hidden", psprintf("an array of at most %d layer sizes", VC_MAX_HIDDEN));
		opt->hidden[n++] = (int) IntValue(&v, "hidden", 1, VC_MAX_WIDTH,
										  psprintf("an array of integers between 1 and %d", VC_MAX_WIDTH));
	}
	opt->n_hidden = n;
}

static void
ParseKey(const char *key, JsonbValue *v, VcOptions *opt)
{
	if (strcmp(key, "hidden") == 0)
	{
		ParseHidden(v, opt);
		return;
	}
	if (strcmp(key, "latent_dim") == 0)
		opt->latent_dim = (int) IntValue(v, key, 1, VC_MAX_WIDTH, psprintf("an integer between 1 and %d", VC_MAX_WIDTH));
	else if (strcmp(key, "likelihood") == 0)
		opt->likelihood = ChoiceValue(v, key, likelihoods, 2, "'gaussian' or 'bernoulli'");
	else if (strcmp(key, "activation") == 0)
		opt->activation = ChoiceValue(v, key, activations, 2, "'relu' or 'tanh'");
	else if (strcmp(key, "normalize") == 0)
		opt->normalize = ChoiceValue(v, key, normalizations, 3, "'standard', 'minmax' or 'none'");
	else if (strcmp(key, "epochs") == 0)
		opt->epochs = (int) IntValue(v, key, 1, VC_MAX_EPOCHS, psprintf("an integer between 1 and %d", VC_MAX_EPOCHS));
	else if (strcmp(key, "batch_size") == 0)
		opt->batch_size = (int) IntValue(v, key, 1, 65536, "an integer between 1 and 65536");
	else if (strcmp(key, "learning_rate") == 0)
		opt->learning_rate = RealValue(v, key, 0, 10, true, "a number greater than 0 and at most 10");
	else if (strcmp(key, "beta") == 0)
		opt->beta = RealValue(v, key, 0, 1e6, false, "a number between 0 and 1000000");
	else if (strcmp(key, "weight_decay") == 0)
		opt->weight_decay = RealValue(v, key, 0, 1, false, "a number between 0 and 1");
	else if (strcmp(key, "seed") == 0)
		opt->seed = (uint64_t) IntValue(v, key, 0, INT64CONST(9007199254740991),
										"an integer between 0 and 2^53 - 1");
	else if (strcmp(key, "validation_fraction") == 0)
		opt->validation_fraction = RealValue(v, key, 0, 0.9, false, "a number between 0 and 0.9");
	else if (strcmp(key, "patience") == 0)
		opt->patience = (int) IntValue(v, key, 0, VC_MAX_EPOCHS, "an integer >= 0 (0 disables early stopping)");
	else if (strcmp(key, "max_rows") == 0)
	{
		opt->max_rows = IntValue(v, key, 0, PG_INT64_MAX, "an integer >= 0 (0 means no cap)");
		if (opt->max_rows > 0 && opt->max_rows < VC_MIN_ROWS)
			OptionError(key, psprintf("0 (no cap) or at least %d", VC_MIN_ROWS));
	}
	else if (strcmp(key, "mc_samples") == 0)
		opt->mc_samples = (int) IntValue(v, key, 1, VC_MAX_MC_SAMPLES, psprintf("an integer between 1 and %d", VC_MAX_MC_SAMPLES));
	else if (strcmp(key, "verbose") == 0)
	{
		if (v->type != jbvBool)
			OptionError(key, "true or false");
		opt->verbose = v->val.boolean;
	}
	else if (strcmp(key, "device") == 0)
	{
		opt->device = ChoiceValue(v, key, devices, 3, "'cpu', 'gpu' or 'auto'");
	}
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown vae_train option \"%s\"", key),
				 errhint("Valid options are: %s.", VALID_KEYS)));
}

void
VaeParseOptions(Jsonb *jb, VcOptions *opt)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;
	char	   *key = NULL;

	vc_options_init(opt);

	/*
	 * 'auto': the GPU worker when one is configured (vae.gpu_worker, or the
	 * supervised one) and it answers, else the CPU; so configuring a worker
	 * is all it takes to use it.
	 */
	opt->device = VC_DEVICE_AUTO;
	if (jb == NULL)
		return;
	if (!JB_ROOT_IS_OBJECT(jb))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("vae_train options must be a jsonb object"),
				 errhint("Valid options are: %s.", VALID_KEYS)));
	it = JsonbIteratorInit(&jb->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
			key = pnstrdup(v.val.string.val, v.val.string.len);
		else if (tok == WJB_VALUE)
			ParseKey(key, &v, opt);
	}
}
