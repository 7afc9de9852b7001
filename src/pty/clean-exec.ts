/**
 * node-pty leaves the host's file descriptors (its socket, its connection to the supervisor) open
 * in every child: without this, claude could talk to the supervisor as its host. The child's shell closes every
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

/** The command that runs `file args` with only stdin, stdout and stderr open. */
export function cleanExec(file: string, args: string[]): Command {
  const script = `${closeInheritedFds}exec "$0" "$@"`;
  return { file: "/bin/bash", args: ["-c", script, file, ...args] };
}
