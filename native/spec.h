#ifndef CLAUDE_POOL_SPEC_H
#define CLAUDE_POOL_SPEC_H
#include <stddef.h>

/* What the supervisor gives a host on its stdin (HostSpec in src/host/protocol.ts). */
typedef struct {
  char *session_id;
  char *socket_path;
  char *file;
  char **argv; /* file's argv, argv[0] = file, NULL-terminated */
  char *cwd;
  char **envp; /* NAME=value, NULL-terminated */
  char **notices; /* NULL-terminated */
  int cols, rows;
  size_t scrollback_bytes;
  long long linger_ms;
} host_spec;

/* Parses the spec's JSON; NULL with *error set when it is not one. */
host_spec *spec_parse(const char *json, size_t len, const char **error);
#endif
