/*
 * vae.c - module entry point: the core's allocator, each part's settings
 * (VaeGpuInit), and the mapping of core status codes to errors.
 */
#include "vae.h"

#include <limits.h>
#include <unistd.h>

#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "vae_gpu.h"

/* 18 reports the module's name and version in pg_get_loaded_modules() */
#if PG_VERSION_NUM >= 180000
PG_MODULE_MAGIC_EXT(.name = "vae", .version = VAE_VERSION);
#else
PG_MODULE_MAGIC;
#endif

void		_PG_init(void);

/* the most rows one vae_generate call may return (vae.max_generate_rows) */
int			vae_max_generate_rows = 1000000;
/* memory one training run may take, in kB (vae.max_train_memory; 0 = no limit) */
int			vae_max_train_memory = 0;

/*
 * Half the machine's physical memory, in kB (at most INT_MAX kB): the
 * default of vae.max_train_memory, so that one vae_train cannot take a
 * server's whole memory by default.
 */
static int
DefaultTrainMemory(void)
{
	long		pages = sysconf(_SC_PHYS_PAGES),
				page_size = sysconf(_SC_PAGESIZE);
	double		kb;

	if (pages <= 0 || page_size <= 0)
		return 0;
	kb = (double) pages * (double) page_size / 2.0 / 1024.0;
	return kb > INT_MAX ? INT_MAX : (int) kb;
}

/*
 * The core allocates through these hooks.  They allocate in whatever memory
 * context is current, so each caller decides the lifetime (aggregate state,
 * fn_mcxt cache, or a per-call context) and an ERROR thrown from a core
 * callback frees everything with the context.  Huge allocations are allowed
 * because training workspaces can pass 1 GB; failure returns NULL so the
 * core can report which allocation failed.
 */
static void *
VaeAlloc(size_t size)
{
	return MemoryContextAllocExtended(CurrentMemoryContext, size,
									  MCXT_ALLOC_HUGE | MCXT_ALLOC_NO_OOM);
}

/* the core's free: pfree */
static void
VaeFree(void *ptr)
{
	pfree(ptr);
}

/*
 * Module load: the core's allocator, then each part's settings.  The "vae."
 * prefix is reserved once all are defined, so a misspelled vae.* setting is
 * an error rather than a silent placeholder.
 */
void
_PG_init(void)
{
	vc_set_allocator(VaeAlloc, VaeFree);
	VaeGpuInit();

	/*
	 * In FROM, a set-returning function's rows are all computed into a
	 * tuplestore before LIMIT applies, so vae_generate(m, 2147483647) would
	 * fill the disk with temporary files: n has a bound a user raises on
	 * purpose.
	 */
	DefineCustomIntVariable("vae.max_generate_rows",
							"The most rows one vae_generate call may return.",
							"A larger n is an error (SQLSTATE 54000).",
							&vae_max_generate_rows,
							1000000,
							0,
							INT_MAX,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);

	/*
	 * Training holds the rows and its workspace in the backend: a run that
	 * would take more than this is refused at the first row or during the
	 * scan (with the max_rows that would fit), not when the machine runs out
	 * of memory.
	 */
	DefineCustomIntVariable("vae.max_train_memory",
							"Memory one vae_train may use for its rows, workspace and model.",
							"Default: half the machine's memory.  0 = no limit.",
							&vae_max_train_memory,
							DefaultTrainMemory(),
							0,
							INT_MAX,
							PGC_USERSET,
							GUC_UNIT_KB,
							NULL, NULL, NULL);
	MarkGUCPrefixReserved("vae");
}

/* raise the ERROR of a core status, with the SQLSTATE that fits it */
void
VaeReportStatus(VcStatus st, const char *msg)
{
	int			code;

	switch (st)
	{
		case VC_EINVAL:
			code = ERRCODE_INVALID_PARAMETER_VALUE;
			break;
		case VC_ENOMEM:
			code = ERRCODE_OUT_OF_MEMORY;
			break;
		case VC_EFORMAT:
			code = ERRCODE_INVALID_BINARY_REPRESENTATION;
			break;
		case VC_EDIVERGED:
			code = ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE;
			break;
		case VC_ELIMIT:
			code = ERRCODE_PROGRAM_LIMIT_EXCEEDED;
			break;
		case VC_ECANCELED:
			code = ERRCODE_QUERY_CANCELED;
			break;
		case VC_EDEVICE:
			code = ERRCODE_SYSTEM_ERROR;
			break;
		case VC_EDATA:
		default:
			code = ERRCODE_DATA_EXCEPTION;
			break;
	}
	if (st == VC_EFORMAT)
		ereport(ERROR,
				(errcode(code),
				 errmsg("invalid vae model: %s", msg),
				 errhint("The value must be a model returned by vae_train().")));
	ereport(ERROR, (errcode(code), errmsg("%s", msg)));
}

/*
 * User text for an error message: at most VAE_ECHO_MAX bytes of it, cut on a
 * character boundary of the server encoding, with "..." when cut.  A 10 MB
 * option key must not land whole in the ERROR, the server log and every
 * client that logs errors; a prefix is enough to recognize the typo.
 */
char *
VaeEchoText(const char *s, int len)
{
	int			keep;

	if (len <= VAE_ECHO_MAX)
		return pnstrdup(s, len);
	keep = pg_mbcliplen(s, len, VAE_ECHO_MAX);
	return psprintf("%.*s...", keep, s);
}
