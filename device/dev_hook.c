/* dev_hook: fork/exec the unpack hook with pipes, a watchdog that enforces its timeout and ends all it started, its stderr kept capped. */
#include "dev_hook.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/cancel.h"

struct dev_hook {
	pid_t pid;
	int out_fd;                 /* its stdout, for the reader */
	int err_fd;                 /* its stderr */
	unsigned timeout_s;
	pthread_t watchdog, drain;
	int status, timed_out, cancelled;   /* written by the watchdog, read after joining it */
	char err_text[DEV_HOOK_STDERR_MAX + 1];
	size_t err_len;
};

int dev_child_wait(pid_t pid, unsigned timeout_s, int *status)
{
	struct timespec start, now, nap = { 0, 10 * 1000 * 1000 };

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		pid_t p = waitpid(pid, status, WNOHANG);

		if (p == pid)
			return 0;
		if (p < 0 && errno != EINTR)
			return -1;
		clock_gettime(CLOCK_MONOTONIC, &now);
		/* A cancel does not wait for a hook that may never end: it goes, with all it started. */
		if (now.tv_sec - start.tv_sec >= (time_t)timeout_s || fw_cancel_requested()) {
			int cancelled = now.tv_sec - start.tv_sec < (time_t)timeout_s;

			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			while (waitpid(pid, status, 0) < 0 && errno == EINTR)
				;
			return cancelled ? 2 : 1;
		}
		nanosleep(&nap, NULL);
	}
}

#define MAX_KIDS 256

/* Our children now (zombies included): up to max pids, from /proc (the parent field of each process's stat). */
static size_t children(pid_t *kids, size_t max)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t self = getpid();
	size_t n = 0;

	if (d == NULL)
		return 0;
	while (n < max && (e = readdir(d)) != NULL) {
		char path[300], line[512], *close_paren;
		long ppid;
		FILE *f;

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		if ((f = fopen(path, "re")) == NULL)
			continue;
		/* "PID (COMM) STATE PPID ...": COMM may hold anything, the last ')' ends it. */
		if (fgets(line, sizeof(line), f) != NULL && (close_paren = strrchr(line, ')')) != NULL &&
		    sscanf(close_paren + 1, " %*c %ld", &ppid) == 1 && ppid == (long)self)
			kids[n++] = (pid_t)atol(e->d_name);
		fclose(f);
	}
	closedir(d);
	return n;
}

/*
 * The hook has ended: whatever it started (and what that started) is now
 * our child, fwctl being a child subreaper (dev_hook_start), whether it left
 * the hook's process group or not. Each gets until `deadline` to end by
 * itself (and so close the hook's pipes); then it is killed and reaped, and
 * the children it leaves with it, until none is left. fwctl starts no other
 * process while an unpack hook runs: every child here is the hook's.
 */
static void end_descendants(const struct timespec *deadline)
{
	struct timespec now, nap = { 0, 50 * 1000 * 1000 };
	pid_t kids[MAX_KIDS];
	size_t n;
	int st;

	while ((n = children(kids, MAX_KIDS)) > 0) {
		int late;

		clock_gettime(CLOCK_MONOTONIC, &now);
		late = now.tv_sec > deadline->tv_sec ||
		       (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
		for (size_t i = 0; i < n; i++) {
			if (late)
				kill(kids[i], SIGKILL);
			while (waitpid(kids[i], &st, late ? 0 : WNOHANG) < 0 && errno == EINTR)
				;
		}
		if (!late)
			nanosleep(&nap, NULL);
	}
}

/*
 * Reap the hook, or kill it (and its process group) at the deadline; then,
 * after a grace of DEV_HOOK_GRACE seconds (none after a timeout), everything
 * it started: so a reader blocked on its output always wakes, and no
 * process of the hook's outlives the upgrade holding a pipe.
 */
static void *watch(void *arg)
{
	struct dev_hook *h = arg;
	struct timespec deadline;
	int st = 0, rc = dev_child_wait(h->pid, h->timeout_s, &st);

	h->status = st;
	h->timed_out = rc == 1;
	h->cancelled = rc == 2;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	if (rc == 0)
		deadline.tv_sec += DEV_HOOK_GRACE;
	end_descendants(&deadline);
	return NULL;
}

/* Keep the first DEV_HOOK_STDERR_MAX bytes of its stderr, read the rest away so it never blocks on it. */
static void *drain(void *arg)
{
	struct dev_hook *h = arg;
	char buf[4096];
	ssize_t n;

	while ((n = read(h->err_fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (h->err_len < DEV_HOOK_STDERR_MAX) {
			size_t take = (size_t)n < DEV_HOOK_STDERR_MAX - h->err_len ? (size_t)n : DEV_HOOK_STDERR_MAX - h->err_len;
			memcpy(h->err_text + h->err_len, buf, take);
			h->err_len += take;
		}
	}
	return NULL;
}

int dev_hook_start(const char *path, int in_fd, unsigned timeout_s, struct dev_hook **out, int *out_fd,
		   struct fw_err *err)
{
	int outp[2] = { -1, -1 }, errp[2] = { -1, -1 };
	struct dev_hook *h = calloc(1, sizeof(*h));

	*out = NULL;
	if (h == NULL)
		return fw_err_set(err, FW_EXIT_IO, "out of memory");
	/* What the hook starts and leaves behind becomes ours, not init's: found and ended with the hook. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L) < 0) {
		fw_err_set(err, FW_EXIT_IO, "unpack hook: cannot become a child subreaper: %s", strerror(errno));
		goto fail;
	}
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		fw_err_set(err, FW_EXIT_IO, "unpack hook: pipe: %s", strerror(errno));
		goto fail;
	}
	h->pid = fork();
	if (h->pid < 0) {
		fw_err_set(err, FW_EXIT_IO, "unpack hook: fork: %s", strerror(errno));
		goto fail;
	}
	if (h->pid == 0) {
		/* The child: the package in, the clear package out; nothing else of ours inherited (O_CLOEXEC). */
		/* Its own process group: a timeout kills whatever it started too. */
		setpgid(0, 0);
		if (dup2(in_fd, STDIN_FILENO) < 0 || dup2(outp[1], STDOUT_FILENO) < 0 || dup2(errp[1], STDERR_FILENO) < 0)
			_exit(126);
		signal(SIGPIPE, SIG_DFL);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	setpgid(h->pid, h->pid);
	close(outp[1]);
	close(errp[1]);
	h->out_fd = outp[0];
	h->err_fd = errp[0];
	h->timeout_s = timeout_s;
	if (pthread_create(&h->watchdog, NULL, watch, h) != 0 || pthread_create(&h->drain, NULL, drain, h) != 0) {
		/* Without a watchdog nothing would bound it: stop it now. */
		kill(h->pid, SIGKILL);
		fw_err_set(err, FW_EXIT_IO, "unpack hook: cannot start its threads");
		return -1;   /* not freed: a thread may hold it; a process that fails here exits */
	}
	*out = h;
	*out_fd = h->out_fd;
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	free(h);
	return -1;
}

enum dev_hook_outcome dev_hook_finish(struct dev_hook *h, int *status, char *stderr_text, size_t n)
{
	enum dev_hook_outcome o;

	/* The reader is done: a hook still writing gets EPIPE; one that still runs ends by itself or at its timeout. */
	close(h->out_fd);
	pthread_join(h->watchdog, NULL);
	pthread_join(h->drain, NULL);
	close(h->err_fd);
	h->err_text[h->err_len] = '\0';
	if (stderr_text != NULL && n > 0) {
		strncpy(stderr_text, h->err_text, n - 1);
		stderr_text[n - 1] = '\0';
	}
	*status = h->status;
	if (h->timed_out)
		o = DEV_HOOK_TIMED_OUT;
	else if (h->cancelled)
		o = DEV_HOOK_CANCELLED;
	else if (WIFEXITED(h->status) && WEXITSTATUS(h->status) == 0)
		o = DEV_HOOK_OK;
	else if (WIFEXITED(h->status) && WEXITSTATUS(h->status) == 1)
		o = DEV_HOOK_REFUSED;
	else
		o = DEV_HOOK_FAILED;   /* includes SIGPIPE: the reader stopped first, and says why */
	free(h);
	return o;
}

int dev_hook_verdict(struct dev_hook *h, int read_failed, unsigned timeout_s, const char *verb, char *stderr_text,
		     size_t n, enum dev_hook_outcome *o, struct fw_err *err)
{
	char first[160];
	int status;
	size_t len;

	*o = dev_hook_finish(h, &status, stderr_text, n);
	len = strlen(stderr_text);
	while (len > 0 && stderr_text[len - 1] == '\n')
		stderr_text[--len] = '\0';
	snprintf(first, sizeof(first), "%.159s", stderr_text);
	first[strcspn(first, "\n")] = '\0';
	switch (*o) {
	case DEV_HOOK_OK:
		return 0;
	case DEV_HOOK_REFUSED:
		return fw_err_set(err, FW_EXIT_REJECTED, "the unpack hook refused the package (exit 1: security "
				  "violation)%s%s", first[0] ? ": " : "", first);
	case DEV_HOOK_TIMED_OUT:
		return fw_err_set(err, FW_EXIT_REJECTED, "the unpack hook did not finish within %u s: stopped, "
				  "%s cancelled", timeout_s, verb);
	case DEV_HOOK_CANCELLED:
		fw_cancel_check(err);
		return fw_err_wrap(err, "the unpack hook was stopped");
	case DEV_HOOK_FAILED:
	default:
		/* Killed by SIGPIPE, or a shell reporting its child was (128 + 13): the reader stopped first. */
		if (read_failed && ((WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE) ||
				    (WIFEXITED(status) && WEXITSTATUS(status) == 128 + SIGPIPE)))
			return 0;
		if (WIFEXITED(status))
			return fw_err_set(err, FW_EXIT_REJECTED, "the unpack hook exited %d: %s cancelled%s%s",
					  WEXITSTATUS(status), verb, first[0] ? ": " : "", first);
		return fw_err_set(err, FW_EXIT_REJECTED, "the unpack hook was killed by signal %d: %s cancelled",
				  WTERMSIG(status), verb);
	}
}
