/* dev_source: where an upgrade reads its package from, parsed from the field's command words. */
#ifndef FW_DEV_SOURCE_H
#define FW_DEV_SOURCE_H

#include "base/fw_err.h"
#include "formats/manifest.h"

enum dev_source_kind {
	DEV_SRC_FILE,    /* PATH or file://PATH */
	DEV_SRC_STDIN,   /* - */
	DEV_SRC_MEDIA,   /* usb://PATH (label "external") or media LABEL PATH */
	DEV_SRC_NET,     /* ftp, tftp, http, https, ADDRESS FILE (FTP, then TFTP); scp, sftp for packages */
};

enum dev_proto {
	DEV_PROTO_NONE,
	DEV_PROTO_AUTO,  /* no protocol given: FTP first, then TFTP */
	DEV_PROTO_FTP,
	DEV_PROTO_TFTP,
	DEV_PROTO_HTTP,
	DEV_PROTO_HTTPS,
	DEV_PROTO_SCP,   /* packages only (dev_source_parse_package) */
	DEV_PROTO_SFTP,  /* packages only */
};

struct dev_source {
	enum dev_source_kind kind;
	enum dev_proto proto;
	char label[FW_NAME_MAX + 1];   /* media label */
	char path[4096];               /* local path, path on the medium, or path on the server */
	char host[256];                /* host name, IPv4 address, or IPv6 address without brackets */
	unsigned port;                 /* 0: the protocol's default */
	char user[128];                /* "" for anonymous FTP */
	char password[128];
	char shown[600];               /* for messages, status and records: the password hidden, escaped (fw_escape) */
};

const char *dev_proto_name(enum dev_proto p);

/*
 * Once a source word is parsed: the PASSWORD of a
 * [proto://]USER:PASSWORD@ADDRESS/FILE word becomes "***" (as the source's
 * display form), in place, as the parser reads the login, so
 * /proc/PID/cmdline stops showing it when word is one of argv. The word only
 * shrinks. Any other word is left as it is.
 */
void dev_source_hide_password(char *word);

/* A word that is all password (package install's `password WORD`) becomes "***" the same way. */
void dev_source_hide_secret(char *word);

/*
 * Parse the SOURCE words of `upgrade` (fwctl(8), "SOURCES"):
 *   -  |  PATH  |  file://PATH  |  usb://PATH  |  media LABEL PATH  |
 *   URI://[USER[:PASSWORD]@]ADDRESS[:PORT]/FILE (ftp, tftp, http, https)  |
 *   ADDRESS[:PORT]/FILE  |  ADDRESS FILE
 * A word without a protocol is a local file when it exists or starts with
 * '/' or '.'; otherwise, when it starts with an address (an IPv4 address, a
 * [bracketed] IPv6 address, a name with a dot, or anything with :PORT), it is
 * fetched over FTP, then TFTP. scp:// and sftp:// are refused (code
 * FW_EXIT_USAGE): firmware never comes over them.
 */
int dev_source_parse(int argc, char *const *argv, struct dev_source *s, struct fw_err *err);

/*
 * The SOURCE words of `package install`: those of dev_source_parse, plus
 * scp:// and sftp://, with the field's words applied. proto (DEV_PROTO_NONE
 * when not given) makes ADDRESS FILE and ADDRESS[:PORT]/FILE use that
 * protocol, and must agree with a URI's; user (NULL when not given) is the
 * login, and must agree with a URI's. For scp and sftp the user defaults to
 * the one running fwctl. A path after ADDRESS that does not start with '/'
 * is taken relative to the login's home directory on scp and sftp servers.
 * The password is not set here (the caller asks for it).
 */
int dev_source_parse_package(int argc, char *const *argv, enum dev_proto proto, const char *user,
			     struct dev_source *s, struct fw_err *err);

struct dev_root;

/*
 * Open a local source for reading (file, medium or stdin; not the network):
 * the fd, or -1 with err. A file or a medium's path must be a regular file,
 * opened without blocking (a FIFO or a device is refused, never waited on);
 * a medium's path resolves beneath its label's directory and never follows a
 * symlink out of it. *rereadable says whether the package can be read again
 * from its start (a regular file: yes; stdin: only when it is one).
 */
int dev_source_open(const struct dev_root *r, const struct dev_source *src, int *rereadable, struct fw_err *err);

#endif
