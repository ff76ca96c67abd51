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
	*fd_out = fd;
	return 0;
}

void dev_lock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}
