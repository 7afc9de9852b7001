#include "buf.h"

#include <stdlib.h>
#include <string.h>

static void reserve(buf *b, size_t more) {
  if (b->len + more <= b->cap) return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + more) cap *= 2;
  char *data = realloc(b->data, cap);
  if (!data) abort();
  b->data = data;
  b->cap = cap;
}

void buf_add(buf *b, const void *data, size_t len) {
  if (len == 0) return;
  reserve(b, len);
  memcpy(b->data + b->len, data, len);
  b->len += len;
}

void buf_addc(buf *b, char c) { buf_add(b, &c, 1); }

void buf_adds(buf *b, const char *s) { buf_add(b, s, strlen(s)); }

void buf_consume(buf *b, size_t len) {
  if (len >= b->len) {
    b->len = 0;
  } else {
    memmove(b->data, b->data + len, b->len - len);
    b->len -= len;
  }
  /* A burst's buffer is given back once it drains, so an idle host stays small. */
  if (b->len == 0 && b->cap > 65536) {
    free(b->data);
    b->data = NULL;
    b->cap = 0;
  }
}

void buf_free(buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}
