/* dirnames: the names in a directory, sorted. */
#include "dirnames.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void fw_dir_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int fw_dir_names(DIR *d, int (*keep)(const char *name), char ***names_out, size_t *n_out)
{
	struct dirent *de;
	char **names = NULL, **grown;
	size_t n = 0, cap = 0;
	int saved;

	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL) {
			if (errno != 0)
				goto fail;
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 || (keep != NULL && !keep(de->d_name)))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			if ((grown = realloc(names, cap * sizeof(*names))) == NULL)
				goto nomem;
			names = grown;
		}
		if ((names[n] = strdup(de->d_name)) == NULL)
			goto nomem;
		n++;
	}
	if (n > 0)   /* qsort's base may not be NULL, even for no elements */
		qsort(names, n, sizeof(*names), cmp_names);
	*names_out = names;
	*n_out = n;
	return 0;
nomem:
	errno = ENOMEM;
fail:
	saved = errno;
	fw_dir_names_free(names, n);
	errno = saved;
	return -1;
}
