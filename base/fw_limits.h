/* fw_limits: the numeric limits every layer checks against, in one place (host tools, formats and device alike). */
#ifndef FW_LIMITS_H
#define FW_LIMITS_H

#include <stdint.h>

/* Image format generation: 1 to this (manifest, mkpkg --generation, fwctl init --generation). */
#define FW_GENERATION_MAX 1000u

/*
 * The largest integer a JSON reader using doubles (JavaScript, Python's float
 * path) keeps exactly: the bound of every counter kept in JSON (rollback index,
 * catalog serial).
 */
#define FW_JSON_INT_MAX (UINT64_C(1) << 53)

/* Seconds the security-unpack hook may run (fwctl init --hook-timeout, config hook-timeout, config.json). */
#define FW_HOOK_TIMEOUT_MIN 1u
#define FW_HOOK_TIMEOUT_MAX 86400u

/* A boot-attempt counter kept in state.json is at most this. */
#define FW_TRIAL_COUNT_MAX 1000u

#endif
