import { startsWaiting } from "./model.js";
import type { Rpc } from "./rpc.js";
import type { Prompt, Scope, SessionInfo, SignIn } from "./types.js";

/** The signals the dashboard lives on; session.output comes to an attached terminal anyway. */
const signals = [
  "session.changed",
  "session.removed",
  "turn.started",
  "turn.delta",
  "turn.ended",
  "channel.message",
  "channel.reply",
  "permission.request",
  "permission.resolved",
];

type Listener = () => void;
type SignalListener = (params: Record<string, unknown>) => void;

/**
 * The pool as the dashboard knows it: every session and every pending permission prompt, kept
 * current by the /rpc signals (loaded anew on each connection), and who is signed in.
 */
export class Store {
  readonly sessions = new Map<string, SessionInfo>();
  /** When each session's JSON arrived (its idleSeconds count from then). */
  readonly received = new Map<string, number>();
  readonly prompts = new Map<string, Prompt>();
  /** False until the first session.list of a connection answered. */
  loaded = false;
  private readonly listeners = new Set<Listener>();
  private readonly signalListeners = new Map<string, Set<SignalListener>>();
  /** A session started waiting, or a prompt came: for notifications. */
  onWaiting: (session: SessionInfo, prompt: Prompt | null) => void = () => {};

  constructor(
    readonly rpc: Rpc,
    readonly caller: SignIn,
  ) {
    rpc.onNotification((method, params) => this.signal(method, params));
    rpc.onOpen(() => void this.load());
  }

  /** Whether the signed-in token has `scope` (admin has every one). */
  can(scope: Scope): boolean {
    return this.caller.scopes.includes("admin") || this.caller.scopes.includes(scope);
  }

  /** Calls `listener` after every change of sessions or prompts; returns its removal. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Calls `listener` with the params of each `method` signal; returns its removal. */
  on(method: string, listener: SignalListener): () => void {
    let set = this.signalListeners.get(method);
    if (!set) this.signalListeners.set(method, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Reloads every session (their memory and CPU are sampled, not signalled). */
  async refresh(): Promise<void> {
    const list = await this.rpc.call<SessionInfo[]>("session.list");
    const now = Date.now();
    this.sessions.clear();
    for (const session of list) {
      this.sessions.set(session.id, session);
      this.received.set(session.id, now);
    }
    this.loaded = true;
    this.changed();
  }

  promptsOf(sessionId: string): Prompt[] {
    return [...this.prompts.values()].filter((p) => p.id === sessionId);
  }

  private async load(): Promise<void> {
    try {
      // in one go: signals that come before the list are older than it, which replaces them
      await Promise.all([this.rpc.call("pool.subscribe", { signals }), this.refresh()]);
      if (this.can("approve")) {
        const pending = await this.rpc.call<Prompt[]>("permission.pending");
        this.prompts.clear();
        for (const prompt of pending) this.prompts.set(promptKey(prompt), prompt);
        this.changed();
      }
    } catch {
      // the connection dropped meanwhile; the next one loads again
    }
  }

  private signal(method: string, params: Record<string, unknown>): void {
    switch (method) {
      case "session.changed": {
        const session = params.session as SessionInfo;
        const previous = this.sessions.get(session.id);
        this.sessions.set(session.id, session);
        this.received.set(session.id, Date.now());
        if (previous !== undefined && startsWaiting(previous, session)) {
          this.onWaiting(session, null);
        }
        this.changed();
        break;
      }
      case "session.removed":
        this.sessions.delete(String(params.id));
        for (const [key, prompt] of this.prompts)
          if (prompt.id === params.id) this.prompts.delete(key);
        this.changed();
        break;
      case "permission.request": {
        const prompt = params as unknown as Prompt;
        this.prompts.set(promptKey(prompt), prompt);
        const session = this.sessions.get(prompt.id);
        if (session) this.onWaiting(session, prompt);
        this.changed();
        break;
      }
      case "permission.resolved":
        this.prompts.delete(promptKey(params as unknown as Prompt));
        this.changed();
        break;
    }
    for (const listener of this.signalListeners.get(method) ?? []) listener(params);
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}

function promptKey(prompt: Pick<Prompt, "id" | "requestId">): string {
  return `${prompt.id}/${prompt.requestId}`;
}
