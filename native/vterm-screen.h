/* A session's headless screen model: libvterm's parser and state, a grid and a scrollback. */
#ifndef CLAUDE_POOL_VTERM_SCREEN_H
#define CLAUDE_POOL_VTERM_SCREEN_H
#include <stdbool.h>
#include <stddef.h>

typedef struct screen screen;

screen *screen_new(int cols, int rows, size_t scrollback_bytes);
void screen_free(screen *s);
/*
 * The program's output, cut anywhere: how it is cut into feeds changes nothing. Its last character
 * may wait for the next feed or read (see screen_feed).
 */
void screen_feed(screen *s, const char *bytes, size_t len);
void screen_resize(screen *s, int cols, int rows);
int screen_cols(const screen *s);
int screen_rows(const screen *s);
/* Whether the program asked for bracketed paste (CSI ? 2004 h). */
bool screen_bracketed_paste(const screen *s);
/*
 * Each line as UTF-8 text, without the cells never written at its end: the visible rows, or with
 * `scrollback` the scrollback's lines (oldest first) and then the visible rows.
 */
void screen_lines(screen *s, bool scrollback,
                  void (*each)(void *ctx, const char *text, size_t len), void *ctx);
/* How many lines have gone into the scrollback so far, those dropped or cleared since included. */
unsigned long long screen_scrolled(screen *s);
/*
 * Each line that went into the scrollback after the first `since` of them, as text, oldest first
 * (those the scrollback still keeps), and then the visible rows.
 */
void screen_lines_since(screen *s, unsigned long long since,
                        void (*each)(void *ctx, const char *text, size_t len), void *ctx);
/*
 * Escape sequences that redraw the screen (and with `scrollback`, the scrollback before it), its
 * colours and attributes, the cursor and the modes in a fresh terminal of the same size; malloc'd.
 * Of the scrollback, the newest lines within `max_scrollback` bytes.
 */
char *screen_snapshot(screen *s, bool scrollback, size_t max_scrollback, size_t *len);
#endif
