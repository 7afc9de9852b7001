#ifndef CLAUDE_POOL_PTY_H
#define CLAUDE_POOL_PTY_H
#include <sys/types.h>

#include "spec.h"

/*
 * Forks the spec's program on a new PTY, as the leader of its own session, with node-pty's
 * terminal settings. Returns the child's pid (the master, non-blocking, in *master), or -1.
 */
pid_t pty_spawn(const host_spec *spec, int *master);
int pty_resize(int master, int cols, int rows);
#endif
