/* dev_file: the device's JSON files, replaced through the one durable-write module (base/outfile). */
#include "dev_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/outfile.h"

char *dev_path_join(const char *dir, const char *name)
{
	char *s;

	if (asprintf(&s, "%s/%s", dir, name) < 0)
		return NULL;
	return s;
}

int dev_json_write(const char *path, const json_t *doc, struct fw_err *err)
{
	char *text = json_dumps(doc, JSON_SORT_KEYS | JSON_INDENT(2));
	char *withnl = NULL;
	int rc;

	if (text == NULL || asprintf(&withnl, "%s\n", text) < 0) {
		free(text);
		return fw_err_set(err, FW_EXIT_IO, "%s: out of memory", path);
	}
	rc = dev_file_write(path, withnl, strlen(withnl), err);
	free(withnl);
	free(text);
	return rc;
}

int dev_file_write(const char *path, const void *buf, size_t len, struct fw_err *err)
{
	/* Every writer holds the device lock; a power cut's leftovers go at the next boot. */
	return outfile_write_file(path, buf, len, 0644, OUTFILE_FORCE | OUTFILE_DURABLE, err);
}

json_t *dev_json_read(const char *path, int *missing, struct fw_err *err)
{
	json_error_t jerr;
	json_t *doc;

	if (missing != NULL)
		*missing = 0;
	if (access(path, F_OK) < 0 && errno == ENOENT) {
		if (missing != NULL)
			*missing = 1;
		fw_err_set(err, FW_EXIT_IO, "%s: does not exist", path);
		return NULL;
	}
	doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL) {
		fw_err_set(err, FW_EXIT_IO, "%s: line %d: %s", path, jerr.line, jerr.text);
		return NULL;
	}
	if (!json_is_object(doc)) {
		json_decref(doc);
		fw_err_set(err, FW_EXIT_IO, "%s: not a JSON object", path);
		return NULL;
	}
	return doc;
}

int dev_json_save(char *path, json_t *doc, struct fw_err *err)
{
	int rc = path == NULL || doc == NULL ? fw_err_set(err, FW_EXIT_IO, "out of memory")
					     : dev_json_write(path, doc, err);

	json_decref(doc);
	free(path);
	return rc;
}
