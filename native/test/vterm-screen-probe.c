/*
 * The screen model alone, for test/vterm-screen.test.ts: `vterm-screen-probe COLS ROWS SCROLLBACK`
 * reads records `[op u8][length u32 BE][payload]` on stdin: 1 feeds the payload, 2 resizes to
 * "COLSxROWS", 3 prints {"lines","all","snapshot","bracketedPaste"} as a line of JSON.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "../buf.h"
#include "../utf8.h"
#include "../vterm-screen.h"

static void add(void *ctx, const char *text, size_t len) {
  json_array_append_new(ctx, json_stringn(text, len));
}

static json_t *lines(screen *s, bool scrollback) {
  json_t *array = json_array();
  screen_lines(s, scrollback, add, array);
  return array;
}

int main(int argc, char **argv) {
  if (argc != 4) return 2;
  screen *s = screen_new(atoi(argv[1]), atoi(argv[2]), strtoul(argv[3], NULL, 10));
  unsigned char head[5];
  while (fread(head, 1, 5, stdin) == 5) {
    size_t len = (size_t)head[1] << 24 | head[2] << 16 | head[3] << 8 | head[4];
    char *payload = malloc(len + 1);
    if (fread(payload, 1, len, stdin) != len) return 1;
    payload[len] = 0;
    if (head[0] == 1) {
      screen_feed(s, payload, len);
    } else if (head[0] == 2) {
      int cols, rows;
      if (sscanf(payload, "%dx%d", &cols, &rows) == 2) screen_resize(s, cols, rows);
    } else if (head[0] == 3) {
      size_t n;
      char *snap = screen_snapshot(s, true, SIZE_MAX, &n);
      buf valid = {0};
      utf8_sanitize(snap, n, &valid);
      free(snap);
      json_t *out = json_object();
      json_object_set_new(out, "lines", lines(s, false));
      json_object_set_new(out, "all", lines(s, true));
      json_object_set_new(out, "snapshot", json_stringn(valid.data ? valid.data : "", valid.len));
      json_object_set_new(out, "bracketedPaste", json_boolean(screen_bracketed_paste(s)));
      buf_free(&valid);
      json_dumpf(out, stdout, JSON_COMPACT);
      putchar('\n');
      fflush(stdout);
      json_decref(out);
    }
    free(payload);
  }
  screen_free(s);
  return 0;
}
