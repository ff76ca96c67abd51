/* cli_export: fwpkg sign --export-manifest — the exact bytes a signer elsewhere signs. */
#include "cli.h"

#include <string.h>
#include <unistd.h>

#include "base/outfile.h"
#include "formats/pkg_read.h"

int cli_export_manifest(const char *pkg, const char *out, int force)
{
	struct pkg_read_opts ropts = { .manifest_only = 1 };
	struct pkg_report rep;
	struct fw_manifest *m = NULL;
	struct fw_err err = { 0 };
	int fd, rc;

	memset(&rep, 0, sizeof(rep));
	if ((fd = cli_open_input(pkg, &err)) < 0)
		return msg_fail("sign", pkg, &err);
	rc = pkg_read(fd, &ropts, NULL, NULL, &m, &rep, &err);
	if (fd != STDIN_FILENO)
		close(fd);
	if (rc < 0) {
		rc = msg_fail("sign", pkg, &err);
		goto out;
	}
	if (strcmp(out, "-") == 0 ? fw_write_all(STDOUT_FILENO, rep.manifest_bytes, rep.manifest_len, "-", &err)
				 : outfile_write_file(out, rep.manifest_bytes, rep.manifest_len, 0644,
						      force ? OUTFILE_FORCE : 0, &err)) {
		rc = msg_fail("sign", NULL, &err);   /* the message names the file */
		goto out;
	}
	msg_note("wrote %s: the manifest of %s (%zu bytes) to sign", out, pkg, rep.manifest_len);
	rc = FW_EXIT_OK;
out:
	fw_manifest_free(m);
	pkg_report_free(&rep);
	return rc;
}
