/* cli_passphrase: passphrases from a file, the environment (CI) or the terminal; never from argv. */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

static char *secure_copy(const char *s, size_t n, struct fw_err *err)
{
	char *p;

	if (n > SIG_PASSPHRASE_MAX) {
		fw_err_set(err, FW_EXIT_CREDENTIALS, "passphrase longer than %d bytes", SIG_PASSPHRASE_MAX);
		return NULL;
	}
	if (sodium_init() < 0 || (p = sodium_malloc(n + 1)) == NULL) {
		fw_err_set(err, FW_EXIT_IO, "cannot allocate secure memory");
		return NULL;
	}
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void cli_passphrase_free(char *p)
{
	if (p != NULL)
		sodium_free(p);  /* wipes before freeing */
}

/* The first line of a file, without its newline. */
static char *from_file(const char *path, struct fw_err *err)
{
	char buf[SIG_PASSPHRASE_MAX + 2];
	size_t len = 0;
	char *p = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fw_err_set(err, FW_EXIT_IO, "%s: cannot open passphrase file: %s", path, strerror(errno));
		return NULL;
	}
	while (len < sizeof(buf)) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len < sizeof(buf) ? len : sizeof(buf) - 1] = '\0';
	len = strcspn(buf, "\r\n");
	if (len == 0)
		fw_err_set(err, FW_EXIT_CREDENTIALS, "%s: empty passphrase file", path);
	else
		p = secure_copy(buf, len, err);
	sodium_memzero(buf, sizeof(buf));
	return p;
}

/* Prompt on the controlling terminal with echo off. */
static int prompt(int tty, const char *text, char *buf, size_t size)
{
	struct termios old, quiet;
	size_t len = 0;
	int ok;

	if (tcgetattr(tty, &old) < 0)
		return -1;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	quiet.c_lflag |= ICANON;
	/* Echo off before the prompt shows: an answer typed at the prompt is
	 * never echoed, and only what was typed ahead of it is discarded. */
	if (tcsetattr(tty, TCSAFLUSH, &quiet) < 0 || write(tty, text, strlen(text)) < 0) {
		tcsetattr(tty, TCSAFLUSH, &old);
		return -1;
	}
	for (;;) {
		char c;
		ssize_t n = read(tty, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0 || c == '\n' || c == '\r')
			break;
		if (len + 1 < size)
			buf[len++] = c;
	}
	buf[len] = '\0';
	ok = tcsetattr(tty, TCSAFLUSH, &old) == 0;
	if (write(tty, "\n", 1) < 0)
		ok = 0;
	return ok ? 0 : -1;
}

static char *from_terminal(const char *key_path, int confirm, struct fw_err *err)
{
	char *a = NULL, *b = NULL, *out = NULL;
	char text[512];
	int tty = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);

	if (tty < 0) {
		fw_err_set(err, FW_EXIT_CREDENTIALS,
			   "%s: encrypted key needs a passphrase: no terminal; set FWPKG_PASSPHRASE or use --passphrase-file",
			   key_path);
		return NULL;
	}
	a = sodium_malloc(SIG_PASSPHRASE_MAX + 1);
	b = sodium_malloc(SIG_PASSPHRASE_MAX + 1);
	if (a == NULL || b == NULL) {
		fw_err_set(err, FW_EXIT_IO, "cannot allocate secure memory");
		goto out;
	}
	snprintf(text, sizeof(text), "Passphrase for %s: ", key_path);
	if (prompt(tty, text, a, SIG_PASSPHRASE_MAX + 1) < 0) {
		fw_err_set(err, FW_EXIT_IO, "cannot read a passphrase from the terminal");
		goto out;
	}
	if (confirm) {
		if (prompt(tty, "Passphrase (again): ", b, SIG_PASSPHRASE_MAX + 1) < 0) {
			fw_err_set(err, FW_EXIT_IO, "cannot read a passphrase from the terminal");
			goto out;
		}
		if (strcmp(a, b) != 0) {
			fw_err_set(err, FW_EXIT_CREDENTIALS, "passphrases do not match");
			goto out;
		}
	}
	if (a[0] == '\0') {
		fw_err_set(err, FW_EXIT_CREDENTIALS, "empty passphrase (use -W for a key without one)");
		goto out;
	}
	out = secure_copy(a, strlen(a), err);
out:
	if (a)
		sodium_free(a);
	if (b)
		sodium_free(b);
	close(tty);
	return out;
}

char *cli_passphrase(const char *key_path, const char *passphrase_file, int confirm, struct fw_err *err)
{
	const char *env = getenv("FWPKG_PASSPHRASE");

	/* sodium_malloc aborts before sodium_init. */
	if (sodium_init() < 0) {
		fw_err_set(err, FW_EXIT_IO, "libsodium cannot initialise");
		return NULL;
	}

	if (passphrase_file != NULL)
		return from_file(passphrase_file, err);
	/* Set but empty is a mistake to name (an unset CI secret), not a reason to prompt. */
	if (env != NULL && env[0] == '\0') {
		fw_err_set(err, FW_EXIT_CREDENTIALS, "%s: FWPKG_PASSPHRASE is set but empty (unset it to be asked, or use -W for a key without one)",
			   key_path);
		return NULL;
	}
	if (env != NULL)
		return secure_copy(env, strlen(env), err);
	return from_terminal(key_path, confirm, err);
}

int cli_load_seckey(const char *path, const char *passphrase_file, struct sig_seckey **out,
		    struct fw_err *err)
{
	char *pass = NULL;
	int enc = sig_seckey_encrypted(path, err);
	int rc;

	if (enc < 0)
		return -1;
	if (enc && (pass = cli_passphrase(path, passphrase_file, 0, err)) == NULL)
		return -1;
	rc = sig_seckey_load(path, pass, out, err);
	cli_passphrase_free(pass);
	return rc;
}
