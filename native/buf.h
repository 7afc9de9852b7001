/* A growable byte buffer. */
#ifndef CLAUDE_POOL_BUF_H
#define CLAUDE_POOL_BUF_H
#include <stddef.h>

typedef struct {
  char *data;
  size_t len;
  size_t cap;
} buf;

void buf_add(buf *b, const void *data, size_t len);
void buf_addc(buf *b, char c);
void buf_adds(buf *b, const char *s);
/* Drops the first `len` bytes. */
void buf_consume(buf *b, size_t len);
void buf_free(buf *b);
#endif
