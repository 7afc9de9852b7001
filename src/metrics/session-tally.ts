import type { SessionStatus } from "../session/status.js";

/** Why a session crashed, as a metric label: never the free text of `reason`. */
export const crashKinds = ["exit", "signal", "oom"] as const;
export type CrashKind = (typeof crashKinds)[number];

/** What the metrics remember of a session between two of its `session.changed`. */
export interface Seen {
  status: SessionStatus;
  restarts: number;
  /** A crash not counted yet: its kind (an OOM kill) is known only once claude's scope is gone. */
  crashPending: boolean;
}

/** The fields of a session's JSON the tally reads. */
export interface SessionFacts {
  status: SessionStatus;
  restarts: number;
  signal: string | null;
  reason: string | null;
}

export interface Tally {
  seen: Seen;
  /** An automatic restart was scheduled. */
  restarted: boolean;
  crashed: CrashKind | null;
}

/**
 * Counts restarts and crashes from a session's successive states. A crash is counted when the
 * session moves on from it (its restart is scheduled, it gave up, or it was stopped): by then the
 * pool has read from systemd whether the kernel's OOM killer ended it.
 */
export function tally(previous: Seen | undefined, now: SessionFacts): Tally {
  const restarted = previous !== undefined && now.restarts > previous.restarts;
  const entered = now.status === "crashed" && previous?.status !== "crashed";
  const pending = (previous?.crashPending ?? false) || entered;
  const settled = pending && (now.status !== "crashed" || restarted);
  return {
    seen: { status: now.status, restarts: now.restarts, crashPending: pending && !settled },
    restarted,
    crashed: settled ? crashKind(now) : null,
  };
}

function crashKind(session: SessionFacts): CrashKind {
  if (session.reason?.startsWith("oom") === true) return "oom";
  return session.signal !== null ? "signal" : "exit";
}
