import type { ScheduleSettings } from "../config/types.js";
import type { MessageState } from "../channel/ledger.js";
import { Journal } from "../store/journal.js";

/**
 * One run of a schedule. Its status follows its message (queued, delivered, replied, failed), or
 * says why there was none: `skipped` (the previous run had no reply yet, overlap "skip"),
 * `missed` (the pool was down at its time and catchUp is off), `failed` (no message could be sent).
 */
export interface ScheduleRun {
  name: string;
  /** Counts the schedule's runs from 1. */
  run: number;
  trigger: "cron" | "catchUp" | "manual";
  /** The occurrence it ran for; null for a manual run. */
  scheduledFor: string | null;
  firedAt: string;
  status: MessageState | "skipped" | "missed";
  sessionId: string | null;
  sessionName: string | null;
  /** Whether the session was spawned for this run. */
  spawned: boolean;
  messageId: string | null;
  /** The reply's first 2,000 characters. */
  reply: string | null;
  repliedAt: string | null;
  note: string | null;
}

/** A schedule's cursor: the occurrence it last ran for, under the timing it was planned with. */
export interface Cursor {
  at: number;
  timing: string;
}

type Op =
  | { op: "define"; schedule: ScheduleSettings }
  | { op: "undefine"; name: string }
  | { op: "cursor"; name: string; cursor: Cursor }
  | { op: "run"; run: ScheduleRun }
  | { op: "forget"; name: string };

/** Runs kept per schedule. */
export const runsLimit = 100;
const minCompactBytes = 256 << 10;

/**
 * What schedules keep across restarts, in `schedules.jsonl` in the state dir: the schedules added
 * at run time, each schedule's cursor, and its latest runs. Written like the ledger's journal.
 */
export class ScheduleStore {
  private readonly defined = new Map<string, ScheduleSettings>();
  private readonly cursors = new Map<string, Cursor>();
  private readonly runs = new Map<string, ScheduleRun[]>();
  private compactedBytes = 0;
  /** Memory holds a change the journal lacks. */
  private behind = false;

  private constructor(
    private readonly journal: Journal<Op> | null,
    private readonly onError: (message: string) => void,
  ) {}

  static memory(): ScheduleStore {
    return new ScheduleStore(null, () => {});
  }

  static open(
    file: string,
    onError: (message: string) => void = () => {},
  ): { store: ScheduleStore; warning: string | null } {
    const { journal, ops, warning } = Journal.open(file, parseOp, onError);
    const store = new ScheduleStore(journal, onError);
    for (const op of ops) store.apply(op);
    store.compact();
    return { store, warning };
  }

  /** Schedules added at run time, in the order they were added. */
  definitions(): ScheduleSettings[] {
    return [...this.defined.values()];
  }

  define(schedule: ScheduleSettings): void {
    this.change({ op: "define", schedule }, true);
  }

  undefine(name: string): void {
    this.change({ op: "undefine", name });
  }

  cursor(name: string): Cursor | null {
    return this.cursors.get(name) ?? null;
  }

  setCursor(name: string, cursor: Cursor): void {
    this.change({ op: "cursor", name, cursor });
  }

  /** The schedule's runs, oldest first. */
  history(name: string): ScheduleRun[] {
    return this.runs.get(name) ?? [];
  }

  /** Records a new run, or the run's change. */
  saveRun(run: ScheduleRun): void {
    this.change({ op: "run", run: { ...run } });
  }

  /** Schedule names with a cursor or runs. */
  names(): string[] {
    return [...new Set([...this.cursors.keys(), ...this.runs.keys()])];
  }

  /** Forgets the schedule's cursor and runs. */
  forget(name: string): void {
    if (!this.cursors.has(name) && !this.runs.has(name)) return;
    this.change({ op: "forget", name });
  }

  synced(): Promise<void> {
    return this.journal?.synced() ?? Promise.resolve();
  }

  close(): void {
    this.journal?.close();
  }

  /** `strict`: a failed write is thrown (the caller is told), else logged and caught up later. */
  private change(op: Op, strict = false): void {
    const journal = this.journal;
    if (journal) {
      try {
        if (journal.needsRewrite || this.behind) this.compact();
        journal.append(op);
      } catch (err) {
        const problem = `cannot write ${journal.file}: ${(err as Error).message}`;
        if (strict) throw new Error(`${problem}; check that disk (free space, permissions)`);
        this.onError(`${problem}; the change is kept in memory and written later`);
        this.behind = true;
      }
    }
    this.apply(op);
    if (journal && journal.appendedBytes > Math.max(minCompactBytes, this.compactedBytes)) {
      this.compact();
    }
  }

  private apply(op: Op): void {
    switch (op.op) {
      case "define":
        this.defined.set(op.schedule.name, op.schedule);
        return;
      case "undefine":
        this.defined.delete(op.name);
        return;
      case "cursor":
        this.cursors.set(op.name, op.cursor);
        return;
      case "run": {
        const runs = this.runs.get(op.run.name) ?? [];
        const index = runs.findIndex((r) => r.run === op.run.run);
        if (index >= 0) runs[index] = op.run;
        else runs.push(op.run);
        if (runs.length > runsLimit) runs.splice(0, runs.length - runsLimit);
        this.runs.set(op.run.name, runs);
        return;
      }
      case "forget":
        this.cursors.delete(op.name);
        this.runs.delete(op.name);
        return;
    }
  }

  private compact(): void {
    const journal = this.journal;
    if (!journal) return;
    const ops: Op[] = [
      ...[...this.defined.values()].map((schedule): Op => ({ op: "define", schedule })),
      ...[...this.cursors].map(([name, cursor]): Op => ({ op: "cursor", name, cursor })),
      ...[...this.runs.values()].flat().map((run): Op => ({ op: "run", run })),
    ];
    try {
      journal.rewrite(ops);
      this.compactedBytes = journal.size;
      this.behind = false;
    } catch (err) {
      this.onError(`cannot rewrite ${journal.file}: ${(err as Error).message}`);
    }
  }
}

function parseOp(value: unknown): Op | null {
  if (typeof value !== "object" || value === null) return null;
  const op = value as Record<string, unknown>;
  const isObject = (v: unknown) => typeof v === "object" && v !== null;
  switch (op.op) {
    case "define":
      return isObject(op.schedule) ? (op as Op) : null;
    case "undefine":
    case "forget":
      return typeof op.name === "string" ? (op as Op) : null;
    case "cursor":
      return typeof op.name === "string" && isObject(op.cursor) ? (op as Op) : null;
    case "run":
      return isObject(op.run) && typeof (op.run as ScheduleRun).name === "string"
        ? (op as Op)
        : null;
    default:
      return null;
  }
}
