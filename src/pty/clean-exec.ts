/**
 * node-pty leaves the pool's file descriptors, other sessions' PTY masters among them, open in
 * every child: without this, one session's claude could type into another's terminal, and a
 * killed pool's sessions would not all see their hangup. The child's shell closes every
 * descriptor above stderr before it execs claude (bash: dash cannot name descriptors above 9).
 */
// Each close has its own 2>/dev/null (the glob lists its own, already closed, directory fd): a
// redirection on the whole loop would park stderr in a descriptor the loop then closes.
const closeInheritedFds =
  'for fd in /proc/$$/fd/*; do fd=${fd##*/}; [ "$fd" -gt 2 ] && eval "exec $fd>&-" 2>/dev/null; done; ';

export interface Command {
  file: string;
  args: string[];
}

/**
 * The command that runs `file args` with only stdin, stdout and stderr open. With `stopFirst`
 * the process stops itself (SIGSTOP) before exec, for placement in a systemd scope.
 */
export function cleanExec(file: string, args: string[], stopFirst = false): Command {
  const script = `${closeInheritedFds}${stopFirst ? "kill -STOP $$; " : ""}exec "$0" "$@"`;
  return { file: "/bin/bash", args: ["-c", script, file, ...args] };
}
