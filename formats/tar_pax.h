/* tar_pax: the one pax extended header a package may hold: a size record, for a payload too large for ustar. */
#ifndef FW_TAR_PAX_H
#define FW_TAR_PAX_H

#include <stddef.h>
#include <stdint.h>

/* The largest size a ustar header's 11 octal digits hold: 8 GiB - 1. */
#define TAR_USTAR_SIZE_MAX 077777777777ULL
/*
 * An entry larger than that is preceded by a pax extended header ('x') named
 * TAR_PAX_PREFIX + the entry's name, holding exactly one record, "LEN size=N\n";
 * the entry's own ustar header then says size 0. Smaller entries never have
 * one, so packages that need none stay byte-identical plain ustar.
 */
#define TAR_PAX_PREFIX "PaxHeaders/"
#define TAR_PAX_RECORD_MAX 64

/* The record for `size` into out (not NUL-terminated in the archive); returns its length. */
size_t tar_pax_size_record(uint64_t size, char out[TAR_PAX_RECORD_MAX]);

#endif
