/*
 * vgp_log.c - vae_gpud's log: one timestamped line per event, from either
 * thread, to stderr or a file opened in append mode (so logrotate's
 * copytruncate and several daemons sharing a file both work).
 */
#include "vgp_daemon.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static FILE *log_file;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

/* log to the file at path (appending, line-buffered), or stderr when NULL */
int
vgp_log_open(const char *path)
{
	FILE	   *f;

	if (path == NULL)
	{
		log_file = stderr;
		return 0;
	}
	f = fopen(path, "a");
	if (f == NULL)
		return -1;
	setvbuf(f, NULL, _IOLBF, 0);
	log_file = f;
	return 0;
}

/* one timestamped line (UTC, pid), whole even with both threads logging */
void
vgp_log(const char *fmt,...)
{
	struct timeval tv;
	struct tm	tm;
	char		stamp[64];
	va_list		ap;
	FILE	   *f = log_file ? log_file : stderr;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
	pthread_mutex_lock(&log_lock);
	fprintf(f, "%s.%03d UTC [%d] ", stamp, (int) (tv.tv_usec / 1000), (int) getpid());
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fflush(f);
	pthread_mutex_unlock(&log_lock);
}
