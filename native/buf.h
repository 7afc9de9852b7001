/* A growable byte buffer; consuming from its front moves nothing until the space is needed. */
#ifndef CLAUDE_POOL_BUF_H
#define CLAUDE_POOL_BUF_H
#include <stddef.h>

typedef struct {
  /* The bytes, `len` of them, `skip` bytes into an allocation of `cap`. */
  char *data;
  size_t len;
  size_t cap;
  size_t skip;
} buf;

void buf_add(buf *b, const void *data, size_t len);
/* Room for `more` bytes after the `len` there are, written at data + len. */
void buf_reserve(buf *b, size_t more);
/* One byte: inline, since a screen's text goes a byte at a time. */
static inline void buf_addc(buf *b, char c) {
  if (b->skip + b->len < b->cap) b->data[b->len++] = c;
  else buf_add(b, &c, 1);
}
void buf_adds(buf *b, const char *s);
/* Drops the first `len` bytes. */
void buf_consume(buf *b, size_t len);
void buf_free(buf *b);
#endif
