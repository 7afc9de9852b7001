/*
 * A thread that feeds a screen model the output queued for it, so claude's terminal is read and
 * its output forwarded while the model catches up: parsing is most of a flood's cost.
 */
#ifndef CLAUDE_POOL_FEEDER_H
#define CLAUDE_POOL_FEEDER_H
#include <stddef.h>

#include "vterm-screen.h"

typedef struct feeder feeder;

/*
 * Starts the thread. Its eventfd (feeder_wake_fd) becomes readable when the backlog falls to
 * `low` bytes or less from above, and when it is gone.
 */
feeder *feeder_new(screen *s, size_t low);
int feeder_wake_fd(const feeder *f);
/* Queues output, in order; the caller bounds the backlog (feeder_backlog). */
void feeder_push(feeder *f, const char *data, size_t len);
/* Bytes queued and not yet fed. */
size_t feeder_backlog(feeder *f);
/* The screen as fed so far, between two of the thread's feeds, held until feeder_unlock. */
screen *feeder_lock(feeder *f);
/* The screen once all that was queued is fed, held until feeder_unlock. */
screen *feeder_lock_all(feeder *f);
void feeder_unlock(feeder *f);
#endif
