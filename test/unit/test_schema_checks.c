/*
 * test_schema_checks.c - two guards of row models found in review:
 *
 *  - a schema with more cyclic than boolean and categorical columns (each
 *    cyclic column has two bounded log-variances) builds its row plan and
 *    scores without writing past the plan's arrays (AddressSanitizer
 *    checks the writes);
 *  - the reader refuses array-element columns that are not one run of
 *    consecutive elements per array, which the scorer relies on to size its
 *    element buffer.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "vc.h"
#include "vc_schema.h"

/* a column of kind, source and element; the numbers every kind accepts */
static VcColumn
Column(const char *name, const char *attribute, int kind, int source, int element)
{
	VcColumn	c;

	memset(&c, 0, sizeof(c));
	c.name = (char *) name;
	c.attribute = (char *) attribute;
	c.kind = kind;
	c.source = source;
	c.element = element;
	c.scale = 1.0f;
	if (kind == VC_COL_CYCLIC)
		c.period = source == VC_SRC_HOUR_OF_DAY ? 24.0f : 7.0f;
	return c;
}

/* a schema over cols: n columns, no exclusions */
static VcSchema
Schema(VcColumn *cols, int n)
{
	VcSchema	s;

	memset(&s, 0, sizeof(s));
	s.columns = cols;
	s.n_columns = n;
	s.max_categories = 32;
	return s;
}

/* a row model of one continuous and two cyclic columns scores a row */
static void
TestCyclicPlan(void)
{
	VcColumn	cols[3];
	VcSchema	s;
	VcOptions	opt;
	VcModel    *m = NULL;
	VcScratch  *sc;
	char		err[VC_ERRMSG_LEN];
	float		x[3] = {0.5f, 13.0f, 2.0f};
	double		out[VC_N_METHODS];

	cols[0] = Column("x", "x", VC_COL_CONTINUOUS, VC_SRC_VALUE, 0);
	cols[1] = Column("t:hour", "t", VC_COL_CYCLIC, VC_SRC_HOUR_OF_DAY, 0);
	cols[2] = Column("t:dow", "t", VC_COL_CYCLIC, VC_SRC_DAY_OF_WEEK, 0);
	s = Schema(cols, 3);
	vc_options_init(&opt);
	ok(vc_options_resolve(&opt, 100, 5, err) == VC_OK &&
	   vc_model_create_rows(&m, &opt, &s, err) == VC_OK, "cyclic row model created");
	if (!m)
		return;
	vc_model_init_params(m);
	m->rows = 100;
	sc = vc_scratch_create(m);
	ok(sc != NULL, "its scoring workspace (and row plan) is built");
	if (sc)
	{
		ok(vc_score_row(m, sc, x, (1u << VC_N_METHODS) - 1, out, err) == VC_OK &&
		   !isnan(out[0]) && !isnan(out[1]) && !isnan(out[2]),
		   "a row scores, no NaN (recon_prob %g)", out[0]);
		vc_scratch_free(sc);
	}
	vc_model_free(m);
}

/* the reader's rule for array-element columns */
static void
TestArrayRuns(void)
{
	VcColumn	cols[3];
	VcSchema	s;
	char		err[VC_ERRMSG_LEN];

	cols[0] = Column("f[1]", "f", VC_COL_CONTINUOUS, VC_SRC_ARRAY_ELEMENT, 1);
	cols[1] = Column("f[2]", "f", VC_COL_CONTINUOUS, VC_SRC_ARRAY_ELEMENT, 2);
	cols[2] = Column("y", "y", VC_COL_CONTINUOUS, VC_SRC_VALUE, 0);
	s = Schema(cols, 3);
	ok(vc_schema_check(&s, err) == VC_OK, "elements 1, 2 of one array: accepted");

	cols[0].element = 2;
	cols[1].element = 1;
	ok(vc_schema_check(&s, err) == VC_EINVAL, "elements 2, 1: refused (%s)", err);

	cols[0].element = 1;
	cols[1].element = 1;
	ok(vc_schema_check(&s, err) == VC_EINVAL, "element 1 twice: refused (%s)", err);

	cols[0].element = 1;
	cols[1] = Column("y", "y", VC_COL_CONTINUOUS, VC_SRC_VALUE, 0);
	cols[2] = Column("f[2]", "f", VC_COL_CONTINUOUS, VC_SRC_ARRAY_ELEMENT, 2);
	ok(vc_schema_check(&s, err) == VC_EINVAL, "two runs of one array: refused (%s)", err);
}

/* runs both tests */
int
main(void)
{
	TestCyclicPlan();
	TestArrayRuns();
	return done_testing();
}
