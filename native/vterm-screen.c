/*
 * The screen model: a scanner in front of libvterm (UTF-8 repair, hardening, the sequences where
 * libvterm 0.1 and xterm differ), libvterm's screen, and a scrollback kept as escape sequences.
 */
#include "vterm-screen.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vterm.h>

#include "buf.h"
#include "utf8.h"

/* A CSI longer than this, or with this many parameters, is dropped (libvterm 0.1 overruns). */
#define MAX_SEQUENCE 256
#define MAX_PARAMS 15
#define CONTINUATION ((uint32_t)-1)

typedef struct {
  char *plain;
  size_t plain_len;
  char *sgr;
  size_t sgr_len;
} line;

enum { GROUND, ESCAPE, CSI };

struct screen {
  VTerm *vt;
  VTermScreen *vs;
  int cols, rows;
  /* The scrollback, a ring of lines within `sb_cap` bytes. */
  line *sb;
  size_t sb_alloc, sb_head, sb_count, sb_bytes, sb_cap;
  bool alt, cursor_visible, app_cursor, sgr_mouse, bracketed;
  /* While a DL or SU is fed: libvterm keeps the lines they take off the top, xterm does not. */
  bool keep_none;
  int mouse;
  /* The scanner's state across feeds. */
  int state;
  char seq[MAX_SEQUENCE];
  size_t seq_len;
  bool seq_overflow;
  unsigned char utf8[4];
  size_t utf8_len, utf8_need;
  buf out;
};

static void encode(uint32_t c, buf *out) {
  char u[4];
  size_t n;
  if (c >= 0x110000) c = 0xfffd;
  if (c < 0x80) {
    u[0] = (char)c;
    n = 1;
  } else if (c < 0x800) {
    u[0] = (char)(0xc0 | c >> 6);
    u[1] = (char)(0x80 | (c & 0x3f));
    n = 2;
  } else if (c < 0x10000) {
    u[0] = (char)(0xe0 | c >> 12);
    u[1] = (char)(0x80 | (c >> 6 & 0x3f));
    u[2] = (char)(0x80 | (c & 0x3f));
    n = 3;
  } else {
    u[0] = (char)(0xf0 | c >> 18);
    u[1] = (char)(0x80 | (c >> 12 & 0x3f));
    u[2] = (char)(0x80 | (c >> 6 & 0x3f));
    u[3] = (char)(0x80 | (c & 0x3f));
    n = 4;
  }
  buf_add(out, u, n);
}

static bool color_equal(const VTermColor *a, const VTermColor *b) {
  if (a->type != b->type) return false;
  if (VTERM_COLOR_IS_DEFAULT_FG(a) || VTERM_COLOR_IS_DEFAULT_BG(a)) return true;
  if (VTERM_COLOR_IS_INDEXED(a)) return a->indexed.idx == b->indexed.idx;
  return a->rgb.red == b->rgb.red && a->rgb.green == b->rgb.green && a->rgb.blue == b->rgb.blue;
}

static bool pen_equal(const VTermScreenCell *a, const VTermScreenCell *b) {
  return a->attrs.bold == b->attrs.bold && a->attrs.underline == b->attrs.underline &&
         a->attrs.italic == b->attrs.italic && a->attrs.blink == b->attrs.blink &&
         a->attrs.reverse == b->attrs.reverse && a->attrs.strike == b->attrs.strike &&
         color_equal(&a->fg, &b->fg) && color_equal(&a->bg, &b->bg);
}

static bool pen_default(const VTermScreenCell *c) {
  return !c->attrs.bold && !c->attrs.underline && !c->attrs.italic && !c->attrs.blink &&
         !c->attrs.reverse && !c->attrs.strike && VTERM_COLOR_IS_DEFAULT_FG(&c->fg) &&
         VTERM_COLOR_IS_DEFAULT_BG(&c->bg);
}

static void sgr_color(const VTermColor *c, bool bg, buf *out) {
  char code[32];
  if (bg ? VTERM_COLOR_IS_DEFAULT_BG(c) : VTERM_COLOR_IS_DEFAULT_FG(c)) return;
  if (VTERM_COLOR_IS_INDEXED(c)) {
    int i = c->indexed.idx;
    if (i < 8) snprintf(code, sizeof code, ";%d", (bg ? 40 : 30) + i);
    else if (i < 16) snprintf(code, sizeof code, ";%d", (bg ? 100 : 90) + i - 8);
    else snprintf(code, sizeof code, ";%d;5;%d", bg ? 48 : 38, i);
  } else {
    snprintf(code, sizeof code, ";%d;2;%d;%d;%d", bg ? 48 : 38, c->rgb.red, c->rgb.green,
             c->rgb.blue);
  }
  buf_adds(out, code);
}

static void sgr_pen(const VTermScreenCell *c, buf *out) {
  buf_adds(out, "\x1b[0");
  if (c->attrs.bold) buf_adds(out, ";1");
  if (c->attrs.italic) buf_adds(out, ";3");
  if (c->attrs.underline) buf_adds(out, ";4");
  if (c->attrs.blink) buf_adds(out, ";5");
  if (c->attrs.reverse) buf_adds(out, ";7");
  if (c->attrs.strike) buf_adds(out, ";9");
  sgr_color(&c->fg, false, out);
  sgr_color(&c->bg, true, out);
  buf_addc(out, 'm');
}

static void cell_text(const VTermScreenCell *c, buf *out) {
  if (c->chars[0] == 0) {
    buf_addc(out, ' ');
    return;
  }
  for (int i = 0; i < VTERM_MAX_CHARS_PER_CELL && c->chars[i]; i++) encode(c->chars[i], out);
}

/* The second half of a wide character whose first half was written over shows as a blank. */
static bool hidden(const VTermScreenCell *cells, int i) {
  return cells[i].chars[0] == CONTINUATION && i > 0 && cells[i - 1].width == 2;
}

static void cell_at(const VTermScreenCell *cells, int i, buf *out) {
  if (cells[i].chars[0] == CONTINUATION) buf_addc(out, ' ');
  else cell_text(&cells[i], out);
}

/* A row as plain text (without the unwritten cells at its end), as escape sequences, or both. */
static void serialize(const VTermScreenCell *cells, int cols, buf *plain, buf *sgr) {
  int end = 0;
  for (int i = 0; i < cols; i++) {
    if (cells[i].chars[0] != 0) end = i + 1;
  }
  if (plain) {
    for (int i = 0; i < end; i++) {
      if (!hidden(cells, i)) cell_at(cells, i, plain);
    }
  }
  if (sgr) {
    const VTermScreenCell *pen = NULL;
    for (int i = 0; i < end; i++) {
      if (hidden(cells, i)) continue;
      if (pen ? !pen_equal(pen, &cells[i]) : !pen_default(&cells[i])) sgr_pen(&cells[i], sgr);
      pen = &cells[i];
      cell_at(cells, i, sgr);
    }
    /* Erased cells after the text keep their background: an erase in that colour redraws them. */
    if (end < cols && !VTERM_COLOR_IS_DEFAULT_BG(&cells[end].bg)) {
      VTermScreenCell bg = cells[end];
      memset(&bg.attrs, 0, sizeof bg.attrs);
      bg.fg = cells[end].fg;
      sgr_pen(&bg, sgr);
      buf_adds(sgr, "\x1b[K");
      pen = &cells[end];
    }
    if (pen && !pen_default(pen)) buf_adds(sgr, "\x1b[0m");
  }
}

static void sb_drop_oldest(screen *s) {
  line *l = &s->sb[s->sb_head];
  s->sb_bytes -= l->plain_len + l->sgr_len;
  free(l->plain);
  free(l->sgr);
  s->sb_head = (s->sb_head + 1) % s->sb_alloc;
  s->sb_count--;
}

static void sb_push(screen *s, const VTermScreenCell *cells, int cols) {
  if (s->sb_cap == 0) return;
  if (s->sb_count == s->sb_alloc) {
    size_t alloc = s->sb_alloc ? s->sb_alloc * 2 : 64;
    line *lines = malloc(alloc * sizeof *lines);
    if (!lines) abort();
    for (size_t i = 0; i < s->sb_count; i++) lines[i] = s->sb[(s->sb_head + i) % s->sb_alloc];
    free(s->sb);
    s->sb = lines;
    s->sb_alloc = alloc;
    s->sb_head = 0;
  }
  buf plain = {0}, sgr = {0};
  serialize(cells, cols, &plain, &sgr);
  line *l = &s->sb[(s->sb_head + s->sb_count++) % s->sb_alloc];
  *l = (line){plain.data, plain.len, sgr.data, sgr.len};
  s->sb_bytes += plain.len + sgr.len;
  while (s->sb_count > 0 && s->sb_bytes > s->sb_cap) sb_drop_oldest(s);
}

static void sb_clear(screen *s) {
  while (s->sb_count > 0) sb_drop_oldest(s);
}

static int on_pushline(int cols, const VTermScreenCell *cells, void *user) {
  screen *s = user;
  if (!s->keep_none) sb_push(s, cells, cols);
  return 1;
}

static int on_termprop(VTermProp prop, VTermValue *value, void *user) {
  screen *s = user;
  if (prop == VTERM_PROP_ALTSCREEN) s->alt = value->boolean;
  else if (prop == VTERM_PROP_CURSORVISIBLE) s->cursor_visible = value->boolean;
  else if (prop == VTERM_PROP_MOUSE) s->mouse = value->number;
  return 1;
}

static const VTermScreenCallbacks callbacks = {
    .settermprop = on_termprop,
    .sb_pushline = on_pushline,
};

screen *screen_new(int cols, int rows, size_t scrollback_bytes) {
  screen *s = calloc(1, sizeof *s);
  if (!s) abort();
  s->cols = cols;
  s->rows = rows;
  s->sb_cap = scrollback_bytes;
  s->cursor_visible = true;
  s->vt = vterm_new(rows, cols);
  vterm_set_utf8(s->vt, 1);
  s->vs = vterm_obtain_screen(s->vt);
  vterm_screen_enable_altscreen(s->vs, 1);
  vterm_screen_set_callbacks(s->vs, &callbacks, s);
  vterm_screen_reset(s->vs, 1);
  /* A restore with nothing saved goes home with the default pen, as in xterm. */
  vterm_input_write(s->vt, "\x1b" "7", 2);
  return s;
}

void screen_free(screen *s) {
  sb_clear(s);
  free(s->sb);
  buf_free(&s->out);
  vterm_free(s->vt);
  free(s);
}

static void flush_out(screen *s) {
  if (s->out.len == 0) return;
  vterm_input_write(s->vt, s->out.data, s->out.len);
  s->out.len = 0;
}

static void row_cells(const screen *s, int row, VTermScreenCell *cells) {
  for (int col = 0; col < s->cols; col++) {
    vterm_screen_get_cell(s->vs, (VTermPos){.row = row, .col = col}, &cells[col]);
  }
}

/* ED 2 on the main screen keeps what it erases in the scrollback, as xterm does. */
static void push_screen(screen *s) {
  VTermScreenCell *cells = calloc(s->cols, sizeof *cells);
  int last = -1;
  for (int row = 0; row < s->rows; row++) {
    row_cells(s, row, cells);
    for (int col = 0; col < s->cols; col++) {
      if (cells[col].chars[0] != 0) last = row;
    }
  }
  for (int row = 0; row <= last; row++) {
    row_cells(s, row, cells);
    sb_push(s, cells, s->cols);
  }
  free(cells);
}

static void private_modes(screen *s, const char *params, size_t len, bool set) {
  size_t i = 0;
  while (i < len) {
    long mode = 0;
    while (i < len && params[i] >= '0' && params[i] <= '9' && mode < 100000) {
      mode = mode * 10 + (params[i++] - '0');
    }
    i++;
    if (mode == 1) s->app_cursor = set;
    else if (mode == 1006) s->sgr_mouse = set;
    else if (mode == 2004) s->bracketed = set;
  }
}

static void on_csi(screen *s) {
  const char *seq = s->seq;
  size_t len = s->seq_len;
  char final = seq[len - 1];
  size_t params = 0;
  for (size_t i = 2; i < len; i++) params += seq[i] == ';' || seq[i] == ':';
  if (s->seq_overflow || params >= MAX_PARAMS) return;
  const char *body = seq + 2;
  size_t body_len = len - 3;
  if (body_len == 0 && final == 's') {
    /* Without left and right margins, xterm reads CSI s as save cursor; libvterm 0.1 as DECSLRM. */
    buf_add(&s->out, "\x1b" "7", 2);
    return;
  }
  if (body_len == 0 && final == 'u') {
    buf_add(&s->out, "\x1b" "8", 2);
    return;
  }
  /* REP of a zero-width character loops for ever in libvterm 0.1; claude does not use it. */
  if (final == 'b') return;
  if ((final == 'M' || final == 'S') && (body_len == 0 || body[0] != '?')) {
    flush_out(s);
    buf_add(&s->out, seq, len);
    s->keep_none = true;
    flush_out(s);
    s->keep_none = false;
    return;
  }
  if (final == 'J' && body_len == 1 && body[0] == '2' && !s->alt) {
    flush_out(s);
    push_screen(s);
  } else if (final == 'J' && body_len == 1 && body[0] == '3') {
    flush_out(s);
    sb_clear(s);
    return;
  } else if ((final == 'h' || final == 'l') && body_len > 0 && body[0] == '?') {
    private_modes(s, body + 1, body_len - 1, final == 'h');
  }
  buf_add(&s->out, seq, len);
}

static void emit_char(screen *s) {
  const unsigned char *u = s->utf8;
  bool c1 = s->utf8_len == 2 && u[0] == 0xc2 && u[1] < 0xa0;
  if (utf8_char(u, s->utf8_len) == s->utf8_len && !c1) buf_add(&s->out, u, s->utf8_len);
  else buf_add(&s->out, "\xef\xbf\xbd", 3);
  s->utf8_len = 0;
}

static void scan(screen *s, unsigned char b) {
  if (s->utf8_len > 0) {
    if ((b & 0xc0) == 0x80) {
      s->utf8[s->utf8_len++] = b;
      if (s->utf8_len == s->utf8_need) emit_char(s);
      return;
    }
    s->utf8_len = 0;
    buf_add(&s->out, "\xef\xbf\xbd", 3);
  }
  /* xterm ignores NUL; libvterm 0.1 reads it differently at the end of a write than inside one. */
  if (b == 0) return;
  switch (s->state) {
  case GROUND:
    if (b == 0x1b) {
      s->state = ESCAPE;
    } else if (b >= 0x80) {
      s->utf8_need = b >= 0xc2 && b <= 0xdf   ? 2
                     : b >= 0xe0 && b <= 0xef ? 3
                     : b >= 0xf0 && b <= 0xf4 ? 4
                                              : 0;
      if (s->utf8_need == 0) {
        buf_add(&s->out, "\xef\xbf\xbd", 3);
      } else {
        s->utf8[0] = b;
        s->utf8_len = 1;
      }
    } else {
      buf_addc(&s->out, (char)b);
    }
    return;
  case ESCAPE:
    if (b == '[') {
      s->state = CSI;
      memcpy(s->seq, "\x1b[", 2);
      s->seq_len = 2;
      s->seq_overflow = false;
      return;
    }
    if (b == 'c') s->bracketed = s->app_cursor = s->sgr_mouse = false;
    buf_addc(&s->out, 0x1b);
    if (b == 0x1b) return;
    s->state = GROUND;
    scan(s, b);
    return;
  case CSI:
    if (b == 0x1b) {
      s->state = ESCAPE;
    } else if (b == 0x18 || b == 0x1a || b >= 0x80) {
      s->state = GROUND;
    } else if (b < 0x20) {
      /* Controls inside a sequence act at once, as in xterm and libvterm. */
      buf_addc(&s->out, (char)b);
    } else {
      if (s->seq_len < MAX_SEQUENCE) s->seq[s->seq_len++] = (char)b;
      else s->seq_overflow = true;
      if (b >= 0x40 && b <= 0x7e) {
        s->state = GROUND;
        on_csi(s);
      }
    }
    return;
  }
}

void screen_feed(screen *s, const char *bytes, size_t len) {
  for (size_t i = 0; i < len; i++) {
    unsigned char b = (unsigned char)bytes[i];
    /* The common case, printable ASCII outside a sequence, goes straight through. */
    if (s->state == GROUND && s->utf8_len == 0 && b >= 0x20 && b < 0x7f) {
      size_t j = i + 1;
      while (j < len && (unsigned char)bytes[j] >= 0x20 && (unsigned char)bytes[j] < 0x7f) j++;
      buf_add(&s->out, bytes + i, j - i);
      i = j - 1;
      continue;
    }
    scan(s, b);
  }
  flush_out(s);
}

void screen_resize(screen *s, int cols, int rows) {
  flush_out(s);
  vterm_set_size(s->vt, rows, cols);
  s->cols = cols;
  s->rows = rows;
  /* xterm resets the scroll region at a resize; libvterm 0.1 may keep one below the screen. */
  VTermPos pos;
  vterm_state_get_cursorpos(vterm_obtain_state(s->vt), &pos);
  if (pos.row >= rows) pos.row = rows - 1;
  if (pos.col >= cols) pos.col = cols - 1;
  char reset[48];
  int n = snprintf(reset, sizeof reset, "\x1b[r\x1b[%d;%dH", pos.row + 1, pos.col + 1);
  vterm_input_write(s->vt, reset, n);
}

int screen_cols(const screen *s) { return s->cols; }

int screen_rows(const screen *s) { return s->rows; }

bool screen_bracketed_paste(const screen *s) { return s->bracketed; }

void screen_lines(const screen *s, bool scrollback,
                  void (*each)(void *ctx, const char *text, size_t len), void *ctx) {
  if (scrollback) {
    for (size_t i = 0; i < s->sb_count; i++) {
      const line *l = &s->sb[(s->sb_head + i) % s->sb_alloc];
      each(ctx, l->plain ? l->plain : "", l->plain_len);
    }
  }
  VTermScreenCell *cells = calloc(s->cols, sizeof *cells);
  buf text = {0};
  for (int row = 0; row < s->rows; row++) {
    row_cells(s, row, cells);
    text.len = 0;
    serialize(cells, s->cols, &text, NULL);
    each(ctx, text.data ? text.data : "", text.len);
  }
  buf_free(&text);
  free(cells);
}

char *screen_snapshot(const screen *s, bool scrollback, size_t *len) {
  buf out = {0};
  buf_adds(&out, "\x1b[0m");
  if (scrollback && !s->alt) {
    for (size_t i = 0; i < s->sb_count; i++) {
      const line *l = &s->sb[(s->sb_head + i) % s->sb_alloc];
      buf_add(&out, l->sgr, l->sgr_len);
      buf_adds(&out, "\r\n");
    }
  }
  if (s->alt) buf_adds(&out, "\x1b[?1049h\x1b[H\x1b[2J");
  VTermScreenCell *cells = calloc(s->cols, sizeof *cells);
  for (int row = 0; row < s->rows; row++) {
    row_cells(s, row, cells);
    serialize(cells, s->cols, NULL, &out);
    if (row < s->rows - 1) buf_adds(&out, "\r\n");
  }
  free(cells);
  VTermPos pos;
  vterm_state_get_cursorpos(vterm_obtain_state(s->vt), &pos);
  char tail[64];
  snprintf(tail, sizeof tail, "\x1b[0m\x1b[%d;%dH", pos.row + 1, pos.col + 1);
  buf_adds(&out, tail);
  if (!s->cursor_visible) buf_adds(&out, "\x1b[?25l");
  if (s->app_cursor) buf_adds(&out, "\x1b[?1h");
  if (s->mouse == VTERM_PROP_MOUSE_CLICK) buf_adds(&out, "\x1b[?1000h");
  if (s->mouse == VTERM_PROP_MOUSE_DRAG) buf_adds(&out, "\x1b[?1002h");
  if (s->mouse == VTERM_PROP_MOUSE_MOVE) buf_adds(&out, "\x1b[?1003h");
  if (s->sgr_mouse) buf_adds(&out, "\x1b[?1006h");
  if (s->bracketed) buf_adds(&out, "\x1b[?2004h");
  buf_addc(&out, 0);
  *len = out.len - 1;
  return out.data;
}
