import type { SessionInfo } from "../../session/session.js";

export interface PoolStatusResult {
  status: string;
  uptimeSeconds: number;
  active: number;
  maxSessions: number;
  memoryBytes: number;
  pid: number;
  version: string;
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
 * after it; then a rule, then a row each.
 */
export function sessionTable(sessions: SessionInfo[]): string {
  const rows = sessions.map((s) => [
    s.id,
    s.name,
    s.status,
    s.pid === null ? "-" : String(s.pid),
    s.status === "running" && s.idleSeconds !== null ? formatDuration(s.idleSeconds) : "-",
    s.keepWarm ? "yes" : "no",
    activityText(s),
  ]);
  const widths = columns.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => row[i].length)),
  );
  const line = (cells: readonly string[]) =>
    cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] + 2))).join("");
  const header = line(columns);
  const rule = "-".repeat(Math.max(83, header.length));
  return [header, rule, ...rows.map(line)].join("\n");
}

/** Lines under the table for sessions that need a person: failed, crashed, waiting at a dialog. */
export function sessionNotes(sessions: SessionInfo[]): string[] {
  const notes: string[] = [];
  for (const s of sessions) {
    if (s.blockedOn) {
      notes.push(
        `${s.id} (${s.name}) waits at the ${s.blockedOn} dialog: answer it with "claude-poolctl attach ${s.id}"`,
      );
    } else if ((s.status === "failed" || s.status === "crashed") && s.reason) {
      notes.push(`${s.id} (${s.name}) ${s.status}: ${s.reason}`);
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

/**
 * `status ID`: every field the pool reports for the session, one `field: value` line each (so a
 * field the pool adds shows up too); sizes and durations as in the table.
 */
export function sessionDetails(s: SessionInfo): string {
  const fields = Object.entries(s as unknown as Record<string, unknown>);
  const width = Math.max(...fields.map(([key]) => key.length)) + 2;
  return fields.map(([key, value]) => `${`${key}:`.padEnd(width)}${detail(key, value)}`).join("\n");
}

function detail(key: string, value: unknown): string {
  if (value === null || value === undefined) return "-";
  if (key === "memoryBytes" && typeof value === "number") return formatMegabytes(value);
  if (key === "idleSeconds" && typeof value === "number") return formatDuration(value);
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}
