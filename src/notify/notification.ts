import { randomUUID } from "node:crypto";
import type { EndedTurn, WaitingFor } from "../session/evidence.js";
import type { SessionInfo } from "../session/session.js";
import type { NotifyEventName } from "./events.js";

/** The session a notification is about, as far as a receiver needs it. */
export interface NotifiedSession {
  id: string;
  name: string;
  status: string;
  activity: string | null;
  workingDirectory: string;
}

/**
 * One event, whatever the format: the JSON body carries all of it, ntfy its title, message,
 * priority, tags and link. `id` stays the same through retries, so a receiver can drop repeats.
 */
export interface Notification {
  event: NotifyEventName | "test";
  id: string;
  time: string;
  title: string;
  /** A few lines for a person; the details are in the fields below. */
  message: string;
  /** Whether it needs a person now: ntfy's high priority. */
  urgent: boolean;
  /** The session's page on the pool's dashboard, when the pool knows its URL. */
  url: string | null;
  session: NotifiedSession | null;
  waitingFor?: WaitingFor;
  turn?: EndedTurn;
  reason?: string | null;
  schedule?: ScheduleResult;
}

/** A scheduled run's outcome: its ledger message answered, or given up on. */
export interface ScheduleResult {
  name: string;
  messageId: string;
  outcome: "replied" | "failed";
  reply: string | null;
}

/** How much of a reply goes into `message`; the JSON body's `turn.reply` has up to 2,000. */
export const excerptChars = 500;

export function excerpt(text: string, chars = excerptChars): string {
  const flat = text.trim();
  return flat.length <= chars ? flat : `${flat.slice(0, chars - 1)}…`;
}

function notifiedSession(s: SessionInfo): NotifiedSession {
  const { id, name, status, activity, workingDirectory } = s;
  return { id, name, status, activity, workingDirectory };
}

function base(
  event: Notification["event"],
  title: string,
  message: string,
  urgent: boolean,
  session: SessionInfo | null,
  link: (id: string) => string | null,
): Notification {
  return {
    event,
    id: randomUUID(),
    time: new Date().toISOString(),
    title,
    message,
    urgent,
    url: session ? link(session.id) : null,
    session: session ? notifiedSession(session) : null,
  };
}

function waitingText(name: string, w: WaitingFor): { title: string; message: string } {
  switch (w.kind) {
    case "permission":
      return {
        title: `${name} asks to use ${w.toolName}`,
        message: w.inputPreview === "" ? `Allow or deny ${w.toolName}.` : excerpt(w.inputPreview),
      };
    case "dialog":
      return {
        title: `${name} waits at the ${w.dialog} dialog`,
        message: "Answer it in its terminal (claude-poolctl attach).",
      };
    case "input":
      return { title: `${name} has a question`, message: excerpt(w.message) };
  }
}

/** A session's conversation waits for a person: a permission prompt, a dialog, a question. */
export function waitingNotification(
  s: SessionInfo,
  w: WaitingFor,
  link: (id: string) => string | null,
): Notification {
  const { title, message } = waitingText(s.name, w);
  return { ...base("waiting", title, message, true, s, link), waitingFor: w };
}

export function turnNotification(
  s: SessionInfo,
  turn: EndedTurn,
  link: (id: string) => string | null,
): Notification {
  const how = { done: "replied", failed: "turn failed", interrupted: "turn was interrupted" };
  const message = turn.reply === "" ? "(no reply text)" : excerpt(turn.reply);
  return {
    ...base("turn.ended", `${s.name} ${how[turn.outcome]}`, message, false, s, link),
    turn,
  };
}

/** `crashed`: the pool restarts it (within restart.maxRestarts); `failed`: it gave up. */
export function lifecycleNotification(
  event: "crashed" | "failed",
  s: SessionInfo,
  link: (id: string) => string | null,
): Notification {
  const reason = s.reason ?? "no reason recorded";
  const message =
    event === "crashed"
      ? `${reason}. The pool restarts it.`
      : `${reason}. Resume it with claude-poolctl resume ${s.name}.`;
  return { ...base(event, `${s.name} ${event}`, message, event === "failed", s, link), reason };
}

export function scheduleNotification(
  result: ScheduleResult,
  s: SessionInfo | null,
  link: (id: string) => string | null,
): Notification {
  const failed = result.outcome === "failed";
  const title = `Schedule ${result.name}: ${failed ? "failed" : "done"}`;
  const message = result.reply === null || result.reply === "" ? title : excerpt(result.reply);
  return { ...base("schedule", title, message, failed, s, link), schedule: result };
}

export function testNotification(): Notification {
  return base(
    "test",
    "claude-pool test notification",
    "Notifications from claude-pool reach this endpoint.",
    false,
    null,
    () => null,
  );
}
