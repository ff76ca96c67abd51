/* dirnames: the names in a directory, sorted, so walks and their errors repeat whatever order the file system keeps. */
#ifndef FW_DIRNAMES_H
#define FW_DIRNAMES_H

#include <dirent.h>
#include <stddef.h>

/*
 * Read d to its end: the names other than "." and ".." that keep accepts
 * (all of them when keep is NULL), each malloc'd, sorted by strcmp, through
 * *names and *n (fw_dir_names_free frees them). -1 with errno set, nothing
 * returned: ENOMEM, or what readdir failed with.
 */
int fw_dir_names(DIR *d, int (*keep)(const char *name), char ***names, size_t *n);
void fw_dir_names_free(char **names, size_t n);

#endif
