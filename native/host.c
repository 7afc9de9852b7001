/*
 * `claude-pool host`: a session's host. It owns claude's PTY and its screen model and serves one
 * supervisor at a time on a Unix socket; the supervisor may come and go, claude runs on. The
 * protocol is src/host/protocol.ts's: frames of `[kind u8][length u32 BE][payload]`, a JSON
 * message or output `[offset u64 BE][bytes]`.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "feeder.h"
#include "log.h"
#include "pty.h"
#include "vterm-screen.h"
#include "spec.h"
#include "utf8.h"

#ifndef PROTOCOL_VERSION
#error "PROTOCOL_VERSION is src/host/protocol.ts's protocolVersion, as the Makefile passes it"
#endif

enum { FRAME_MESSAGE = 1, FRAME_OUTPUT = 2 };
#define HEADER_BYTES 5
#define MAX_FRAME_BYTES (64u * 1024 * 1024)
/* A snapshot's scrollback, whose escapes JSON may make six times longer, stays within a frame. */
#define SNAPSHOT_SCROLLBACK_BYTES (MAX_FRAME_BYTES / 8)
/* Unacknowledged output at which claude's terminal is no longer read, and below which it is. */
#define UNACKED_HIGH (1u << 20)
#define UNACKED_LOW (256u * 1024)
/*
 * Output not yet fed to the screen model at which claude's terminal is no longer read, and below
 * which it is, in bytes and in the time the model takes to parse it (at the cost it measured
 * lately): what waits for the model (a snapshot, a resize, typing) waits about that long at most.
 */
#define FEED_HIGH (1u << 20)
#define FEED_LOW (256u * 1024)
#define FEED_HIGH_US 100000
#define FEED_LOW_US 25000
/* Reads that follow a delivery this closely wait to go with the next one. */
#define BATCH_WINDOW_US 2000
#define MAX_BATCH_BYTES (256u * 1024)
/* A read slice ends after this much or this long, so requests are answered during a flood. */
#define SLICE_BYTES (256u * 1024)
#define SLICE_US 5000
/* Output settles this long before the screen is read. */
#define SCREEN_CHECK_US 50000
/* Text typed without bracketed paste and its Enter must reach claude as separate reads. */
#define ENTER_DELAY_US 25000
/* claude says at start that it cannot hear channels; past this the scrollback is not searched. */
#define REFUSAL_NOTICE_US 60000000LL
#define TAIL_BYTES 16384
/* Output kept for the first supervisor, which attaches a moment after claude starts. */
#define EARLY_BYTES (1u << 20)
#define DEFAULT_LINGER_MS (60LL * 60 * 1000)
/* After a stop, how long the host waits for the supervisor to take claude's exit. */
#define STOP_LINGER_MS 2000

#define NEVER INT64_MAX

typedef struct type_job {
  json_int_t req;
  unsigned generation;
  char *text;
  size_t len;
  bool submit;
  struct type_job *next;
} type_job;

static struct {
  host_spec *spec;
  /* Owns the screen model: see feeder_lock. */
  feeder *feeder;
  pid_t child;
  int master;
  int listen_fd;
  dev_t sock_dev;
  ino_t sock_ino;
  bool owns_socket;
  int signal_fd;
  int64_t started;

  int peer;
  unsigned generation;
  bool attached;
  buf peer_in, peer_out;

  /* Bytes delivered (to the screen and the supervisor) since claude started. */
  uint64_t offset;
  uint64_t acked;
  bool paused;
  buf batch;
  int64_t batch_due;
  int64_t last_delivery;
  buf early;
  bool early_open;
  buf tail;

  buf pty_out;
  bool drawn;
  bool exited;
  int exit_code;
  int exit_signal;
  bool stopping;

  int64_t screen_due;
  /* The last screen message was read with output still to feed. */
  bool screen_stale;
  char *last_screen;
  /* The scrollback's lines the last screen message covered (screen_scrolled). */
  unsigned long long scrolled_seen;
  int64_t linger_due;

  type_job *jobs, *jobs_last;
  int64_t enter_due;
} h = {.peer = -1, .batch_due = NEVER, .screen_due = NEVER, .linger_due = NEVER,
       .enter_due = NEVER, .early_open = true, .last_delivery = -1000000};

/* Field 22 of /proc/<pid>/stat (start time in clock ticks), as the supervisor compares it. */
static json_t *proc_start(pid_t pid) {
  char path[64], stat[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return json_null();
  ssize_t n = read(fd, stat, sizeof stat - 1);
  close(fd);
  if (n <= 0) return json_null();
  stat[n] = 0;
  char *p = strrchr(stat, ')');
  if (!p) return json_null();
  p += 2;
  for (int field = 3; field < 22 && p; field++) {
    p = strchr(p, ' ');
    if (p) p++;
  }
  if (!p) return json_null();
  size_t len = strcspn(p, " \n");
  return json_stringn(p, len);
}

static void flush_fd(int fd, buf *out) {
  while (out->len > 0) {
    ssize_t n = write(fd, out->data, out->len);
    if (n > 0) {
      buf_consume(out, (size_t)n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return;
  }
}

static void frame_header(buf *out, int kind, uint32_t length) {
  unsigned char head[HEADER_BYTES] = {(unsigned char)kind, length >> 24, length >> 16, length >> 8,
                                      length};
  buf_add(out, head, sizeof head);
}

/* Sends a message, already JSON, to the supervisor. */
static bool send_text(const char *text) {
  if (h.peer < 0) return true;
  size_t len = strlen(text);
  if (len > MAX_FRAME_BYTES) return false;
  frame_header(&h.peer_out, FRAME_MESSAGE, (uint32_t)len);
  buf_add(&h.peer_out, text, len);
  flush_fd(h.peer, &h.peer_out);
  return true;
}

/* Sends a message to the supervisor, false if it is larger than a frame; takes the reference. */
static bool send_message(json_t *message) {
  if (h.peer < 0) {
    json_decref(message);
    return true;
  }
  char *text = json_dumps(message, JSON_COMPACT);
  json_decref(message);
  if (!text) return false;
  bool sent = send_text(text);
  free(text);
  return sent;
}

static void send_output(uint64_t offset, const char *data, size_t len) {
  frame_header(&h.peer_out, FRAME_OUTPUT, (uint32_t)(8 + len));
  unsigned char off[8];
  for (int i = 0; i < 8; i++) off[i] = (unsigned char)(offset >> (56 - 8 * i));
  buf_add(&h.peer_out, off, 8);
  buf_add(&h.peer_out, data, len);
  flush_fd(h.peer, &h.peer_out);
}

static void update_pause(void) {
  uint64_t unacked = h.attached ? h.offset - h.acked : 0;
  if (!h.paused && unacked > UNACKED_HIGH) h.paused = true;
  else if (h.paused && unacked < UNACKED_LOW) h.paused = false;
}

static json_t *exit_json(bool with_tail) {
  json_t *exit = json_object();
  json_object_set_new(exit, "code", json_integer(h.exit_code));
  json_object_set_new(exit, "signal", h.exit_signal ? json_integer(h.exit_signal) : json_null());
  if (with_tail) {
    /* A character is at most 4 bytes: past 3 continuation bytes the stream is not UTF-8 there. */
    size_t start = h.tail.len > TAIL_BYTES ? h.tail.len - TAIL_BYTES : 0;
    for (int i = 0; i < 3 && start < h.tail.len && (h.tail.data[start] & 0xc0) == 0x80; i++) start++;
    buf text = {0};
    utf8_sanitize(h.tail.data + start, h.tail.len - start, &text);
    json_object_set_new(exit, "tail", json_stringn(text.data ? text.data : "", text.len));
    buf_free(&text);
  }
  return exit;
}

static void send_exit(void) {
  json_t *message = json_object();
  json_object_set_new(message, "t", json_string("exit"));
  json_object_set_new(message, "exit", exit_json(true));
  send_message(message);
}

static void deliver(void) {
  h.batch_due = NEVER;
  if (h.batch.len == 0) return;
  uint64_t start = h.offset;
  h.offset += h.batch.len;
  h.last_delivery = now_us();
  feeder_push(h.feeder, h.batch.data, h.batch.len);
  buf_add(&h.tail, h.batch.data, h.batch.len);
  if (h.tail.len > 2 * TAIL_BYTES) buf_consume(&h.tail, h.tail.len - TAIL_BYTES);
  if (h.early_open) {
    if (h.early.len + h.batch.len <= EARLY_BYTES) buf_add(&h.early, h.batch.data, h.batch.len);
    else h.early_open = false;
  }
  if (h.peer >= 0 && h.attached) send_output(start, h.batch.data, h.batch.len);
  buf_consume(&h.batch, h.batch.len);
  update_pause();
  if (h.screen_due == NEVER) h.screen_due = now_us() + SCREEN_CHECK_US;
}

static void batch_push(void) {
  if (h.batch_due != NEVER && h.batch.len < MAX_BATCH_BYTES) return;
  int64_t wait = h.last_delivery + BATCH_WINDOW_US - now_us();
  if (wait <= 0 || h.batch.len >= MAX_BATCH_BYTES) deliver();
  else h.batch_due = now_us() + wait;
}

/*
 * Reads claude's terminal for one slice, or (`slice` false) all it has but at most FEED_HIGH
 * bytes more for the screen model; false once it has no more to give (EIO: all closed).
 */
static bool read_pty(bool slice) {
  char chunk[65536];
  size_t taken = 0;
  int64_t until = now_us() + SLICE_US;
  for (;;) {
    ssize_t n = read(h.master, chunk, sizeof chunk);
    if (n > 0) {
      buf_add(&h.batch, chunk, (size_t)n);
      taken += (size_t)n;
      batch_push();
      if (slice ? taken >= SLICE_BYTES || now_us() >= until || feeder_full(h.feeder, h.batch.len)
                : taken >= FEED_HIGH)
        return true;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    return n < 0 && errno == EAGAIN;
  }
}

static void add_lines(void *ctx, const char *text, size_t len) {
  buf valid = {0};
  utf8_sanitize(text, len, &valid);
  json_array_append_new((json_t *)ctx, json_stringn(valid.data ? valid.data : "", valid.len));
  buf_free(&valid);
}

static json_t *lines_json(screen *s, bool scrollback) {
  json_t *lines = json_array();
  screen_lines(s, scrollback, add_lines, lines);
  return lines;
}

/* Whether `text` holds `phrase`, in any case (ASCII). */
static bool holds(const char *text, size_t len, const char *phrase) {
  size_t n = strlen(phrase);
  /* A first character that differs in more than case (bit 0x20) rules a place out quickly. */
  unsigned char first = (unsigned char)phrase[0] | 0x20;
  for (size_t at = 0; n > 0 && at + n <= len; at++) {
    if (((unsigned char)text[at] | 0x20) == first && strncasecmp(text + at, phrase, n) == 0) {
      return true;
    }
  }
  return false;
}

static void find_notice(void *ctx, const char *text, size_t len) {
  bool *found = ctx;
  for (char **notice = h.spec->notices; !*found && *notice; notice++) {
    *found = holds(text, len, *notice);
  }
}

/*
 * The screen message: the screen's `lines` (taken) and, in claude's first minute, whether one of
 * the lines that went into the scrollback after the first `since` of them holds a notice (a
 * resumed conversation pushes claude's notice about channels there at once). Each check reads
 * only the lines scrolled since the last, so a flood costs no more than its own size.
 */
static char *screen_message(screen *s, json_t *lines, unsigned long long since) {
  json_t *message = json_object();
  json_object_set_new(message, "t", json_string("screen"));
  json_object_set_new(message, "lines", lines);
  if (now_us() - h.started < REFUSAL_NOTICE_US && h.spec->notices[0]) {
    bool found = false;
    screen_lines_since(s, since, find_notice, &found);
    if (found) json_object_set_new(message, "noticed", json_true());
  }
  char *text = json_dumps(message, JSON_COMPACT);
  json_decref(message);
  return text;
}

/* Reads the screen as fed so far: a flood's screen is read as it goes, not once it ends. */
static void check_screen(void) {
  h.screen_due = NEVER;
  screen *s = feeder_lock(h.feeder);
  h.screen_stale = feeder_backlog(h.feeder) > 0;
  json_t *lines = lines_json(s, false);
  if (!h.drawn) {
    size_t i;
    json_t *line;
    json_array_foreach(lines, i, line) {
      if (strspn(json_string_value(line), " ") != json_string_length(line)) h.drawn = true;
    }
  }
  char *text = screen_message(s, lines, h.scrolled_seen);
  h.scrolled_seen = screen_scrolled(s);
  feeder_unlock(h.feeder);
  if (!text) return;
  if (h.last_screen && strcmp(text, h.last_screen) == 0) {
    free(text);
    return;
  }
  free(h.last_screen);
  h.last_screen = text;
  if (h.peer >= 0 && h.attached) send_text(text);
}

static void reply_ok(json_int_t req, json_t *result) {
  json_t *message = json_object();
  json_object_set_new(message, "t", json_string("reply"));
  json_object_set_new(message, "req", json_integer(req));
  json_object_set_new(message, "ok", json_true());
  json_object_set_new(message, "result", result);
  if (send_message(message)) return;
  message = json_object();
  json_object_set_new(message, "t", json_string("reply"));
  json_object_set_new(message, "req", json_integer(req));
  json_object_set_new(message, "ok", json_false());
  json_object_set_new(message, "error", json_string("the reply is larger than a frame (64 MiB)"));
  send_message(message);
}

static json_t *typed(bool yes) {
  json_t *result = json_object();
  json_object_set_new(result, "typed", json_boolean(yes));
  return result;
}

static void pty_write(const char *data, size_t len) {
  buf_add(&h.pty_out, data, len);
  flush_fd(h.master, &h.pty_out);
}

static void job_done(bool yes) {
  type_job *job = h.jobs;
  h.jobs = job->next;
  if (!h.jobs) h.jobs_last = NULL;
  /* A reply for a supervisor that is gone would reach the next one, under its request numbers. */
  if (job->generation == h.generation) reply_ok(job->req, typed(yes));
  free(job->text);
  free(job);
}

/* Types the queued messages, in order: pasted when claude asked for it, Enter a read of its own. */
static void run_jobs(void) {
  while (h.jobs && h.enter_due == NEVER) {
    type_job *job = h.jobs;
    if (h.exited) {
      job_done(false);
      continue;
    }
    if (job->generation != h.generation) {
      job_done(false);
      continue;
    }
    bool pasted = screen_bracketed_paste(feeder_lock_all(h.feeder));
    feeder_unlock(h.feeder);
    if (pasted) pty_write("\x1b[200~", 6);
    pty_write(job->text, job->len);
    if (pasted) pty_write("\x1b[201~", 6);
    if (!job->submit) {
      job_done(true);
    } else if (pasted) {
      pty_write("\r", 1);
      job_done(true);
    } else {
      h.enter_due = now_us() + ENTER_DELAY_US;
    }
  }
}

static void press_enter(void) {
  h.enter_due = NEVER;
  if (!h.jobs) return;
  if (!h.exited) pty_write("\r", 1);
  job_done(!h.exited);
  run_jobs();
}

static void close_host(void) {
  if (h.owns_socket) {
    struct stat st;
    if (stat(h.spec->socket_path, &st) == 0 && st.st_dev == h.sock_dev && st.st_ino == h.sock_ino) {
      unlink(h.spec->socket_path);
    }
  }
  if (h.peer >= 0) {
    fcntl(h.peer, F_SETFL, fcntl(h.peer, F_GETFL) & ~O_NONBLOCK);
    flush_fd(h.peer, &h.peer_out);
  }
  exit(0);
}

static void linger(long long ms) { h.linger_due = now_us() + ms * 1000; }

static void drop_peer(void) {
  if (h.peer < 0) return;
  close(h.peer);
  h.peer = -1;
  h.attached = false;
  h.generation++;
  buf_free(&h.peer_in);
  buf_free(&h.peer_out);
  update_pause();
  /* The supervisor that stopped claude went before it took the exit: no one else will. */
  if (h.exited && h.stopping) close_host();
}

static void on_child_exit(int status) {
  /* The last output comes first, so a snapshot after the exit is complete. */
  read_pty(false);
  deliver();
  h.exited = true;
  h.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
  h.exit_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  run_jobs();
  if (h.attached) send_exit();
  if (h.stopping && h.peer < 0) close_host();
  linger(h.stopping ? STOP_LINGER_MS : h.spec->linger_ms >= 0 ? h.spec->linger_ms : DEFAULT_LINGER_MS);
}

static void send_hello(void) {
  json_t *m = json_object();
  json_object_set_new(m, "t", json_string("hello"));
  json_object_set_new(m, "version", json_integer(PROTOCOL_VERSION));
  json_object_set_new(m, "hostPid", json_integer(getpid()));
  json_object_set_new(m, "hostStart", proc_start(getpid()));
  json_object_set_new(m, "pid", json_integer(h.child));
  json_object_set_new(m, "procStart", h.exited ? json_null() : proc_start(h.child));
  json_object_set_new(m, "offset", json_integer((json_int_t)h.offset));
  screen *s = feeder_lock(h.feeder);
  json_object_set_new(m, "cols", json_integer(screen_cols(s)));
  json_object_set_new(m, "rows", json_integer(screen_rows(s)));
  feeder_unlock(h.feeder);
  json_object_set_new(m, "drawn", json_boolean(h.drawn));
  json_object_set_new(m, "exit", h.exited ? exit_json(false) : json_null());
  send_message(m);
}

static void on_attach(void) {
  h.attached = true;
  h.acked = h.offset;
  /* The first supervisor gets claude's first output too, if all of it was kept. */
  if (h.early_open && h.early.len > 0 && h.early.len == h.offset) {
    for (size_t at = 0; at < h.early.len; at += MAX_BATCH_BYTES) {
      size_t n = h.early.len - at < MAX_BATCH_BYTES ? h.early.len - at : MAX_BATCH_BYTES;
      send_output(at, h.early.data + at, n);
    }
    h.acked = 0;
  }
  h.early_open = false;
  buf_free(&h.early);
  update_pause();
  /* A new supervisor is told of the whole scrollback's notices, not only of the latest lines. */
  if (h.last_screen) {
    screen *s = feeder_lock_all(h.feeder);
    char *text = screen_message(s, lines_json(s, false), 0);
    feeder_unlock(h.feeder);
    if (text) send_text(text);
    free(text);
  }
  if (h.exited) send_exit();
}

static int signal_number(const char *name) {
  static const struct {
    const char *name;
    int number;
  } signals[] = {{"SIGHUP", SIGHUP},   {"SIGINT", SIGINT},   {"SIGQUIT", SIGQUIT},
                 {"SIGKILL", SIGKILL}, {"SIGTERM", SIGTERM}, {"SIGUSR1", SIGUSR1},
                 {"SIGUSR2", SIGUSR2}, {"SIGCONT", SIGCONT}, {"SIGSTOP", SIGSTOP},
                 {"SIGTSTP", SIGTSTP}, {"SIGWINCH", SIGWINCH}};
  for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) {
    if (strcmp(signals[i].name, name) == 0) return signals[i].number;
  }
  return 0;
}

static void on_request(const char *t, json_t *m) {
  json_int_t req = json_integer_value(json_object_get(m, "req"));
  bool scrollback = json_is_true(json_object_get(m, "scrollback"));
  if (strcmp(t, "snapshot") == 0) {
    size_t len;
    screen *s = feeder_lock_all(h.feeder);
    char *data = screen_snapshot(s, scrollback, SNAPSHOT_SCROLLBACK_BYTES, &len);
    buf text = {0};
    utf8_sanitize(data, len, &text);
    free(data);
    json_t *result = json_object();
    json_object_set_new(result, "data", json_stringn(text.data ? text.data : "", text.len));
    buf_free(&text);
    json_object_set_new(result, "cols", json_integer(screen_cols(s)));
    json_object_set_new(result, "rows", json_integer(screen_rows(s)));
    feeder_unlock(h.feeder);
    json_object_set_new(result, "offset", json_integer((json_int_t)h.offset));
    reply_ok(req, result);
  } else if (strcmp(t, "lines") == 0) {
    deliver();
    json_t *lines = lines_json(feeder_lock_all(h.feeder), scrollback);
    feeder_unlock(h.feeder);
    reply_ok(req, lines);
  } else {
    json_t *text = json_object_get(m, "text");
    type_job *job = calloc(1, sizeof *job);
    job->req = req;
    job->generation = h.generation;
    job->len = json_string_length(text);
    job->text = malloc(job->len + 1);
    memcpy(job->text, json_is_string(text) ? json_string_value(text) : "", job->len);
    job->submit = json_is_true(json_object_get(m, "submit"));
    if (h.jobs_last) h.jobs_last->next = job;
    else h.jobs = job;
    h.jobs_last = job;
    run_jobs();
  }
}

/* One message of the supervisor's; false when the connection cannot be trusted after it. */
static bool on_message(const char *payload, size_t len) {
  json_t *m = json_loadb(payload, len, JSON_ALLOW_NUL, NULL);
  const char *t = json_string_value(json_object_get(m, "t"));
  if (!t) {
    log_msg("supervisor connection: a message is not JSON with a type");
    json_decref(m);
    return false;
  }
  if (strcmp(t, "attach") == 0) {
    on_attach();
  } else if (strcmp(t, "input") == 0) {
    json_t *data = json_object_get(m, "data");
    if (!h.exited && json_is_string(data)) pty_write(json_string_value(data), json_string_length(data));
  } else if (strcmp(t, "resize") == 0) {
    json_int_t cols = json_integer_value(json_object_get(m, "cols"));
    json_int_t rows = json_integer_value(json_object_get(m, "rows"));
    if (!h.exited && cols >= 1 && cols <= 1000 && rows >= 1 && rows <= 1000) {
      deliver();
      screen_resize(feeder_lock_all(h.feeder), (int)cols, (int)rows);
      feeder_unlock(h.feeder);
      pty_resize(h.master, (int)cols, (int)rows);
    }
  } else if (strcmp(t, "signal") == 0) {
    const char *name = json_string_value(json_object_get(m, "signal"));
    int sig = name ? signal_number(name) : 0;
    /* The supervisor stops claude: it takes the exit at once, or not at all. */
    if (sig == SIGTERM || sig == SIGKILL) h.stopping = true;
    if (sig && !h.exited) kill(-h.child, sig);
  } else if (strcmp(t, "ack") == 0) {
    json_t *offset = json_object_get(m, "offset");
    json_int_t to = json_integer_value(offset);
    if (to > 0 && (uint64_t)to > h.acked && (uint64_t)to <= h.offset) h.acked = (uint64_t)to;
    update_pause();
  } else if (strcmp(t, "release") == 0) {
    if (h.exited) close_host();
  } else if (strcmp(t, "snapshot") == 0 || strcmp(t, "lines") == 0 || strcmp(t, "type") == 0) {
    on_request(t, m);
  } else {
    log_msg("unknown message \"%s\"", t);
  }
  json_decref(m);
  return true;
}

static void read_peer(void) {
  char chunk[65536];
  bool end = false;
  for (;;) {
    ssize_t n = read(h.peer, chunk, sizeof chunk);
    if (n > 0) {
      buf_add(&h.peer_in, chunk, (size_t)n);
      if (h.peer_in.len >= 4 * 1024 * 1024) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    end = n == 0 || errno != EAGAIN;
    break;
  }
  /* Frames that came with the end are read before it. */
  size_t at = 0;
  while (h.peer >= 0 && h.peer_in.len - at >= HEADER_BYTES) {
    const unsigned char *head = (const unsigned char *)h.peer_in.data + at;
    uint32_t length = (uint32_t)head[1] << 24 | head[2] << 16 | head[3] << 8 | head[4];
    if (head[0] != FRAME_MESSAGE || length > MAX_FRAME_BYTES) {
      log_msg("supervisor connection: a frame of kind %d and %u bytes", head[0], length);
      drop_peer();
      return;
    }
    if (h.peer_in.len - at < HEADER_BYTES + length) break;
    unsigned generation = h.generation;
    if (!on_message(h.peer_in.data + at + HEADER_BYTES, length)) {
      drop_peer();
      return;
    }
    if (h.generation != generation) return;
    at += HEADER_BYTES + length;
  }
  if (h.peer >= 0) buf_consume(&h.peer_in, at);
  if (end) drop_peer();
}

static void on_connection(void) {
  int fd = accept4(h.listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) return;
  /* One supervisor at a time: a new one (after a restart) replaces the old. */
  if (h.peer >= 0) {
    bool stopping = h.stopping;
    h.stopping = false;
    drop_peer();
    h.stopping = stopping;
  }
  h.peer = fd;
  h.generation++;
  send_hello();
}

static void on_signals(void) {
  struct signalfd_siginfo info;
  while (read(h.signal_fd, &info, sizeof info) == sizeof info) {
    if (info.ssi_signo == SIGCHLD) {
      int status;
      if (!h.exited && waitpid(h.child, &status, WNOHANG) == h.child) on_child_exit(status);
    } else if (info.ssi_signo == SIGTERM || info.ssi_signo == SIGINT) {
      /* claude is being stopped with it; once it exits, the host goes too. */
      h.stopping = true;
      if (h.exited) linger(STOP_LINGER_MS);
    }
  }
}

static int listen_on(const char *path) {
  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if (strlen(path) >= sizeof addr.sun_path) {
    log_msg("socket path too long: %s", path);
    return -1;
  }
  strcpy(addr.sun_path, path);
  unlink(path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  mode_t umask_was = umask(0177);
  int ok = fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 && listen(fd, 8) == 0;
  umask(umask_was);
  if (!ok) {
    log_msg("listen on %s: %s", path, strerror(errno));
    return -1;
  }
  struct stat st;
  if (stat(path, &st) == 0) {
    h.sock_dev = st.st_dev;
    h.sock_ino = st.st_ino;
    h.owns_socket = true;
  }
  return fd;
}

static void mkdirs(const char *socket_path) {
  char *dir = strdup(socket_path);
  char *slash = strrchr(dir, '/');
  if (slash && slash != dir) {
    *slash = 0;
    for (char *p = dir + 1; *p; p++) {
      if (*p != '/') continue;
      *p = 0;
      mkdir(dir, 0700);
      *p = '/';
    }
    mkdir(dir, 0700);
  }
  free(dir);
}

/*
 * When the session's scope runs out of memory, the kernel kills its largest process, which can be
 * the host: claude and what it runs are made its first choice (raising a child's score needs no
 * privilege), so the host lives to report the kill.
 */
static void prefer_for_oom_kill(pid_t pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/oom_score_adj", (int)pid);
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || write(fd, "500", 3) != 3) log_msg("oom_score_adj of %d: %s", (int)pid, strerror(errno));
  if (fd >= 0) close(fd);
}

static int timeout_ms(void) {
  int64_t due = h.batch_due;
  if (h.screen_due < due) due = h.screen_due;
  if (h.linger_due < due) due = h.linger_due;
  if (h.enter_due < due) due = h.enter_due;
  if (due == NEVER) return -1;
  int64_t wait = due - now_us();
  return wait <= 0 ? 0 : (int)((wait + 999) / 1000);
}

static void run_timers(void) {
  int64_t now = now_us();
  if (h.batch_due <= now) deliver();
  if (h.enter_due <= now) press_enter();
  if (h.screen_due <= now) check_screen();
  if (h.linger_due <= now) close_host();
}

/* The screen model has caught up with the output, or nearly. */
static void on_fed(void) {
  uint64_t count;
  if (read(feeder_wake_fd(h.feeder), &count, sizeof count) < 0) return;
  if (h.screen_stale && h.screen_due == NEVER && feeder_backlog(h.feeder) == 0) {
    h.screen_due = now_us();
  }
}

static void serve(void) {
  for (;;) {
    struct pollfd fds[5] = {{h.signal_fd, POLLIN, 0},
                            {h.listen_fd, POLLIN, 0},
                            {feeder_wake_fd(h.feeder), POLLIN, 0}};
    int n = 3, pty_at = -1, peer_at = -1;
    bool reading = !h.exited && !h.paused && !feeder_full(h.feeder, h.batch.len);
    short pty_events = (reading ? POLLIN : 0) | (h.pty_out.len ? POLLOUT : 0);
    if (!h.exited && pty_events) {
      pty_at = n;
      fds[n++] = (struct pollfd){h.master, pty_events, 0};
    }
    if (h.peer >= 0) {
      peer_at = n;
      fds[n++] = (struct pollfd){h.peer, POLLIN | (h.peer_out.len ? POLLOUT : 0), 0};
    }
    if (poll(fds, n, timeout_ms()) < 0 && errno != EINTR) {
      log_msg("poll: %s", strerror(errno));
      exit(1);
    }
    if (fds[0].revents) on_signals();
    if (fds[2].revents) on_fed();
    if (pty_at >= 0 && !h.exited && fds[pty_at].revents) {
      if (fds[pty_at].revents & POLLOUT) flush_fd(h.master, &h.pty_out);
      if (fds[pty_at].revents & (POLLIN | POLLHUP | POLLERR)) read_pty(true);
    }
    if (peer_at >= 0 && h.peer == fds[peer_at].fd && fds[peer_at].revents) {
      if (fds[peer_at].revents & POLLOUT) flush_fd(h.peer, &h.peer_out);
      if (fds[peer_at].revents & (POLLIN | POLLHUP | POLLERR)) read_peer();
    }
    if (fds[1].revents & POLLIN) on_connection();
    run_timers();
  }
}

int main(void) {
  buf input = {0};
  char chunk[65536];
  for (;;) {
    ssize_t n = read(0, chunk, sizeof chunk);
    if (n > 0) buf_add(&input, chunk, (size_t)n);
    else if (n < 0 && errno == EINTR) continue;
    else break;
  }
  /* A spare host the supervisor never used: it went away, or did not need it. */
  if (input.len == 0) return 0;
  const char *error = NULL;
  h.spec = spec_parse(input.data, input.len, &error);
  buf_free(&input);
  if (!h.spec) {
    fprintf(stderr, "claude-pool host: %s\n", error);
    return 2;
  }
  close_range(3, ~0U, 0);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGCHLD);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigprocmask(SIG_BLOCK, &mask, NULL);
  h.signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  mkdirs(h.spec->socket_path);
  log_open(h.spec->socket_path);
  h.started = now_us();
  /* claude first: its start-up is what a launch waits for. */
  h.child = pty_spawn(h.spec, &h.master);
  if (h.child < 0) return 1;
  h.feeder = feeder_new(screen_new(h.spec->cols, h.spec->rows, h.spec->scrollback_bytes),
                        (feeder_bounds){FEED_HIGH, FEED_LOW, FEED_HIGH_US, FEED_LOW_US});
  prefer_for_oom_kill(h.child);
  h.listen_fd = listen_on(h.spec->socket_path);
  if (h.listen_fd < 0) {
    kill(-h.child, SIGKILL);
    return 1;
  }
  printf("ready %d\n", (int)h.child);
  fflush(stdout);
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  dup2(null, 0);
  dup2(null, 1);
  close(null);
  serve();
}
