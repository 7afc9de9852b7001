import type { SessionStatus } from "./status.js";

/** What can happen to a session; the lifecycle decides what each means in each state. */
export type LifecycleEvent =
  /** A process is about to start: a spawn, a resume, the pool's start or an automatic restart. */
  | "launch"
  /** claude came up: its session file or its first output. */
  | "ready"
  /** The pool or a user asks the session to stop. */
  | "stop"
  /** The process ended with code 0, or after it was asked to stop. */
  | "exit"
  /** The process died unasked: a non-zero exit or a signal. */
  | "crash"
  /** The session cannot run: the environment refuses it, or it crashed too often. */
  | "fail";

export const lifecycleEvents: readonly LifecycleEvent[] = [
  "launch",
  "ready",
  "stop",
  "exit",
  "crash",
  "fail",
];

/** DESIGN.md's lifecycle; an event missing from a state's row does not apply there. */
const table: Record<SessionStatus, Partial<Record<LifecycleEvent, SessionStatus>>> = {
  starting: {
    ready: "running",
    stop: "stopping",
    exit: "stopped",
    crash: "crashed",
    fail: "failed",
  },
  running: { stop: "stopping", exit: "stopped", crash: "crashed", fail: "failed" },
  // However the process ends once a stop was asked for, the session is stopped.
  stopping: { exit: "stopped", crash: "stopped", fail: "stopped" },
  stopped: { launch: "starting", fail: "failed" },
  crashed: { launch: "starting", stop: "stopped", fail: "failed" },
  failed: { launch: "starting", fail: "failed" },
};

export type Transition =
  { status: SessionStatus; refused: null } | { status: SessionStatus; refused: string };

/**
 * The session's next status after `event`. Never throws: an event that does not apply leaves the
 * status as it is and says why in `refused`.
 */
export function reduce(status: SessionStatus, event: LifecycleEvent): Transition {
  const next = table[status][event];
  if (next === undefined) {
    return { status, refused: `"${event}" does not apply to a ${status} session` };
  }
  return { status: next, refused: null };
}

export function accepts(status: SessionStatus, event: LifecycleEvent): boolean {
  return reduce(status, event).refused === null;
}
