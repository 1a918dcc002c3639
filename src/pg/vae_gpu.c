/*
 * vae_gpu.c - the GPU worker's settings (vae.gpu*), where the backends find
 * the worker, and the registration of the supervisor.
 *
 * VaeGpuInit() is called from _PG_init.  The settings every backend reads
 * (the worker's address, its secret, the TLS CA file, the connect timeout)
 * always exist; the supervisor's settings exist only when vae is in
 * shared_preload_libraries, the only time the supervisor can run.
 */
#include "vae_gpu.h"

#include <limits.h>

#include "miscadmin.h"
#include "utils/guc.h"
#if PG_VERSION_NUM >= 170000
#include "utils/wait_event.h"
#endif

/* where the backends find vae_gpud: a socket path (starting with /) or host:port */
char	   *vae_gpu_worker = NULL;
/* shared secret for a worker that asks for authentication (TCP) */
char	   *vae_gpu_secret = NULL;
/* CA file that verifies a TCP worker's certificate; set = TLS on TCP */
char	   *vae_gpu_tls_ca_file = NULL;
/* milliseconds to connect and authenticate */
int			vae_gpu_connect_timeout = 5000;
/* run vae_gpud under a background worker (needs shared_preload_libraries) */
bool		vae_gpu_worker_autostart = false;
/* the supervised daemon: its socket directory, program and backend */
char	   *vae_gpu_socket_dir = NULL;
char	   *vae_gpud_path = NULL;
char	   *vae_gpu_backend = NULL;
char	   *vae_gpud_options = NULL;

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

/* vae.gpu_backend: a non-empty backend name, passed to --backend as is */
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

/* check hook of the path settings: empty (the default) or absolute */
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

/*
 * Define the GPU worker's settings, and register the supervisor when vae is
 * being preloaded with vae.gpu_worker_autostart on.
 */
void
VaeGpuInit(void)
{
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
	/*
	 * Superuser-only like vae.gpu_worker: which certificates are trusted is
	 * part of choosing the worker.
	 */
	DefineCustomStringVariable("vae.gpu_tls_ca_file",
							   "CA certificates (PEM) that verify the GPU worker's TLS certificate.",
							   "Set: TCP connections to the worker use TLS and check its certificate "
							   "and host name.  Empty: plain TCP, to a loopback address only.",
							   &vae_gpu_tls_ca_file,
							   "",
							   PGC_SUSET,
							   0,
							   CheckAbsolutePathOrEmpty, NULL, NULL);
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
	 * The supervisor's settings exist only when vae is preloaded: the
	 * supervisor can run only then, and PostgreSQL allows PGC_POSTMASTER
	 * variables only then.
	 */
	if (!process_shared_preload_libraries_in_progress)
		return;

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

	if (vae_gpu_worker_autostart)
		VaeGpuSupervisorRegister();
}

/* directory of the supervised daemon's socket, palloc'd */
char *
VaeGpuSocketDir(void)
{
	if (vae_gpu_socket_dir && vae_gpu_socket_dir[0] != '\0')
		return pstrdup(vae_gpu_socket_dir);
	return psprintf("%s/vae_gpud", DataDir);
}

/* the supervised daemon's socket, palloc'd: the one place its name is spelled */
char *
VaeGpuSocketPath(void)
{
	return psprintf("%s/vae_gpud.sock", VaeGpuSocketDir());
}

/* vae.gpu_worker, else the supervised daemon's socket under autostart, else NULL */
const char *
VaeGpuWorkerTarget(void)
{
	if (vae_gpu_worker && vae_gpu_worker[0] != '\0')
		return vae_gpu_worker;
	if (vae_gpu_worker_autostart)
		return VaeGpuSocketPath();
	return NULL;
}

#if PG_VERSION_NUM >= 170000
/* the VaeGpuWorker wait event, registered on first use (PostgreSQL 17+) */
uint32
VaeGpuWaitEvent(void)
{
	static uint32 wait_event = 0;

	if (wait_event == 0)
		wait_event = WaitEventExtensionNew("VaeGpuWorker");
	return wait_event;
}
#endif
