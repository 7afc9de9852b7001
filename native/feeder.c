#define _GNU_SOURCE
#include "feeder.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"

/* The thread feeds this much at a time, and lets the screen be read between two feeds. */
#define FEED_BYTES 4096u
#define STACK_BYTES (512u * 1024)
/*
 * The thread's nice value, above the host's. Parsing can lag (the backlog is bounded), reading
 * claude's terminal cannot without holding claude up: on a busy machine the reading thread goes
 * first, for as long as the backlog's bounds allow.
 */
#define FEEDER_NICE 10
/* The feeding time per byte is measured over about this many of the latest bytes. */
#define COST_BYTES (64u * 1024)

struct feeder {
  screen *screen;
  feeder_bounds bounds;
  int wake_fd;
  /* `lock` guards all below; `screen_lock` the screen, which `readers` wait for or hold. */
  pthread_mutex_t lock, screen_lock;
  pthread_cond_t queued_cond, idle_cond, released_cond;
  buf queued;
  /* What the thread took from `queued` and has not fed yet. */
  size_t feeding;
  int readers;
  /* Time spent feeding (ns) and bytes fed, both halved past COST_BYTES: the cost of a byte now. */
  double fed_ns, fed_bytes;
};

/* Bytes queued and not yet fed; under `lock`. */
static size_t backlog_of(const feeder *f) { return f->queued.len + f->feeding; }

/* How long feeding `bytes` takes at the cost measured lately. */
static int64_t feeding_us(const feeder *f, size_t bytes) {
  return f->fed_bytes > 0 ? (int64_t)(bytes * f->fed_ns / f->fed_bytes / 1000) : 0;
}

static void wake(feeder *f) {
  uint64_t one = 1;
  if (write(f->wake_fd, &one, sizeof one) < 0) {
    /* Only a counter at its maximum refuses, and that is readable already. */
  }
}

static void *run(void *arg) {
  feeder *f = arg;
  buf work = {0};
  int nice = getpriority(PRIO_PROCESS, 0) + FEEDER_NICE;
  setpriority(PRIO_PROCESS, (id_t)gettid(), nice < 19 ? nice : 19);
  pthread_mutex_lock(&f->lock);
  for (;;) {
    while (f->queued.len == 0) pthread_cond_wait(&f->queued_cond, &f->lock);
    /* The queue and the buffer just fed trade places (a burst's is given back: buf_consume). */
    buf taken = f->queued;
    f->queued = work;
    work = taken;
    f->feeding = work.len;
    for (size_t at = 0; at < work.len;) {
      while (f->readers > 0) pthread_cond_wait(&f->released_cond, &f->lock);
      pthread_mutex_unlock(&f->lock);
      size_t n = work.len - at < FEED_BYTES ? work.len - at : FEED_BYTES;
      pthread_mutex_lock(&f->screen_lock);
      int64_t started = now_ns();
      screen_feed(f->screen, work.data + at, n);
      int64_t took = now_ns() - started;
      pthread_mutex_unlock(&f->screen_lock);
      at += n;
      pthread_mutex_lock(&f->lock);
      /* Priced before the cost changes, so a crossing of the low mark in time is not missed. */
      size_t before = backlog_of(f);
      bool was_high = feeding_us(f, before) > f->bounds.low_us;
      f->fed_ns += (double)took;
      f->fed_bytes += (double)n;
      if (f->fed_bytes > COST_BYTES) {
        f->fed_ns /= 2;
        f->fed_bytes /= 2;
      }
      f->feeding -= n;
      size_t after = before - n;
      if (after == 0) pthread_cond_broadcast(&f->idle_cond);
      bool fell = before > f->bounds.low && after <= f->bounds.low;
      if (after == 0 || fell || (was_high && feeding_us(f, after) <= f->bounds.low_us)) wake(f);
    }
    buf_consume(&work, work.len);
  }
  return NULL;
}

feeder *feeder_new(screen *s, feeder_bounds bounds) {
  feeder *f = calloc(1, sizeof *f);
  if (!f) abort();
  f->screen = s;
  f->bounds = bounds;
  f->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (f->wake_fd < 0) abort();
  pthread_mutex_init(&f->lock, NULL);
  pthread_mutex_init(&f->screen_lock, NULL);
  pthread_cond_init(&f->queued_cond, NULL);
  pthread_cond_init(&f->idle_cond, NULL);
  pthread_cond_init(&f->released_cond, NULL);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, STACK_BYTES);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t thread;
  if (pthread_create(&thread, &attr, run, f) != 0) abort();
  pthread_attr_destroy(&attr);
  return f;
}

int feeder_wake_fd(const feeder *f) { return f->wake_fd; }

void feeder_push(feeder *f, const char *data, size_t len) {
  if (len == 0) return;
  pthread_mutex_lock(&f->lock);
  buf_add(&f->queued, data, len);
  pthread_cond_signal(&f->queued_cond);
  pthread_mutex_unlock(&f->lock);
}

size_t feeder_backlog(feeder *f) {
  pthread_mutex_lock(&f->lock);
  size_t backlog = backlog_of(f);
  pthread_mutex_unlock(&f->lock);
  return backlog;
}

bool feeder_full(feeder *f, size_t pending) {
  pthread_mutex_lock(&f->lock);
  size_t backlog = backlog_of(f) + pending;
  bool full = backlog >= f->bounds.high || feeding_us(f, backlog) >= f->bounds.high_us;
  pthread_mutex_unlock(&f->lock);
  return full;
}

static screen *lock_screen(feeder *f, bool all) {
  pthread_mutex_lock(&f->lock);
  while (all && backlog_of(f) > 0) pthread_cond_wait(&f->idle_cond, &f->lock);
  /* The thread's next feed waits for the reader, which would otherwise wait behind every feed. */
  f->readers++;
  pthread_mutex_unlock(&f->lock);
  pthread_mutex_lock(&f->screen_lock);
  return f->screen;
}

screen *feeder_lock(feeder *f) { return lock_screen(f, false); }

screen *feeder_lock_all(feeder *f) { return lock_screen(f, true); }

void feeder_unlock(feeder *f) {
  pthread_mutex_unlock(&f->screen_lock);
  pthread_mutex_lock(&f->lock);
  f->readers--;
  pthread_cond_broadcast(&f->released_cond);
  pthread_mutex_unlock(&f->lock);
}
