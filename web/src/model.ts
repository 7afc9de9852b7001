/**
 * What the dashboard shows of a session, as pure functions of the API's JSON (unit-tested in
 * test/dashboard-model.test.ts).
 */
import type { Prompt, SessionInfo, WaitingFor } from "./types.js";

/** "1.2 GiB", "340 MiB", "—" for none. */
export function formatBytes(bytes: number | null): string {
  if (bytes === null) return "—";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 10 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

/** "45s", "12m", "3h 5m", "2d 4h"; "—" for none. */
export function formatDuration(seconds: number | null): string {
  if (seconds === null) return "—";
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/** CPU time: "0.4s", "12s", "3m". */
export function formatCpu(seconds: number | null): string {
  if (seconds === null) return "—";
  return seconds < 10 ? `${seconds.toFixed(1)}s` : formatDuration(seconds);
}

/** What a waiting session waits for, in a few words. */
export function waitingLabel(waiting: WaitingFor): string {
  switch (waiting.kind) {
    case "permission":
      return (
        `permission for ${waiting.toolName}` +
        (waiting.answerAt === "terminal" ? " (answer in the terminal)" : "")
      );
    case "dialog":
      return `the ${waiting.dialog} dialog`;
    case "input":
      return waiting.message ? `an answer: ${waiting.message}` : "an answer";
  }
}

/** The activity column: "busy", "waiting for permission for Bash", "—" when not running. */
export function activityLabel(session: Pick<SessionInfo, "activity" | "waitingFor">): string {
  if (session.activity === null) return "—";
  if (session.activity === "waiting" && session.waitingFor) {
    return `waiting for ${waitingLabel(session.waitingFor)}`;
  }
  return session.activity;
}

/** The first line(s) of the last reply, at most `chars` characters, whitespace folded. */
export function excerpt(text: string | null | undefined, chars = 140): string {
  const folded = (text ?? "").replace(/\s+/g, " ").trim();
  return folded.length <= chars ? folded : `${folded.slice(0, chars - 1).trimEnd()}…`;
}

/** The session's idle seconds `elapsedMs` after `session` was received (only idle time counts). */
export function idleNow(session: Pick<SessionInfo, "idleSeconds" | "activity">, elapsedMs: number) {
  if (session.idleSeconds === null) return null;
  return session.activity === "idle" ? session.idleSeconds + elapsedMs / 1000 : session.idleSeconds;
}

export type Action = "kill" | "resume" | "remove";

/** The lifecycle actions that make sense in a status (the pool still decides). */
export function actionsFor(status: SessionInfo["status"]): Action[] {
  switch (status) {
    case "starting":
    case "running":
      return ["kill"];
    case "crashed":
      return ["kill", "resume"];
    case "stopped":
    case "failed":
      return ["resume", "remove"];
    case "stopping":
      return [];
  }
}

/** Sessions that wait for a person (a prompt, a dialog, a question), by name. */
export function needingYou(sessions: Iterable<SessionInfo>, prompts: Iterable<Prompt>) {
  const prompted = new Set([...prompts].map((p) => p.id));
  return [...sessions]
    .filter((s) => s.activity === "waiting" || s.blockedOn !== null || prompted.has(s.id))
    .sort(byName);
}

/** List order: by name, so rows stay where they are while their sessions work. */
export function byName(a: SessionInfo, b: SessionInfo): number {
  return a.name.localeCompare(b.name) || a.id.localeCompare(b.id);
}

/** Whether `next` starts a wait that `previous` did not have (a notification's occasion). */
export function startsWaiting(previous: SessionInfo | undefined, next: SessionInfo): boolean {
  const waits = (s: SessionInfo | undefined) => s?.activity === "waiting" || !!s?.blockedOn;
  return waits(next) && !waits(previous);
}
