/* cli: what every program shares: messages with one prefix, passphrases, progress, trust stores, JSON output. */
#ifndef FW_CLI_H
#define FW_CLI_H

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "base/escape.h"
#include "base/fw_err.h"
#include "base/msg.h"
#include "formats/manifest.h"
#include "signing/minisign.h"
#include "signing/signer.h"
#include "signing/trust.h"


/*
 * A passphrase for `key_path`: from the file given with --passphrase-file,
 * else $FWPKG_PASSPHRASE, else a prompt on the terminal (twice if confirm).
 * Returned in sodium_malloc memory: cli_passphrase_free() it.
 */
char *cli_passphrase(const char *key_path, const char *passphrase_file, int confirm, struct fw_err *err);
void cli_passphrase_free(char *p);

/* Load a secret key, asking for its passphrase only if it is encrypted. */
int cli_load_seckey(const char *path, const char *passphrase_file, struct sig_seckey **out,
		    struct fw_err *err);

/*
 * Trusted keys from -p files and a --keyring directory; with neither, the
 * keyring named by $FWPKG_KEYRING or /etc/fwpkg/keys.
 */
int cli_trust_load(struct sig_trust *t, const char *const *pubs, size_t n_pubs, const char *keyring,
		   struct fw_err *err);

/*
 * -p PUB, -P BASE64 (both repeatable) and --keyring DIR as the verifying
 * commands take them, and the X.509 options: --ca FILE|DIR, --crl FILE,
 * --signer CN|SHA256, --max-chain-depth N, --no-check-time.
 */
struct cli_keys {
	const char *pubs[SIG_TRUST_MAX];
	size_t n_pubs;
	const char *inline_keys[SIG_TRUST_MAX];
	size_t n_inline;
	const char *keyring;
	const char *cas[SIG_TRUST_MAX];
	size_t n_cas;
	const char *crls[SIG_TRUST_MAX];
	size_t n_crls;
	const char *pins[SIG_SIGNER_PIN_MAX];
	size_t n_pins;
	int max_depth;                  /* intermediate CAs allowed, plus one; 0: not given */
	int no_check_time;
};
int cli_keys_add_pub(struct cli_keys *k, const char *path);
int cli_keys_add_inline(struct cli_keys *k, const char *base64);
/* getopt_long values of the X.509 trust options (their table: tools/cli_trust_opts.h). */
enum { CLI_OPT_CA = 400, CLI_OPT_CRL, CLI_OPT_SIGNER, CLI_OPT_DEPTH, CLI_OPT_NO_TIME };
/* 1 if c was -p, -P, --keyring or one of the X.509 trust options (taken into k), 0 if not, -1 after printing why it is wrong. */
int cli_keys_option(struct cli_keys *k, int c, const char *arg);
/* Whether any key or CA certificate was given (else the default keyring is used). */
int cli_keys_given(const struct cli_keys *k);
int cli_keys_load(const struct cli_keys *k, struct sig_trust *t, struct fw_err *err);
/*
 * A key or certificate named on the command line that cannot serve (not a
 * public key, a secret key given as one, not a CA certificate, not a CRL) is
 * a problem with the user's own credentials, not a verdict on the package:
 * after a failure (rc < 0) a rejection or usage code becomes
 * FW_EXIT_CREDENTIALS; reading errors stay I/O errors (3). A keyring
 * directory's content (keys, policy.json) is not mapped: it stays 2.
 * Returns rc.
 */
int cli_credential(int rc, struct fw_err *err);

/* fwpkg sign --export-manifest: write PKG's manifest bytes to out ("-": stdout); an exit code, after printing. */
int cli_export_manifest(const char *pkg, const char *out, int force);

/* Open a package for reading: a path, or "-" for stdin. -1 with err filled. */
int cli_open_input(const char *path, struct fw_err *err);

/* --base FILE (fwpkg verify, extract): base images to rebuild delta payloads against (cli_base.c). */
#define CLI_MAX_BASES 8
struct cli_bases {
	size_t n;
	const char *path[CLI_MAX_BASES];
	int fd[CLI_MAX_BASES];
	uint64_t size[CLI_MAX_BASES];
	const char *picked;   /* the file cli_bases_source gave last */
};
int cli_bases_add(struct cli_bases *b, const char *path);
int cli_bases_open(struct cli_bases *b, struct fw_err *err);
void cli_bases_close(struct cli_bases *b);
/* A pkg_reader_ops.delta_source: the base file of payload index's size; PKG_DELTA_NONE when no --base was given. */
int cli_bases_source(struct cli_bases *b, const struct fw_manifest *m, size_t index, int *fd, struct fw_err *err);
/* A pkg_reader_ops.delta_name: "--base FILE", the file cli_bases_source gave. */
const char *cli_bases_name(struct cli_bases *b);
/* The names of the delta images a read checked but did not rebuild (no --base), for --json; NULL when none. */
struct pkg_report;
json_t *cli_not_rebuilt_json(const struct fw_manifest *m, const struct pkg_report *rep);

/*
 * One -k: a minisign secret key file or a pkcs11: URI (Ed25519 on a token);
 * with --cert, a CMS signer whose key is a PEM file or a pkcs11: URI.
 */
#define CLI_MAX_INTERMEDIATES 8
struct cli_key {
	const char *key;
	const char *cert;
	const char *inter[CLI_MAX_INTERMEDIATES];
	size_t n_inter;
};
/* --cert and --intermediate belong to the -k before them; 0, or -1 after printing why not. */
int cli_key_cert(struct cli_key *keys, size_t n_keys, const char *cert);
int cli_key_intermediate(struct cli_key *keys, size_t n_keys, const char *path);
/* fwpkg keygen -s pkcs11:URI: an Ed25519 key made on the token, its .pub written; an exit code, after printing. */
int cli_pkcs11_keygen(const char *uri, const char *pub_path, int force);
/*
 * Make a signer for each key (asking for passphrases or PINs as needed); 0 or
 * an exit code after printing. Passphrase files: none, one for every key, or
 * one per key in the order of the keys (so keys with different passphrases
 * sign in one run).
 */
int cli_load_signers(const char *verb, const struct cli_key *keys, size_t n, const char *const *passphrase_files,
		     size_t n_files, struct sig_signer **out);

/* Options the package builders (mkpkg, mkwmopkg) share, parsed in one place (cli_build.c). */
#define CLI_MAX_KEYS 8
struct cli_build {
	const char *out, *spec;
	const char *passphrase_files[CLI_MAX_KEYS];   /* one for all keys, or one per -k in order */
	size_t n_passphrase_files;
	int force, sync;
	struct fw_manifest *m;          /* what the options describe; owned by the program */
	int have_version, have_description, have_chunk;
	uint64_t chunk_size;
	struct cli_key keys[CLI_MAX_KEYS];
	size_t n_keys;
	const char *sbom;               /* --sbom FILE */
	char *sbom_doc;                 /* its bytes once cli_build_sbom checked them; owned */
	size_t sbom_len;
	int zstd_level;                 /* --compress zstd[:LEVEL]; 0: none */
	uint32_t zstd_frame_size;       /* --frame-size BYTES; 0: the writer's default */
};

/* Start b (zeroed) for a package of type: a new manifest, the default chunk size; -1 after printing when out of memory. */
int cli_build_init(struct cli_build *b, enum fw_pkg_type type);

/* --help: the options every builder has, one line each. */
void cli_build_help(FILE *f);

/* getopt_long values of the shared options; a program's own start at CLI_OPT_PROGRAM. */
enum {
	CLI_OPT_VERSION = 256, CLI_OPT_PRODUCT, CLI_OPT_DESCRIPTION, CLI_OPT_SPEC, CLI_OPT_PASSFILE,
	CLI_OPT_CHUNK, CLI_OPT_SYNC, CLI_OPT_HELP, CLI_OPT_CERT, CLI_OPT_INTERMEDIATE,
	CLI_OPT_SBOM, CLI_OPT_COMPRESS, CLI_OPT_FRAME,
	CLI_OPT_PROGRAM = 300,
};
#define CLI_BUILD_SHORT_OPTS ":o:fqk:hV"
#define CLI_BUILD_LONG_OPTS                                                   \
	{ "output", required_argument, NULL, 'o' },                           \
	{ "force", no_argument, NULL, 'f' },                                  \
	{ "quiet", no_argument, NULL, 'q' },                                  \
	{ "key", required_argument, NULL, 'k' },                              \
	{ "version", required_argument, NULL, CLI_OPT_VERSION },              \
	{ "product", required_argument, NULL, CLI_OPT_PRODUCT },              \
	{ "description", required_argument, NULL, CLI_OPT_DESCRIPTION },      \
	{ "spec", required_argument, NULL, CLI_OPT_SPEC },                    \
	{ "passphrase-file", required_argument, NULL, CLI_OPT_PASSFILE },     \
	{ "chunk-size", required_argument, NULL, CLI_OPT_CHUNK },             \
	{ "sync", no_argument, NULL, CLI_OPT_SYNC },                          \
	{ "cert", required_argument, NULL, CLI_OPT_CERT },                    \
	{ "intermediate", required_argument, NULL, CLI_OPT_INTERMEDIATE },    \
	{ "sbom", required_argument, NULL, CLI_OPT_SBOM },                    \
	{ "compress", required_argument, NULL, CLI_OPT_COMPRESS },            \
	{ "frame-size", required_argument, NULL, CLI_OPT_FRAME },             \
	{ "help", no_argument, NULL, CLI_OPT_HELP }

/*
 * One option from getopt_long: 1 if it was a shared one (taken into b), 0 if
 * it is the program's own (or --help/-h: b untouched, the program prints its
 * usage), -1 after printing why it is wrong.
 */
int cli_build_option(struct cli_build *b, int c, const char *arg);

/*
 * --spec FILE.json, the options as a JSON object. Open it, refusing any key
 * that is neither shared (version, products, description, chunk_size) nor
 * in program_keys; NULL after printing why, with *exit_code FW_EXIT_IO if
 * the file cannot be read, FW_EXIT_USAGE if its content is wrong.
 */
json_t *cli_spec_open(const char *spec, const char *const *program_keys, int *exit_code);
/* Take the shared keys the command line did not set; 0, or -1 after printing. */
int cli_spec_shared(struct cli_build *b, json_t *root, const char *spec);

/*
 * --sbom FILE: read and check the CycloneDX document (fw_sbom_load) and
 * describe it in b->m; b->sbom_doc then holds its bytes for pkg_write_opts.
 * Before anything is hashed or written. 0, or the exit code after printing why.
 */
int cli_build_sbom(struct cli_build *b);

struct pkg_write_opts;
/* The writer's options as the shared ones ask (-f, --sync, --sbom, --compress), with the progress display. */
void cli_build_write_opts(const struct cli_build *b, struct pkg_write_opts *w);

/* Builders' option values; each prints its own error and returns -1. */
int cli_add_product(struct fw_manifest *m, const char *id);
int cli_set_version(char *dst, const char *v, const char *what);
int cli_set_description(struct fw_manifest *m, const char *text);
/* The creation time: $SOURCE_DATE_EPOCH when set, else now. */
int cli_created_time(int64_t *out);
/*
 * The real clock's present, which SOURCE_DATE_EPOCH never changes: what a
 * device will compare validity times with. $FWPKG_NOW when set (for tests,
 * as fwctl's $FWCTL_NOW), else time(). 0, or -1 after printing.
 */
int cli_now(int64_t *out);
/* A date as the options take it: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ (UTC) or @SECONDS; -1 if it is none. */
int64_t cli_parse_date(const char *s);

/* Progress on stderr, only when it is a terminal and not -q. */
void cli_progress(void *ctx, uint64_t done, uint64_t total);
void cli_progress_done(void);

/*
 * --json after a failure: one document, base/msg's (msg_json_failure_doc:
 * {"file", "outcome": "rejected" (exit 1) or "error", "exit_code", "error":
 * the message}) with "verified": false, so a pipeline's `| jq` always gets
 * the outcome. Returns code.
 */
int cli_json_failure(const char *file, int code, const char *msg);
/* The same document, to print or to add to a list (NULL out of memory). */
json_t *cli_json_failure_doc(const char *file, int code, const char *msg);

/*
 * Report what getopt_long returned for a bad option (':' missing argument,
 * '?' unknown) in our message format; call with opterr = 0 and an optstring
 * starting with ':'. Returns FW_EXIT_USAGE.
 */
int cli_bad_option(const char *verb, int c, char **argv);

/* A catalog (fwpkg-catalog(5)) rather than a package? Its first byte is '{'. */
int cli_is_catalog(const char *path);
/* verify and inspect of a catalog and its .minisig beside it; each returns an exit code after printing. */
int cli_catalog_verify(const char *path, const struct sig_trust *trust, json_t *all);
int cli_catalog_inspect(const char *path, const struct sig_trust *trust, int json);

#endif
