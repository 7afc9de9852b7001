import {
  closeSync,
  copyFileSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { isRunning } from "../proc.js";
import {
  promptChars,
  replyChars,
  type EndedTurn,
  type Turn,
  type TurnOutcome,
} from "../session/evidence.js";
import type { SessionRecord } from "../session/session.js";
import { settingsOfSpec, type OwnSettings, type SessionSpec } from "../session/spec.js";

/** A record as written before sessions kept only their own settings. */
type LegacyRecord = Omit<SessionRecord, "settings"> & { spec: SessionSpec };
type StoredRecord = SessionRecord | LegacyRecord;

interface StateFile {
  version: 1;
  sessions: unknown[];
}

export interface LoadedState {
  records: SessionRecord[];
  /** Set when the file, or some of its records, could not be used and were set aside. */
  warning: string | null;
}

const statuses = new Set(["starting", "running", "stopping", "stopped", "crashed", "failed"]);
const tempFile = /^state\.json\.tmp-(\d+)$/;

/** The session registry in `state.json`, replaced atomically on every save. */
export class StateStore {
  readonly file: string;

  constructor(readonly dir: string) {
    this.file = join(dir, "state.json");
  }

  /**
   * Loads every valid record. A file that is no registry at all is moved aside; bad or duplicate
   * records are left out, and a copy of the file keeps them. `settingsOf` turns the resolved spec
   * of an older record into the session's own settings (by default: all of it but what is
   * nobody's default).
   */
  load(
    settingsOf: (spec: SessionSpec) => OwnSettings = (spec) => settingsOfSpec(spec, {}, true),
  ): LoadedState {
    if (!existsSync(this.file)) return { records: [], warning: null };
    let sessions: unknown[];
    try {
      const data = JSON.parse(readFileSync(this.file, "utf8")) as unknown;
      const parsed = parseState(data);
      if (!parsed) return this.moveAside("not a claude-pool state file");
      sessions = parsed;
    } catch (err) {
      return this.moveAside((err as Error).message);
    }
    const records: SessionRecord[] = [];
    const setAside: string[] = [];
    sessions.forEach((value, i) => {
      const id = (value as { id?: unknown } | null)?.id;
      const which = `#${i + 1}${typeof id === "string" ? ` (id ${JSON.stringify(id)})` : ""}`;
      if (!isRecord(value)) setAside.push(`${which}: not a valid session record`);
      else if (records.some((r) => r.id === value.id)) {
        setAside.push(`${which}: a second session with this id`);
      } else if ("settings" in value) records.push({ ...beforeHosts, ...value, ...turnsOf(value) });
      else {
        const { spec, ...rest } = value;
        records.push({ ...beforeHosts, ...rest, ...turnsOf(value), settings: settingsOf(spec) });
      }
    });
    if (setAside.length === 0) return { records, warning: null };
    const backup = this.backupName();
    copyFileSync(this.file, backup);
    return {
      records,
      warning:
        `${this.file}: set aside ${setAside.length} of ${sessions.length} sessions: ` +
        `${setAside.join("; ")}; kept the file as ${backup} (fix a record there and copy it ` +
        "back into state.json while the pool is stopped to restore it)",
    };
  }

  /** Removes temp files of saves that never finished (their pool was killed); returns their names. */
  removeStaleTemps(): string[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const stale = names.filter((name) => {
      const pid = tempFile.exec(name)?.[1];
      return pid !== undefined && (Number(pid) === process.pid || !isRunning(Number(pid)));
    });
    for (const name of stale) rmSync(join(this.dir, name), { force: true });
    return stale.map((name) => join(this.dir, name));
  }

  private moveAside(problem: string): LoadedState {
    const backup = this.backupName();
    renameSync(this.file, backup);
    return {
      records: [],
      warning: `${this.file} is unreadable (${problem}); moved it to ${backup} and started with an empty registry`,
    };
  }

  private backupName(): string {
    return `${this.file}.corrupt-${new Date().toISOString().replace(/[:.]/g, "-")}`;
  }

  save(records: SessionRecord[]): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const state: StateFile = { version: 1, sessions: records };
    const temp = `${this.file}.tmp-${process.pid}`;
    const fd = openSync(temp, "w", 0o600);
    try {
      writeSync(fd, JSON.stringify(state, null, 2) + "\n");
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, this.file);
    const dirFd = openSync(this.dir, "r");
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  }
}

function parseState(data: unknown): unknown[] | null {
  if (typeof data !== "object" || data === null) return null;
  const { version, sessions } = data as Partial<StateFile>;
  return version === 1 && Array.isArray(sessions) ? sessions : null;
}

/** What a record written before sessions had hosts lacks. */
const beforeHosts = { hostPid: null, hostStart: null };

/**
 * A record's turns, rebuilt field by field: one written before the pool kept them, or damaged,
 * has none, and nothing else in the file reaches the session JSON.
 */
function turnsOf(value: {
  turn?: unknown;
  lastTurn?: unknown;
}): Pick<SessionRecord, "turn" | "lastTurn"> {
  return { turn: turnOf(value.turn), lastTurn: endedTurnOf(value.lastTurn) };
}

function turnOf(value: unknown): Turn | null {
  if (typeof value !== "object" || value === null) return null;
  const { id, startedAt, prompt } = value as Partial<Turn>;
  if (typeof id !== "string" || !isTime(startedAt) || typeof prompt !== "string") return null;
  return { id, startedAt, prompt: prompt.slice(0, promptChars) };
}

function endedTurnOf(value: unknown): EndedTurn | null {
  const turn = turnOf(value);
  if (turn === null) return null;
  const { endedAt, outcome, reply } = value as Partial<EndedTurn>;
  if (!isTime(endedAt) || !isOutcome(outcome) || typeof reply !== "string") return null;
  return { ...turn, endedAt, outcome, reply: reply.slice(0, replyChars) };
}

function isTime(value: unknown): value is string {
  return typeof value === "string" && !Number.isNaN(Date.parse(value));
}

function isOutcome(value: unknown): value is TurnOutcome {
  return value === "done" || value === "failed" || value === "interrupted";
}

function isRecord(value: unknown): value is StoredRecord {
  if (typeof value !== "object" || value === null) return false;
  const r = value as Partial<SessionRecord & LegacyRecord>;
  const settings = r.settings ?? r.spec;
  return (
    typeof r.id === "string" &&
    /^[0-9a-f]{8}$/.test(r.id) &&
    typeof r.claudeSessionId === "string" &&
    statuses.has(r.status as string) &&
    (r.desired === "running" || r.desired === "stopped") &&
    typeof settings === "object" &&
    settings !== null &&
    typeof settings.name === "string" &&
    typeof settings.workingDirectory === "string"
  );
}
