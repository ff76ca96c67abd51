/* sbom: check a CycloneDX JSON document before a package carries it, and describe it for the manifest. */
#include "sbom.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "base/escape.h"
#include "base/sha256.h"

int fw_sbom_spec_supported(const char *spec_version)
{
	return spec_version != NULL &&
	       (strcmp(spec_version, "1.5") == 0 || strcmp(spec_version, "1.6") == 0);
}

int fw_sbom_check(const void *buf, size_t len, struct fw_sbom *out, struct fw_err *err)
{
	json_t *root = NULL, *v;
	json_error_t jerr;
	char shown[64];
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (len == 0) {
		fw_err_set(err, FW_EXIT_USAGE, "empty, not a CycloneDX JSON document");
		goto out;
	}
	if (len > FW_SBOM_MAX) {
		fw_err_set(err, FW_EXIT_USAGE, "%zu bytes, more than the limit of %d for an SBOM", len,
			   FW_SBOM_MAX);
		goto out;
	}
	/* jansson checks UTF-8; a NUL byte would make C tools read a shorter document. */
	if (memchr(buf, '\0', len) != NULL) {
		fw_err_set(err, FW_EXIT_USAGE, "not JSON: contains a NUL byte");
		goto out;
	}
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		fw_err_set(err, FW_EXIT_USAGE, "not JSON: line %d, column %d: %s", jerr.line, jerr.column,
			   fw_escape(jerr.text, shown, sizeof(shown)));
		goto out;
	}
	if (!json_is_object(root)) {
		fw_err_set(err, FW_EXIT_USAGE, "not a CycloneDX document: the top-level value is not an object");
		goto out;
	}
	v = json_object_get(root, "bomFormat");
	if (!json_is_string(v) || strcmp(json_string_value(v), FW_SBOM_FORMAT) != 0) {
		fw_err_set(err, FW_EXIT_USAGE, "not a CycloneDX document: \"bomFormat\" is %s%s%s, not \"%s\"",
			   json_is_string(v) ? "\"" : "",
			   json_is_string(v) ? fw_escape(json_string_value(v), shown, sizeof(shown))
					     : v == NULL ? "missing" : "not a string",
			   json_is_string(v) ? "\"" : "", FW_SBOM_FORMAT);
		goto out;
	}
	v = json_object_get(root, "specVersion");
	if (!json_is_string(v) || !fw_sbom_spec_supported(json_string_value(v))) {
		fw_err_set(err, FW_EXIT_USAGE, "CycloneDX \"specVersion\" %s%s%s is not supported (1.5 or 1.6)",
			   json_is_string(v) ? "\"" : "",
			   json_is_string(v) ? fw_escape(json_string_value(v), shown, sizeof(shown))
					     : v == NULL ? "missing" : "not a string",
			   json_is_string(v) ? "\"" : "");
		goto out;
	}
	snprintf(out->spec_version, sizeof(out->spec_version), "%s", json_string_value(v));
	v = json_object_get(root, "components");
	if (!json_is_array(v) || json_array_size(v) == 0) {
		fw_err_set(err, FW_EXIT_USAGE, "the SBOM lists no components (\"components\" %s)",
			   v == NULL ? "is missing" : json_is_array(v) ? "is empty" : "is not an array");
		goto out;
	}
	out->components = json_array_size(v);
	out->size = len;
	fw_sha256(buf, len, out->sha256);
	out->present = 1;
	rc = 0;
out:
	if (rc < 0)
		memset(out, 0, sizeof(*out));
	json_decref(root);
	return rc;
}

int fw_sbom_load(const char *path, char **doc, size_t *len, struct fw_sbom *out, struct fw_err *err)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, rc = -1;

	*doc = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		fw_err_set(err, FW_EXIT_IO, "%s: cannot open: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		fw_err_set(err, FW_EXIT_USAGE, "%s: not a regular file", path);
		goto out;
	}
	/* Capped before reading: the limit every reader applies. */
	if (st.st_size > FW_SBOM_MAX) {
		fw_err_set(err, FW_EXIT_USAGE, "%s: %lld bytes, more than the limit of %d for an SBOM", path,
			   (long long)st.st_size, FW_SBOM_MAX);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		fw_err_set(err, FW_EXIT_IO, "%s: out of memory", path);
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fw_err_set(err, FW_EXIT_IO, "%s: read failed: %s", path,
				   n < 0 ? strerror(errno) : "file shrank while read");
			goto out;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	if (fw_sbom_check(buf, got, out, err) < 0) {
		fw_err_wrap(err, "%s", path);
		goto out;
	}
	*doc = buf;
	*len = got;
	buf = NULL;
	rc = 0;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return rc;
}
