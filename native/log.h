#ifndef CLAUDE_POOL_LOG_H
#define CLAUDE_POOL_LOG_H
/* To the journal when stderr is one, else to a file beside the socket. */
void log_open(const char *socket_path);
void log_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#endif
