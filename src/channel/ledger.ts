import { randomUUID } from "node:crypto";
import type { ChatLine } from "./protocol.js";

/** `failed`: the message will get no reply (its session was removed before it was answered). */
export type MessageState = "queued" | "delivered" | "replied" | "failed";
export type DeliveryPath = "channel" | "pty";
/** The config's `delivery`: how a message may reach its conversation. */
export type DeliveryMode = "auto" | "channel" | "pty";

/** One channel.send: where it is, how it got there, and who sent it. */
export interface LedgerEntry {
  messageId: string;
  sessionId: string;
  chatId: string;
  content: string;
  meta: Record<string, string>;
  state: MessageState;
  via: DeliveryPath | null;
  /** How this message may be delivered; null: as the config's `delivery` says. */
  delivery: DeliveryMode | null;
  /** The caller's name: "local" on the control socket, else the token's name. */
  from: string;
  createdAt: string;
  deliveredAt: string | null;
  repliedAt: string | null;
  replies: { text: string; at: string }[];
  /** Why it went the way it did, when that is not obvious (a fallback). */
  note: string | null;
}

type Changes = Partial<Pick<LedgerEntry, "state" | "via" | "deliveredAt" | "repliedAt" | "note">>;

/** One change to a session's ledger, as the journal keeps it. */
export type LedgerOp =
  | { op: "add"; session: string; entry: LedgerEntry }
  | { op: "set"; session: string; id: string; set: Changes }
  | { op: "reply"; session: string; id: string; text: string; at: string }
  /** The message was handed to a delivery path that has not confirmed it yet. */
  | { op: "sent"; session: string; id: string; via: DeliveryPath; at: string }
  | { op: "drop"; session: string; ids: string[] }
  | { op: "forget"; session: string };

/** A message on its way to claude, or delivered and not answered: a restart must check it. */
export interface UnsureDelivery {
  entry: LedgerEntry;
  via: DeliveryPath;
}

/** Each message followed by its replies, as lines of a conversation. */
export function chatLines(entries: readonly LedgerEntry[]): ChatLine[] {
  return entries.flatMap((e) => [
    { role: "user" as const, chatId: e.chatId, content: e.content, at: e.createdAt },
    ...e.replies.map((r) => ({
      role: "assistant" as const,
      chatId: e.chatId,
      content: r.text,
      at: r.at,
    })),
  ]);
}

/** Past this many entries a session's oldest finished messages are forgotten. */
export const historyLimit = 200;

/**
 * Writes one change (its ops, all or none) where it is kept, then calls `apply` to make it in
 * memory; throwing instead refuses the change.
 */
export type LedgerRecorder = (ops: LedgerOp[], apply: () => void) => void;

/** The delivery ledger of one session: bounded, oldest first. */
export class Ledger {
  private readonly entries: LedgerEntry[] = [];
  /** Messages handed to a path and not confirmed yet: which path, since when. */
  private readonly handed = new Map<string, { via: DeliveryPath; at: string }>();

  constructor(
    readonly sessionId: string,
    private readonly record: LedgerRecorder = (_ops, apply) => apply(),
  ) {}

  add(
    content: string,
    meta: Record<string, string>,
    from: string,
    delivery: DeliveryMode | null = null,
  ): LedgerEntry {
    const messageId = randomUUID();
    const entry: LedgerEntry = {
      messageId,
      sessionId: this.sessionId,
      chatId: meta.chat_id ?? messageId,
      content,
      meta,
      state: "queued",
      via: null,
      delivery,
      from,
      createdAt: new Date().toISOString(),
      deliveredAt: null,
      repliedAt: null,
      replies: [],
      note: null,
    };
    this.change({ op: "add", session: this.sessionId, entry }, ...this.trimmed());
    return entry;
  }

  queued(): LedgerEntry[] {
    return this.entries.filter((e) => e.state === "queued");
  }

  /** Messages that reached claude and have no reply yet, oldest first. */
  delivered(): LedgerEntry[] {
    return this.entries.filter((e) => e.state === "delivered");
  }

  get(messageId: string): LedgerEntry | undefined {
    return this.entries.find((e) => e.messageId === messageId);
  }

  /** The message goes to claude by `via` now; until it is delivered a restart cannot be sure. */
  sent(entry: LedgerEntry, via: DeliveryPath): void {
    const at = new Date().toISOString();
    this.change({ op: "sent", session: this.sessionId, id: entry.messageId, via, at });
  }

  markDelivered(entry: LedgerEntry, via: DeliveryPath, note: string | null = null): void {
    const deliveredAt = new Date().toISOString();
    this.set(entry, { state: "delivered", via, deliveredAt, note });
  }

  /** Back in the queue, to be delivered again (the path it went by lost it). */
  requeue(entry: LedgerEntry, note: string | null): void {
    this.set(entry, { state: "queued", via: null, deliveredAt: null, note });
  }

  /** No reply will come. */
  fail(entry: LedgerEntry, note: string): void {
    this.set(entry, { state: "failed", note });
  }

  /** A reply answers every delivered message of its chat; returns them. */
  reply(chatId: string, text: string): LedgerEntry[] {
    const answered = this.entries.filter((e) => e.chatId === chatId && e.state !== "queued");
    return this.answer(answered, answered.at(-1), text);
  }

  /** A turn's reply answers the messages of that turn only; returns those it answered. */
  replyTo(entries: readonly LedgerEntry[], text: string): LedgerEntry[] {
    const answered = entries.filter((e) => e.state === "delivered" && this.entries.includes(e));
    return this.answer(answered, answered.at(-1), text);
  }

  /** The latest message delivered and not yet answered: its sender started claude's turn. */
  inTurn(): LedgerEntry | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      if (this.entries[i].state === "delivered") return this.entries[i];
    }
    return undefined;
  }

  recent(limit: number): LedgerEntry[] {
    return this.entries.slice(-limit);
  }

  /** Messages and replies as one conversation, oldest first. */
  chat(limit: number): ChatLine[] {
    return chatLines(this.entries).slice(-limit);
  }

  /**
   * Messages handed to a path and not confirmed, and delivered ones with no reply, oldest first:
   * what a restart finds on its way, which claude may or may not have taken.
   */
  unsure(): UnsureDelivery[] {
    return this.entries.flatMap((entry) => {
      if (entry.state === "delivered" && entry.via) return [{ entry, via: entry.via }];
      const handed = this.handed.get(entry.messageId);
      return entry.state === "queued" && handed ? [{ entry, via: handed.via }] : [];
    });
  }

  /** The ops that rebuild this ledger as it is now. */
  snapshot(): LedgerOp[] {
    return this.entries.flatMap((entry): LedgerOp[] => {
      const add: LedgerOp = { op: "add", session: this.sessionId, entry };
      const handed = this.handed.get(entry.messageId);
      if (!handed) return [add];
      return [add, { op: "sent", session: this.sessionId, id: entry.messageId, ...handed }];
    });
  }

  /** Applies a change read back from the journal, or made now. */
  apply(op: LedgerOp): void {
    switch (op.op) {
      case "add":
        this.entries.push(op.entry);
        return;
      case "set": {
        const entry = this.get(op.id);
        if (!entry) return;
        Object.assign(entry, op.set);
        if (op.set.state !== undefined) this.handed.delete(op.id);
        return;
      }
      case "reply":
        this.get(op.id)?.replies.push({ text: op.text, at: op.at });
        return;
      case "sent":
        if (this.get(op.id)) this.handed.set(op.id, { via: op.via, at: op.at });
        return;
      case "drop":
        for (const id of op.ids) {
          const index = this.entries.findIndex((e) => e.messageId === id);
          if (index >= 0) this.entries.splice(index, 1);
          this.handed.delete(id);
        }
        return;
      case "forget":
        this.entries.length = 0;
        this.handed.clear();
        return;
    }
  }

  private answer(
    answered: LedgerEntry[],
    last: LedgerEntry | undefined,
    text: string,
  ): LedgerEntry[] {
    const at = new Date().toISOString();
    const replied = answered.filter((e) => e.state === "delivered");
    const ops: LedgerOp[] = replied.map((entry) =>
      this.setOp(entry, { state: "replied", repliedAt: at }),
    );
    if (last) ops.push({ op: "reply", session: this.sessionId, id: last.messageId, text, at });
    if (ops.length > 0) this.change(...ops);
    return replied;
  }

  private set(entry: LedgerEntry, set: Changes): void {
    this.change(this.setOp(entry, set));
  }

  private setOp(entry: LedgerEntry, set: Changes): LedgerOp {
    return { op: "set", session: this.sessionId, id: entry.messageId, set };
  }

  private change(...ops: LedgerOp[]): void {
    this.record(ops, () => {
      for (const op of ops) this.apply(op);
    });
  }

  /**
   * With one more entry, the oldest entries past the limit are forgotten (never one still
   * waiting for delivery): the op that drops them, if any.
   */
  private trimmed(): LedgerOp[] {
    const excess = this.entries.length + 1 - historyLimit;
    if (excess <= 0) return [];
    const ids = this.entries
      .filter((e) => e.state !== "queued")
      .slice(0, excess)
      .map((e) => e.messageId);
    return ids.length > 0 ? [{ op: "drop", session: this.sessionId, ids }] : [];
  }
}
