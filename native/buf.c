#include "buf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void buf_reserve(buf *b, size_t more) {
  if (b->skip + b->len + more <= b->cap) return;
  char *base = b->data ? b->data - b->skip : NULL;
  bool fits = b->len + more <= b->cap;
  /* Moving the bytes to the front pays for itself once as many were consumed as are left. */
  if (b->skip > 0 && (!fits || b->skip >= b->len)) {
    memmove(base, b->data, b->len);
    b->data = base;
    b->skip = 0;
    if (fits) return;
  }
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->skip + b->len + more) cap *= 2;
  base = realloc(base, cap);
  if (!base) abort();
  b->data = base + b->skip;
  b->cap = cap;
}

void buf_add(buf *b, const void *data, size_t len) {
  if (len == 0) return;
  buf_reserve(b, len);
  memcpy(b->data + b->len, data, len);
  b->len += len;
}

void buf_adds(buf *b, const char *s) { buf_add(b, s, strlen(s)); }

void buf_consume(buf *b, size_t len) {
  if (len >= b->len) {
    if (b->data) b->data -= b->skip;
    b->skip = 0;
    b->len = 0;
  } else {
    b->data += len;
    b->skip += len;
    b->len -= len;
  }
  /* A burst's buffer is given back once it drains, so an idle host stays small. */
  if (b->len == 0 && b->cap > 65536) buf_free(b);
}

void buf_free(buf *b) {
  free(b->data ? b->data - b->skip : NULL);
  b->data = NULL;
  b->len = b->cap = b->skip = 0;
}
