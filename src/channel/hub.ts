import { EventEmitter } from "node:events";
import type { PoolConfig } from "../config/types.js";
import { ErrorCode, PoolError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Pool } from "../pool.js";
import { promptChars, type EndedTurn, type Turn } from "../session/evidence.js";
import type { Session } from "../session/session.js";
import { AgentMessenger } from "./agents.js";
import type { TranscriptEntry } from "../session/transcript.js";
import { LedgerStore } from "../store/ledger-store.js";
import type { AuditLog } from "./audit-log.js";
import type { DeliveryMode, Ledger, LedgerEntry } from "./ledger.js";
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

/** Where a permission prompt came from: claude's PermissionRequest hook, or its channel relay. */
export type PromptSource = "hook" | "channel";

interface PendingPrompt<Client> {
  sessionId: string;
  prompt: PermissionPrompt;
  source: PromptSource;
  /** Tells claude the decision; null leaves it to the dialog in claude's terminal. */
  answer: (behavior: Behavior | null) => void;
  /** The channel connection a relayed prompt came through. */
  link: BridgeLink | null;
  origin: Client | null;
  timer: NodeJS.Timeout;
}

interface HubEvents<Client> {
  message: [entry: LedgerEntry];
  reply: [sessionId: string, chatId: string, text: string, messageIds: string[]];
  status: [sessionId: string, chatId: string, status: string, detail: string | undefined];
  "permission.request": [
    sessionId: string,
    prompt: PermissionPrompt,
    source: PromptSource,
    origin: Client | null,
  ];
  "permission.resolved": [
    sessionId: string,
    requestId: string,
    behavior: Behavior | "terminal",
    by: string,
  ];
}

/** Messages waiting for delivery per session; channel.send refuses more. */
export const maxQueued = 100;

export interface ChannelHubOptions {
  config: () => PoolConfig;
  audit: AuditLog;
  log: Logger;
  /** Where the ledgers are kept; default in memory. */
  ledger?: LedgerStore;
}

/**
 * The channel bridge inside the pool: a delivery ledger per session, each session's channel
 * connection, the choice between channel and terminal, and permission prompts with their
 * timeouts and audit trail. `Client` is whatever a transport uses for a connection.
 */
export class ChannelHub<Client extends object> extends EventEmitter<HubEvents<Client>> {
  private readonly ledgers: LedgerStore;
  /** Sessions whose messages from before a restart have been checked against the transcript. */
  private readonly settled = new Set<string>();
  /**
   * Messages a previous pool delivered to a claude this pool adopted, still running: the turn in
   * progress, or the next one, answers them.
   */
  private readonly inherited = new WeakSet<LedgerEntry>();
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
  /** Sessions whose claude does not hear its channel, and how the pool knows. */
  private readonly deaf = new Map<string, string>();
  /** Per session: the deadline for a turn after a message went through an unproven channel. */
  private readonly watches = new Map<string, NodeJS.Timeout>();
  private readonly runningSince = new Map<string, number>();
  private readonly fallbackTimers = new Map<string, NodeJS.Timeout>();
  private readonly pending = new Map<string, PendingPrompt<Client>>();
  /** The turn each delivered message started (or joined); its end is the message's reply. */
  private readonly turnOf = new WeakMap<LedgerEntry, string>();
  /** The list_sessions and send_message tools: sessions messaging each other. */
  readonly agents: AgentMessenger;

  constructor(
    private readonly pool: Pool,
    private readonly options: ChannelHubOptions,
  ) {
    super();
    this.ledgers = options.ledger ?? LedgerStore.memory();
    pool.on("session.changed", (info) => {
      const session = this.sessionById(info.id);
      if (session) this.onSessionChanged(session);
    });
    pool.on("session.removed", (id) => this.forget(id));
    pool.on("turn.started", (id, turn) => this.turnStarted(id, turn));
    pool.on("turn.ended", (id, turn) => this.turnEnded(id, turn));
    pool.on("channels.refused", (id) => this.channelRefused(id));
    this.agents = new AgentMessenger(this, pool, options);
  }

  /**
   * channel.send: records the message and delivers it now or when a path opens; `delivery`
   * overrides the config's for this message.
   */
  send(
    ref: string,
    content: string,
    meta: Record<string, string>,
    origin: MessageOrigin<Client>,
    delivery: DeliveryMode | null = null,
  ) {
    const session = this.pool.find(ref);
    const channelless = !session.spec.channel && !this.bridges.has(session.id);
    if ((delivery ?? this.options.config().delivery) === "channel" && channelless) {
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
    const entry = ledger.add(content, meta, origin.from, delivery);
    if (origin.client !== null) this.origins.set(entry, origin.client);
    this.emit("message", entry);
    this.flush(session);
    return entry;
  }

  /** Messages delivered to session `id` and not answered yet, oldest first. */
  unanswered(id: string): LedgerEntry[] {
    return this.existing(id)?.delivered() ?? [];
  }

  history(ref: string, limit: number): LedgerEntry[] {
    const session = this.pool.find(ref);
    return this.existing(session.id)?.recent(limit) ?? [];
  }

  /** Resolves once every message and change recorded so far is on disk. */
  synced(): Promise<void> {
    return this.ledgers.synced();
  }

  // --- the bridge side ---------------------------------------------------------------------

  connect(ref: string, link: BridgeLink): Session {
    const session = this.pool.find(ref);
    const previous = this.bridges.get(session.id);
    if (previous && previous !== link) this.disconnect(previous);
    this.bridges.set(session.id, link);
    // A new channel process: whether claude hears it is learned again, unless this claude
    // already said it cannot (it may say so before its channel server connects).
    if (!session.channelsRefused) {
      this.deaf.delete(session.id);
      this.heard.delete(session.id);
    }
    this.options.log.info(`session ${session.id} (${session.name}): channel connected`);
    session.setChannelConnected(true);
    this.flush(session);
    return session;
  }

  /** Whether `client` is a session's channel server rather than a client of the pool. */
  isBridge(client: object): boolean {
    for (const link of this.bridges.values()) if (link === client) return true;
    return false;
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
      this.watch(id);
    }
  }

  reply(link: BridgeLink, chatId: string, text: string): string[] {
    const id = this.linkedSession(link);
    this.noticed(id);
    const answered = this.ledger(id).reply(chatId, text);
    for (const entry of answered) this.emit("message", entry);
    const messageIds = answered.map((e) => e.messageId);
    this.emit("reply", id, chatId, text, messageIds);
    return messageIds;
  }

  status(link: BridgeLink, chatId: string, status: string, detail: string | undefined): void {
    const id = this.linkedSession(link);
    this.noticed(id);
    this.emit("status", id, chatId, status, detail);
  }

  messages(link: BridgeLink, limit: number): ChatLine[] {
    const id = this.linkedSession(link);
    this.noticed(id);
    return this.ledger(id).chat(limit);
  }

  // --- turns -------------------------------------------------------------------------------

  /**
   * A turn started in session `id`: the messages delivered before it and not yet in a turn are
   * what it answers. A typed message is its turn's prompt, and one typed after it (before claude
   * reported the turn) waits for a turn of its own; a turn with no prompt of theirs (a channel
   * message's, or one only the screen saw) answers them all. For a message sent through the
   * channel, that is the proof claude hears it.
   */
  private turnStarted(id: string, turn: Turn): void {
    const open = (this.existing(id)?.delivered() ?? []).filter((e) => !this.turnOf.has(e));
    const prompted = open.filter((e) => isPromptOf(turn.prompt, e.content));
    let viaChannel = false;
    for (const entry of prompted.length > 0 ? prompted : open) {
      this.turnOf.set(entry, turn.id);
      viaChannel ||= entry.via === "channel";
    }
    if (viaChannel) this.noticed(id);
  }

  /**
   * The turn's last reply answers its messages that claude did not answer with the reply tool.
   * A turn the screen saw start, cut short before claude's hook named its prompt, answers
   * nothing: its messages wait for the turn of their own.
   */
  private turnEnded(id: string, turn: EndedTurn): void {
    const { id: turnId, reply } = turn;
    const ledger = this.existing(id);
    if (!ledger) return;
    const session = this.sessionById(id);
    if (session && !this.settled.has(id)) this.settle(session, ledger);
    const mine = ledger
      .delivered()
      .filter(
        (e) => this.turnOf.get(e) === turnId || (!this.turnOf.has(e) && this.inherited.has(e)),
      );
    for (const entry of mine) this.inherited.delete(entry);
    if (turn.outcome === "interrupted" && reply === "" && turn.prompt === "") {
      for (const entry of mine) this.turnOf.delete(entry);
      return;
    }
    // Only this turn's messages: others of their chat may wait for turns of their own.
    for (const chatId of new Set(mine.map((e) => e.chatId))) {
      const answered = ledger.replyTo(
        mine.filter((e) => e.chatId === chatId),
        reply,
      );
      for (const entry of answered) this.emit("message", entry);
      if (answered.length === 0) continue;
      this.emit(
        "reply",
        id,
        chatId,
        reply,
        answered.map((e) => e.messageId),
      );
    }
  }

  /**
   * claude said it cannot hear channels ("Channels are not currently available", or "channels
   * aren't available right now" when a message came): its refusal is no sign it heard anything.
   * What went through the channel and started no turn is typed instead, once.
   */
  private channelRefused(id: string): void {
    const session = this.sessionById(id);
    if (!session || this.deaf.has(id) || this.options.config().delivery !== "auto") return;
    this.heard.delete(id);
    this.markDeaf(session, "claude said channels are not available");
  }

  /** From now on this launch's messages are typed, and those its channel lost are typed again. */
  private markDeaf(session: Session, why: string): void {
    this.deaf.set(session.id, why);
    this.options.log.warn(
      `session ${session.id} (${session.name}): ${why}; typing messages into its terminal`,
    );
    this.requeueUnheard(session.id);
  }

  // --- permission prompts ------------------------------------------------------------------

  permissionRequest(link: BridgeLink, prompt: PermissionPrompt): void {
    const id = this.linkedSession(link);
    this.noticed(id);
    this.addPrompt(id, prompt, "channel", link, (behavior) => {
      if (behavior === null || this.bridges.get(id) !== link) return;
      link.notify(bridgeNotification.verdict, { requestId: prompt.requestId, behavior });
    });
  }

  /**
   * A permission request from claude's PermissionRequest hook: `answer` replies to the hook.
   * When claude stops waiting for it (the person answered at the terminal), `abandoned` runs.
   */
  hookPermission(
    sessionId: string,
    prompt: PermissionPrompt,
    answer: (behavior: Behavior | null) => void,
  ): { abandoned: () => void } {
    this.addPrompt(sessionId, prompt, "hook", null, answer);
    const key = `${sessionId}\0${prompt.requestId}`;
    return { abandoned: () => this.resolve(key, "terminal", "the terminal") };
  }

  /**
   * claude went on past its permission dialog without the pool's answer: the person answered at
   * the terminal. Resolves the session's hook prompts that `answered` says were settled.
   */
  settledAtTerminal(sessionId: string, answered: (prompt: PermissionPrompt) => boolean): void {
    for (const [key, p] of this.pending) {
      if (p.sessionId !== sessionId || p.source !== "hook" || !answered(p.prompt)) continue;
      this.resolve(key, "terminal", "the terminal");
    }
  }

  private addPrompt(
    id: string,
    prompt: PermissionPrompt,
    source: PromptSource,
    link: BridgeLink | null,
    answer: (behavior: Behavior | null) => void,
  ): void {
    const key = `${id}\0${prompt.requestId}`;
    const last = this.existing(id)?.inTurn();
    const config = this.options.config();
    // A hook's dialog stays open in claude's terminal: by default the decision is left to it.
    const onTimeout =
      source === "hook" && config.permissionTimeoutAction === "terminal" ? "terminal" : "deny";
    const pending: PendingPrompt<Client> = {
      sessionId: id,
      prompt,
      source,
      answer,
      link,
      origin: (last && this.origins.get(last)) ?? null,
      timer: setTimeout(
        () => this.resolve(key, onTimeout, "timeout"),
        config.permissionTimeoutSeconds * 1000,
      ),
    };
    const previous = this.pending.get(key);
    if (previous) clearTimeout(previous.timer);
    this.pending.set(key, pending);
    this.emit("permission.request", id, prompt, source, pending.origin);
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
  pendingPrompts(): { sessionId: string; prompt: PermissionPrompt; source: PromptSource }[] {
    return [...this.pending.values()].map(({ sessionId, prompt, source }) => ({
      sessionId,
      prompt,
      source,
    }));
  }

  /** `terminal`: the pool gives no decision and claude's own dialog decides. */
  private resolve(key: string, behavior: Behavior | "terminal", by: string): void {
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
    const outcome = { allow: "allowed", deny: "denied", terminal: "left to the terminal" };
    this.options.log.info(
      `session ${p.sessionId}: ${p.prompt.toolName} ${outcome[behavior]} by ${by}`,
    );
    p.answer(behavior === "terminal" ? null : behavior);
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

  /**
   * Sends what is queued for `session` by the path open now, or waits for one. Messages go in
   * order: a run of them with the same delivery mode at a time.
   */
  private flush(session: Session): void {
    if (this.typing.has(session.id)) return; // the typing loop flushes again when done
    const ledger = this.existing(session.id);
    if (!ledger) return;
    if (!this.settled.has(session.id)) this.settle(session, ledger);
    const inflight = this.inflight.get(session.id);
    let waiting = ledger.queued().filter((e) => !inflight?.has(e));
    while (waiting.length > 0) {
      const mode = this.modeOf(waiting[0]);
      const end = waiting.findIndex((e) => this.modeOf(e) !== mode);
      const batch = end < 0 ? waiting : waiting.slice(0, end);
      const route = this.route(session, mode);
      if (route.path === "pty") void this.typeIntoTerminal(session, batch, route.note);
      if (route.path !== "channel") return;
      this.pushToChannel(session.id, route.link, batch);
      waiting = waiting.slice(batch.length);
    }
  }

  private modeOf(entry: LedgerEntry): DeliveryMode {
    return entry.delivery ?? this.options.config().delivery;
  }

  /**
   * Messages that were on their way when the pool stopped (it checks before its first delivery
   * to a session): claude's transcript tells whether claude took each one, and its reply. One
   * it took is delivered, and replied (or failed, when claude stopped before it answered); one it
   * did not take is queued, to be sent again. Claude's own queue of typed input died with it.
   */
  private settle(session: Session, ledger: Ledger): void {
    this.settled.add(session.id);
    const unsure = ledger.unsure();
    if (unsure.length === 0) return;
    let transcript: TranscriptEntry[] = [];
    try {
      transcript = session.transcript();
    } catch (err) {
      const problem = (err as Error).message;
      this.options.log.warn(`session ${session.id}: cannot read claude's transcript: ${problem}`);
    }
    const taken = new Set<number>();
    for (const { entry, via } of unsure) {
      const index = transcript.findIndex(
        (t, i) =>
          !taken.has(i) &&
          t.role === "user" &&
          (t.time ?? "") >= entry.createdAt &&
          t.text.includes(entry.content.trim()),
      );
      if (index < 0) {
        if (entry.state === "queued") continue;
        ledger.requeue(entry, "claude had not taken it when the pool stopped; sent again");
        this.emit("message", entry);
        continue;
      }
      taken.add(index);
      if (entry.state === "queued") {
        ledger.markDelivered(entry, via, "claude took it before the pool restarted");
      }
      const reply = transcript[index + 1];
      if (reply?.role === "assistant") {
        ledger.replyTo([entry], reply.text);
        this.emit("message", entry);
        this.emit("reply", session.id, entry.chatId, reply.text, [entry.messageId]);
      } else if (session.adopted) {
        this.inherited.add(entry);
      } else {
        ledger.fail(entry, "claude stopped before it answered (the pool restarted)");
        this.emit("message", entry);
      }
    }
  }

  private route(
    session: Session,
    mode: DeliveryMode,
  ):
    | { path: "channel"; link: BridgeLink }
    | { path: "pty"; note: string | null }
    | { path: "wait" } {
    const link = this.bridges.get(session.id);
    // Typing during a permission prompt would answer claude's dialog, unaudited.
    const terminalReady =
      session.status === "running" &&
      session.conversation.waitingFor === null &&
      !session.permissionDialogShown &&
      !this.prompting(session.id);
    const typeNow = () =>
      terminalReady ? { path: "pty" as const, note: null } : { path: "wait" as const };
    if (mode === "pty") return typeNow();
    if (link && !this.deaf.has(session.id)) return { path: "channel", link };
    if (!session.spec.channel) return typeNow();
    if (mode === "channel" || !terminalReady) return { path: "wait" };
    const deaf = this.deaf.get(session.id);
    if (deaf !== undefined) return { path: "pty", note: deaf };
    const graceMs = this.options.config().channelFallbackSeconds * 1000;
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
    const ledger = this.ledger(id);
    for (const e of entries) {
      inflight.add(e);
      ledger.sent(e, "channel");
    }
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
        ledger.sent(entry, "pty");
        // Delivered once Enter is pressed: the turn it starts may come before type() returns.
        await session.type(entry.content, true, () => {
          ledger.markDelivered(entry, "pty", note);
          this.emit("message", entry);
        });
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
   * starts the channel server but drops what it sends. A turn the message starts, or a tool call,
   * within the grace period shows it was heard; otherwise the messages are typed instead.
   */
  private watch(id: string): void {
    if (this.options.config().delivery !== "auto" || this.heard.has(id) || this.watches.has(id)) {
      return;
    }
    const graceMs = this.options.config().channelFallbackSeconds * 1000;
    const timer = setTimeout(() => {
      this.watches.delete(id);
      const session = this.sessionById(id);
      if (!session) return;
      // A message through the channel waits for the turn in progress: the grace runs while idle.
      if (session.conversation.activity !== "idle") return this.watch(id);
      this.markDeaf(
        session,
        `a message through the channel started no turn within ${graceMs / 1000} s`,
      );
    }, graceMs);
    this.watches.set(id, timer);
  }

  /** Proof that claude hears the session's channel: a tool call, or a turn a message started. */
  private noticed(id: string): void {
    clearTimeout(this.watches.get(id));
    this.watches.delete(id);
    this.heard.add(id);
  }

  /** Channel messages that no turn took up go back in the queue, to be typed. */
  private requeueUnheard(id: string): void {
    const note = this.deaf.get(id) ?? null;
    clearTimeout(this.watches.get(id));
    this.watches.delete(id);
    this.inflight.delete(id);
    const ledger = this.existing(id);
    for (const e of ledger?.delivered() ?? []) {
      if (e.via !== "channel" || this.turnOf.has(e) || e.delivery === "channel") continue;
      ledger?.requeue(e, note);
    }
    const session = this.sessionById(id);
    if (session) this.flush(session);
  }

  private requeueInflight(id: string): void {
    this.inflight.delete(id);
    clearTimeout(this.watches.get(id));
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

  /** The session was removed: what it was to answer gets no reply. */
  private forget(id: string): void {
    const link = this.bridges.get(id);
    if (link) this.disconnect(link);
    const ledger = this.existing(id);
    for (const entry of [...(ledger?.queued() ?? []), ...(ledger?.delivered() ?? [])]) {
      ledger?.fail(entry, "its session was removed before it was answered");
      this.emit("message", entry);
    }
    this.ledgers.forget(id);
    this.settled.delete(id);
    clearTimeout(this.fallbackTimers.get(id));
    this.fallbackTimers.delete(id);
    this.runningSince.delete(id);
    this.heard.delete(id);
    this.deaf.delete(id);
    for (const launch of this.confirmed)
      if (launch.startsWith(`${id}:`)) this.confirmed.delete(launch);
  }

  private ledger(id: string): Ledger {
    return this.ledgers.ledger(id);
  }

  private existing(id: string): Ledger | undefined {
    return this.ledgers.has(id) ? this.ledgers.ledger(id) : undefined;
  }

  private sessionOf(link: BridgeLink): string | null {
    for (const [id, l] of this.bridges) if (l === link) return id;
    return null;
  }

  /** The session whose channel `link` is; refuses a connection that is none's. */
  linkedSession(link: BridgeLink): string {
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

/** Whether a turn's `prompt` (its first characters) is the message `content`, as claude took it. */
export function isPromptOf(prompt: string, content: string): boolean {
  const norm = (text: string) => text.replace(/\r\n?/g, "\n").trim();
  const [p, c] = [norm(prompt), norm(content)];
  if (p === "") return false;
  return p === c || (prompt.length === promptChars && c.startsWith(p));
}
