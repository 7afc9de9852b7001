/* The monotonic clock, for deadlines and for timing work. */
#ifndef CLAUDE_POOL_CLOCK_H
#define CLAUDE_POOL_CLOCK_H
#include <stdint.h>
#include <time.h>

static inline int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline int64_t now_us(void) { return now_ns() / 1000; }
#endif
