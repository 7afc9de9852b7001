/*
 * A thread that feeds a screen model the output queued for it, so claude's terminal is read and
 * its output forwarded while the model catches up: parsing is most of a flood's cost.
 */
#ifndef CLAUDE_POOL_FEEDER_H
#define CLAUDE_POOL_FEEDER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vterm-screen.h"

typedef struct feeder feeder;

/*
 * How much output may wait to be fed: in bytes, and in the time the thread would take to feed it
 * at the cost per byte it measured lately (some output parses a thousand times slower than other).
 */
typedef struct {
  size_t high, low;
  int64_t high_us, low_us;
} feeder_bounds;

/*
 * Starts the thread. Its eventfd (feeder_wake_fd) becomes readable when the backlog falls to its
 * low mark in bytes or in time from above, and when it is gone.
 */
feeder *feeder_new(screen *s, feeder_bounds bounds);
int feeder_wake_fd(const feeder *f);
/* Queues output, in order; the caller bounds the backlog (feeder_full). */
void feeder_push(feeder *f, const char *data, size_t len);
/* Bytes queued and not yet fed. */
size_t feeder_backlog(feeder *f);
/* Whether the backlog, with `pending` bytes more, is at its high mark in bytes or in time. */
bool feeder_full(feeder *f, size_t pending);
/* The screen as fed so far, between two of the thread's feeds, held until feeder_unlock. */
screen *feeder_lock(feeder *f);
/* The screen once all that was queued is fed, held until feeder_unlock. */
screen *feeder_lock_all(feeder *f);
void feeder_unlock(feeder *f);
#endif
