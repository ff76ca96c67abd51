/* trust: the set of minisign public keys a verifier accepts, loaded from files or a directory. */
#include "trust.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sig_trust_init(struct sig_trust *t)
{
	memset(t, 0, sizeof(*t));
}

const struct sig_pubkey *sig_trust_find(const struct sig_trust *t, const uint8_t keyid[SIG_KEYID_LEN])
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (memcmp(t->keys[i].keyid, keyid, SIG_KEYID_LEN) == 0)
			return &t->keys[i];
	return NULL;
}

/* Add k to t; the same key twice is kept once, two keys under one id are refused. */
static int trust_add(struct sig_trust *t, const struct sig_pubkey *k, const char *path,
		     struct fw_err *err)
{
	const struct sig_pubkey *old = sig_trust_find(t, k->keyid);
	char id[17];

	if (old != NULL) {
		if (memcmp(old->pk, k->pk, SIG_PK_LEN) == 0)
			return 0;
		/* A key id must name one key, or a signature could not say which to use. */
		sig_keyid_str(k->keyid, id);
		return fw_err_set(err, FW_EXIT_REJECTED,
				  "%s: key id %s is already trusted with a different public key",
				  path, id);
	}
	if (t->n >= SIG_TRUST_MAX)
		return fw_err_set(err, FW_EXIT_USAGE, "%s: more than %d trusted keys", path,
				  SIG_TRUST_MAX);
	snprintf(t->sources[t->n], SIG_SOURCE_MAX, "%s", path);
	t->keys[t->n++] = *k;
	return 0;
}

int sig_trust_add_base64(struct sig_trust *t, const char *b64, struct fw_err *err)
{
	char text[SIG_FILE_MAX];
	struct sig_pubkey k;
	int n = snprintf(text, sizeof(text), "untrusted comment: -P\n%s\n", b64);

	/* The same parser as a key file: the one line a .pub file holds under its comment. */
	if (n < 0 || (size_t)n >= sizeof(text) || strchr(b64, '\n') != NULL)
		return fw_err_set(err, FW_EXIT_USAGE, "-P: not a minisign public key (one base64 line expected)");
	if (sig_pubkey_parse(text, (size_t)n, &k, err) != 0)
		return fw_err_wrap(err, "-P");
	return trust_add(t, &k, "-P", err);
}

const char *sig_trust_source(const struct sig_trust *t, const struct sig_pubkey *k)
{
	if (k < t->keys || k >= t->keys + t->n)
		return "";
	return t->sources[k - t->keys];
}

void sig_trust_ids(const struct sig_trust *t, char *out, size_t outsz)
{
	size_t o = 0;

	snprintf(out, outsz, "none");
	for (size_t i = 0; i < t->n && o < outsz; i++) {
		char id[17];
		if (i == 8) {
			snprintf(out + o, outsz - o, " and %zu more", t->n - i);
			break;
		}
		sig_keyid_str(t->keys[i].keyid, id);
		o += (size_t)snprintf(out + o, outsz - o, "%s%s", i ? ", " : "", id);
	}
}

int sig_trust_add_file(struct sig_trust *t, const char *path, struct fw_err *err)
{
	struct sig_pubkey k;

	if (sig_pubkey_load(path, &k, err) != 0)
		return -1;
	return trust_add(t, &k, path, err);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_pub_name(const char *name)
{
	size_t len = strlen(name);

	/* Hidden files are skipped as a shell's *.pub would skip them. */
	return name[0] != '.' && len > 4 && strcmp(name + len - 4, ".pub") == 0;
}

int sig_trust_add_dir(struct sig_trust *t, const char *dir, struct fw_err *err)
{
	/* Work on a copy so a failure half-way leaves t as it was. */
	struct sig_trust *work = NULL;
	struct dirent *de;
	DIR *d = NULL;
	char **names = NULL;
	char **grown;
	char *path = NULL;
	size_t n = 0, cap = 0, i, len;
	int rc = -1;

	d = opendir(dir);
	if (d == NULL) {
		fw_err_set(err, FW_EXIT_IO, "%s: cannot open directory: %s", dir, strerror(errno));
		goto out;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (de == NULL) {
			if (errno != 0) {
				fw_err_set(err, FW_EXIT_IO, "%s: cannot read directory: %s", dir,
					   strerror(errno));
				goto out;
			}
			break;
		}
		if (!is_pub_name(de->d_name))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			grown = realloc(names, cap * sizeof(*names));
			if (grown == NULL) {
				fw_err_set(err, FW_EXIT_IO, "%s: out of memory", dir);
				goto out;
			}
			names = grown;
		}
		names[n] = strdup(de->d_name);
		if (names[n] == NULL) {
			fw_err_set(err, FW_EXIT_IO, "%s: out of memory", dir);
			goto out;
		}
		n++;
	}
	if (n == 0) {
		fw_err_set(err, FW_EXIT_USAGE, "%s: no public keys (*.pub) in directory", dir);
		goto out;
	}
	/* readdir order is the filesystem's; sort so errors and results repeat. */
	qsort(names, n, sizeof(*names), name_cmp);

	work = malloc(sizeof(*work));
	if (work == NULL) {
		fw_err_set(err, FW_EXIT_IO, "%s: out of memory", dir);
		goto out;
	}
	*work = *t;
	for (i = 0; i < n; i++) {
		len = strlen(dir) + 1 + strlen(names[i]) + 1;
		free(path);
		path = malloc(len);
		if (path == NULL) {
			fw_err_set(err, FW_EXIT_IO, "%s: out of memory", dir);
			goto out;
		}
		snprintf(path, len, "%s/%s", dir, names[i]);
		if (sig_trust_add_file(work, path, err) != 0)
			goto out;
	}
	*t = *work;
	rc = 0;
out:
	if (d != NULL)
		closedir(d);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(path);
	free(work);
	return rc;
}
