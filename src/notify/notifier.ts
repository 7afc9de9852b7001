import type { EventEmitter } from "node:events";
import type { ChannelHub } from "../channel/hub.js";
import type { LedgerEntry } from "../channel/ledger.js";
import type { NotifyEndpointConfig, PoolConfig } from "../config/types.js";
import type { Logger } from "../log.js";
import type { Pool } from "../pool.js";
import type { EndedTurn } from "../session/evidence.js";
import type { SessionInfo } from "../session/session.js";
import { Endpoint, type Attempt, type EndpointStatus, type Fetch } from "./endpoint.js";
import type { NotifyEventName } from "./events.js";
import {
  lifecycleNotification,
  scheduleNotification,
  testNotification,
  turnNotification,
  waitingNotification,
  type Notification,
} from "./notification.js";
import { markOf, sessionEvents, type SessionMark } from "./transitions.js";

export interface NotifierOptions {
  config: () => PoolConfig;
  log: Logger;
  /** The dashboard's page of a session, or null while the pool has no URL for it. */
  sessionPage: (id: string) => string | null;
  fetch?: Fetch;
}

/** `notify test`'s answer for one endpoint. */
export interface TestResult {
  url: string;
  ok: boolean;
  status: number | null;
  error: string | null;
  ms: number;
}

/** Scheduled runs waiting for their reply; past this many the oldest are forgotten. */
const maxScheduleRuns = 1000;
/**
 * How long a conversation must go on waiting before anyone is told: the development-channels
 * warning the pool answers itself, or a prompt a client answers at once, needs nobody.
 */
export const waitingSettleMs = 2000;

/**
 * Tells the config's `notify` endpoints what needs a person: conversations that wait (a
 * permission prompt, a dialog, a question) for longer than a moment, sessions that crash or
 * fail, replies (opt-in) and scheduled runs' results. It follows the pool's and the hub's
 * events and never waits on a receiver; a reloaded `notify` applies at the next event, and
 * endpoints that stay keep their queue.
 */
export class Notifier {
  private endpoints: Endpoint[] = [];
  private configured: NotifyEndpointConfig[] | null = null;
  private readonly marks = new Map<string, SessionMark>();
  /** Scheduled runs' messages (by messageId) and their schedule's name. */
  private readonly runs = new Map<string, string>();
  /** Per session, the wait that is told of unless it ends first. */
  private readonly settling = new Map<string, NodeJS.Timeout>();

  constructor(private readonly options: NotifierOptions) {}

  /** Follows `pool`'s sessions and turns and, with `hub`, scheduled runs' replies. */
  watch(pool: Pool, hub: ChannelHub<object> | null): void {
    for (const s of pool.list()) this.marks.set(s.id, markOf(s));
    pool.on("session.changed", (s) => this.sessionChanged(pool, s));
    pool.on("session.removed", (id) => {
      this.marks.delete(id);
      clearTimeout(this.settling.get(id));
      this.settling.delete(id);
    });
    pool.on("turn.ended", (id, turn) => this.turnEnded(pool, id, turn));
    if (!hub) return;
    hub.on("reply", (id, _chatId, text, messageIds) => {
      for (const messageId of messageIds) this.runEnded(pool, id, messageId, "replied", text);
    });
    hub.on("message", (entry: LedgerEntry) => {
      // "failed": the durable ledger's state for a message that could not be delivered.
      if ((entry.state as string) === "failed") {
        this.runEnded(pool, entry.sessionId, entry.messageId, "failed", entry.note);
      }
    });
  }

  /**
   * Follows the scheduler's `schedule.fired {name, messageId}` events: the run's reply (or its
   * failure) becomes a `schedule` notification.
   */
  watchSchedules(scheduler: EventEmitter): void {
    scheduler.on("schedule.fired", (fired: { name: string; messageId: string }) =>
      this.scheduleFired(fired.name, fired.messageId),
    );
  }

  scheduleFired(name: string, messageId: string): void {
    this.runs.set(messageId, name);
    if (this.runs.size > maxScheduleRuns) this.runs.delete(this.runs.keys().next().value!);
  }

  status(admin: boolean): EndpointStatus[] {
    return this.current().map((e) => e.status(admin));
  }

  /** One test notification to every endpoint, whatever its events; resolves with each outcome. */
  async test(admin: boolean): Promise<TestResult[]> {
    return Promise.all(
      this.current().map(async (endpoint) => {
        const { ok, status, error, ms }: Attempt = await endpoint.test(testNotification());
        return { url: admin ? endpoint.config.url : endpoint.shownUrl, ok, status, error, ms };
      }),
    );
  }

  close(): void {
    for (const timer of this.settling.values()) clearTimeout(timer);
    this.settling.clear();
    for (const e of this.endpoints) e.close();
    this.endpoints = [];
    this.configured = null;
  }

  private sessionChanged(pool: Pool, s: SessionInfo): void {
    const events = sessionEvents(this.marks.get(s.id), s);
    this.marks.set(s.id, markOf(s));
    for (const event of events) {
      if (event === "waiting") this.settle(pool, s);
      else this.send(event, lifecycleNotification(event, s, this.options.sessionPage));
    }
  }

  /** Tells of the wait `s` began, if it still waits for the same thing after waitingSettleMs. */
  private settle(pool: Pool, s: SessionInfo): void {
    clearTimeout(this.settling.get(s.id));
    const waiting = markOf(s).waiting;
    const timer = setTimeout(() => {
      this.settling.delete(s.id);
      const now = sessionInfo(pool, s.id);
      if (!now?.waitingFor || markOf(now).waiting !== waiting) return;
      this.send("waiting", waitingNotification(now, now.waitingFor, this.options.sessionPage));
    }, waitingSettleMs);
    timer.unref();
    this.settling.set(s.id, timer);
  }

  private turnEnded(pool: Pool, id: string, turn: EndedTurn): void {
    if (!this.current().some((e) => e.wants("turn.ended"))) return;
    const s = sessionInfo(pool, id);
    if (s) this.send("turn.ended", turnNotification(s, turn, this.options.sessionPage));
  }

  private runEnded(
    pool: Pool,
    sessionId: string,
    messageId: string,
    outcome: "replied" | "failed",
    reply: string | null,
  ): void {
    const name = this.runs.get(messageId);
    if (name === undefined) return;
    this.runs.delete(messageId);
    const result = { name, messageId, outcome, reply };
    const s = sessionInfo(pool, sessionId);
    this.send("schedule", scheduleNotification(result, s, this.options.sessionPage));
  }

  private send(event: NotifyEventName, n: Notification): void {
    for (const endpoint of this.current()) if (endpoint.wants(event)) endpoint.enqueue(n);
  }

  /** The endpoints of the config in force: unchanged entries keep theirs, with its queue. */
  private current(): Endpoint[] {
    const wanted = this.options.config().notify;
    if (wanted === this.configured) return this.endpoints;
    const old = new Map(this.endpoints.map((e) => [JSON.stringify(e.config), e]));
    this.endpoints = wanted.map((config) => {
      const key = JSON.stringify(config);
      const kept = old.get(key);
      old.delete(key);
      return kept ?? new Endpoint(config, this.options.log, this.options.fetch);
    });
    for (const gone of old.values()) gone.close();
    this.configured = wanted;
    return this.endpoints;
  }
}

function sessionInfo(pool: Pool, id: string): SessionInfo | null {
  try {
    return pool.get(id);
  } catch {
    return null; // removed meanwhile
  }
}
