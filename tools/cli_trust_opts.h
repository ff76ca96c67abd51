/* cli_trust_opts: the key and X.509 trust options of the verifying commands (verify, inspect, extract), for their option tables. */
#ifndef FW_CLI_TRUST_OPTS_H
#define FW_CLI_TRUST_OPTS_H

#include "tools/cli.h"

/* Apart from cli.h, whose options are the builders' too: mkpkg and mkwmopkg take none of these. */
#define CLI_TRUST_LONG_OPTS                                                   \
	{ "pubkey", required_argument, NULL, 'p' },                           \
	{ "pubkey-base64", required_argument, NULL, 'P' },                    \
	{ "keyring", required_argument, NULL, 'K' },                          \
	{ "ca", required_argument, NULL, CLI_OPT_CA },                        \
	{ "crl", required_argument, NULL, CLI_OPT_CRL },                      \
	{ "signer", required_argument, NULL, CLI_OPT_SIGNER },                \
	{ "max-chain-depth", required_argument, NULL, CLI_OPT_DEPTH },        \
	{ "no-check-time", no_argument, NULL, CLI_OPT_NO_TIME }

#endif
