/* unprivileged: an LD_PRELOAD shim for tests run as a non-root user: setgroups() and initgroups() succeed, so tftpd-hpa can serve as that user. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <grp.h>
#include <unistd.h>

int setgroups(size_t n, const gid_t *list);
int initgroups(const char *user, gid_t group);

/*
 * in.tftpd drops to its -u user with initgroups(), which only root may call,
 * and exits when it fails. Run by a user already without privileges there is
 * nothing to drop: say it worked. Root still gets the real call.
 */
int setgroups(size_t n, const gid_t *list)
{
	int (*real)(size_t, const gid_t *);

	if (geteuid() != 0)
		return 0;
	real = (int (*)(size_t, const gid_t *))dlsym(RTLD_NEXT, "setgroups");
	return real ? real(n, list) : -1;
}

/* glibc's initgroups() calls setgroups() inside itself, past this shim: wrap it too. */
int initgroups(const char *user, gid_t group)
{
	int (*real)(const char *, gid_t);

	if (geteuid() != 0)
		return 0;
	real = (int (*)(const char *, gid_t))dlsym(RTLD_NEXT, "initgroups");
	return real ? real(user, group) : -1;
}
