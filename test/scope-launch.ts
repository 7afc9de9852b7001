/**
 * Placement of an arbitrary program in a scope for the systemd tests, free of races: it stops
 * itself before it execs, the test moves it into the scope, then continues it. (The pool needs
 * none of this: a session's host forks nothing before it has its spec.)
 */
import { processState } from "../src/proc.js";

export function stoppedLaunch(file: string, args: string[]): { file: string; args: string[] } {
  return { file: "/bin/bash", args: ["-c", 'kill -STOP $$; exec "$0" "$@"', file, ...args] };
}

/** Resolves once `pid` is stopped; rejects if it exits first or the deadline passes. */
export async function waitUntilStopped(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = processState(pid);
    if (state === "T") return;
    if (state === null || state === "Z" || state === "X") {
      throw new Error(`process ${pid} exited before it stopped for placement`);
    }
    if (Date.now() >= deadline) {
      throw new Error(`process ${pid} did not stop for placement within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Lets a stopped process go on (SIGCONT); false if it is gone. */
export function continueProcess(pid: number): boolean {
  try {
    process.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}
