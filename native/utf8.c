#include "utf8.h"

size_t utf8_char(const unsigned char *s, size_t len) {
  unsigned char c = s[0];
  if (c < 0x80) return 1;
  size_t need;
  unsigned char lo = 0x80, hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) need = 2;
  else if (c >= 0xe0 && c <= 0xef) {
    need = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    need = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (len < need || s[1] < lo || s[1] > hi) return 0;
  for (size_t i = 2; i < need; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
  }
  return need;
}

void utf8_sanitize(const char *data, size_t len, buf *out) {
  const unsigned char *s = (const unsigned char *)data;
  size_t run = 0, i = 0;
  while (i < len) {
    size_t n = utf8_char(s + i, len - i);
    if (n > 0) {
      i += n;
      continue;
    }
    buf_add(out, data + run, i - run);
    buf_add(out, "\xef\xbf\xbd", 3);
    i++;
    run = i;
  }
  buf_add(out, data + run, i - run);
}
