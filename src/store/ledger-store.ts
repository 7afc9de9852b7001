import { Ledger, type LedgerEntry, type LedgerOp } from "../channel/ledger.js";
import { Journal } from "./journal.js";

/** One line of the journal: the ops of one change, made all or none. */
type Batch = LedgerOp[];

/** The journal is written whole again once it has grown by this much and by its own size. */
const minCompactBytes = 1 << 20;

export interface LedgerStoreOptions {
  /** Where errors go that cannot be thrown to a caller (a failed background sync or rewrite). */
  onError?: (message: string) => void;
  /** Bytes appended after which the journal is compacted (at least its size when last written). */
  compactBytes?: number;
}

/**
 * Every session's delivery ledger, kept in an append-only journal (`ledger.jsonl` in the state
 * dir) so that a kill at any moment loses no message: each change is written before it is made,
 * and replayed at the next start. Without a file it keeps them in memory only.
 */
export class LedgerStore {
  private readonly ledgers = new Map<string, Ledger>();
  private readonly onError: (message: string) => void;
  private readonly compactBytes: number;
  /** Size of the journal when it was last written whole. */
  private compactedBytes = 0;
  /** Memory holds a change the journal lacks. */
  private behind = false;

  private constructor(
    private readonly journal: Journal<Batch> | null,
    options: LedgerStoreOptions,
  ) {
    this.onError = options.onError ?? (() => {});
    this.compactBytes = options.compactBytes ?? minCompactBytes;
  }

  /** An in-memory store: what a restart loses. */
  static memory(): LedgerStore {
    return new LedgerStore(null, {});
  }

  /**
   * Replays `file`, then writes it whole (dropping what the replay superseded). `warning` says
   * what of the file could not be used.
   */
  static open(
    file: string,
    options: LedgerStoreOptions = {},
  ): { store: LedgerStore; warning: string | null } {
    const { journal, ops, warning } = Journal.open(file, parseBatch, options.onError);
    const store = new LedgerStore(journal, options);
    for (const op of ops.flat()) {
      if (op.op === "forget") store.ledgers.delete(op.session);
      else store.ledger(op.session).apply(op);
    }
    store.compact();
    return { store, warning };
  }

  get file(): string | null {
    return this.journal?.file ?? null;
  }

  /** Session ids with a ledger. */
  sessions(): string[] {
    return [...this.ledgers.keys()];
  }

  ledger(sessionId: string): Ledger {
    let ledger = this.ledgers.get(sessionId);
    if (!ledger) {
      ledger = new Ledger(sessionId, (ops, apply) => this.record(ops, apply));
      this.ledgers.set(sessionId, ledger);
    }
    return ledger;
  }

  /** Whether `sessionId` has a ledger, without making one. */
  has(sessionId: string): boolean {
    return this.ledgers.has(sessionId);
  }

  forget(sessionId: string): void {
    const ledger = this.ledgers.get(sessionId);
    if (!ledger) return;
    this.record([{ op: "forget", session: sessionId }], () => this.ledgers.delete(sessionId));
  }

  /** Resolves once every change made so far is on disk. */
  synced(): Promise<void> {
    return this.journal?.synced() ?? Promise.resolve();
  }

  close(): void {
    this.journal?.close();
  }

  /**
   * Writes a change to the journal, then makes it in memory. A new message that cannot be
   * written is refused (the error goes to its sender); any other change is made all the same,
   * and the journal is written whole as soon as it can be, so file and memory agree again.
   */
  private record(ops: Batch, apply: () => void): void {
    const journal = this.journal;
    if (!journal) return apply();
    try {
      if (journal.needsRewrite || this.behind) this.compact();
      journal.append(ops);
    } catch (err) {
      const problem = `cannot write ${journal.file}: ${(err as Error).message}`;
      if (ops[0].op === "add") {
        throw new Error(
          `${problem}; check that disk (free space, permissions) and send the message again`,
        );
      }
      this.onError(`${problem}; the change is kept in memory and written later`);
      this.behind = true;
      apply();
      return this.compact();
    }
    apply();
    if (journal.appendedBytes > Math.max(this.compactBytes, this.compactedBytes)) this.compact();
  }

  private compact(): void {
    const journal = this.journal;
    if (!journal) return;
    const ops = [...this.ledgers.values()].flatMap((l) => l.snapshot().map((op) => [op]));
    try {
      journal.rewrite(ops);
      this.compactedBytes = journal.size;
      this.behind = false;
    } catch (err) {
      this.onError(`cannot rewrite ${journal.file}: ${(err as Error).message}`);
    }
  }
}

const states = new Set(["queued", "delivered", "replied", "failed"]);

/** A journal line as a change, or null when it is none (a line from elsewhere, a damaged one). */
function parseBatch(value: unknown): Batch | null {
  if (!Array.isArray(value) || value.length === 0) return null;
  const ops = value.map(parseOp);
  return ops.every((op) => op !== null) ? (ops as Batch) : null;
}

function parseOp(value: unknown): LedgerOp | null {
  if (typeof value !== "object" || value === null) return null;
  const op = value as Record<string, unknown>;
  if (typeof op.session !== "string") return null;
  const str = (key: string) => typeof op[key] === "string";
  switch (op.op) {
    case "add":
      if (!isEntry(op.entry) || op.entry.sessionId !== op.session) return null;
      return {
        op: "add",
        session: op.session,
        entry: { ...op.entry, delivery: op.entry.delivery ?? null },
      };
    case "set":
      return str("id") && typeof op.set === "object" && op.set !== null ? (op as LedgerOp) : null;
    case "reply":
      return str("id") && str("text") && str("at") ? (op as LedgerOp) : null;
    case "sent":
      return str("id") && str("at") && (op.via === "channel" || op.via === "pty")
        ? (op as LedgerOp)
        : null;
    case "drop":
      return Array.isArray(op.ids) ? (op as LedgerOp) : null;
    case "forget":
      return op as LedgerOp;
    default:
      return null;
  }
}

function isEntry(value: unknown): value is LedgerEntry {
  if (typeof value !== "object" || value === null) return false;
  const e = value as Partial<LedgerEntry>;
  return (
    typeof e.messageId === "string" &&
    typeof e.sessionId === "string" &&
    typeof e.chatId === "string" &&
    typeof e.content === "string" &&
    typeof e.meta === "object" &&
    states.has(e.state as string) &&
    Array.isArray(e.replies)
  );
}
