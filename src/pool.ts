import { randomBytes, randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { Ajv } from "ajv";
import { sessionSchema } from "./config/schema.js";
import type { PoolConfig, SessionSettings } from "./config/types.js";
import type { ChannelWiring } from "./channel/mcp-config.js";
import type { HookWiring } from "./hooks/settings.js";
import type { EndedTurn, Turn } from "./session/evidence.js";
import { ErrorCode, PoolError } from "./errors.js";
import { silentLogger, type Logger } from "./log.js";
import { dirname, join } from "node:path";
import { hostSocketPath } from "./host/protocol.js";
import { controlSocket } from "./paths.js";
import { PlainLauncher } from "./pty/process-launcher.js";
import type { ProcessLauncher } from "./session/launcher.js";
import { Session, type SessionInfo, type SessionRecord } from "./session/session.js";
import { ownSettings, settingsOfSpec, type OwnSettings } from "./session/spec.js";
import { isActive, isResumable } from "./session/status.js";
import type { StateStore } from "./store/state-store.js";

export interface PoolOptions {
  config: PoolConfig;
  store: StateStore;
  log?: Logger;
  /** Where sessions run; default plain PTY children of the pool. */
  launcher?: ProcessLauncher;
  /** Why sessions run without systemd scopes, for pool.status. */
  noScopesReason?: string | null;
  /** The environment claude's is made from; default the pool's own. */
  env?: NodeJS.ProcessEnv;
  /** Connects sessions to the pool's channel server; without it sessions run without one. */
  channel?: ChannelWiring;
  /** Reports each session's hooks to the pool; without it the screen is the only evidence. */
  hooks?: HookWiring;
  /** Where sessions' hosts listen (0700); default `sessions/` beside the control socket. */
  sessionsDir?: string;
}

export interface PoolStatus {
  status: "ok";
  startedAt: string;
  uptimeSeconds: number;
  active: number;
  maxSessions: number;
  sessions: number;
  memoryBytes: number;
  systemd: { mode: PoolConfig["systemd"]; scopes: boolean; reason: string | null };
}

interface PoolEvents {
  "session.changed": [session: SessionInfo];
  "session.removed": [id: string];
  "session.output": [id: string, data: string, offset: number, bytes: Buffer];
  "turn.started": [id: string, turn: Turn];
  "turn.delta": [id: string, turnId: string, text: string];
  "turn.ended": [id: string, turn: EndedTurn];
  /** claude's dialog for a hook's permission request closed without the pool's answer. */
  "permission.closed": [id: string, requestId: string];
  /** The session's claude said it cannot hear its channels. */
  "channels.refused": [id: string];
  /** A client asked the pool to stop, sessions and all (pool.shutdown). */
  "shutdown.requested": [];
}

const validateSettings = new Ajv({ allErrors: true, strict: false }).compile(sessionSchema);

/** The registry of sessions: capacity, lookup, idle sweep, persistence. */
export class Pool extends EventEmitter<PoolEvents> {
  private readonly sessions = new Map<string, Session>();
  private readonly log: Logger;
  private readonly startedAt = Date.now();
  private idleTimer: NodeJS.Timeout | null = null;
  private config: PoolConfig;
  private readonly launcher: ProcessLauncher;
  private shuttingDown = false;

  constructor(private readonly options: PoolOptions) {
    super();
    this.log = options.log ?? silentLogger;
    this.config = options.config;
    this.launcher = options.launcher ?? new PlainLauncher(this.log);
    this.sessionsDir =
      options.sessionsDir ?? join(dirname(controlSocket(options.env).path), "sessions");
  }

  private readonly sessionsDir: string;

  private hostSocket(id: string): string {
    return hostSocketPath(this.sessionsDir, id);
  }

  /** Restores the registry, resumes what was running, starts the configured sessions. */
  async start(): Promise<void> {
    const { store } = this.options;
    for (const removed of store.removeStaleTemps())
      this.log.info(`removed ${removed}, left by a killed pool`);
    const { defaults, channel } = this.config;
    const { records, warning } = store.load((spec) => settingsOfSpec(spec, defaults, channel));
    if (warning) this.log.warn(warning);
    const adopted = await this.launcher.adopt(
      records,
      (id) => this.hostSocket(id),
      this.config.stopTimeoutSeconds * 1000,
    );
    for (const record of records) {
      const found = adopted.get(record.id);
      if (found) this.add(record).adopt(found.launched, found.legacy);
      else this.add(restoredRecord(record));
    }
    const configured = this.applyConfiguredSessions();
    const toStart = this.sessionsToStart(configured);
    for (const session of this.sessions.values()) {
      // resumeOnStart is about conversations to resume; an adopted one never stopped.
      if (session.desired === "running" && !toStart.includes(session) && !adopted.has(session.id)) {
        void session.stop("not resumed: resumeOnStart is false");
      }
    }
    this.save();
    for (const session of toStart) {
      if (adopted.has(session.id)) continue;
      if (this.activeCount() < this.config.maxSessions) {
        session.start();
        continue;
      }
      this.log.warn(`session ${session.id} (${session.name}): not started, the pool is full`);
      void session.stop(`not started: the pool was full (maxSessions ${this.config.maxSessions})`);
    }
    this.startIdleSweep();
    this.launcher.prepare();
  }

  /**
   * Applies a reloaded config without touching running sessions: limits, policies and defaults
   * apply from the next start; newly configured sessions start now, and so do the sessions that
   * could not start before (the reload may have fixed what kept them from it).
   */
  reconfigure(config: PoolConfig): void {
    this.config = config;
    this.startIdleSweep();
    const configured = this.applyConfiguredSessions();
    this.save();
    if (this.shuttingDown) return;
    const waiting = [...this.sessions.values()].filter(
      (s) =>
        s.desired === "running" &&
        (s.status === "failed" || (s.status === "stopped" && configured.includes(s))),
    );
    for (const session of waiting) {
      if (this.activeCount() < this.config.maxSessions) session.start();
      else this.log.warn(`session ${session.id} (${session.name}): not started, the pool is full`);
    }
  }

  private startIdleSweep(): void {
    if (this.idleTimer) clearInterval(this.idleTimer);
    this.idleTimer = setInterval(() => this.sweepIdle(), this.config.idleCheckSeconds * 1000);
    this.idleTimer.unref();
  }

  /**
   * Lets go of every session without stopping it (the supervisor restarts): their hosts run on
   * for the next pool to adopt, and the registry keeps their pids.
   */
  detach(): void {
    this.shuttingDown = true;
    if (this.idleTimer) clearInterval(this.idleTimer);
    this.idleTimer = null;
    for (const session of this.sessions.values()) session.detach();
    this.launcher.close();
    this.save();
  }

  /** Stops every process; the registry keeps which sessions to resume at the next start. */
  async shutdown(): Promise<void> {
    this.shuttingDown = true;
    if (this.idleTimer) clearInterval(this.idleTimer);
    this.idleTimer = null;
    this.launcher.close();
    await Promise.all([...this.sessions.values()].map((s) => s.halt("pool shutting down")));
    this.save();
  }

  currentConfig(): PoolConfig {
    return this.config;
  }

  status(): PoolStatus {
    return {
      status: "ok",
      startedAt: new Date(this.startedAt).toISOString(),
      uptimeSeconds: Math.floor((Date.now() - this.startedAt) / 1000),
      active: this.activeCount(),
      maxSessions: this.config.maxSessions,
      sessions: this.sessions.size,
      memoryBytes: process.memoryUsage().rss,
      systemd: {
        mode: this.config.systemd,
        scopes: this.launcher.kind === "scope",
        reason: this.options.noScopesReason ?? null,
      },
    };
  }

  list(): SessionInfo[] {
    const now = Date.now();
    return [...this.sessions.values()].map((s) => s.info(now));
  }

  get(ref: string): SessionInfo {
    return this.find(ref).info();
  }

  /** Creates a session and starts it; a failed preflight leaves it `failed` with the reason. */
  spawn(settings: SessionSettings = {}): SessionInfo {
    if (!validateSettings(settings)) {
      const problems = (validateSettings.errors ?? []).map(
        (e) => `${e.instancePath || "params"} ${e.message}`,
      );
      throw new PoolError(
        ErrorCode.InvalidParams,
        `invalid session settings: ${problems.join("; ")}`,
      );
    }
    if (settings.name !== undefined && this.byName(settings.name)) {
      throw new PoolError(
        ErrorCode.InvalidParams,
        `a session named "${settings.name}" exists already; resume it or choose another name`,
      );
    }
    this.ensureCanStart();
    const id = this.newId();
    const own = ownSettings(settings.name ?? id, this.config.defaults, settings);
    const session = this.add(newRecord(id, own));
    session.start();
    return session.info();
  }

  async kill(ref: string): Promise<SessionInfo> {
    const session = this.find(ref);
    await session.stop("stopped by request");
    return session.info();
  }

  resume(ref: string): SessionInfo {
    const session = this.find(ref);
    if (!isResumable(session.status)) {
      throw new PoolError(
        ErrorCode.InvalidState,
        `session ${session.name} is ${session.status}; only stopped, crashed or failed sessions resume`,
      );
    }
    if (session.status === "crashed") this.ensureNotShuttingDown();
    else this.ensureCanStart();
    session.start();
    return session.info();
  }

  /** Removes a stopped or failed session; returns its id. */
  remove(ref: string): string {
    const session = this.find(ref);
    if (isActive(session.status) && session.status !== "crashed") {
      throw new PoolError(
        ErrorCode.InvalidState,
        `session ${session.name} is ${session.status}; stop it first with "claude-poolctl kill ${session.id}"`,
      );
    }
    session.removeAllListeners();
    void session.stop("removed");
    this.sessions.delete(session.id);
    this.options.channel?.remove(session.id);
    this.options.hooks?.remove(session.id);
    this.save();
    this.log.info(`session ${session.id} (${session.name}): removed`);
    this.emit("session.removed", session.id);
    return session.id;
  }

  /** Types `text` into the session as a message, or with `raw` writes it to the PTY as is. */
  send(
    ref: string,
    text: string,
    options: { raw?: boolean; submit?: boolean } = {},
  ): Promise<void> {
    const session = this.find(ref);
    return options.raw ? session.write(text) : session.type(text, options.submit ?? true);
  }

  resize(ref: string, cols: number, rows: number): void {
    this.find(ref).resize(cols, rows);
  }

  /** Holds session `id`'s output back, or lets it go (nothing if it is gone). */
  holdOutput(id: string, held: boolean): void {
    this.sessions.get(id)?.holdOutput(held);
  }

  /** The session `ref` names: its id, its name, or a unique id prefix. */
  find(ref: string): Session {
    const exact = this.sessions.get(ref) ?? this.byName(ref);
    if (exact) return exact;
    const matches = [...this.sessions.values()].filter((s) => s.id.startsWith(ref));
    if (matches.length === 1) return matches[0];
    if (matches.length > 1) {
      throw new PoolError(
        ErrorCode.SessionNotFound,
        `"${ref}" matches ${matches.length} sessions (${matches.map((s) => s.id).join(", ")}); give more of the id`,
      );
    }
    throw new PoolError(
      ErrorCode.SessionNotFound,
      `no session "${ref}"; list sessions with "claude-poolctl list"`,
    );
  }

  /** Stops running sessions idle past `idleTimeoutMinutes`, except keepWarm ones. */
  sweepIdle(now = Date.now()): void {
    const timeoutMs = this.config.idleTimeoutMinutes * 60_000;
    if (timeoutMs === 0) return;
    for (const session of this.sessions.values()) {
      const idle = session.idleMs(now);
      if (session.status !== "running" || session.spec.keepWarm || idle === null) continue;
      if (idle < timeoutMs) continue;
      const minutes = Math.floor(idle / 60_000);
      this.log.info(`session ${session.id} (${session.name}): idle for ${minutes} min, stopping`);
      void session.stop(`idle for ${minutes} min`);
    }
  }

  private add(record: SessionRecord): Session {
    const session = new Session(record, {
      launcher: this.launcher,
      config: () => this.config,
      env: this.options.env ?? process.env,
      log: this.log,
      channel: this.options.channel ?? null,
      hooks: this.options.hooks ?? null,
      hostSocket: (id) => this.hostSocket(id),
    });
    session.on("changed", () => {
      this.save();
      this.emit("session.changed", session.info());
    });
    session.on("recorded", () => this.save());
    session.on("output", (data, offset, bytes) =>
      this.emit("session.output", session.id, data, offset, bytes),
    );
    session.on("turn", (effect) => {
      switch (effect.type) {
        case "turn.started":
          return void this.emit("turn.started", session.id, effect.turn);
        case "turn.delta":
          return void this.emit("turn.delta", session.id, effect.turnId, effect.text);
        case "turn.ended":
          return void this.emit("turn.ended", session.id, effect.turn);
        case "permission.closed":
          return void this.emit("permission.closed", session.id, effect.requestId);
      }
    });
    session.on("channels.refused", () => this.emit("channels.refused", session.id));
    this.sessions.set(record.id, session);
    return session;
  }

  /** Brings `primarySession` and `sessions` into the registry, their settings from the config. */
  private applyConfiguredSessions(): Session[] {
    const configured = [
      ...(this.config.primarySession ? [this.config.primarySession] : []),
      ...this.config.sessions,
    ];
    return configured.map((settings) => {
      const own = ownSettings(settings.name, this.config.defaults, settings);
      const existing = this.byName(settings.name);
      if (!existing) return this.add(newRecord(this.newId(), own));
      existing.configure(own);
      return existing;
    });
  }

  /** Configured sessions, then those that were running when the pool went down; keepWarm first. */
  private sessionsToStart(configured: Session[]): Session[] {
    const resumed = [...this.sessions.values()].filter(
      (s) =>
        !configured.includes(s) &&
        s.desired === "running" &&
        (this.config.resumeOnStart || s.spec.keepWarm),
    );
    const byWarmth = (a: Session, b: Session) => Number(b.spec.keepWarm) - Number(a.spec.keepWarm);
    return [...configured, ...resumed.sort((a, b) => (a.idleMs() ?? 0) - (b.idleMs() ?? 0))].sort(
      byWarmth,
    );
  }

  private ensureNotShuttingDown(): void {
    if (!this.shuttingDown) return;
    throw new PoolError(
      ErrorCode.InvalidState,
      "the pool is shutting down; spawn or resume the session once the pool runs again",
    );
  }

  private ensureCanStart(): void {
    this.ensureNotShuttingDown();
    const active = this.activeCount();
    if (active < this.config.maxSessions) return;
    throw new PoolError(
      ErrorCode.PoolFull,
      `pool is full (${active}/${this.config.maxSessions} sessions active); ` +
        `stop one with "claude-poolctl kill <id>" or raise maxSessions in the config`,
    );
  }

  private activeCount(): number {
    return [...this.sessions.values()].filter((s) => isActive(s.status)).length;
  }

  private byName(name: string): Session | undefined {
    return [...this.sessions.values()].find((s) => s.name === name);
  }

  private newId(): string {
    for (;;) {
      const id = randomBytes(4).toString("hex");
      if (!this.sessions.has(id)) return id;
    }
  }

  private save(): void {
    try {
      this.options.store.save([...this.sessions.values()].map((s) => s.record()));
    } catch (err) {
      this.log.error(`cannot save the registry: ${(err as Error).message}`);
    }
  }
}

/** A registry record for a session that has not started yet. */
export function newRecord(id: string, settings: OwnSettings): SessionRecord {
  return {
    id,
    settings,
    claudeSessionId: randomUUID(),
    desired: "running",
    status: "stopped",
    pid: null,
    procStart: null,
    hostPid: null,
    hostStart: null,
    createdAt: new Date().toISOString(),
    startedAt: null,
    lastActivityAt: null,
    restarts: 0,
    exitCode: null,
    signal: null,
    reason: null,
    turn: null,
    lastTurn: null,
  };
}

/** When a turn that ended unseen was last known to run: its start, or the session's last output. */
function lastSeen(startedAt: string, lastActivityAt: string | null): string {
  return lastActivityAt !== null && lastActivityAt > startedAt ? lastActivityAt : startedAt;
}

/**
 * A record as the pool finds it at start: no process of its own runs any more, and the turn it
 * was in ended with it.
 */
function restoredRecord(record: SessionRecord): SessionRecord {
  const wasUp = isActive(record.status);
  const { turn } = record;
  return {
    ...record,
    turn: null,
    lastTurn: turn
      ? {
          ...turn,
          endedAt: lastSeen(turn.startedAt, record.lastActivityAt),
          outcome: "interrupted",
          reply: "",
        }
      : record.lastTurn,
    status: record.status === "failed" ? "failed" : "stopped",
    pid: null,
    procStart: null,
    hostPid: null,
    hostStart: null,
    reason: wasUp ? "pool restarted" : record.reason,
  };
}
