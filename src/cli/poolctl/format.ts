import type { EndpointStatus } from "../../notify/endpoint.js";
import type { SessionInfo } from "../../session/session.js";
import type { HostResult } from "./fleet.js";

export interface PoolStatusResult {
  status: string;
  uptimeSeconds: number;
  active: number;
  maxSessions: number;
  memoryBytes: number;
  pid: number;
  version: string;
  notify?: EndpointStatus[];
}

/** "45s", "3m 12s", "2h 5m", "3d 4h". */
export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

export function formatMegabytes(bytes: number): string {
  return `${Math.round(bytes / (1024 * 1024))}MB`;
}

/** The seed's header: `claude-pool | status: ok | uptime: 45s | active: 1/5 | mem: 50MB`. */
export function statusHeader(status: PoolStatusResult, sessions: SessionInfo[]): string {
  const memory = sessions.reduce((sum, s) => sum + (s.memoryBytes ?? 0), status.memoryBytes);
  return (
    `claude-pool | status: ${status.status} | uptime: ${formatDuration(status.uptimeSeconds)} | ` +
    `active: ${status.active}/${status.maxSessions} | mem: ${formatMegabytes(memory)}`
  );
}

const columns = ["ID", "Name", "Status", "PID", "Idle Time", "Keep Warm", "Activity"] as const;

/** What the conversation is doing, in a word or two: `busy`, `waiting (permission: Bash)`. */
export function activityText(s: SessionInfo): string {
  const waiting = s.waitingFor;
  if (s.activity === null || s.activity === undefined) return "-";
  if (s.activity !== "waiting" || !waiting) return s.activity;
  if (waiting.kind === "permission") return `waiting (permission: ${waiting.toolName})`;
  if (waiting.kind === "dialog") return `waiting (${waiting.dialog} dialog)`;
  return "waiting (a question)";
}

/**
 * The seed's table, `ID Name Status PID Idle Time Keep Warm`, with DESIGN's Activity column
 * after it; then a rule, then a row each. With `hosts` (one per session), a HOST column first.
 */
export function sessionTable(sessions: SessionInfo[], hosts?: string[]): string {
  const titles = hosts ? ["HOST", ...columns] : columns;
  const rows = sessions.map((s, i) => [
    ...(hosts ? [hosts[i]] : []),
    s.id,
    s.name,
    s.status,
    s.pid === null ? "-" : String(s.pid),
    s.status === "running" && s.idleSeconds !== null ? formatDuration(s.idleSeconds) : "-",
    s.keepWarm ? "yes" : "no",
    activityText(s),
  ]);
  const widths = titles.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => row[i].length)),
  );
  const line = (cells: readonly string[]) =>
    cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] + 2))).join("");
  const header = line(titles);
  const rule = "-".repeat(Math.max(83, header.length));
  return [header, rule, ...rows.map(line)].join("\n");
}

/** Lines under the table for sessions that need a person: failed, crashed, waiting at a dialog. */
export function sessionNotes(sessions: SessionInfo[], host?: string): string[] {
  const notes: string[] = [];
  for (const s of sessions) {
    const ref = host === undefined ? s.id : `${host}/${s.id}`;
    if (s.blockedOn) {
      notes.push(
        `${ref} (${s.name}) waits at the ${s.blockedOn} dialog: answer it with "claude-poolctl attach ${ref}"`,
      );
    } else if ((s.status === "failed" || s.status === "crashed") && s.reason) {
      notes.push(`${ref} (${s.name}) ${s.status}: ${s.reason}`);
    }
  }
  return notes;
}

/** One line about a session, for spawn, kill and resume. */
export function sessionLine(verb: string, s: SessionInfo): string {
  const detail =
    s.reason && (s.status === "failed" || s.status === "stopped") ? `: ${s.reason}` : "";
  return `${verb} ${s.id} (${s.name}), ${s.status}${s.pid ? `, pid ${s.pid}` : ""}${detail}`;
}

/** The width output is cut to: the terminal's, or 100 columns when not on a terminal. */
export function outputWidth(): number {
  return process.stdout.isTTY && process.stdout.columns > 0 ? process.stdout.columns : 100;
}

/** The first line of `text`, cut to `width` characters with an ellipsis when longer. */
export function excerpt(text: string, width: number): string {
  const lines = text.trim().split(/\r\n|\r|\n/);
  const first = lines[0].trimEnd();
  const cut = lines.length > 1 ? `${first} …` : first;
  const chars = Array.from(cut);
  return chars.length <= width ? cut : `${chars.slice(0, Math.max(0, width - 1)).join("")}…`;
}

/** An ISO time as local `2026-12-01 15:40:00`. */
export function localTime(iso: string): string {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  const two = (n: number) => String(n).padStart(2, "0");
  return (
    `${t.getFullYear()}-${two(t.getMonth() + 1)}-${two(t.getDate())} ` +
    `${two(t.getHours())}:${two(t.getMinutes())}:${two(t.getSeconds())}`
  );
}

/**
 * `status ID`: every field the pool reports for the session, one `field: value` line each (so a
 * field the pool adds shows up too); sizes and durations as in the table, what the conversation
 * does in words, prompts and replies cut to one line of `width` columns.
 */
export function sessionDetails(s: SessionInfo, width = 100): string {
  const fields = Object.entries(s as unknown as Record<string, unknown>);
  const labelWidth = Math.max(...fields.map(([key]) => key.length)) + 2;
  const room = Math.max(20, width - labelWidth);
  return fields
    .map(([key, value]) => `${`${key}:`.padEnd(labelWidth)}${detail(s, key, value, room)}`)
    .join("\n");
}

function detail(s: SessionInfo, key: string, value: unknown, room: number): string {
  if (key === "activity") return activityText(s);
  if (value === null || value === undefined) return "-";
  if (key === "memoryBytes" && typeof value === "number") return formatMegabytes(value);
  if (key === "idleSeconds" && typeof value === "number") return formatDuration(value);
  if (key === "waitingFor" && s.waitingFor) return excerpt(waitingText(s.waitingFor), room);
  if (key === "turn" && s.turn) {
    return excerpt(`since ${localTime(s.turn.startedAt)}: ${s.turn.prompt}`, room);
  }
  if (key === "lastTurn" && s.lastTurn) {
    const { outcome, endedAt, reply } = s.lastTurn;
    return excerpt(`${outcome} at ${localTime(endedAt)}${reply ? `: ${reply}` : ""}`, room);
  }
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function waitingText(waiting: NonNullable<SessionInfo["waitingFor"]>): string {
  if (waiting.kind === "dialog") return `the ${waiting.dialog} dialog`;
  if (waiting.kind === "input") return `a question: ${waiting.message}`;
  const where =
    waiting.answerAt === "terminal" ? " (no client answered: the terminal decides)" : "";
  return `permission for ${waiting.toolName}${where}: ${waiting.inputPreview}`;
}

/** `--all`: a line per host (its status header, or why it gave none). */
export function hostLines(results: HostResult[]): string[] {
  const width = Math.max(...results.map((r) => r.host.length));
  return results.map(
    (r) =>
      `${r.host.padEnd(width)}  ${r.error !== null ? `unreachable: ${r.error}` : r.pool ? statusHeader(r.pool, r.sessions) : `${r.sessions.length} sessions`}`,
  );
}

/** `--all`: every host's sessions in one table with a HOST column, then their notes. */
export function fleetTable(results: HostResult[]): string[] {
  const rows = results.flatMap((r) => r.sessions.map((s) => ({ host: r.host, s })));
  return [
    sessionTable(
      rows.map((row) => row.s),
      rows.map((row) => row.host),
    ),
    ...results.flatMap((r) => sessionNotes(r.sessions, r.host)),
  ];
}
