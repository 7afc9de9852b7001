/*
 * The screen model: a scanner in front of libvterm (UTF-8 repair, hardening, the sequences where
 * libvterm 0.1 and xterm differ), libvterm's state layer (the parser and the cursor, pen, modes
 * and margins), a grid of our own and a scrollback kept as escape sequences.
 *
 * The grid is not libvterm's screen layer because that one moves every cell of the screen at each
 * line fed at the bottom: a flood of short lines spent most of its time there. Here a row is a
 * pointer, and a scroll of whole rows turns the row pointers.
 */
#include "vterm-screen.h"

#include <stddef.h>
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
/* The second column of a wide character, as libvterm marks it. */
#define CONTINUATION ((uint32_t)-1)
#define LEGACY_VTERM (VTERM_VERSION_MAJOR == 0 && VTERM_VERSION_MINOR < 2)
/* Text held back at the end of a feed (see screen_feed) is at most this long. */
#define MAX_HELD 64

/* Not in vterm.h, but libvterm's own, so a mark is what libvterm takes for one. */
int vterm_unicode_is_combining(uint32_t codepoint);

typedef struct {
  uint32_t chars[VTERM_MAX_CHARS_PER_CELL];
  VTermScreenCellAttrs attrs;
  VTermColor fg, bg;
  bool protected_cell;
  /* 2 for a wide character (its second column is a CONTINUATION), else 1, or 0 where erased. */
  uint8_t width;
} cell;

/* A scrollback line, as escape sequences that draw it. */
typedef struct {
  char *sgr;
  size_t len;
} line;

/*
 * ESCAPE has not passed its ESC on yet, ESC_INTER and CSI keep theirs in `seq` until the final
 * byte, STRING (OSC, DCS, SOS, PM, APC) has passed its start on.
 */
enum { GROUND, ESCAPE, ESC_INTER, CSI, STRING };
/*
 * What makes a line of text fed at the bottom of the screen more than cells and a scroll (see
 * plain_line): a scroll region, insert mode, left and right margins, a charset other than ASCII
 * in G0 or shifted in (SO); and, until a reset (RIS), other charsets designated or shifted in,
 * protected cells and double-size lines.
 */
enum { REGION = 1, INSERT = 2, MARGINS = 4, CHARSET = 8, STICKY = 16 };
enum { PRIMARY, ALTERNATE };

struct screen {
  VTerm *vt;
  VTermState *vs;
  int cols, rows;
  /* The main and the alternate screen, each `rows` pointers to `cols` cells; `grid` is shown. */
  cell **buffers[2];
  cell **grid;
  /* A row of what erase leaves (see erase_rect). */
  cell *blanks;
  /* What putglyph writes and erase leaves (its colours). */
  cell pen;
  /* The scrollback, a ring of lines within `sb_cap` bytes. */
  line *sb;
  size_t sb_alloc, sb_head, sb_count, sb_bytes, sb_cap;
  unsigned long long sb_pushed;
  bool alt, cursor_visible, app_cursor, sgr_mouse, bracketed, reverse;
  /* While a DL or SU is fed: libvterm keeps the lines they take off the top, xterm does not. */
  bool keep_none;
  /*
   * The last character fed filled its line (`at_end`), and nothing but SGR, modes, erases or
   * DECSC came after it (`!moved`): the cursor of xterm.js, which clients draw with, is then past
   * the line's end, where an erase to the right erases nothing; libvterm's (and real xterm's)
   * waits on the last column.
   */
  bool at_end, moved;
  int unusual;
  /* G0 is other than ASCII; SO shifted G1 in. */
  bool g0_special, shifted;
  int mouse;
  /* The scanner's state across feeds. */
  int state;
  char seq[MAX_SEQUENCE];
  size_t seq_len;
  bool seq_overflow;
  /* Whether a string is an OSC, which BEL ends too; whether ESC ended one (see STRING). */
  bool osc, string_ended;
  unsigned char utf8[4];
  size_t utf8_len, utf8_need;
  buf out;
  /* Where in `out` text's last character (with the marks after it) begins and ends. */
  size_t text_start, text_end;
  /* Where a scrollback line is drawn before it is stored at its size. */
  buf scratch;
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

static bool pen_equal(const cell *a, const cell *b) {
  /* Cells written with one pen are alike bit for bit; others are compared as colours. */
  const size_t from = offsetof(cell, attrs), to = offsetof(cell, protected_cell);
  if (memcmp((const char *)a + from, (const char *)b + from, to - from) == 0) return true;
  return a->attrs.bold == b->attrs.bold && a->attrs.underline == b->attrs.underline &&
         a->attrs.italic == b->attrs.italic && a->attrs.blink == b->attrs.blink &&
         a->attrs.reverse == b->attrs.reverse && a->attrs.strike == b->attrs.strike &&
         color_equal(&a->fg, &b->fg) && color_equal(&a->bg, &b->bg);
}

static bool pen_default(const cell *c) {
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

static void sgr_pen(const cell *c, buf *out) {
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

/* A cell's text; the second column of a wide character, shown by itself, is a blank. */
static void cell_text(const cell *c, buf *out) {
  if (c->chars[0] == 0 || c->chars[0] == CONTINUATION) {
    buf_addc(out, ' ');
  } else if (c->chars[0] < 0x80 && (VTERM_MAX_CHARS_PER_CELL == 1 || c->chars[1] == 0)) {
    buf_addc(out, (char)c->chars[0]);
  } else {
    for (int i = 0; i < VTERM_MAX_CHARS_PER_CELL && c->chars[i]; i++) encode(c->chars[i], out);
  }
}

/*
 * A row as plain text (without the unwritten cells at its end), or as escape sequences. The
 * continuation of a wide character is skipped: the character before it covers it. One whose
 * character was erased or moved away shows as a blank.
 */
static void serialize(const cell *cells, int cols, bool styled, buf *out) {
  int end = cols;
  while (end > 0 && cells[end - 1].chars[0] == 0) end--;
  const size_t pen_from = offsetof(cell, attrs), pen_bytes = offsetof(cell, protected_cell) - pen_from;
  const cell *pen = NULL;
  for (int i = 0; i < end;) {
    const cell *c = &cells[i];
    if (i > 0 && c->chars[0] == CONTINUATION && cells[i - 1].width == 2) {
      i++;
      continue;
    }
    if (styled && (pen ? !pen_equal(pen, c) : !pen_default(c))) sgr_pen(c, out);
    pen = c;
    cell_text(c, out);
    /* Then the cells after it in its pen, bit for bit, with a character of ASCII: most of a line. */
    buf_reserve(out, (size_t)(end - i));
    char *at = out->data + out->len;
    for (i++; i < end; i++) {
      const cell *next = &cells[i];
      uint32_t ch = next->chars[0];
      if (ch == 0 || ch >= 0x80 || (VTERM_MAX_CHARS_PER_CELL > 1 && next->chars[1] != 0)) break;
      if (memcmp((const char *)next + pen_from, (const char *)pen + pen_from, pen_bytes) != 0) break;
      *at++ = (char)ch;
    }
    out->len = (size_t)(at - out->data);
  }
  if (!styled) return;
  /* Erased cells after the text keep their background: an erase in that colour redraws them. */
  if (end < cols && !VTERM_COLOR_IS_DEFAULT_BG(&cells[end].bg)) {
    cell bg = {.fg = cells[end].fg, .bg = cells[end].bg};
    sgr_pen(&bg, out);
    buf_adds(out, "\x1b[K");
    pen = &cells[end];
  }
  if (pen && !pen_default(pen)) buf_adds(out, "\x1b[0m");
}

/* A scrollback line's text: its escape sequences (only SGR and EL, see serialize) left out. */
static void strip(const char *sgr, size_t len, buf *out) {
  size_t i = 0;
  while (i < len) {
    if (sgr[i] == 0x1b) {
      i += 2;
      while (i < len && !((unsigned char)sgr[i] >= 0x40 && (unsigned char)sgr[i] <= 0x7e)) i++;
      i++;
      continue;
    }
    size_t j = i;
    while (j < len && sgr[j] != 0x1b) j++;
    buf_add(out, sgr + i, j - i);
    i = j;
  }
}

static void sb_drop_oldest(screen *s) {
  line *l = &s->sb[s->sb_head];
  s->sb_bytes -= l->len + sizeof *l;
  free(l->sgr);
  s->sb_head = (s->sb_head + 1) % s->sb_alloc;
  s->sb_count--;
}

static void sb_push(screen *s, const cell *cells) {
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
  s->scratch.len = 0;
  serialize(cells, s->cols, true, &s->scratch);
  char *sgr = s->scratch.len ? malloc(s->scratch.len) : NULL;
  if (s->scratch.len && !sgr) abort();
  if (sgr) memcpy(sgr, s->scratch.data, s->scratch.len);
  line *l = &s->sb[(s->sb_head + s->sb_count++) % s->sb_alloc];
  *l = (line){sgr, s->scratch.len};
  /* A line costs its entry too, so even blank lines are bounded. */
  s->sb_bytes += s->scratch.len + sizeof *l;
  s->sb_pushed++;
  while (s->sb_count > 0 && s->sb_bytes > s->sb_cap) sb_drop_oldest(s);
}

static void sb_clear(screen *s) {
  while (s->sb_count > 0) sb_drop_oldest(s);
}

/* What an erase leaves: a blank in the pen's colours (xterm's erase keeps the background). */
static void blank(const screen *s, cell *c) {
  *c = (cell){.fg = s->pen.fg, .bg = s->pen.bg};
}

static void blanks_fill(screen *s) {
  for (int col = 0; col < s->cols; col++) blank(s, &s->blanks[col]);
}

static void blanks_new(screen *s) {
  free(s->blanks);
  s->blanks = malloc(s->cols * sizeof *s->blanks);
  if (!s->blanks) abort();
  blanks_fill(s);
}

static cell **grid_new(const screen *s, int cols, int rows) {
  cell **grid = calloc(rows, sizeof *grid);
  if (!grid) abort();
  for (int row = 0; row < rows; row++) {
    grid[row] = malloc(cols * sizeof **grid);
    if (!grid[row]) abort();
    for (int col = 0; col < cols; col++) blank(s, &grid[row][col]);
  }
  return grid;
}

static void grid_free(cell **grid, int rows) {
  if (!grid) return;
  for (int row = 0; row < rows; row++) free(grid[row]);
  free(grid);
}

/* The old grid's cells in the top left corner of one of the new size, as libvterm 0.1 resizes. */
static cell **grid_resized(const screen *s, cell **old, int cols, int rows) {
  cell **grid = grid_new(s, cols, rows);
  int keep_cols = cols < s->cols ? cols : s->cols;
  for (int row = 0; row < rows && row < s->rows; row++) {
    memcpy(grid[row], old[row], keep_cols * sizeof **grid);
    /* A wide character the new width cuts in half is blanked. */
    if (keep_cols < s->cols && grid[row][keep_cols - 1].width == 2) {
      grid[row][keep_cols - 1].chars[0] = 0;
      grid[row][keep_cols - 1].width = 0;
    }
  }
  grid_free(old, s->rows);
  return grid;
}

static void reverse_rows(cell **rows, int from, int to) {
  for (to--; from < to; from++, to--) {
    cell *row = rows[from];
    rows[from] = rows[to];
    rows[to] = row;
  }
}

static void erase_rect(screen *s, VTermRect rect, bool selective) {
  int end_row = rect.end_row < s->rows ? rect.end_row : s->rows;
  int end_col = rect.end_col < s->cols ? rect.end_col : s->cols;
  int start_col = rect.start_col < 0 ? 0 : rect.start_col;
  if (start_col >= end_col) return;
  /* A row of blanks in the pen's colours, copied into each row erased. */
  const cell *blanks = s->blanks;
  if (!selective && !pen_equal(&blanks[0], &(cell){.fg = s->pen.fg, .bg = s->pen.bg})) {
    blanks_fill(s);
  }
  for (int row = rect.start_row < 0 ? 0 : rect.start_row; row < end_row; row++) {
    cell *cells = s->grid[row];
    if (!selective) {
      memcpy(&cells[start_col], blanks, (end_col - start_col) * sizeof *blanks);
      continue;
    }
    for (int col = start_col; col < end_col; col++) {
      cell *c = &s->grid[row][col];
      if (!c->protected_cell) blank(s, c);
    }
  }
}

/* An erase the program asked for: a wide character erased in half goes whole, as in xterm.js. */
static int on_erase(VTermRect rect, int selective, void *user) {
  screen *s = user;
  int start_col = rect.start_col, end_col = rect.end_col < s->cols ? rect.end_col : s->cols;
  for (int row = rect.start_row < 0 ? 0 : rect.start_row; row < rect.end_row && row < s->rows; row++) {
    cell *cells = s->grid[row];
    if (start_col > 0 && start_col < s->cols && cells[start_col - 1].width == 2 &&
        !(selective && cells[start_col - 1].protected_cell)) {
      blank(s, &cells[start_col - 1]);
    }
    if (end_col > 0 && end_col < s->cols && cells[end_col - 1].width == 2 &&
        !(selective && cells[end_col - 1].protected_cell)) {
      blank(s, &cells[end_col]);
    }
  }
  erase_rect(s, rect, selective);
  return 1;
}

/*
 * What a scroll of part of a row exposes, after its cells moved: a wide character just before it,
 * which did not move, lost its second half.
 */
static int on_scroll_erase(VTermRect rect, int selective, void *user) {
  screen *s = user;
  for (int row = rect.start_row < 0 ? 0 : rect.start_row; row < rect.end_row && row < s->rows; row++) {
    if (rect.start_col > 0 && rect.start_col <= s->cols && s->grid[row][rect.start_col - 1].width == 2) {
      blank(s, &s->grid[row][rect.start_col - 1]);
    }
  }
  erase_rect(s, rect, selective);
  return 1;
}

static int on_moverect(VTermRect dest, VTermRect src, void *user) {
  screen *s = user;
  int cols = src.end_col - src.start_col;
  int downward = src.start_row - dest.start_row;
  int from = downward < 0 ? dest.end_row - 1 : dest.start_row;
  int to = downward < 0 ? dest.start_row - 1 : dest.end_row;
  int step = downward < 0 ? -1 : 1;
  for (int row = from; row != to; row += step) {
    memmove(&s->grid[row][dest.start_col], &s->grid[row + downward][src.start_col],
            cols * sizeof(cell));
  }
  return 1;
}

static int on_scrollrect(VTermRect rect, int downward, int rightward, void *user) {
  screen *s = user;
  int height = rect.end_row - rect.start_row;
  bool whole_rows = rect.start_col == 0 && rect.end_col == s->cols && rightward == 0;
  if (!whole_rows || abs(downward) >= height) {
    vterm_scroll_rect(rect, downward, rightward, on_moverect, on_scroll_erase, s);
    return 1;
  }
  /* Lines scrolled off the top of the main screen go to the scrollback, as in libvterm. */
  if (downward > 0 && rect.start_row == 0 && s->grid == s->buffers[PRIMARY] && !s->keep_none) {
    for (int row = 0; row < downward; row++) sb_push(s, s->grid[row]);
  }
  /* A rotation by `downward` rows: three reversals. */
  int by = downward > 0 ? downward : height + downward;
  reverse_rows(s->grid, rect.start_row, rect.start_row + by);
  reverse_rows(s->grid, rect.start_row + by, rect.end_row);
  reverse_rows(s->grid, rect.start_row, rect.end_row);
  VTermRect exposed = rect;
  if (downward > 0) exposed.start_row = rect.end_row - downward;
  else exposed.end_row = rect.start_row - downward;
  erase_rect(s, exposed, false);
  return 1;
}

static int on_putglyph(VTermGlyphInfo *info, VTermPos pos, void *user) {
  screen *s = user;
  if (pos.row < 0 || pos.row >= s->rows || pos.col < 0 || pos.col >= s->cols) return 0;
  cell *row = s->grid[pos.row];
  /* Half a wide character written over leaves a blank in its other half, as in xterm. */
  if (pos.col > 0 && row[pos.col].chars[0] == CONTINUATION && row[pos.col - 1].width == 2) {
    row[pos.col - 1].chars[0] = 0;
    row[pos.col - 1].width = 0;
  }
  int after = pos.col + info->width;
  if (after > s->cols) after = s->cols;
  if (after < s->cols && row[after].chars[0] == CONTINUATION) row[after].chars[0] = 0;
  s->at_end = after == s->cols;
  cell *c = &row[pos.col];
  c->width = (uint8_t)(after - pos.col);
  c->attrs = s->pen.attrs;
  c->fg = s->pen.fg;
  c->bg = s->pen.bg;
  c->protected_cell = info->protected_cell;
  int i = 0;
  for (; i < VTERM_MAX_CHARS_PER_CELL && info->chars[i]; i++) c->chars[i] = info->chars[i];
  if (i < VTERM_MAX_CHARS_PER_CELL) c->chars[i] = 0;
  for (int col = pos.col + 1; col < after; col++) {
    row[col].chars[0] = CONTINUATION;
    row[col].width = 0;
  }
  return 1;
}

static int on_setpenattr(VTermAttr attr, VTermValue *value, void *user) {
  screen *s = user;
  VTermScreenCellAttrs *a = &s->pen.attrs;
  switch (attr) {
  case VTERM_ATTR_BOLD: a->bold = value->boolean; break;
  case VTERM_ATTR_UNDERLINE: a->underline = value->number; break;
  case VTERM_ATTR_ITALIC: a->italic = value->boolean; break;
  case VTERM_ATTR_BLINK: a->blink = value->boolean; break;
  case VTERM_ATTR_REVERSE: a->reverse = value->boolean; break;
  case VTERM_ATTR_STRIKE: a->strike = value->boolean; break;
  case VTERM_ATTR_FOREGROUND: s->pen.fg = value->color; break;
  case VTERM_ATTR_BACKGROUND: s->pen.bg = value->color; break;
  default: break;
  }
  return 1;
}

static int on_termprop(VTermProp prop, VTermValue *value, void *user) {
  screen *s = user;
  if (prop == VTERM_PROP_ALTSCREEN) {
    s->alt = value->boolean;
    s->grid = s->buffers[s->alt ? ALTERNATE : PRIMARY];
  } else if (prop == VTERM_PROP_CURSORVISIBLE) {
    s->cursor_visible = value->boolean;
  } else if (prop == VTERM_PROP_MOUSE) {
    s->mouse = value->number;
  } else if (prop == VTERM_PROP_REVERSE) {
    s->reverse = value->boolean;
  }
  return 1;
}

/* A line made double width (DECDWL) loses its right half, as in libvterm's screen. */
static int on_setlineinfo(int row, const VTermLineInfo *now, const VTermLineInfo *was, void *user) {
  screen *s = user;
  if (now->doublewidth && !was->doublewidth) {
    erase_rect(s, (VTermRect){.start_row = row, .end_row = row + 1, .start_col = s->cols / 2,
                              .end_col = s->cols},
               false);
  }
  return 1;
}

static bool row_blank(const cell *cells, int cols) {
  for (int col = 0; col < cols; col++) {
    if (cells[col].chars[0] != 0) return false;
  }
  return true;
}

/*
 * As libvterm 0.1's screen: a main screen that loses rows first scrolls the rows below the
 * cursor's that hold text into the scrollback; the cursor moves up with them (`*cursor_row`).
 */
static void resize_grid(screen *s, int cols, int rows, int *cursor_row) {
  if (!s->alt && rows < s->rows) {
    VTermPos cursor;
    vterm_state_get_cursorpos(s->vs, &cursor);
    int row = s->rows - 1;
    while (row >= rows && row_blank(s->grid[row], s->cols) && row != cursor.row) row--;
    int scrolled = row + 1 - rows;
    if (scrolled > 0) {
      on_scrollrect((VTermRect){.start_row = 0, .end_row = s->rows, .end_col = s->cols}, scrolled,
                    0, s);
      *cursor_row -= scrolled;
    }
  }
  for (int b = PRIMARY; b <= ALTERNATE; b++) s->buffers[b] = grid_resized(s, s->buffers[b], cols, rows);
  s->grid = s->buffers[s->alt ? ALTERNATE : PRIMARY];
  s->cols = cols;
  s->rows = rows;
  s->at_end = false;
  blanks_new(s);
}

#if LEGACY_VTERM
static int on_resize(int rows, int cols, VTermPos *delta, void *user) {
  resize_grid(user, cols, rows, &delta->row);
  return 1;
}
#else
static int on_resize(int rows, int cols, VTermStateFields *fields, void *user) {
  screen *s = user;
  int old_rows = s->rows;
  resize_grid(s, cols, rows, &fields->pos.row);
  /* libvterm 0.3 leaves its line infos to a resize callback, as its own screen resizes them. */
  for (int b = PRIMARY; b <= ALTERNATE; b++) {
    VTermLineInfo *old = fields->lineinfos[b];
    if (!old) continue;
    VTermLineInfo *info = calloc(rows, sizeof *info);
    if (!info) abort();
    memcpy(info, old, (rows < old_rows ? rows : old_rows) * sizeof *info);
    free(old);
    fields->lineinfos[b] = info;
  }
  return 1;
}
#endif

static const VTermStateCallbacks callbacks = {
    .putglyph = on_putglyph,
    .scrollrect = on_scrollrect,
    .moverect = on_moverect,
    .erase = on_erase,
    .setpenattr = on_setpenattr,
    .settermprop = on_termprop,
    .resize = on_resize,
    .setlineinfo = on_setlineinfo,
};

screen *screen_new(int cols, int rows, size_t scrollback_bytes) {
  screen *s = calloc(1, sizeof *s);
  if (!s) abort();
  s->cols = cols;
  s->rows = rows;
  s->sb_cap = scrollback_bytes;
  s->cursor_visible = true;
  s->buffers[PRIMARY] = grid_new(s, cols, rows);
  s->buffers[ALTERNATE] = grid_new(s, cols, rows);
  s->grid = s->buffers[PRIMARY];
  blanks_new(s);
  s->vt = vterm_new(rows, cols);
  vterm_set_utf8(s->vt, 1);
  s->vs = vterm_obtain_state(s->vt);
  vterm_state_set_callbacks(s->vs, &callbacks, s);
  vterm_state_reset(s->vs, 1);
  /* A restore with nothing saved goes home with the default pen, as in xterm. */
  vterm_input_write(s->vt, "\x1b" "7", 2);
  return s;
}

void screen_free(screen *s) {
  sb_clear(s);
  free(s->sb);
  buf_free(&s->out);
  buf_free(&s->scratch);
  vterm_free(s->vt);
  grid_free(s->buffers[PRIMARY], s->rows);
  grid_free(s->buffers[ALTERNATE], s->rows);
  free(s->blanks);
  free(s);
}

/* Feeds libvterm what the scanner let through, but for the last `keep` bytes. */
static void flush_but(screen *s, size_t keep) {
  if (s->out.len > keep) vterm_input_write(s->vt, s->out.data, s->out.len - keep);
  if (keep > 0) memmove(s->out.data, s->out.data + s->out.len - keep, keep);
  s->out.len = keep;
  s->text_start = 0;
  s->text_end = keep;
}

static void flush_out(screen *s) { flush_but(s, 0); }

/* ED 2 on the main screen keeps what it erases in the scrollback, as xterm does. */
static void push_screen(screen *s) {
  int last = s->rows - 1;
  while (last >= 0 && row_blank(s->grid[last], s->cols)) last--;
  for (int row = 0; row <= last; row++) sb_push(s, s->grid[row]);
}

static bool past_end(screen *s) {
  flush_out(s);
  return s->at_end && !s->moved;
}

/*
 * Private modes other than these (column, origin, alternate screen, restoring the cursor) leave
 * the cursor be.
 */
static bool moves_cursor(long mode) {
  return mode == 3 || mode == 6 || mode == 47 || mode == 1047 || mode == 1048 || mode == 1049;
}

static void set_unusual(screen *s, int bit, bool on) {
  s->unusual = on ? s->unusual | bit : s->unusual & ~bit;
}

static void charset(screen *s) { set_unusual(s, CHARSET, s->g0_special || s->shifted); }

/* Calls `each` with every number of a parameter list ("4;20"). */
static void each_mode(screen *s, const char *params, size_t len, bool set,
                      void (*each)(screen *s, long mode, bool set)) {
  size_t i = 0;
  while (i < len) {
    long mode = 0;
    while (i < len && params[i] >= '0' && params[i] <= '9' && mode < 100000) {
      mode = mode * 10 + (params[i++] - '0');
    }
    i++;
    each(s, mode, set);
  }
}

static void ansi_mode(screen *s, long mode, bool set) {
  if (mode == 4) set_unusual(s, INSERT, set);
}

static void private_mode(screen *s, long mode, bool set) {
  if (moves_cursor(mode)) s->moved = true;
  if (mode == 69) set_unusual(s, MARGINS, set);
  if (mode == 1) s->app_cursor = set;
  else if (mode == 1006) s->sgr_mouse = set;
  else if (mode == 2004) s->bracketed = set;
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
  /* A mode's parameters are numbers alone: with an intermediate (CSI 4 $ l) it is another. */
  bool modes = (final == 'h' || final == 'l') && body_len > 0 &&
               strspn(body + (body[0] == '?'), "0123456789;:") == body_len - (body[0] == '?');
  bool private = modes && body[0] == '?';
  bool plain = body_len == 0 || (body[0] >= '0' && body[0] <= ';');
  bool keeps = plain && (final == 'm' || final == 'K' || final == 'J');
  if (final == 'r' && plain) set_unusual(s, REGION, body_len > 0);
  if (modes && plain) each_mode(s, body, body_len, final == 'h', ansi_mode);
  if (final == 'q' && body_len > 0 && body[body_len - 1] == '"') s->unusual |= STICKY;
  /* Saving the cursor leaves it where it is; restoring it puts it on a column. */
  if (!keeps && !private && !(body_len == 0 && final == 's')) s->moved = true;
  if (plain && (final == 'K' || final == 'J') && (body_len == 0 || (body_len == 1 && body[0] == '0'))) {
    if (past_end(s)) {
      /* Past the end of the line: the erase to the right of it is of the lines below alone. */
      VTermPos cursor;
      vterm_state_get_cursorpos(s->vs, &cursor);
      if (final == 'J') {
        erase_rect(s, (VTermRect){.start_row = cursor.row + 1, .end_row = s->rows, .end_col = s->cols},
                   false);
      }
      return;
    }
  }
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
  if (final == 'J' && body_len == 1 && body[0] == '2') {
    /* Flushed first: what came before may have left the alternate screen. */
    flush_out(s);
    if (!s->alt) push_screen(s);
  } else if (final == 'J' && body_len == 1 && body[0] == '3') {
    flush_out(s);
    sb_clear(s);
    return;
  } else if (private) {
    each_mode(s, body + 1, body_len - 1, final == 'h', private_mode);
  }
  if (modes && memchr(body, ';', body_len)) {
    /* One mode a sequence: libvterm 0.1 takes only the first (CSI ? 25;1049 h, CSI 20;4 h). */
    for (size_t from = private; from < body_len;) {
      const char *semicolon = memchr(body + from, ';', body_len - from);
      size_t n = semicolon ? (size_t)(semicolon - (body + from)) : body_len - from;
      buf_add(&s->out, private ? "\x1b[?" : "\x1b[", private ? 3 : 2);
      buf_add(&s->out, body + from, n);
      buf_addc(&s->out, final);
      from += n + 1;
    }
    return;
  }
  buf_add(&s->out, seq, len);
}

/* U+FFFD for bytes that are not UTF-8: a character like any other, which a mark may follow. */
static void emit_replacement(screen *s) {
  s->moved = false;
  s->text_start = s->out.len;
  buf_add(&s->out, "\xef\xbf\xbd", 3);
  s->text_end = s->out.len;
}

static void emit_char(screen *s) {
  const unsigned char *u = s->utf8;
  bool c1 = s->utf8_len == 2 && u[0] == 0xc2 && u[1] < 0xa0;
  bool valid = utf8_char(u, s->utf8_len) == s->utf8_len && !c1;
  uint32_t c = 0xfffd;
  if (valid) {
    c = u[0] & (0x7f >> s->utf8_len);
    for (size_t i = 1; i < s->utf8_len; i++) c = c << 6 | (u[i] & 0x3f);
  }
  s->moved = false;
  bool mark = s->text_end == s->out.len && vterm_unicode_is_combining(c);
  if (!mark) s->text_start = s->out.len;
  if (valid) buf_add(&s->out, u, s->utf8_len);
  else buf_add(&s->out, "\xef\xbf\xbd", 3);
  s->text_end = s->out.len;
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
    emit_replacement(s);
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
        emit_replacement(s);
      } else {
        s->utf8[0] = b;
        s->utf8_len = 1;
      }
    } else {
      if (b < 0x20 && b != 0x07) s->moved = true;
      else if (b >= 0x20 && b < 0x7f) s->moved = false;
      if (b == 0x0e || b == 0x0f) {
        s->shifted = b == 0x0e;
        charset(s);
      }
      buf_addc(&s->out, (char)b);
    }
    return;
  case ESCAPE:
    if (s->string_ended) {
      s->string_ended = false;
      /* The ST that ended the string was passed on already. */
      if (b == '\\') {
        s->state = GROUND;
        return;
      }
    }
    if (b == '[') {
      s->state = CSI;
      memcpy(s->seq, "\x1b[", 2);
      s->seq_len = 2;
      s->seq_overflow = false;
      return;
    }
    if (b == 0x18 || b == 0x1a) {
      s->state = GROUND;
    } else if (b == 0x1b || b == 0x7f) {
      /* The escape starts again; DEL is ignored. */
    } else if (b < 0x20) {
      /* A control inside an escape acts at once, as in xterm and libvterm. */
      s->moved = true;
      buf_addc(&s->out, (char)b);
    } else if (b >= 0x80) {
      buf_addc(&s->out, 0x1b);
      s->state = GROUND;
      scan(s, b);
    } else if (b <= 0x2f) {
      s->seq[0] = 0x1b;
      s->seq[1] = (char)b;
      s->seq_len = 2;
      s->state = ESC_INTER;
    } else if (strchr("]PX^_", b)) {
      buf_addc(&s->out, 0x1b);
      buf_addc(&s->out, (char)b);
      s->osc = b == ']';
      s->state = STRING;
    } else {
      if (b == 'c') {
        s->bracketed = s->app_cursor = s->sgr_mouse = false;
        s->unusual = 0;
        s->g0_special = s->shifted = false;
        /*
         * A reset (RIS) clears the scrollback too and leaves the alternate screen, as xterm.js's
         * does; libvterm 0.1's stays on it.
         */
        flush_out(s);
        sb_clear(s);
        if (s->alt) buf_add(&s->out, "\x1b[?1049l", 8);
      }
      /* Single shifts and locking shifts of G2 and G3. */
      if (strchr("NOno|}~", b)) s->unusual |= STICKY;
      /* DECSC and the keypad's modes leave the cursor where it is. */
      if (b != '7' && b != '=' && b != '>') s->moved = true;
      buf_addc(&s->out, 0x1b);
      buf_addc(&s->out, (char)b);
      s->state = GROUND;
    }
    return;
  case ESC_INTER:
    if (b == 0x1b) {
      s->state = ESCAPE;
    } else if (b == 0x18 || b == 0x1a) {
      s->state = GROUND;
    } else if (b >= 0x80) {
      s->state = GROUND;
      scan(s, b);
    } else if (b < 0x20) {
      s->moved = true;
      buf_addc(&s->out, (char)b);
    } else if (b <= 0x2f) {
      if (s->seq_len < MAX_SEQUENCE) s->seq[s->seq_len++] = (char)b;
    } else if (b < 0x7f) {
      buf_add(&s->out, s->seq, s->seq_len);
      buf_addc(&s->out, (char)b);
      s->state = GROUND;
      /* A charset's designation: ASCII into G0 is the usual one. */
      if (s->seq_len == 2 && s->seq[1] == '(') {
        s->g0_special = b != 'B';
        charset(s);
      } else if (s->seq_len == 2 && strchr(")*+-./", s->seq[1])) {
        if (b != 'B') s->unusual |= STICKY;
      } else {
        /* Double-size lines and DECALN (ESC #), and what else an intermediate starts. */
        s->unusual |= STICKY;
        s->moved = true;
      }
    }
    return;
  case STRING:
    /* Passed through, for libvterm's titles and the like, but for controls, which xterm ignores. */
    if (b == 0x1b) {
      /* An ESC ends a string in xterm.js, ST or not; libvterm is told so at once with an ST. */
      buf_add(&s->out, "\x1b\\", 2);
      s->string_ended = true;
      s->state = ESCAPE;
    } else if (b == 0x18 || b == 0x1a || (b == 0x07 && s->osc)) {
      buf_addc(&s->out, (char)b);
      s->state = GROUND;
    } else if (b >= 0x20) {
      buf_addc(&s->out, (char)b);
    }
    return;
  case CSI:
    if (b == 0x1b) {
      s->state = ESCAPE;
    } else if (b == 0x18 || b == 0x1a || b >= 0x80) {
      s->state = GROUND;
    } else if (b < 0x20) {
      /* Controls inside a sequence act at once, as in xterm and libvterm. */
      s->moved = true;
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

/*
 * A line of ASCII text and CR LF at the bottom of the screen, where libvterm would put each
 * character and scroll: the cells are written here and the screen scrolled, as libvterm's
 * callbacks would, and libvterm's cursor stays where it was, at the bottom on the left. A flood
 * of lines costs a fraction of what libvterm's parser takes for it. False where it does not
 * apply: the line is left to libvterm.
 */
static bool plain_line(screen *s, const char *text, size_t len) {
  if (s->unusual || (int)len > s->cols || s->cols < 2) return false;
  flush_out(s);
  VTermPos cursor;
  vterm_state_get_cursorpos(s->vs, &cursor);
  if (cursor.row != s->rows - 1 || cursor.col != 0) return false;
  cell *row = s->grid[cursor.row];
  /*
   * Filled in field by field and never written in the loop: with the character set in it at each
   * column, GCC stored part of the cell and reloaded it whole at each copy, a stall per character.
   */
  cell c;
  memset(&c, 0, sizeof c);
  c.attrs = s->pen.attrs;
  c.fg = s->pen.fg;
  c.bg = s->pen.bg;
  c.width = 1;
  for (size_t col = 0; col < len; col++) {
    row[col] = c;
    row[col].chars[0] = (unsigned char)text[col];
  }
  if ((int)len < s->cols && row[len].chars[0] == CONTINUATION) row[len].chars[0] = 0;
  on_scrollrect((VTermRect){.start_row = 0, .end_row = s->rows, .start_col = 0, .end_col = s->cols},
                1, 0, s);
  s->moved = true;
  return true;
}

void screen_feed(screen *s, const char *bytes, size_t len) {
  for (size_t i = 0; i < len; i++) {
    unsigned char b = (unsigned char)bytes[i];
    /* The common case, printable ASCII outside a sequence, goes straight through. */
    if (s->state == GROUND && s->utf8_len == 0 && b >= 0x20 && b < 0x7f) {
      size_t j = i + 1;
      while (j < len && (unsigned char)bytes[j] >= 0x20 && (unsigned char)bytes[j] < 0x7f) j++;
      if (j + 1 < len && bytes[j] == '\r' && bytes[j + 1] == '\n' && plain_line(s, bytes + i, j - i)) {
        i = j + 1;
        continue;
      }
      buf_add(&s->out, bytes + i, j - i);
      s->moved = false;
      s->text_start = s->out.len - 1;
      s->text_end = s->out.len;
      i = j - 1;
      continue;
    }
    scan(s, b);
  }
  /*
   * A combining mark joins the character before it; libvterm 0.1 misses that across two writes
   * when that character filled the line. So text's last character waits in `out` for what comes
   * next, or for the screen to be read.
   */
  size_t held = s->out.len - s->text_start;
  bool text_last = s->state == GROUND && s->text_end > 0 && s->text_end == s->out.len &&
                   held <= MAX_HELD;
  flush_but(s, text_last ? held : 0);
}

void screen_resize(screen *s, int cols, int rows) {
  flush_out(s);
  vterm_set_size(s->vt, rows, cols);
  /* xterm resets the scroll region at a resize; libvterm 0.1 may keep one below the screen. */
  VTermPos pos;
  vterm_state_get_cursorpos(s->vs, &pos);
  if (pos.row >= rows) pos.row = rows - 1;
  if (pos.col >= cols) pos.col = cols - 1;
  char reset[48];
  int n = snprintf(reset, sizeof reset, "\x1b[r\x1b[%d;%dH", pos.row + 1, pos.col + 1);
  vterm_input_write(s->vt, reset, n);
  s->unusual &= ~REGION;
}

int screen_cols(const screen *s) { return s->cols; }

int screen_rows(const screen *s) { return s->rows; }

bool screen_bracketed_paste(const screen *s) { return s->bracketed; }

unsigned long long screen_scrolled(screen *s) {
  flush_out(s);
  return s->sb_pushed;
}

void screen_lines_since(screen *s, unsigned long long since,
                        void (*each)(void *ctx, const char *text, size_t len), void *ctx) {
  flush_out(s);
  buf text = {0};
  unsigned long long fresh = s->sb_pushed - since;
  size_t from = fresh < s->sb_count ? s->sb_count - (size_t)fresh : 0;
  for (size_t i = from; i < s->sb_count; i++) {
    const line *l = &s->sb[(s->sb_head + i) % s->sb_alloc];
    text.len = 0;
    strip(l->sgr, l->len, &text);
    each(ctx, text.data ? text.data : "", text.len);
  }
  for (int row = 0; row < s->rows; row++) {
    text.len = 0;
    serialize(s->grid[row], s->cols, false, &text);
    each(ctx, text.data ? text.data : "", text.len);
  }
  buf_free(&text);
}

void screen_lines(screen *s, bool scrollback,
                  void (*each)(void *ctx, const char *text, size_t len), void *ctx) {
  screen_lines_since(s, scrollback ? 0 : s->sb_pushed, each, ctx);
}

char *screen_snapshot(screen *s, bool scrollback, size_t max_scrollback, size_t *len) {
  flush_out(s);
  buf out = {0};
  buf_adds(&out, "\x1b[0m");
  if (scrollback && !s->alt) {
    size_t from = s->sb_count, bytes = 0;
    while (from > 0) {
      const line *l = &s->sb[(s->sb_head + from - 1) % s->sb_alloc];
      if (bytes + l->len + 2 > max_scrollback) break;
      bytes += l->len + 2;
      from--;
    }
    for (size_t i = from; i < s->sb_count; i++) {
      const line *l = &s->sb[(s->sb_head + i) % s->sb_alloc];
      buf_add(&out, l->sgr, l->len);
      buf_adds(&out, "\r\n");
    }
  }
  if (s->alt) buf_adds(&out, "\x1b[?1049h\x1b[H\x1b[2J");
  for (int row = 0; row < s->rows; row++) {
    serialize(s->grid[row], s->cols, true, &out);
    if (row < s->rows - 1) buf_adds(&out, "\r\n");
  }
  VTermPos pos;
  vterm_state_get_cursorpos(s->vs, &pos);
  char tail[64];
  snprintf(tail, sizeof tail, "\x1b[0m\x1b[%d;%dH", pos.row + 1, pos.col + 1);
  buf_adds(&out, tail);
  if (!s->cursor_visible) buf_adds(&out, "\x1b[?25l");
  if (s->reverse) buf_adds(&out, "\x1b[?5h");
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
