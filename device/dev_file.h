/* dev_file: the device's small JSON files, each replaced atomically and durably. */
#ifndef FW_DEV_FILE_H
#define FW_DEV_FILE_H

#include <stddef.h>

#include <jansson.h>

#include "base/fw_err.h"
#include "base/isotime.h"

/*
 * Replace path with doc (sorted keys, indented, trailing newline) through
 * outfile_write_file: temporary, fsync, rename, directory fsync, each a crash
 * point (base/crash.h). A crash before the rename leaves the old file; after
 * it, the new one.
 */
int dev_json_write(const char *path, const json_t *doc, struct fw_err *err);

/* dev_json_write, taking both (freshly made, either may be NULL: out of memory) and freeing them. */
int dev_json_save(char *path, json_t *doc, struct fw_err *err);

/* The same for any bytes. */
int dev_file_write(const char *path, const void *buf, size_t len, struct fw_err *err);

/* Read a JSON object from path; NULL with err filled (code FW_EXIT_IO). *missing is set when it does not exist. */
json_t *dev_json_read(const char *path, int *missing, struct fw_err *err);

/* "dir/name" in a new string, or NULL when out of memory. */
char *dev_path_join(const char *dir, const char *name);


#endif
