/*
 * vae.h - shared declarations of the PostgreSQL glue.
 *
 * The glue owns everything PostgreSQL-specific: argument checking, option
 * parsing, memory contexts, interrupts and turning core status codes into
 * ereport() with the right SQLSTATE.  The numeric core (src/core) knows
 * nothing of this.
 */
#ifndef VAE_H
#define VAE_H

#include "postgres.h"

#include "fmgr.h"
#include "utils/array.h"
#include "utils/jsonb.h"

#include "vc.h"

/* InitMaterializedSRF() and MarkGUCPrefixReserved() are new in 15 */
#if PG_VERSION_NUM < 150000
#error "vae needs PostgreSQL 15 or later"
#endif

/* vae.c; PostgreSQL 18 replaced pg_attribute_noreturn() by pg_noreturn */
#if PG_VERSION_NUM >= 180000
pg_noreturn extern void VaeReportStatus(VcStatus st, const char *msg);
#else
extern void VaeReportStatus(VcStatus st, const char *msg) pg_attribute_noreturn();
#endif
/* user text quoted in a message: a prefix of at most VAE_ECHO_MAX bytes */
#define VAE_ECHO_MAX 64
extern char *VaeEchoText(const char *s, int len);

/*
 * vae_input.c: a one-dimensional SQL array of real, double precision, smallint,
 * integer, bigint or numeric as float32; 'what' names it in messages
 */
extern int	VaeArrayDim(ArrayType *a, const char *what);
extern void VaeArrayToFloats(ArrayType *a, const char *what, float *out, int dim);

/* vae_options.c */
extern void VaeParseOptions(Jsonb *jb, VcOptions *opt);

/* GUC vae.max_generate_rows (vae.c) */
extern int	vae_max_generate_rows;

/* vae_model_cache.c */
typedef struct VaeModelCache
{
	VcModel    *model;
	VcScratch  *scratch;
	float	   *row;			/* dim floats of input scratch */
	/* identity of the bytes the model was decoded from */
	bool		stable;			/* a Const or external Param: never changes */
	bool		from_toast;
	Oid			toastrelid;
	Oid			valueid;
	Size		len;
	char	   *bytes;			/* a copy, when identity must be checked by value */
} VaeModelCache;

extern VaeModelCache *VaeGetModel(FunctionCallInfo fcinfo, int argno);
extern const float *VaeGetScoringRow(FunctionCallInfo fcinfo, VaeModelCache *c, int argno);

#endif							/* VAE_H */
