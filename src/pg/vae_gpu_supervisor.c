/*
 * vae_gpu_supervisor.c - a background worker that runs vae_gpud.
 *
 * With vae in shared_preload_libraries and vae.gpu_worker_autostart on, the
 * postmaster starts this worker, which runs vae_gpud as its child process:
 *
 *   vae_gpud --backend <vae.gpu_backend> --socket <dir>/vae_gpud.sock
 *
 * where <dir> is vae.gpu_socket_dir or $PGDATA/vae_gpud, a directory of mode
 * 0700 owned by the server's user, so only the server's processes can reach
 * the socket.  Backends use that socket when vae.gpu_worker is empty.
 *
 * The daemon is a plain child process, not a postmaster child: when it
 * crashes, only this supervisor notices, and it restarts it after a backoff
 * (1 s doubling to 30 s, back to 1 s once a run lasted a minute); backends
 * whose job it was get an ERROR or fall back to the CPU.  The database never
 * restarts because of it.  That is why CUDA lives there and not here.
 *
 * Lifetime: the daemon lives and dies with the server.  On SIGTERM (server
 * shutdown) the supervisor sends it SIGTERM, then SIGKILL after a grace
 * period; on postmaster death likewise.  Should the supervisor itself die
 * abruptly, the kernel sends the daemon SIGTERM (PR_SET_PDEATHSIG on Linux).
 * The supervisor writes the daemon's pid to <dir>/vae_gpud.pid for
 * operators.
 *
 * No shared memory of our own, no database connection.  The postmaster
 * restarts the supervisor 5 s after it exits with an error.
 */
#include "vae_gpu.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "utils/guc.h"
#include "utils/timestamp.h"

#define RESTART_MIN_MS		1000
#define RESTART_MAX_MS		30000
#define STABLE_RUN_MS		60000	/* a run this long resets the backoff */
#define STOP_GRACE_MS		5000	/* SIGTERM, then SIGKILL after this */

static volatile sig_atomic_t got_sigterm = false;

static pid_t child_pid = 0;
static TimestampTz child_started;

/* register the supervisor background worker (from VaeGpuInit, at preload) */
void
VaeGpuSupervisorRegister(void)
{
	BackgroundWorker worker;

	memset(&worker, 0, sizeof(worker));
	/* PostgreSQL 15 attaches every worker to shared memory; we use none */
	worker.bgw_flags = BGWORKER_SHMEM_ACCESS;
	worker.bgw_start_time = BgWorkerStart_PostmasterStart;
	worker.bgw_restart_time = 5;
	snprintf(worker.bgw_library_name, BGW_MAXLEN, "vae");
	snprintf(worker.bgw_function_name, BGW_MAXLEN, "VaeGpuSupervisorMain");
	snprintf(worker.bgw_name, BGW_MAXLEN, "vae GPU worker supervisor");
	snprintf(worker.bgw_type, BGW_MAXLEN, "vae GPU worker supervisor");
	RegisterBackgroundWorker(&worker);
}

/* SIGTERM: stop (the main loop stops the daemon first) */
static void
SupervisorSigterm(SIGNAL_ARGS)
{
	int			save_errno = errno;

	got_sigterm = true;
	SetLatch(MyLatch);
	errno = save_errno;
}

/* SIGCHLD: wake the main loop to reap the daemon */
static void
SupervisorSigchld(SIGNAL_ARGS)
{
	int			save_errno = errno;

	SetLatch(MyLatch);
	errno = save_errno;
}

/* the socket directory: created 0700, or checked to be ours and made 0700 */
static void
PrepareSocketDir(const char *dir)
{
	struct stat st;

	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create directory \"%s\": %m", dir)));
	if (lstat(dir, &st) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat directory \"%s\": %m", dir)));
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("\"%s\" is not a directory owned by the server's user", dir),
				 errhint("Remove it, or set vae.gpu_socket_dir to another directory.")));
	if ((st.st_mode & 0777) != 0700 && chmod(dir, 0700) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not set permissions of directory \"%s\": %m", dir)));
}

/* the program to run: vae.gpud_path, else vae_gpud next to postgres */
static char *
DaemonPath(void)
{
	char		bindir[MAXPGPATH];

	if (vae_gpud_path && vae_gpud_path[0] != '\0')
		return pstrdup(vae_gpud_path);
	strlcpy(bindir, my_exec_path, sizeof(bindir));
	get_parent_directory(bindir);
	return psprintf("%s/vae_gpud", bindir);
}

/* write the daemon's pid to <dir>/vae_gpud.pid for operators (best effort) */
static void
WritePidFile(const char *dir, pid_t pid)
{
	char	   *path = psprintf("%s/vae_gpud.pid", dir);
	FILE	   *f = fopen(path, "w");

	if (f == NULL)
		return;
	fprintf(f, "%d\n", (int) pid);
	fclose(f);
}

/*
 * vae_gpud's arguments: the backend and socket the supervisor owns, then
 * vae.gpud_options split on blanks.  One palloc holds the pointers and a
 * copy of the options they point into, so one pfree releases all.
 */
static char **
DaemonArgv(const char *program, const char *socket_path)
{
	size_t		len = strlen(vae_gpud_options);
	size_t		max_args = 5 + (len + 1) / 2 + 1;
	char	  **argv = palloc(sizeof(char *) * max_args + len + 1);
	char	   *opts = (char *) (argv + max_args);
	char	   *tok,
			   *save = NULL;
	int			n = 0;

	memcpy(opts, vae_gpud_options, len + 1);
	argv[n++] = (char *) program;
	argv[n++] = "--backend";
	argv[n++] = vae_gpu_backend;
	argv[n++] = "--socket";
	argv[n++] = (char *) socket_path;
	for (tok = strtok_r(opts, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save))
		argv[n++] = tok;
	argv[n] = NULL;
	return argv;
}

/*
 * Fork and exec vae_gpud on socket_path, its signals reset and its own
 * session, dying with the supervisor (PR_SET_PDEATHSIG); logs the start.
 */
static void
StartChild(const char *dir, const char *program, const char *socket_path)
{
	pid_t		parent = getpid();
	pid_t		pid;
	struct stat st;
	char	  **argv;

	/* a socket left behind by a crashed daemon would make its bind fail */
	if (lstat(socket_path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void) unlink(socket_path);

	/* the argument vector is built before fork: the child only execs */
	argv = DaemonArgv(program, socket_path);
	fflush(NULL);
	pid = fork();
	if (pid < 0)
	{
		ereport(LOG,
				(errmsg("vae: could not fork the GPU worker: %m")));
		pfree(argv);
		return;
	}
	if (pid == 0)
	{
		/* child: become vae_gpud; nothing of the server may run here */
		sigset_t	none;
		int			fd;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		signal(SIGUSR1, SIG_DFL);
		signal(SIGUSR2, SIG_DFL);
#ifdef __linux__
		(void) prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
		if (getppid() != parent)
			_exit(1);
		/* its own session: terminal signals are for the server to handle */
		(void) setsid();
		fd = open("/dev/null", O_RDONLY);
		if (fd >= 0 && fd != 0)
		{
			dup2(fd, 0);
			close(fd);
		}
		/* stdout and stderr stay: the daemon logs into the server log */
		for (fd = 3; fd < 1024; fd++)
			close(fd);
		execv(program, argv);
		{
			char		buf[512];
			int			len;

			len = snprintf(buf, sizeof(buf), "vae: could not execute \"%s\": %s\n",
						   program, strerror(errno));
			if (len > 0)
				if (write(2, buf, Min(len, (int) sizeof(buf) - 1)) < 0)
					_exit(127);
		}
		_exit(127);
	}

	pfree(argv);
	child_pid = pid;
	child_started = GetCurrentTimestamp();
	WritePidFile(dir, pid);
	ereport(LOG,
			(errmsg("vae: started GPU worker \"%s\" (pid %d) with backend \"%s\" on socket \"%s\"%s%s",
					program, (int) pid, vae_gpu_backend, socket_path,
					vae_gpud_options[0] ? " and options " : "", vae_gpud_options)));
}

/* reap the child if it exited; true when it did */
static bool
ReapChild(void)
{
	int			status;
	pid_t		r;

	if (child_pid == 0)
		return false;
	r = waitpid(child_pid, &status, WNOHANG);
	if (r != child_pid)
		return false;
	if (WIFSIGNALED(status))
		ereport(LOG,
				(errmsg("vae: GPU worker (pid %d) was terminated by signal %d",
						(int) child_pid, WTERMSIG(status))));
	else
		ereport(LOG,
				(errmsg("vae: GPU worker (pid %d) exited with status %d",
						(int) child_pid, WEXITSTATUS(status))));
	child_pid = 0;
	return true;
}

/* SIGTERM the daemon, SIGKILL it after STOP_GRACE_MS, and reap it */
static void
StopChild(void)
{
	int			waited;

	if (child_pid == 0)
		return;
	(void) kill(child_pid, SIGTERM);
	for (waited = 0; waited < STOP_GRACE_MS; waited += 20)
	{
		if (ReapChild())
			return;
		pg_usleep(20 * 1000L);
	}
	ereport(LOG,
			(errmsg("vae: GPU worker (pid %d) did not stop within %d ms, killing it",
					(int) child_pid, STOP_GRACE_MS)));
	(void) kill(child_pid, SIGKILL);
	(void) waitpid(child_pid, NULL, 0);
	child_pid = 0;
}

/* before_shmem_exit callback: however the supervisor exits, the daemon goes too */
static void
StopChildAtExit(int code, Datum arg)
{
	StopChild();
}

/*
 * The background worker: prepare the socket directory, then start the
 * daemon, restart it with backoff when it exits, and stop it on SIGTERM or
 * postmaster death.  Never returns.
 */
void
VaeGpuSupervisorMain(Datum arg)
{
	char	   *dir;
	char	   *program;
	char	   *socket_path;
	int			backoff_ms = RESTART_MIN_MS;
	TimestampTz next_start = 0;

	pqsignal(SIGTERM, SupervisorSigterm);
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGCHLD, SupervisorSigchld);
	BackgroundWorkerUnblockSignals();

	dir = VaeGpuSocketDir();
	program = DaemonPath();
	socket_path = VaeGpuSocketPath();
	PrepareSocketDir(dir);

	/* whatever ends this process takes the daemon with it */
	before_shmem_exit(StopChildAtExit, (Datum) 0);

	while (!got_sigterm)
	{
		long		timeout = 1000;
		int			rc;

		if (ReapChild())
		{
			if (TimestampDifferenceExceeds(child_started, GetCurrentTimestamp(), STABLE_RUN_MS))
				backoff_ms = RESTART_MIN_MS;
			next_start = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), backoff_ms);
			ereport(LOG,
					(errmsg("vae: restarting the GPU worker in %d ms", backoff_ms)));
			backoff_ms = Min(backoff_ms * 2, RESTART_MAX_MS);
		}
		if (child_pid == 0)
		{
			TimestampTz now = GetCurrentTimestamp();

			if (now >= next_start)
			{
				StartChild(dir, program, socket_path);
				if (child_pid == 0)
				{
					/* fork failed: try again later */
					next_start = TimestampTzPlusMilliseconds(now, backoff_ms);
					backoff_ms = Min(backoff_ms * 2, RESTART_MAX_MS);
				}
			}
			else
				timeout = Min(timeout, (long) ((next_start - now + 999) / 1000));
		}

		rc = WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_POSTMASTER_DEATH,
					   timeout, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		if (rc & WL_POSTMASTER_DEATH)
		{
			StopChild();
			proc_exit(1);
		}
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
	}

	StopChild();
	/* 1, not 0: a supervisor terminated by hand is started again */
	proc_exit(1);
}
