/*
 * vae.c - module entry point: GUCs, the GPU worker's supervisor, and the
 * mapping of core status codes to errors.
 */
#include "vae.h"

#include <limits.h>

#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "vae_gpu_client.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

/* ---- GUC variables ---- */

/* where the backends find vae_gpud: a socket path (starting with /) or host:port */
char	   *vae_gpu_worker = NULL;
/* shared secret for a worker that asks for authentication (TCP) */
char	   *vae_gpu_secret = NULL;
/* milliseconds to connect and authenticate */
int			vae_gpu_connect_timeout = 5000;
/* run vae_gpud under a background worker (needs shared_preload_libraries) */
bool		vae_gpu_worker_autostart = false;
/* the supervised daemon: its socket directory, program and backend */
char	   *vae_gpu_socket_dir = NULL;
char	   *vae_gpud_path = NULL;
char	   *vae_gpu_backend = NULL;
char	   *vae_gpud_options = NULL;
/* the most rows one vae_generate call may return */
int			vae_max_generate_rows = 1000000;

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

static void
VaeFree(void *ptr)
{
	pfree(ptr);
}

/*
 * Extra vae_gpud arguments, split on spaces (no quoting: the daemon's
 * options take numbers and paths).  --socket and --backend belong to the
 * supervisor, which passes its own.
 */
static bool
CheckGpudOptions(char **newval, void **extra, GucSource source)
{
	const char *p;

	for (p = *newval; *p; p++)
		if ((unsigned char) *p < 0x20 && *p != '\t')
		{
			GUC_check_errdetail("vae.gpud_options must not contain control characters.");
			return false;
		}
	for (p = *newval; (p = strstr(p, "--")) != NULL; p += 2)
		if ((p == *newval || p[-1] == ' ' || p[-1] == '\t') &&
			(strncmp(p, "--socket", 8) == 0 || strncmp(p, "--backend", 9) == 0))
		{
			GUC_check_errdetail("vae.gpud_options must not set --socket or --backend: "
								"use vae.gpu_socket_dir and vae.gpu_backend.");
			return false;
		}
	return true;
}

static bool
CheckGpuBackend(char **newval, void **extra, GucSource source)
{
	const char *p;

	if (**newval == '\0')
	{
		GUC_check_errdetail("vae.gpu_backend must not be empty.");
		return false;
	}
	for (p = *newval; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
		{
			GUC_check_errdetail("vae.gpu_backend must be a backend name such as \"auto\", \"cuda\" or \"cpu\".");
			return false;
		}
	return true;
}

static bool
CheckAbsolutePathOrEmpty(char **newval, void **extra, GucSource source)
{
	if (**newval != '\0' && **newval != '/')
	{
		GUC_check_errdetail("The value must be an absolute path, or empty for the default.");
		return false;
	}
	return true;
}

void
_PG_init(void)
{
	vc_set_allocator(VaeAlloc, VaeFree);

	/*
	 * Superuser-only: a user who could point the backend at a listener of
	 * their own could relay the worker's authentication challenge and learn
	 * a valid answer for vae.gpu_secret.  ALTER ROLE/DATABASE ... SET by a
	 * superuser still picks a worker per role or database.
	 */
	DefineCustomStringVariable("vae.gpu_worker",
							   "Address of the GPU worker (vae_gpud) that vae_train uses.",
							   "A Unix socket path (starting with /) or host:port.  Empty: no "
							   "worker, unless vae.gpu_worker_autostart runs one.",
							   &vae_gpu_worker,
							   "",
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);
	DefineCustomStringVariable("vae.gpu_secret",
							   "Shared secret for a GPU worker that requires authentication.",
							   "The contents of the worker's --secret-file.",
							   &vae_gpu_secret,
							   "",
							   PGC_SUSET,
							   GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							   NULL, NULL, NULL);
	DefineCustomIntVariable("vae.gpu_connect_timeout",
							"Time allowed to connect to the GPU worker and authenticate.",
							NULL,
							&vae_gpu_connect_timeout,
							5000,
							1,
							INT_MAX / 1000,
							PGC_USERSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);
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
	 * The supervisor's settings exist only when vae is preloaded: the
	 * supervisor can run only then, and PostgreSQL allows PGC_POSTMASTER
	 * variables only then.
	 */
	if (!process_shared_preload_libraries_in_progress)
	{
		MarkGUCPrefixReserved("vae");
		return;
	}

	DefineCustomBoolVariable("vae.gpu_worker_autostart",
							 "Runs vae_gpud under a background worker of the server.",
							 "Needs vae in shared_preload_libraries.  Backends then use its "
							 "socket when vae.gpu_worker is empty.",
							 &vae_gpu_worker_autostart,
							 false,
							 PGC_POSTMASTER,
							 0,
							 NULL, NULL, NULL);
	DefineCustomStringVariable("vae.gpu_socket_dir",
							   "Directory of the supervised vae_gpud's socket.",
							   "Empty: vae_gpud under the data directory.  Created with mode 0700.",
							   &vae_gpu_socket_dir,
							   "",
							   PGC_POSTMASTER,
							   0,
							   CheckAbsolutePathOrEmpty, NULL, NULL);
	DefineCustomStringVariable("vae.gpud_path",
							   "Program the supervisor runs as the GPU worker.",
							   "Empty: vae_gpud in the server's bin directory.",
							   &vae_gpud_path,
							   "",
							   PGC_POSTMASTER,
							   0,
							   CheckAbsolutePathOrEmpty, NULL, NULL);
	DefineCustomStringVariable("vae.gpu_backend",
							   "Training backend of the supervised vae_gpud (its --backend).",
							   NULL,
							   &vae_gpu_backend,
							   "auto",
							   PGC_POSTMASTER,
							   0,
							   CheckGpuBackend, NULL, NULL);
	DefineCustomStringVariable("vae.gpud_options",
							   "Further command-line options of the supervised vae_gpud.",
							   "Space-separated, for example '--max-queue 8 --request-timeout 600'; "
							   "see vae_gpud --help.",
							   &vae_gpud_options,
							   "",
							   PGC_POSTMASTER,
							   0,
							   CheckGpudOptions, NULL, NULL);

	MarkGUCPrefixReserved("vae");

	if (vae_gpu_worker_autostart)
		VaeGpuSupervisorRegister();
}

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
