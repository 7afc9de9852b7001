import { EventEmitter } from "node:events";
import type { PoolConfig } from "../config/types.js";
import { ErrorCode, PoolError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Pool } from "../pool.js";
import type { Session } from "../session/session.js";
import type { AuditLog } from "./audit-log.js";
import { Ledger, type LedgerEntry } from "./ledger.js";
import {
  bridgeMethod,
  bridgeNotification,
  type Behavior,
  type ChannelDelivery,
  type ChatLine,
  type PermissionPrompt,
} from "./protocol.js";

/** A connected `claude-pool channel` process, as the hub talks to it. */
export interface BridgeLink {
  notify(method: string, params: Record<string, unknown>): void;
}

/** Who sent a message: the caller's name, and the connection replies and prompts go back to. */
export interface MessageOrigin<Client> {
  from: string;
  client: Client | null;
}

interface PendingPrompt<Client> {
  sessionId: string;
  prompt: PermissionPrompt;
  link: BridgeLink;
  origin: Client | null;
  timer: NodeJS.Timeout;
}

/** Messages delivered through a channel that has not shown yet that claude hears it. */
interface Watch {
  entries: LedgerEntry[];
  timer: NodeJS.Timeout;
}

interface HubEvents<Client> {
  message: [entry: LedgerEntry];
  reply: [sessionId: string, chatId: string, text: string, messageIds: string[]];
  status: [sessionId: string, chatId: string, status: string, detail: string | undefined];
  "permission.request": [sessionId: string, prompt: PermissionPrompt, origin: Client | null];
  "permission.resolved": [sessionId: string, requestId: string, behavior: Behavior, by: string];
}

/** Messages waiting for delivery per session; channel.send refuses more. */
export const maxQueued = 100;

export interface ChannelHubOptions {
  config: () => PoolConfig;
  audit: AuditLog;
  log: Logger;
}

/**
 * The channel bridge inside the pool: a delivery ledger per session, each session's channel
 * connection, the choice between channel and terminal, and permission prompts with their
 * timeouts and audit trail. `Client` is whatever a transport uses for a connection.
 */
export class ChannelHub<Client extends object> extends EventEmitter<HubEvents<Client>> {
  private readonly ledgers = new Map<string, Ledger>();
  private readonly bridges = new Map<string, BridgeLink>();
  /** Pushed to a bridge and not yet confirmed by it. */
  private readonly inflight = new Map<string, Set<LedgerEntry>>();
  /** Sessions whose queue is being typed into the terminal now, one message after another. */
  private readonly typing = new Set<string>();
  /** Launches (session and pid) whose development-channels warning the pool answered. */
  private readonly confirmed = new Set<string>();
  /** Keyed by entry, so what the ledger forgets is forgotten here too. */
  private readonly origins = new WeakMap<LedgerEntry, Client>();
  /** Sessions whose channel has shown claude hears it. */
  private readonly heard = new Set<string>();
  /** Sessions whose connected channel took no notice of a message (claude ignores it). */
  private readonly deaf = new Set<string>();
  private readonly watches = new Map<string, Watch>();
  private readonly runningSince = new Map<string, number>();
  private readonly fallbackTimers = new Map<string, NodeJS.Timeout>();
  private readonly pending = new Map<string, PendingPrompt<Client>>();

  constructor(
    private readonly pool: Pool,
    private readonly options: ChannelHubOptions,
  ) {
    super();
    pool.on("session.changed", (info) => {
      const session = this.sessionById(info.id);
      if (session) this.onSessionChanged(session);
    });
    pool.on("session.output", (id) => this.noticed(id));
    pool.on("session.removed", (id) => this.forget(id));
  }

  /** channel.send: records the message and delivers it now or when a path opens. */
  send(ref: string, content: string, meta: Record<string, string>, origin: MessageOrigin<Client>) {
    const session = this.pool.find(ref);
    const channelless = !session.spec.channel && !this.bridges.has(session.id);
    if (this.options.config().delivery === "channel" && channelless) {
      throw new PoolError(
        ErrorCode.ChannelNotConnected,
        `session ${session.name} runs without the channel (channel: false) and delivery is ` +
          '"channel"; spawn it with channel: true or set delivery to "auto"',
      );
    }
    const ledger = this.ledger(session.id);
    if (ledger.queued().length >= maxQueued) {
      throw new PoolError(
        ErrorCode.InvalidState,
        `session ${session.name} has ${maxQueued} messages waiting for delivery; wait for them ` +
          "(channel.history) or check why it takes none (session.get: status, blockedOn, channel)",
      );
    }
    if (session.status === "stopped" || session.status === "failed") this.pool.resume(session.id);
    const entry = ledger.add(session.id, content, meta, origin.from);
    if (origin.client !== null) this.origins.set(entry, origin.client);
    this.emit("message", entry);
    this.flush(session);
    return entry;
  }

  history(ref: string, limit: number): LedgerEntry[] {
    const session = this.pool.find(ref);
    return this.ledgers.get(session.id)?.recent(limit) ?? [];
  }

  // --- the bridge side ---------------------------------------------------------------------

  connect(ref: string, link: BridgeLink): Session {
    const session = this.pool.find(ref);
    const previous = this.bridges.get(session.id);
    if (previous && previous !== link) this.disconnect(previous);
    this.bridges.set(session.id, link);
    // A new channel process: whether claude hears it is learned again.
    this.deaf.delete(session.id);
    this.heard.delete(session.id);
    this.options.log.info(`session ${session.id} (${session.name}): channel connected`);
    session.setChannelConnected(true);
    this.flush(session);
    return session;
  }

  disconnect(link: BridgeLink): void {
    const id = this.sessionOf(link);
    if (id === null) return;
    this.bridges.delete(id);
    this.requeueInflight(id);
    for (const [key, p] of this.pending) {
      if (p.link !== link) continue;
      clearTimeout(p.timer);
      this.pending.delete(key);
      this.options.log.info(`session ${id}: permission request ${p.prompt.requestId} dropped`);
      // Nobody can answer it any more; clients showing it may close it.
      this.emit("permission.resolved", id, p.prompt.requestId, "deny", "channel closed");
    }
    this.options.log.info(`session ${id}: channel disconnected`);
    this.sessionById(id)?.setChannelConnected(false);
  }

  delivered(link: BridgeLink, messageIds: string[]): void {
    const id = this.linkedSession(link);
    const inflight = this.inflight.get(id);
    const ledger = this.ledger(id);
    for (const messageId of messageIds) {
      const entry = ledger.get(messageId);
      if (!entry || !inflight?.delete(entry)) continue;
      ledger.markDelivered(entry, "channel");
      this.emit("message", entry);
      this.watch(id, entry);
    }
  }

  reply(link: BridgeLink, chatId: string, text: string): string[] {
    const id = this.linkedSession(link);
    this.noticed(id, true);
    const answered = this.ledger(id).reply(chatId, text);
    for (const entry of answered) this.emit("message", entry);
    const messageIds = answered.map((e) => e.messageId);
    this.emit("reply", id, chatId, text, messageIds);
    return messageIds;
  }

  status(link: BridgeLink, chatId: string, status: string, detail: string | undefined): void {
    const id = this.linkedSession(link);
    this.noticed(id, true);
    this.emit("status", id, chatId, status, detail);
  }

  messages(link: BridgeLink, limit: number): ChatLine[] {
    const id = this.linkedSession(link);
    this.noticed(id, true);
    return this.ledger(id).chat(limit);
  }

  // --- permission prompts ------------------------------------------------------------------

  permissionRequest(link: BridgeLink, prompt: PermissionPrompt): void {
    const id = this.linkedSession(link);
    this.noticed(id, true);
    const key = `${id}\0${prompt.requestId}`;
    const last = this.ledgers.get(id)?.inTurn();
    const timeoutMs = this.options.config().permissionTimeoutSeconds * 1000;
    const pending: PendingPrompt<Client> = {
      sessionId: id,
      prompt,
      link,
      origin: (last && this.origins.get(last)) ?? null,
      timer: setTimeout(() => this.resolve(key, "deny", "timeout"), timeoutMs),
    };
    clearTimeout(this.pending.get(key)?.timer);
    this.pending.set(key, pending);
    this.emit("permission.request", id, prompt, pending.origin);
  }

  /** permission.respond: answers a pending prompt; `by` names the caller for the audit log. */
  respond(ref: string, requestId: string, behavior: Behavior, by: string): void {
    const session = this.pool.find(ref);
    const key = `${session.id}\0${requestId}`;
    if (!this.pending.has(key)) {
      throw new PoolError(
        ErrorCode.InvalidParams,
        `session ${session.name} has no pending permission request "${requestId}"; it was ` +
          "answered, timed out, or its claude exited",
      );
    }
    this.resolve(key, behavior, by);
  }

  private prompting(id: string): boolean {
    for (const p of this.pending.values()) if (p.sessionId === id) return true;
    return false;
  }

  /** Prompts waiting for an answer, for a client that connects late. */
  pendingPrompts(): { sessionId: string; prompt: PermissionPrompt }[] {
    return [...this.pending.values()].map(({ sessionId, prompt }) => ({ sessionId, prompt }));
  }

  private resolve(key: string, behavior: Behavior, by: string): void {
    const p = this.pending.get(key);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(key);
    const session = this.sessionById(p.sessionId);
    this.audit({
      session: p.sessionId,
      sessionName: session?.name ?? "",
      requestId: p.prompt.requestId,
      tool: p.prompt.toolName,
      description: p.prompt.description,
      decision: behavior,
      by,
    });
    this.options.log.info(
      `session ${p.sessionId}: ${p.prompt.toolName} ${behavior === "allow" ? "allowed" : "denied"} by ${by}`,
    );
    if (this.bridges.get(p.sessionId) === p.link) {
      p.link.notify(bridgeNotification.verdict, { requestId: p.prompt.requestId, behavior });
    }
    this.emit("permission.resolved", p.sessionId, p.prompt.requestId, behavior, by);
    if (session) this.flush(session);
  }

  /** A decision is applied even when it cannot be written down; the log says so. */
  private audit(decision: Parameters<AuditLog["record"]>[0]): void {
    try {
      this.options.audit.record(decision);
    } catch (err) {
      this.options.log.error(
        `audit log ${this.options.audit.file}: ${(err as Error).message}; decision not recorded: ` +
          `${decision.tool} ${decision.decision} by ${decision.by} (session ${decision.session})`,
      );
    }
  }

  // --- delivery ----------------------------------------------------------------------------

  /** Sends what is queued for `session` by the path open now, or waits for one. */
  private flush(session: Session): void {
    if (this.typing.has(session.id)) return; // the typing loop flushes again when done
    const queued = this.ledgers.get(session.id)?.queued() ?? [];
    const inflight = this.inflight.get(session.id);
    const waiting = queued.filter((e) => !inflight?.has(e));
    if (waiting.length === 0) return;
    const route = this.route(session);
    if (route.path === "channel") this.pushToChannel(session.id, route.link, waiting);
    else if (route.path === "pty") void this.typeIntoTerminal(session, waiting, route.note);
  }

  private route(
    session: Session,
  ):
    | { path: "channel"; link: BridgeLink }
    | { path: "pty"; note: string | null }
    | { path: "wait" } {
    const mode = this.options.config().delivery;
    const link = this.bridges.get(session.id);
    // Typing during a permission prompt would answer claude's dialog, unaudited.
    const terminalReady =
      session.status === "running" && session.blockedOn === null && !this.prompting(session.id);
    const typeNow = () =>
      terminalReady ? { path: "pty" as const, note: null } : { path: "wait" as const };
    if (mode === "pty") return typeNow();
    if (link && !this.deaf.has(session.id)) return { path: "channel", link };
    if (!session.spec.channel) return typeNow();
    if (mode === "channel" || !terminalReady) return { path: "wait" };
    const graceMs = this.options.config().channelFallbackSeconds * 1000;
    if (this.deaf.has(session.id)) {
      return {
        path: "pty",
        note: `claude took no notice of its channel within ${graceMs / 1000} s`,
      };
    }
    const waitedMs = Date.now() - (this.runningSince.get(session.id) ?? Date.now());
    if (waitedMs >= graceMs) {
      return { path: "pty", note: `the channel did not connect within ${graceMs / 1000} s` };
    }
    this.retryLater(session.id, graceMs - waitedMs);
    return { path: "wait" };
  }

  private pushToChannel(id: string, link: BridgeLink, entries: LedgerEntry[]): void {
    const inflight = this.inflight.get(id) ?? new Set();
    this.inflight.set(id, inflight);
    for (const e of entries) inflight.add(e);
    const messages: ChannelDelivery[] = entries.map((e) => ({
      messageId: e.messageId,
      content: e.content,
      // `user` may be a display name the client chose; `sender` is who the pool authenticated.
      meta: { user: e.from, ...e.meta, chat_id: e.chatId, message_id: e.messageId, sender: e.from },
    }));
    link.notify(bridgeNotification.deliver, { messages });
  }

  private async typeIntoTerminal(
    session: Session,
    entries: LedgerEntry[],
    note: string | null,
  ): Promise<void> {
    const ledger = this.ledger(session.id);
    this.typing.add(session.id);
    try {
      for (const entry of entries) {
        if (entry.state !== "queued") continue;
        await session.type(entry.content, true);
        ledger.markDelivered(entry, "pty", note);
        this.emit("message", entry);
      }
    } catch (err) {
      this.options.log.warn(`session ${session.id}: not typed yet: ${(err as Error).message}`);
      return;
    } finally {
      this.typing.delete(session.id);
    }
    this.flush(session);
  }

  /**
   * With delivery "auto", a message claude ignores must not be lost: without a login claude
   * starts the channel server but drops what it sends. Output or a tool call within the grace
   * period shows it was heard; otherwise the messages are typed into the terminal instead.
   */
  private watch(id: string, entry: LedgerEntry): void {
    if (this.options.config().delivery !== "auto" || this.heard.has(id)) return;
    const existing = this.watches.get(id);
    if (existing) {
      existing.entries.push(entry);
      return;
    }
    const graceMs = this.options.config().channelFallbackSeconds * 1000;
    const timer = setTimeout(() => {
      const watch = this.watches.get(id);
      this.watches.delete(id);
      const session = this.sessionById(id);
      if (!watch || !session) return;
      this.deaf.add(id);
      this.options.log.warn(
        `session ${id} (${session.name}): claude took no notice of its channel; typing messages into its terminal`,
      );
      for (const e of watch.entries) {
        if (e.state === "delivered") Object.assign(e, { state: "queued", via: null });
      }
      this.flush(session);
    }, graceMs);
    this.watches.set(id, { entries: [entry], timer });
  }

  /** Evidence that claude hears the session's channel (a tool call), or may (any output). */
  private noticed(id: string, certain = false): void {
    const watch = this.watches.get(id);
    if (watch) {
      clearTimeout(watch.timer);
      this.watches.delete(id);
      this.heard.add(id);
    } else if (certain) {
      this.heard.add(id);
    }
  }

  private requeueInflight(id: string): void {
    this.inflight.delete(id);
    const watch = this.watches.get(id);
    if (watch) clearTimeout(watch.timer);
    this.watches.delete(id);
  }

  private retryLater(id: string, delayMs: number): void {
    if (this.fallbackTimers.has(id)) return;
    const timer = setTimeout(() => {
      this.fallbackTimers.delete(id);
      const session = this.sessionById(id);
      if (session) this.flush(session);
    }, delayMs);
    this.fallbackTimers.set(id, timer);
  }

  /** Runs inside the session's own state change: nothing here may throw into it. */
  private onSessionChanged(session: Session): void {
    try {
      this.followSession(session);
    } catch (err) {
      this.options.log.error(`session ${session.id}: channel bridge: ${(err as Error).message}`);
    }
  }

  private followSession(session: Session): void {
    if (session.status === "running") {
      if (!this.runningSince.has(session.id)) this.runningSince.set(session.id, Date.now());
    } else {
      this.runningSince.delete(session.id);
    }
    if (session.blockedOn === "development-channels") this.confirmDevelopmentChannels(session);
    this.flush(session);
  }

  /**
   * The warning claude shows before loading development channels. The pool answers it only
   * when told to, and only when its own channel is the one being loaded.
   */
  private confirmDevelopmentChannels(session: Session): void {
    const launch = `${session.id}:${session.info().pid}`;
    if (!this.options.config().confirmDevelopmentChannels || session.status !== "running") return;
    if (this.confirmed.has(launch)) return;
    if (session.spec.developmentChannels.length > 0) {
      this.options.log.warn(
        `session ${session.id} (${session.name}): not answering the development channels ` +
          "warning, it also loads the session's own developmentChannels; attach and answer it",
      );
      return;
    }
    this.confirmed.add(launch);
    this.options.log.info(`session ${session.id}: confirming the development channels warning`);
    session.write("\r").catch(() => {});
  }

  private forget(id: string): void {
    const link = this.bridges.get(id);
    if (link) this.disconnect(link);
    this.ledgers.delete(id);
    clearTimeout(this.fallbackTimers.get(id));
    this.fallbackTimers.delete(id);
    this.runningSince.delete(id);
    this.heard.delete(id);
    this.deaf.delete(id);
    for (const launch of this.confirmed)
      if (launch.startsWith(`${id}:`)) this.confirmed.delete(launch);
  }

  private ledger(id: string): Ledger {
    let ledger = this.ledgers.get(id);
    if (!ledger) {
      ledger = new Ledger();
      this.ledgers.set(id, ledger);
    }
    return ledger;
  }

  private sessionOf(link: BridgeLink): string | null {
    for (const [id, l] of this.bridges) if (l === link) return id;
    return null;
  }

  private linkedSession(link: BridgeLink): string {
    const id = this.sessionOf(link);
    if (id === null) {
      throw new PoolError(
        ErrorCode.InvalidState,
        `call ${bridgeMethod.connect} first: this connection is no session's channel`,
      );
    }
    return id;
  }

  private sessionById(id: string): Session | null {
    try {
      return this.pool.find(id);
    } catch {
      return null;
    }
  }
}
