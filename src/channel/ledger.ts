import { randomUUID } from "node:crypto";
import type { ChatLine } from "./protocol.js";

export type MessageState = "queued" | "delivered" | "replied";
export type DeliveryPath = "channel" | "pty";

/** One channel.send: where it is, how it got there, and who sent it. */
export interface LedgerEntry {
  messageId: string;
  sessionId: string;
  chatId: string;
  content: string;
  meta: Record<string, string>;
  state: MessageState;
  via: DeliveryPath | null;
  /** The caller's name: "local" on the control socket, else the token's name. */
  from: string;
  createdAt: string;
  deliveredAt: string | null;
  repliedAt: string | null;
  replies: { text: string; at: string }[];
  /** Why it went the way it did, when that is not obvious (a fallback). */
  note: string | null;
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

/** The delivery ledger of one session: bounded, oldest first. */
export class Ledger {
  private readonly entries: LedgerEntry[] = [];

  add(sessionId: string, content: string, meta: Record<string, string>, from: string): LedgerEntry {
    const messageId = randomUUID();
    const entry: LedgerEntry = {
      messageId,
      sessionId,
      chatId: meta.chat_id ?? messageId,
      content,
      meta,
      state: "queued",
      via: null,
      from,
      createdAt: new Date().toISOString(),
      deliveredAt: null,
      repliedAt: null,
      replies: [],
      note: null,
    };
    this.entries.push(entry);
    this.trim();
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

  markDelivered(entry: LedgerEntry, via: DeliveryPath, note: string | null = null): void {
    Object.assign(entry, { state: "delivered", via, deliveredAt: new Date().toISOString(), note });
  }

  /** A reply answers every delivered message of its chat; returns them. */
  reply(chatId: string, text: string): LedgerEntry[] {
    const at = new Date().toISOString();
    const answered = this.entries.filter((e) => e.chatId === chatId && e.state !== "queued");
    for (const entry of answered) {
      if (entry.state === "delivered") Object.assign(entry, { state: "replied", repliedAt: at });
    }
    const last = answered.at(-1);
    if (last) last.replies.push({ text, at });
    return answered.filter((e) => e.repliedAt === at);
  }

  /** A turn's reply answers the messages of that turn only; returns those it answered. */
  replyTo(entries: readonly LedgerEntry[], text: string): LedgerEntry[] {
    const at = new Date().toISOString();
    const answered = entries.filter((e) => e.state === "delivered" && this.entries.includes(e));
    for (const entry of answered) Object.assign(entry, { state: "replied", repliedAt: at });
    answered.at(-1)?.replies.push({ text, at });
    return answered;
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

  /** Forgets the oldest entries past the limit, never one still waiting for delivery. */
  private trim(): void {
    while (this.entries.length > historyLimit) {
      const index = this.entries.findIndex((e) => e.state !== "queued");
      if (index < 0) return;
      this.entries.splice(index, 1);
    }
  }
}
