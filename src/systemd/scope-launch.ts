import { readFileSync } from "node:fs";
import { cleanExec, type Command } from "../pty/clean-exec.js";

/**
 * Race-free placement in a scope: the launched process stops itself before it execs (see
 * cleanExec), the pool moves it into the scope, then continues it. exec keeps the pid, so the
 * program and everything it forks start inside the scope.
 */
export function stoppedLaunch(file: string, args: string[]): Command {
  return cleanExec(file, args, true);
}

/** The state letter of /proc/<pid>/stat ("R", "S", "T" stopped, "Z" zombie, …), or null if gone. */
export function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // comm (field 2) may hold spaces and parentheses; the state follows its closing one.
    return stat.charAt(stat.lastIndexOf(")") + 2) || null;
  } catch {
    return null;
  }
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
