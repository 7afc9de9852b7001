import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import type { SessionRecord } from "../session/session.js";
import { settingsOfSpec, type OwnSettings, type SessionSpec } from "../session/spec.js";

/** A record as written before sessions kept only their own settings. */
type LegacyRecord = Omit<SessionRecord, "settings"> & { spec: SessionSpec };
type StoredRecord = SessionRecord | LegacyRecord;

interface StateFile {
  version: 1;
  sessions: StoredRecord[];
}

export interface LoadedState {
  records: SessionRecord[];
  /** Set when the file was unreadable and moved aside. */
  warning: string | null;
}

/** The session registry in `state.json`, replaced atomically on every save. */
export class StateStore {
  readonly file: string;

  constructor(readonly dir: string) {
    this.file = join(dir, "state.json");
  }

  /**
   * `settingsOf` turns the resolved spec of an older record into the session's own settings (by
   * default: all of it but what is nobody's default).
   */
  load(
    settingsOf: (spec: SessionSpec) => OwnSettings = (spec) => settingsOfSpec(spec, {}, true),
  ): LoadedState {
    if (!existsSync(this.file)) return { records: [], warning: null };
    let problem: string;
    try {
      const data = JSON.parse(readFileSync(this.file, "utf8")) as unknown;
      const stored = parseState(data);
      if (stored) {
        const records = stored.map((record): SessionRecord => {
          if ("settings" in record) return record;
          const { spec, ...rest } = record;
          return { ...rest, settings: settingsOf(spec) };
        });
        return { records, warning: null };
      }
      problem = "not a claude-pool state file";
    } catch (err) {
      problem = (err as Error).message;
    }
    const backup = `${this.file}.corrupt-${new Date().toISOString().replace(/[:.]/g, "-")}`;
    renameSync(this.file, backup);
    return {
      records: [],
      warning: `${this.file} is unreadable (${problem}); moved it to ${backup} and started with an empty registry`,
    };
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

function parseState(data: unknown): StoredRecord[] | null {
  if (typeof data !== "object" || data === null) return null;
  const { version, sessions } = data as Partial<StateFile>;
  if (version !== 1 || !Array.isArray(sessions)) return null;
  return sessions.every(isRecord) ? sessions : null;
}

function isRecord(value: unknown): value is StoredRecord {
  const r = value as Partial<SessionRecord & LegacyRecord> | null;
  const settings = r?.settings ?? r?.spec;
  return (
    typeof r === "object" &&
    r !== null &&
    typeof r.id === "string" &&
    /^[0-9a-f]{8}$/.test(r.id) &&
    typeof r.claudeSessionId === "string" &&
    typeof r.status === "string" &&
    typeof settings === "object" &&
    settings !== null &&
    typeof settings.name === "string" &&
    typeof settings.workingDirectory === "string"
  );
}
