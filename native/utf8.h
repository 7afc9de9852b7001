#ifndef CLAUDE_POOL_UTF8_H
#define CLAUDE_POOL_UTF8_H
#include <stddef.h>

#include "buf.h"

/* Appends `data` to `out` as valid UTF-8: each byte that starts no valid character is U+FFFD. */
void utf8_sanitize(const char *data, size_t len, buf *out);
/* The length of the valid UTF-8 character at `s` (at most `len` bytes), or 0 if none is there. */
size_t utf8_char(const unsigned char *s, size_t len);
#endif
