#include "log.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int log_fd = 2;

/* systemd sets JOURNAL_STREAM to the device and inode of the stream it gave as stderr. */
static int stderr_is_journal(void) {
  const char *stream = getenv("JOURNAL_STREAM");
  struct stat st;
  unsigned long long dev, ino;
  if (!stream || sscanf(stream, "%llu:%llu", &dev, &ino) != 2 || fstat(2, &st) != 0) return 0;
  return st.st_dev == dev && st.st_ino == ino;
}

void log_open(const char *socket_path) {
  if (stderr_is_journal()) return;
  size_t n = strlen(socket_path);
  const char *suffix = ".sock";
  size_t base = n >= 5 && strcmp(socket_path + n - 5, suffix) == 0 ? n - 5 : n;
  char *path = malloc(base + sizeof ".host.log");
  if (!path) return;
  memcpy(path, socket_path, base);
  strcpy(path + base, ".host.log");
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  free(path);
  if (fd >= 0) log_fd = fd;
}

void log_msg(const char *fmt, ...) {
  char line[1024];
  int n = snprintf(line, sizeof line, "claude-pool host %d: ", (int)getpid());
  va_list ap;
  va_start(ap, fmt);
  int m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
  va_end(ap);
  if (m < 0) return;
  n += (size_t)m < sizeof line - n - 1 ? m : (int)(sizeof line - n - 2);
  line[n++] = '\n';
  ssize_t ignored = write(log_fd, line, n);
  (void)ignored;
}
