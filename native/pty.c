#define _GNU_SOURCE
#include "pty.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "log.h"

static void node_pty_termios(struct termios *t) {
  memset(t, 0, sizeof *t);
  t->c_iflag = ICRNL | IXON | IXANY | IMAXBEL | BRKINT | IUTF8;
  t->c_oflag = OPOST | ONLCR;
  t->c_cflag = CREAD | CS8 | HUPCL;
  t->c_lflag = ICANON | ISIG | IEXTEN | ECHO | ECHOE | ECHOK | ECHOKE | ECHOCTL;
  t->c_cc[VEOF] = 4;
  t->c_cc[VEOL] = 0xff;
  t->c_cc[VEOL2] = 0xff;
  t->c_cc[VERASE] = 0x7f;
  t->c_cc[VWERASE] = 23;
  t->c_cc[VKILL] = 21;
  t->c_cc[VREPRINT] = 18;
  t->c_cc[VINTR] = 3;
  t->c_cc[VQUIT] = 0x1c;
  t->c_cc[VSUSP] = 26;
  t->c_cc[VSTART] = 17;
  t->c_cc[VSTOP] = 19;
  t->c_cc[VLNEXT] = 22;
  t->c_cc[VDISCARD] = 15;
  t->c_cc[VMIN] = 1;
  t->c_cc[VTIME] = 0;
  cfsetispeed(t, B38400);
  cfsetospeed(t, B38400);
}

pid_t pty_spawn(const host_spec *spec, int *master_out) {
  int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
    log_msg("no PTY: %s", strerror(errno));
    return -1;
  }
  char slave_name[128];
  if (ptsname_r(master, slave_name, sizeof slave_name) != 0) {
    log_msg("ptsname: %s", strerror(errno));
    close(master);
    return -1;
  }
  int slave = open(slave_name, O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (slave < 0) {
    log_msg("open %s: %s", slave_name, strerror(errno));
    close(master);
    return -1;
  }
  struct termios t;
  node_pty_termios(&t);
  tcsetattr(slave, TCSANOW, &t);
  struct winsize ws = {.ws_row = spec->rows, .ws_col = spec->cols};
  ioctl(slave, TIOCSWINSZ, &ws);
  pid_t pid = fork();
  if (pid < 0) {
    log_msg("fork: %s", strerror(errno));
    close(master);
    close(slave);
    return -1;
  }
  if (pid == 0) {
    setsid();
    ioctl(slave, TIOCSCTTY, 0);
    dup2(slave, 0);
    dup2(slave, 1);
    dup2(slave, 2);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL);
    if (chdir(spec->cwd) != 0) {
      dprintf(2, "claude-pool host: chdir %s: %s\r\n", spec->cwd, strerror(errno));
      _exit(1);
    }
    /* PATH is looked up in claude's environment, as node-pty does. */
    environ = spec->envp;
    execvp(spec->file, spec->argv);
    dprintf(2, "claude-pool host: exec %s: %s\r\n", spec->file, strerror(errno));
    _exit(1);
  }
  close(slave);
  fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
  *master_out = master;
  return pid;
}

int pty_resize(int master, int cols, int rows) {
  struct winsize ws = {.ws_row = rows, .ws_col = cols};
  return ioctl(master, TIOCSWINSZ, &ws);
}
