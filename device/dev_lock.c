/* dev_lock: a non-blocking flock(2) on ROOT/.lock, held for the whole command. */
#include "dev_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

int dev_lock_take(const char *root, int *fd_out, struct fw_err *err)
{
	char path[4096];
	int fd;

	*fd_out = -1;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", root, DEV_LOCK_FILE) >= sizeof(path))
		return fw_err_set(err, FW_EXIT_USAGE, "%s: path too long", root);
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return fw_err_set(err, FW_EXIT_IO, "%s: cannot open the lock file: %s", path, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		close(fd);
		if (e == EWOULDBLOCK)
			return fw_err_set(err, FW_EXIT_BUSY,
					  "busy: another fwctl is working on this device; try again when it has finished");
		return fw_err_set(err, FW_EXIT_IO, "%s: cannot lock: %s", path, strerror(e));
	}
	/* The same lock as a record lock, which others can test for without taking it (dev_lock_held). */
	(void)fcntl(fd, F_OFD_SETLK, &(struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET });
	*fd_out = fd;
	return 0;
}

int dev_lock_held(const char *root)
{
	char path[4096];
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd, rc;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", root, DEV_LOCK_FILE) >= sizeof(path))
		return -1;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return errno == ENOENT ? 0 : -1;
	rc = fcntl(fd, F_OFD_GETLK, &fl) < 0 ? -1 : fl.l_type != F_UNLCK;
	close(fd);
	return rc;
}

void dev_lock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}
