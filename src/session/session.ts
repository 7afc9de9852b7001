import { EventEmitter } from "node:events";
import { constants } from "node:os";
import type { PoolConfig } from "../config/types.js";
import { ErrorCode, PoolError } from "../errors.js";
import type { ChannelWiring } from "../channel/mcp-config.js";
import type { Logger } from "../log.js";
import { claudeConfigDir } from "../paths.js";
import { isSameProcess, procStartTime } from "../proc.js";
import type { HostConnection } from "../host/host-connection.js";
import type { HostExit, HostHello, SnapshotResult } from "../host/protocol.js";
import type { HookWiring } from "../hooks/settings.js";
import { SessionActivity } from "./activity.js";
import type { Dialog } from "./dialogs.js";
import {
  idleMs as evidenceIdleMs,
  initialEvidence,
  reduce as reduceEvidence,
  view as evidenceView,
  replyChars,
  type EndedTurn,
  type EvidenceEffect,
  type EvidenceEvent,
  type EvidenceState,
  type EvidenceView,
  type HookInput,
  type Turn,
} from "./evidence.js";
import type { LaunchedProcess, ProcessLauncher, Usage } from "./launcher.js";
import { buildClaudeArgs, takeSettingsArg } from "./claude-args.js";
import { buildClaudeEnv } from "./claude-env.js";
import { ClaudeSessionWatcher } from "./claude-state.js";
import { crashLine } from "./crash-reason.js";
import { trustBeforeLaunch } from "./folder-trust.js";
import { accepts, reduce, type LifecycleEvent } from "./lifecycle.js";
import { preflight } from "./preflight.js";
import { RestartTracker } from "./restart-policy.js";
import { channelRefusalPhrases, type ClaudeScreen } from "./screen-reading.js";
import { resolveSpec, type OwnSettings, type SessionSpec } from "./spec.js";
import type { SessionStatus } from "./status.js";
import {
  interruptedSince,
  readTranscript,
  transcriptFile,
  type TranscriptEntry,
} from "./transcript.js";

/** What the registry keeps of a session across pool restarts. */
export interface SessionRecord {
  id: string;
  /** What was given for this session; the config's defaults apply at each launch. */
  settings: OwnSettings;
  /** Claude Code's conversation id: chosen by the pool, then followed through /clear and /resume. */
  claudeSessionId: string;
  /** Whether the session should run: a pool restart resumes the ones that should. */
  desired: "running" | "stopped";
  status: SessionStatus;
  pid: number | null;
  /** Start time of `pid`, to recognise that process after a pool crash. */
  procStart: string | null;
  /** The session's host, which a starting pool adopts when it still runs. */
  hostPid: number | null;
  hostStart: string | null;
  createdAt: string;
  startedAt: string | null;
  lastActivityAt: string | null;
  restarts: number;
  exitCode: number | null;
  signal: string | null;
  reason: string | null;
  /** The turn in progress and the last one, as the session JSON shows them. */
  turn: Turn | null;
  lastTurn: EndedTurn | null;
}

/** DESIGN.md's session JSON, returned by every API. */
export interface SessionInfo extends EvidenceView {
  id: string;
  name: string;
  status: SessionStatus;
  pid: number | null;
  hostPid: number | null;
  claudeSessionId: string;
  keepWarm: boolean;
  workingDirectory: string;
  createdAt: string;
  startedAt: string | null;
  lastActivityAt: string | null;
  idleSeconds: number | null;
  restarts: number;
  exitCode: number | null;
  signal: string | null;
  unit: string | null;
  memoryBytes: number | null;
  cpuSeconds: number | null;
  tasks: number | null;
  channel: boolean;
  blockedOn: Dialog | null;
  reason: string | null;
}

export interface SessionRuntime {
  launcher: ProcessLauncher;
  /** The pool's config, read at each launch so a reload applies to the next start. */
  config: () => PoolConfig;
  /** The pool's environment, which claude's is made from. */
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** Connects sessions with `channel: true` to the pool's channel server; null: none. */
  channel: ChannelWiring | null;
  /** Reports claude's hooks to the pool; null: the screen is the only evidence. */
  hooks: HookWiring | null;
  /** Where the session's host listens. */
  hostSocket: (sessionId: string) => string;
}

interface SessionEvents {
  changed: [];
  /** The record changed in a way clients need not hear of yet; the registry saves it. */
  recorded: [];
  /** Output as text and as bytes, with the byte offset of its first byte in this launch's stream. */
  output: [data: string, offset: number, bytes: Buffer];
  /** A turn started, streamed or ended, or a permission dialog closed (the evidence model's effects). */
  turn: [effect: EvidenceEffect];
  /** claude said it cannot hear its channels. */
  "channels.refused": [];
}

const initialSize = { cols: 120, rows: 40 };
/** How long after a turn ends on the screen claude has written its reply to the transcript. */
const transcriptLagMs = 300;
/** How long a submitted message may take to start a turn before Enter is pressed again. */
const submitCheckMs = 1000;
const submitRetries = 2;
/** How often systemd's accounting of a running session is read. */
const usageIntervalMs = 5000;
/** How often the pid of a claude under a host of another version is checked. */
const legacyWatchMs = 250;
const upgradeReason = "restarting under a new host";

/** The screen a session's last process left, for attach and text after it exited. */
interface LastScreen {
  snapshot: ScreenSnapshot;
  lines: string[];
}

export type ScreenSnapshot = SnapshotResult;

/**
 * One launch of claude: its host, the connection to it, and everything that belongs to that
 * process alone. Disposed when the process ends, so nothing of it leaks into the next launch.
 */
class Run {
  connection: HostConnection | null = null;
  watcher: ClaudeSessionWatcher | null = null;
  killTimer: NodeJS.Timeout | null = null;
  usageTimer: NodeJS.Timeout | null = null;
  pollUsage: (() => Promise<void>) | null = null;
  usage: Usage | null = null;
  /** Set when the pool stops the process: its exit is then no crash. */
  stopReason: string | null = null;
  /** Why this launch cannot go on; its end then fails the session instead of a restart. */
  launchError: string | null = null;
  /** Whether claude's permission dialog was on the screen at the last reading. */
  dialogOnScreen = false;
  refusalReported = false;
  reading: ClaudeScreen | null = null;
  /** How this launch began its conversation; null for a run adopted from a previous pool. */
  conversation: "new" | "resume" | null = null;
  /** Set for a host of another protocol version: the pool watches claude's pid instead. */
  legacy: HostHello | null = null;
  legacyWatch: NodeJS.Timeout | null = null;
  readonly exited: Promise<void>;
  markExited: () => void = () => {};
  private disposed = false;

  constructor(
    readonly launched: LaunchedProcess,
    /** Whether this launch's claude was given the pool's hooks. */
    readonly hooks: boolean,
    readonly configDir: string,
  ) {
    this.exited = new Promise((resolve) => (this.markExited = resolve));
  }

  get ended(): boolean {
    return this.disposed;
  }

  dispose(): void {
    this.disposed = true;
    this.watcher?.dispose();
    this.watcher = null;
    if (this.killTimer) clearTimeout(this.killTimer);
    if (this.usageTimer) clearInterval(this.usageTimer);
    if (this.legacyWatch) clearInterval(this.legacyWatch);
    this.killTimer = this.usageTimer = this.legacyWatch = null;
    this.pollUsage = null;
    this.usage = null;
    this.connection?.removeAllListeners();
  }
}

/**
 * One conversation across all its claude processes: the lifecycle state machine, automatic
 * restarts, and the host of the process running now.
 */
export class Session extends EventEmitter<SessionEvents> {
  private readonly activity: SessionActivity;
  private input: Promise<void> = Promise.resolve();
  private run: Run | null = null;
  private lastScreen: LastScreen | null = null;
  private size = { ...initialSize };
  private outputHeld = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private readonly restartTracker = new RestartTracker();
  private channelConnected = false;
  private evidence: EvidenceState;
  /** The turn the registry says was in progress, for an adoption to go on with. */
  private readonly restoredTurn: Turn | null;

  constructor(
    private readonly rec: SessionRecord,
    private readonly runtime: SessionRuntime,
  ) {
    super();
    this.activity = new SessionActivity(rec.lastActivityAt);
    this.evidence = { ...initialEvidence(), lastTurn: rec.lastTurn };
    this.restoredTurn = rec.turn;
  }

  get id(): string {
    return this.rec.id;
  }

  get name(): string {
    return this.rec.settings.name;
  }

  get status(): SessionStatus {
    return this.rec.status;
  }

  /** The session's settings over the current config's defaults. */
  get spec(): SessionSpec {
    const { defaults, channel } = this.runtime.config();
    return resolveSpec(this.name, defaults, this.rec.settings, channel);
  }

  /** New settings from the config, for a configured session; they apply from its next launch. */
  configure(settings: OwnSettings): void {
    this.rec.settings = settings;
  }

  get desired(): "running" | "stopped" {
    return this.rec.desired;
  }

  /**
   * Milliseconds the conversation has been idle at its prompt with no PTY input or output (0
   * while a turn runs or something waits for a person), or null if there was no activity yet.
   */
  idleMs(now = Date.now()): number | null {
    const pty = this.activity.idleMs(now);
    const conversation = evidenceIdleMs(this.evidence, now);
    if (conversation === null || pty === null) return pty;
    // With hooks, claude's own redraws are no sign of life; someone typing at it is.
    const typing = this.evidence.hooks ? this.activity.sinceInputMs(now) : pty;
    return Math.min(typing, conversation);
  }

  get blockedOn(): Dialog | null {
    return this.evidence.dialog;
  }

  /** Whether claude's permission dialog is on the screen now (typing would answer it). */
  get permissionDialogShown(): boolean {
    return this.run?.dialogOnScreen ?? false;
  }

  /** Whether its claude was started by an earlier pool and taken over by this one. */
  get adopted(): boolean {
    return this.run !== null && this.run.conversation === null;
  }

  /** Whether this launch's claude said it cannot hear its channels. */
  get channelsRefused(): boolean {
    return this.run?.refusalReported ?? false;
  }

  /** What the conversation is doing: activity, what it waits for, its turns. */
  get conversation(): EvidenceView {
    return evidenceView(this.evidence);
  }

  /** A hook of this session's claude reported; `requestId` names a permission request. */
  hook(input: HookInput, requestId?: string): void {
    const run = this.run;
    if (run === null) return;
    this.observe({ type: "hook", at: Date.now(), input, requestId });
    // Its dialog may be drawn already, with no output to come that would make the host look again.
    if (input.hook_event_name === "PermissionRequest" && run.reading) {
      this.onScreen(run, run.reading);
    }
  }

  /**
   * A permission request was settled: answered (by a client, or at the terminal), or deferred to
   * the terminal because no client answered in time.
   */
  permissionSettled(requestId: string, how: "resolved" | "deferred"): void {
    const type = how === "resolved" ? "permission.resolved" : "permission.deferred";
    this.observe({ type, at: Date.now(), requestId });
  }

  /** The conversation from claude's transcript, oldest first. */
  transcript(limit?: number): TranscriptEntry[] {
    const file = this.transcriptPath();
    return file === null ? [] : readTranscript(file, limit);
  }

  /** Whether the session's channel server is connected to the pool (set by the channel hub). */
  setChannelConnected(connected: boolean): void {
    if (this.channelConnected === connected) return;
    this.channelConnected = connected;
    this.emit("changed");
  }

  record(): SessionRecord {
    return {
      ...this.rec,
      lastActivityAt: this.activity.lastActivityAt,
      turn: this.evidence.turn,
      lastTurn: this.evidence.lastTurn,
    };
  }

  info(now = Date.now()): SessionInfo {
    const rec = this.record();
    const idle = this.idleMs(now);
    const usage = this.run?.usage ?? null;
    return {
      id: rec.id,
      name: rec.settings.name,
      status: rec.status,
      pid: rec.pid,
      hostPid: rec.hostPid,
      claudeSessionId: rec.claudeSessionId,
      keepWarm: this.spec.keepWarm,
      workingDirectory: rec.settings.workingDirectory,
      createdAt: rec.createdAt,
      startedAt: rec.startedAt,
      lastActivityAt: rec.lastActivityAt,
      idleSeconds: idle === null ? null : Math.max(0, Math.floor(idle / 1000)),
      restarts: rec.restarts,
      exitCode: rec.exitCode,
      signal: rec.signal,
      unit: this.run?.launched.unit ?? null,
      memoryBytes: usage?.memoryBytes ?? null,
      cpuSeconds: usage?.cpuSeconds ?? null,
      tasks: usage?.tasks ?? null,
      channel: this.channelConnected,
      blockedOn: this.evidence.dialog,
      reason: rec.reason,
      ...evidenceView(this.evidence),
    };
  }

  /** Starts claude for this conversation: a user's spawn or resume, or the pool's own start. */
  start(): void {
    if (!accepts(this.status, "launch")) {
      throw new PoolError(
        ErrorCode.InvalidState,
        `session ${this.name} is ${this.status}; stop it first with "claude-poolctl kill ${this.id}"`,
      );
    }
    this.clearRestartTimer();
    this.restartTracker.reset();
    this.rec.restarts = 0;
    this.rec.desired = "running";
    this.launch();
  }

  /**
   * Takes over the host a previous pool left running: the session keeps its process, its pid
   * and its state, and goes on where it was.
   */
  adopt(launched: LaunchedProcess, legacy: HostHello | null = null): void {
    const hooks = this.runtime.hooks?.resume(this.id) ?? false;
    const run = new Run(launched, hooks, claudeConfigDir(this.claudeEnv()));
    this.run = run;
    if (this.rec.status !== "starting" || legacy) this.rec.status = "running";
    this.observe({ type: "launched", at: Date.now() }, true);
    if (this.rec.status === "running") this.observe({ type: "ready", at: Date.now() }, true);
    // Under an older host no screen comes to tell that the turn ended.
    const turn = legacy ? null : this.restoredTurn;
    this.observe({ type: "adopted", at: Date.now(), turn }, true);
    this.runtime.log.info(
      `session ${this.id} (${this.name}): adopted host ${launched.hostPid} (claude pid ${this.rec.pid})`,
    );
    if (legacy) this.followLegacy(run, legacy);
    else this.follow(run);
  }

  /**
   * A host of another protocol version cannot be spoken to: claude runs on under it, its hooks
   * still tell what it does, and at its first idle moment it is restarted with --resume under a
   * host of this version (never mid-turn). Until then only its exit is watched, by its pid.
   */
  private followLegacy(run: Run, hello: HostHello): void {
    run.legacy = hello;
    const { pid, procStart } = hello;
    run.legacyWatch = setInterval(() => {
      if (procStart !== null && isSameProcess(pid, procStart)) return;
      const how = run.stopReason === null ? "claude exited under an older host" : "claude exited";
      this.ended(run, { exitCode: null, signal: null, tail: "", lost: how });
    }, legacyWatchMs);
    run.legacyWatch.unref();
  }

  /** After every change: a legacy run whose conversation is idle by its hooks is restarted. */
  private upgradeWhenIdle(): void {
    const run = this.run;
    if (run?.legacy == null || run.stopReason !== null || this.status !== "running") return;
    if (!this.evidence.hooks || evidenceView(this.evidence).activity !== "idle") return;
    this.runtime.log.info(
      `session ${this.id} (${this.name}): idle; restarting it under a host of this version`,
    );
    void this.halt(upgradeReason).then(() => {
      if (this.status === "stopped" && this.desired === "running") this.start();
    });
  }

  /**
   * Lets go of the session's host without stopping it, for the next pool to adopt (a restart
   * of the supervisor); the record keeps the pids.
   */
  detach(): void {
    this.clearRestartTimer();
    const run = this.run;
    if (run === null) return;
    run.connection?.dispose();
    run.dispose();
    run.markExited();
    this.run = null;
  }

  /** Stops the session for good: it stays stopped across pool restarts until resumed. */
  async stop(reason: string): Promise<void> {
    if (this.run === null && this.status !== "crashed") {
      // Nothing runs: only the wish changes, and why a stopped session is stopped.
      const reasonNow = this.status === "stopped" ? reason : this.rec.reason;
      if (this.rec.desired === "stopped" && this.rec.reason === reasonNow) return;
      Object.assign(this.rec, { desired: "stopped", reason: reasonNow });
      this.emit("changed");
      return;
    }
    this.rec.desired = "stopped";
    await this.halt(reason);
  }

  /** Stops the process but keeps `desired`, so the next pool start resumes it. */
  async halt(reason: string): Promise<void> {
    this.clearRestartTimer();
    if (this.status === "crashed") {
      this.transition("stop", { reason });
      return;
    }
    const run = this.run;
    if (run === null) return;
    if (this.status !== "stopping") {
      run.stopReason = reason;
      this.transition("stop");
      run.launched.signal("SIGTERM");
      run.killTimer = setTimeout(
        () => run.launched.signal("SIGKILL"),
        this.runtime.config().stopTimeoutSeconds * 1000,
      );
    }
    await run.exited;
  }

  /** Raw input to claude's terminal, in order with typed messages. */
  write(data: string): Promise<void> {
    const run = this.inputRun();
    return this.queueInput(async () => {
      const connection = await this.connectionOf(run);
      connection.write(data);
      this.activity.input();
    });
  }

  /**
   * Types `text` as one message (the host's typing rules: pasted when claude enabled bracketed
   * paste, Enter as a read of its own); with `submit`, `onSubmitted` runs once Enter is sent.
   */
  type(text: string, submit: boolean, onSubmitted: () => void = () => {}): Promise<void> {
    const run = this.inputRun();
    return this.queueInput(async () => {
      const connection = await this.connectionOf(run);
      const typed = await connection.type(text, submit).catch(() => ({ typed: false }) as const);
      if (typed.typed === false && "dialog" in typed) {
        throw new PoolError(
          ErrorCode.InvalidState,
          `session ${this.name} waits at claude's ${typed.dialog} dialog; answer it ` +
            `first ("claude-poolctl attach ${this.id}")`,
        );
      }
      if (!typed.typed) {
        throw new PoolError(
          ErrorCode.InvalidState,
          `session ${this.name}'s claude exited before the message was submitted`,
        );
      }
      this.activity.input();
      if (!submit) return;
      onSubmitted();
      await this.confirmSubmitted(run, connection, text);
    });
  }

  /**
   * claude at its prompt sometimes drops an Enter that comes right after it drew: the message
   * then sits on its prompt line. With hooks the pool knows, since no turn starts; Enter is
   * pressed again while the text is still there (never while a turn runs, which queues input).
   */
  private async confirmSubmitted(
    run: Run,
    connection: HostConnection,
    text: string,
  ): Promise<void> {
    const firstLine = text.split("\n")[0].trim().slice(0, 40);
    for (let attempt = 0; attempt < submitRetries; attempt++) {
      if (!run.hooks || this.evidence.turn !== null || firstLine === "") return;
      const started = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          this.off("turn", onTurn);
          resolve(false);
        }, submitCheckMs);
        const onTurn = (effect: EvidenceEffect) => {
          if (effect.type !== "turn.started") return;
          clearTimeout(timer);
          this.off("turn", onTurn);
          resolve(true);
        };
        this.on("turn", onTurn);
      });
      if (started || run.ended || this.evidence.turn !== null) return;
      const lines = await connection.lines(false).catch(() => []);
      const prompt = [...lines].reverse().find((l) => l.trimStart().startsWith("❯"));
      if (!prompt?.includes(firstLine) || run.ended) return;
      this.runtime.log.info(
        `session ${this.id} (${this.name}): Enter was not taken; pressing it again`,
      );
      connection.write("\r");
    }
  }

  resize(cols: number, rows: number): void {
    this.size = { cols, rows };
    this.run?.connection?.resize(cols, rows);
  }

  /** Holds claude's output back while an attached client catches up (see Peer). */
  holdOutput(held: boolean): void {
    this.outputHeld = held;
    this.run?.connection?.holdAcks(held);
  }

  /** The screen and scrollback as escape sequences, consistent with all output before `offset`. */
  async snapshot(withScrollback = true): Promise<ScreenSnapshot> {
    const connection = this.run?.connection;
    if (connection) return connection.snapshot(withScrollback);
    return this.lastScreen?.snapshot ?? { data: "", ...this.size, offset: 0 };
  }

  /** Screen and scrollback as plain text, without the blank lines below the last output. */
  async text(): Promise<string[]> {
    const connection = this.run?.connection;
    const lines = connection ? await connection.lines(true) : [...(this.lastScreen?.lines ?? [])];
    while (lines.length > 0 && lines[lines.length - 1].trim() === "") lines.pop();
    return lines;
  }

  private inputRun(): Run {
    if (this.run === null || this.status === "stopping") {
      throw new PoolError(
        ErrorCode.InvalidState,
        `session ${this.name} is ${this.status}; resume it with "claude-poolctl resume ${this.id}"`,
      );
    }
    return this.run;
  }

  /** The run's host connection, once it is up; an error if that run ended first. */
  private async connectionOf(run: Run): Promise<HostConnection> {
    if (run.legacy) {
      throw new PoolError(
        ErrorCode.InvalidState,
        `session ${this.name} runs under a host of an older claude-pool; it restarts under this ` +
          `one at its next idle moment, or now with "claude-poolctl restart ${this.id}"`,
      );
    }
    const connection = run.connection ?? (await run.launched.started.catch(() => null));
    if (connection === null || run.ended) {
      throw new PoolError(
        ErrorCode.InvalidState,
        `session ${this.name}'s claude exited before the input reached it`,
      );
    }
    return connection;
  }

  private queueInput(step: () => Promise<void>): Promise<void> {
    const next = this.input.then(step);
    this.input = next.catch(() => {});
    return next;
  }

  private launch(): void {
    const config = this.runtime.config();
    const spec = this.spec;
    const env = this.claudeEnv();
    const check = preflight(config.claudePath, spec, env);
    if (!check.ok) {
      this.cannotStart(check.reason);
      return;
    }
    const configDir = claudeConfigDir(env);
    const cwd = spec.workingDirectory;
    if (config.trustWorkingDirectories) {
      trustBeforeLaunch(env, cwd, this.runtime.log, `session ${this.id} (${this.name})`);
    }
    // `--resume` of an id with no transcript fails ("No conversation found"): a conversation
    // that never got a message starts fresh instead.
    const transcript = transcriptFile(configDir, cwd, this.rec.claudeSessionId);
    const conversation = transcript !== null ? "resume" : "new";
    const channel = this.runtime.channel;
    // Recorded before the fork: a pool killed right after it still knows a claude may run.
    const changes = { pid: null, procStart: null, startedAt: new Date().toISOString() };
    const cleared = { exitCode: null, signal: null, reason: null };
    if (!this.transition("launch", { ...changes, ...cleared }, "recorded")) return;
    const hooks = config.hooks ? this.runtime.hooks : null;
    let launched: LaunchedProcess;
    try {
      const own = hooks ? takeSettingsArg(spec.args) : { args: spec.args, settings: null };
      const args = buildClaudeArgs(
        { ...spec, args: own.args },
        { kind: conversation, claudeSessionId: this.rec.claudeSessionId },
        spec.channel && channel ? channel.configFor(this.id) : null,
        hooks
          ? hooks.settingsFor(
              this.id,
              own.settings === null ? null : { value: own.settings, cwd: spec.workingDirectory },
            )
          : null,
      );
      launched = this.runtime.launcher.launch({
        sessionId: this.id,
        name: this.name,
        limits: spec.limits,
        stopTimeoutSec: config.stopTimeoutSeconds,
        host: {
          sessionId: this.id,
          socketPath: this.runtime.hostSocket(this.id),
          file: check.executable,
          args,
          cwd,
          env,
          ...this.size,
          scrollbackBytes: config.scrollbackBytes,
          notices: channelRefusalPhrases,
        },
      });
    } catch (err) {
      this.cannotStart(`cannot start ${check.executable}: ${(err as Error).message}`);
      return;
    }
    const run = new Run(launched, hooks !== null, configDir);
    this.run = run;
    this.lastScreen = null;
    this.observe({ type: "launched", at: Date.now() }, true);
    Object.assign(this.rec, {
      hostPid: launched.hostPid,
      hostStart: procStartTime(launched.hostPid),
    });
    this.activity.touch();
    this.emit("changed");
    run.conversation = conversation;
    launched.placed.then(
      () => this.onPlaced(run),
      (err: Error) => this.onPlacementFailed(run, err),
    );
    this.follow(run);
  }

  /** Listens to the run's host once it is up. */
  private follow(run: Run): void {
    run.launched.started.then(
      (connection) => this.connected(run, connection),
      (err: Error) => this.hostFailed(run, err),
    );
  }

  private connected(run: Run, connection: HostConnection): void {
    if (run.ended) {
      connection.dispose();
      return;
    }
    run.connection = connection;
    const { hello } = connection;
    Object.assign(this.rec, { pid: hello.pid, procStart: hello.procStart });
    if (run.conversation !== null) {
      this.runtime.log.info(
        `session ${this.id} (${this.name}): started pid ${hello.pid} (host ${hello.hostPid}), ` +
          `${run.conversation === "resume" ? "resuming" : "new"} conversation ${this.rec.claudeSessionId}`,
      );
    }
    connection.on("data", (data, offset, bytes) => this.onOutput(run, data, offset, bytes));
    connection.on("screen", (reading) => this.onScreen(run, reading));
    connection.on("exit", (exit) => this.onExit(run, exit));
    connection.on("lost", (reason) => this.onLost(run, reason));
    connection.attach();
    if (this.outputHeld) connection.holdAcks(true);
    run.watcher = new ClaudeSessionWatcher(run.configDir, hello.pid, (file) => {
      if (file.sessionId !== this.rec.claudeSessionId) {
        this.runtime.log.info(
          `session ${this.id} (${this.name}): conversation is now ${file.sessionId}`,
        );
        this.rec.claudeSessionId = file.sessionId;
        this.emit("changed");
      }
      this.markRunning();
    });
    run.watcher.start();
    if (run.launched.unit !== null) this.onPlaced(run);
    this.emit("changed");
  }

  /** The host never came up: the launch did not happen. */
  private hostFailed(run: Run, err: Error): void {
    if (run.ended) return;
    // It may run claude even so (it listened, but the connection failed): nothing else would end it.
    run.launched.abort();
    if (run.stopReason !== null) {
      this.ended(run, { exitCode: null, signal: null, tail: "", lost: "its host did not start" });
      return;
    }
    this.endRun(run);
    this.cannotStart(run.launchError ?? `the session's host did not start: ${err.message}`);
  }

  private onPlaced(run: Run): void {
    if (run.ended || run.usageTimer !== null || run.launched.unit === null) return;
    this.runtime.log.debug(`session ${this.id} (${this.name}): in ${run.launched.unit}`);
    const poll = () =>
      run.launched.usage().then(
        (usage) => {
          if (!run.ended) run.usage = usage;
        },
        () => {},
      );
    run.pollUsage = poll;
    if (this.status === "running") void poll();
    run.usageTimer = setInterval(poll, usageIntervalMs);
    run.usageTimer.unref();
    this.emit("changed");
  }

  /** With systemd "required", a session that cannot get its scope does not run; with "auto", it runs outside one. */
  private onPlacementFailed(run: Run, err: Error): void {
    if (run.ended) return;
    if (this.runtime.config().systemd === "required") {
      run.launchError = `cannot place claude in its systemd scope: ${err.message}`;
      run.launched.abort();
      return;
    }
    this.runtime.log.warn(
      `session ${this.id} (${this.name}): no systemd scope (${err.message}); running it without one`,
    );
    run.launched.runUnplaced();
  }

  private onOutput(run: Run, data: string, offset: number, bytes: Buffer): void {
    if (run.ended) return;
    this.activity.touch();
    this.markRunning();
    this.emit("output", data, offset, bytes);
  }

  /** What the host read off the screen: dialogs, claude's permission dialog, a refusal. */
  private onScreen(run: Run, reading: ClaudeScreen): void {
    if (run.ended) return;
    run.reading = reading;
    const before = this.evidence.dialog;
    this.observe({ type: "screen", at: Date.now(), reading });
    if (this.evidence.dialog !== before) {
      const dialog = this.evidence.dialog;
      this.runtime.log.info(
        `session ${this.id} (${this.name}): ${dialog ? `waiting at the ${dialog} dialog` : "dialog answered"}`,
      );
    }
    if (reading.permissionPrompt !== run.dialogOnScreen) {
      run.dialogOnScreen = reading.permissionPrompt;
      this.emit("changed");
    }
    if (reading.channelsRefused && !run.refusalReported) {
      run.refusalReported = true;
      this.emit("channels.refused");
    }
    if (!reading.busy && !reading.permissionPrompt) this.checkInterrupted();
  }

  /**
   * No hook marks a turn the person interrupted (Esc, or "No" at a tool's dialog): claude writes
   * it to the transcript, read here when the screen shows no turn running while one is open.
   */
  private checkInterrupted(): void {
    const turn = this.evidence.turn;
    if (!this.evidence.hooks || turn === null) return;
    const file = this.transcriptPath();
    if (file !== null && interruptedSince(file, turn.startedAt)) {
      this.observe({ type: "interrupted", at: Date.now() });
    }
  }

  private transcriptPath(): string | null {
    const configDir = claudeConfigDir(this.claudeEnv());
    return transcriptFile(configDir, this.spec.workingDirectory, this.rec.claudeSessionId);
  }

  /**
   * Feeds the evidence model and sends the turns it started and ended. A change is announced
   * unless `quiet`: the lifecycle step it belongs to announces it.
   */
  private observe(event: EvidenceEvent, quiet = false): void {
    const before = JSON.stringify(evidenceView(this.evidence));
    const { state, effects } = reduceEvidence(this.evidence, event);
    this.evidence = state;
    for (const effect of effects) {
      if (effect.type === "turn.ended" && !state.hooks && effect.turn.reply === "") {
        this.replyFromTranscript(effect.turn);
      } else {
        this.emit("turn", effect);
      }
    }
    if (!quiet && JSON.stringify(evidenceView(state)) !== before) this.emit("changed");
    this.upgradeWhenIdle();
  }

  /**
   * Without hooks the screen tells that a turn ended, not what claude said: the reply is read
   * from the transcript, which claude writes a moment after it shows the reply.
   */
  private replyFromTranscript(turn: EndedTurn): void {
    setTimeout(() => {
      let reply = "";
      let endedAt = turn.endedAt;
      try {
        const entries = this.transcript();
        const said = entries.filter(
          (e) => e.role === "assistant" && e.text !== "" && (e.time ?? "") >= turn.startedAt,
        );
        reply = said
          .map((e) => e.text)
          .join("\n\n")
          .slice(0, replyChars);
        // It ended when claude wrote the reply, before the screen showed it (long before, for a
        // turn that ended while no pool ran).
        const wrote = Date.parse(said.at(-1)?.time ?? "");
        if (wrote < Date.parse(endedAt)) endedAt = new Date(wrote).toISOString();
      } catch (err) {
        this.runtime.log.warn(`session ${this.id}: transcript: ${(err as Error).message}`);
      }
      const ended = { ...turn, endedAt, reply };
      if (this.evidence.lastTurn?.id === turn.id) {
        this.evidence = { ...this.evidence, lastTurn: ended };
        this.emit("changed");
      }
      this.emit("turn", { type: "turn.ended", turn: ended });
    }, transcriptLagMs);
  }

  /** claude exited: its last screen is kept, then the host may go. */
  private onExit(run: Run, exit: HostExit): void {
    if (run.ended) return;
    const connection = run.connection;
    const signal = exit.signal ? signalName(exit.signal) : null;
    this.ended(run, { exitCode: exit.code, signal, tail: exit.tail ?? "", lost: null });
    if (connection === null) return;
    void Promise.all([connection.snapshot(true), connection.lines(true)])
      .then(([snapshot, lines]) => {
        if (this.run === null) this.lastScreen = { snapshot, lines };
      })
      .catch(() => {})
      .finally(() => connection.dispose());
    // The host answers both before it goes.
    connection.release();
  }

  /** The host went away without telling of claude's exit: it was killed, or crashed. */
  private onLost(run: Run, reason: string): void {
    if (run.ended) return;
    run.launched.signal("SIGKILL");
    this.ended(run, { exitCode: null, signal: null, tail: "", lost: reason });
  }

  private endRun(run: Run): Promise<string | null> {
    run.dispose();
    if (this.run === run) this.run = null;
    const released = run.launched.release();
    void released.finally(() => run.markExited());
    return released;
  }

  private ended(
    run: Run,
    exit: { exitCode: number | null; signal: string | null; tail: string; lost: string | null },
  ): void {
    const released = this.endRun(run);
    this.observe({ type: "exited", at: Date.now() }, true);
    const { exitCode, signal } = exit;
    Object.assign(this.rec, {
      pid: null,
      procStart: null,
      hostPid: null,
      hostStart: null,
      exitCode,
      signal,
    });
    const how = exit.lost ?? (signal ? `killed by ${signal}` : `exited with code ${exitCode}`);
    if (run.stopReason !== null) {
      this.runtime.log.info(
        `session ${this.id} (${this.name}): stopped (${run.stopReason}), ${how}`,
      );
      this.transition("exit", { reason: run.stopReason });
    } else if (run.launchError !== null) {
      this.cannotStart(run.launchError);
    } else if (!exit.lost && !signal && exitCode === 0) {
      this.runtime.log.info(`session ${this.id} (${this.name}): claude exited`);
      this.transition("exit", { desired: "stopped", reason: "claude exited" });
    } else {
      const line = crashLine(exit.tail);
      const reason = line ? `${how}: ${line}` : how;
      this.runtime.log.warn(`session ${this.id} (${this.name}): crashed, ${reason}`);
      this.transition("crash", { reason });
      void released.then((result) => {
        if (this.run !== null || this.status !== "crashed") return;
        if (isOutOfMemory(result, signal, this.spec)) {
          this.rec.reason = "oom";
          this.runtime.log.warn(`session ${this.id} (${this.name}): killed by its memory limit`);
        }
        this.scheduleRestart();
      });
    }
  }

  /** Restarts a crashed session with backoff, or gives up when it crashed too often. */
  private scheduleRestart(): void {
    const policy = this.runtime.config().restart;
    const decision = this.restartTracker.next(Date.now(), policy);
    if (!decision.restart) {
      this.fail(
        `${this.rec.reason} (gave up after ${policy.maxRestarts} restarts in ${policy.windowMinutes} min)`,
      );
      return;
    }
    this.rec.restarts += 1;
    this.emit("changed");
    this.runtime.log.info(
      `session ${this.id} (${this.name}): restart ${this.rec.restarts} in ${decision.delayMs} ms`,
    );
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.launch();
    }, decision.delayMs);
  }

  /** Gives up on the conversation: it stays failed until someone resumes it. */
  private fail(reason: string): void {
    this.runtime.log.error(`session ${this.id} (${this.name}): failed, ${reason}`);
    this.transition("fail", { reason, desired: "stopped" });
  }

  /**
   * The environment keeps claude from starting (no binary, no folder, root, no scope): nothing is
   * wrong with the conversation, so the session keeps its wish to run.
   */
  private cannotStart(cause: string): void {
    const reason = `${cause} (will retry at the next start or reload)`;
    this.runtime.log.error(`session ${this.id} (${this.name}): failed, ${reason}`);
    this.transition("fail", { reason, pid: null, procStart: null, hostPid: null, hostStart: null });
  }

  private markRunning(): void {
    if (this.status !== "starting") return;
    this.observe({ type: "ready", at: Date.now() }, true);
    this.transition("ready");
    void this.run?.pollUsage?.();
  }

  /**
   * Applies `event` to the lifecycle with `changes` to the record, then tells the pool. An event
   * that does not apply changes nothing; it is logged, never thrown.
   */
  private transition(
    event: LifecycleEvent,
    changes: Partial<SessionRecord> = {},
    notice: "changed" | "recorded" = "changed",
  ): boolean {
    const next = reduce(this.rec.status, event);
    if (next.refused !== null) {
      this.runtime.log.warn(`session ${this.id} (${this.name}): ignored, ${next.refused}`);
      return false;
    }
    Object.assign(this.rec, changes, { status: next.status });
    this.emit(notice);
    return true;
  }

  private clearRestartTimer(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
  }

  private claudeEnv(): Record<string, string> {
    return buildClaudeEnv(this.runtime.env, this.runtime.config().inheritEnv, this.spec, this.id);
  }
}

function signalName(signal: number): string {
  const entry = Object.entries(constants.signals).find(([, n]) => n === signal);
  return entry ? entry[0] : `signal ${signal}`;
}

/**
 * systemd reports an OOM kill as the unit's result "oom-kill" where it can see it (cgroup v2). On
 * cgroup v1 it cannot: there, a SIGKILL nobody sent to a session with a memory cap is the limit.
 */
function isOutOfMemory(result: string | null, signal: string | null, spec: SessionSpec): boolean {
  if (result === "oom-kill") return true;
  return result !== null && signal === "SIGKILL" && spec.limits.memoryMax !== undefined;
}
