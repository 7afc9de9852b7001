import type { WaitingFor } from "../session/evidence.js";
import type { SessionInfo } from "../session/session.js";

/** What the notifier remembers of a session between its session.changed signals. */
export interface SessionMark {
  status: SessionInfo["status"];
  /** What it waits for, as a key: a new key is a new reason to tell someone. */
  waiting: string | null;
}

function waitingKey(w: WaitingFor | null): string | null {
  if (w === null) return null;
  switch (w.kind) {
    case "permission":
      return `permission:${w.requestId ?? `${w.toolName}:${w.inputPreview}`}`;
    case "dialog":
      return `dialog:${w.dialog}`;
    case "input":
      return `input:${w.message}`;
  }
}

export function markOf(s: SessionInfo): SessionMark {
  return { status: s.status, waiting: waitingKey(s.waitingFor) };
}

/**
 * The events a session's change makes: it began to wait for something new (a permission, a
 * dialog, a question; not the same one again when only its details change), it crashed, or it
 * failed. `before` is undefined for a session not seen yet.
 */
export function sessionEvents(
  before: SessionMark | undefined,
  now: SessionInfo,
): ("waiting" | "crashed" | "failed")[] {
  const mark = markOf(now);
  const events: ("waiting" | "crashed" | "failed")[] = [];
  if (mark.waiting !== null && mark.waiting !== before?.waiting) events.push("waiting");
  if (mark.status !== before?.status && (mark.status === "crashed" || mark.status === "failed")) {
    events.push(mark.status);
  }
  return events;
}
