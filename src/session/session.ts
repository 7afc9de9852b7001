import { EventEmitter } from "node:events";
import { constants } from "node:os";
import type { PoolConfig } from "../config/types.js";
import { ErrorCode, PoolError } from "../errors.js";
import type { ChannelWiring } from "../channel/mcp-config.js";
import type { Logger } from "../log.js";
import { claudeConfigDir } from "../paths.js";
import { procStartTime } from "../proc.js";
import { FlowControl } from "../pty/flow-control.js";
import type { Disposable, PtyExit, PtyProcess } from "../pty/pty.js";
import { ScreenModel, type ScreenSnapshot } from "../pty/screen.js";
import { Scrollback } from "../pty/scrollback.js";
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
import { channelRefusals, readScreen } from "./screen-reading.js";
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
  createdAt: string;
  startedAt: string | null;
  lastActivityAt: string | null;
  restarts: number;
  exitCode: number | null;
  signal: string | null;
  reason: string | null;
}

/** DESIGN.md's session JSON, returned by every API. */
export interface SessionInfo extends EvidenceView {
  id: string;
  name: string;
  status: SessionStatus;
  pid: number | null;
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
}

interface SessionEvents {
  changed: [];
  /** The record changed in a way clients need not hear of yet; the registry saves it. */
  recorded: [];
  output: [data: string];
  /** A turn started, streamed or ended, or a permission dialog closed (the evidence model's effects). */
  turn: [effect: EvidenceEffect];
  /** claude said it cannot hear its channels. */
  "channels.refused": [];
}

const initialSize = { cols: 120, rows: 40 };
const tailBytes = 4096;
/** Output settles this long before the screen is checked for a dialog. */
const dialogCheckDelayMs = 50;
/** Text typed without bracketed paste and its Enter must reach claude as separate reads. */
const enterDelayMs = 25;
/** How long after a turn ends on the screen claude has written its reply to the transcript. */
const transcriptLagMs = 300;
/** claude says at start that it cannot hear channels; past this the scrollback is not searched. */
const refusalNoticeMs = 60_000;
/** How long a submitted message may take to start a turn before Enter is pressed again. */
const submitCheckMs = 1000;
const submitRetries = 2;
/** Input for a claude that has drawn nothing yet waits at most this long. */
const inputStartTimeoutMs = 60_000;
/** How often systemd's accounting of a running session is read. */
const usageIntervalMs = 5000;

/**
 * One conversation across all its claude processes: the lifecycle state machine, automatic
 * restarts, and the PTY of the process running now.
 */
export class Session extends EventEmitter<SessionEvents> {
  readonly screen: ScreenModel;
  private readonly activity: SessionActivity;
  private dialogTimer: NodeJS.Timeout | null = null;
  private input: Promise<void> = Promise.resolve();
  private launched: LaunchedProcess | null = null;
  /** Counts launches, so late news about an earlier process is ignored. */
  private generation = 0;
  private usage: Usage | null = null;
  private usageTimer: NodeJS.Timeout | null = null;
  private pollUsage: (() => Promise<void>) | null = null;
  private ptyListeners: Disposable[] = [];
  private watcher: ClaudeSessionWatcher | null = null;
  private exited: Promise<void> = Promise.resolve();
  private markExited: () => void = () => {};
  private stopReason: string | null = null;
  /** Why the current launch cannot go on; its exit then fails the session instead of a restart. */
  private launchError: string | null = null;
  private restartTimer: NodeJS.Timeout | null = null;
  private killTimer: NodeJS.Timeout | null = null;
  private readonly restartTracker: RestartTracker;
  /** Output of the current process only, for the crash reason. */
  private tail = new Scrollback(tailBytes);
  private channelConnected = false;
  /** Whether the current process has written to its terminal (then it reads it raw). */
  private drawn = false;
  private evidence: EvidenceState = initialEvidence();
  /** Whether the last screen reading showed claude's permission dialog. */
  private dialogOnScreen = false;
  /** Whether this launch's claude was given the pool's hooks. */
  private hooksThisLaunch = false;
  /** Whether this launch's refusal of its channels was reported. */
  private refusalReported = false;
  /** Channel refusals in the scrollback when this launch began, from earlier launches. */
  private refusalsBefore = 0;

  constructor(
    private readonly rec: SessionRecord,
    private readonly runtime: SessionRuntime,
  ) {
    super();
    const { scrollbackBytes } = runtime.config();
    this.screen = new ScreenModel(initialSize.cols, initialSize.rows, scrollbackBytes, (err) =>
      runtime.log.error(`session ${rec.id} (${rec.settings.name}): screen model: ${err.message}`),
    );
    this.activity = new SessionActivity(rec.lastActivityAt);
    this.restartTracker = new RestartTracker();
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
    return this.dialogOnScreen;
  }

  /** Whether this launch's claude said it cannot hear its channels. */
  get channelsRefused(): boolean {
    return this.refusalReported;
  }

  /** What the conversation is doing: activity, what it waits for, its turns. */
  get conversation(): EvidenceView {
    return evidenceView(this.evidence);
  }

  /** A hook of this session's claude reported; `requestId` names a permission request. */
  hook(input: HookInput, requestId?: string): void {
    if (this.launched === null) return;
    this.observe({ type: "hook", at: Date.now(), input, requestId });
    // Its dialog may be drawn already, with no output to come that would make the pool look.
    if (input.hook_event_name === "PermissionRequest") this.scheduleDialogCheck();
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
    return { ...this.rec, lastActivityAt: this.activity.lastActivityAt };
  }

  info(now = Date.now()): SessionInfo {
    const rec = this.record();
    const idle = this.idleMs(now);
    return {
      id: rec.id,
      name: rec.settings.name,
      status: rec.status,
      pid: rec.pid,
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
      unit: this.launched?.unit ?? null,
      memoryBytes: this.usage?.memoryBytes ?? null,
      cpuSeconds: this.usage?.cpuSeconds ?? null,
      tasks: this.usage?.tasks ?? null,
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

  /** Stops the session for good: it stays stopped across pool restarts until resumed. */
  async stop(reason: string): Promise<void> {
    if (this.launched === null && this.status !== "crashed") {
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
    const launched = this.launched;
    if (launched === null) return;
    if (this.status !== "stopping") {
      this.stopReason = reason;
      this.transition("stop");
      launched.signal("SIGTERM");
      this.killTimer = setTimeout(
        () => launched.signal("SIGKILL"),
        this.runtime.config().stopTimeoutSeconds * 1000,
      );
    }
    await this.exited;
  }

  /** Raw input to claude's terminal, in order with typed messages. */
  write(data: string): Promise<void> {
    const pty = this.inputTarget();
    return this.queueInput(async () => void this.writeTo(pty, data));
  }

  /**
   * Types `text` as one message: pasted when claude enabled bracketed paste (so its newlines stay
   * in the message), then, with `submit`, Enter as a read of its own (`onSubmitted` runs then).
   */
  type(text: string, submit: boolean, onSubmitted: () => void = () => {}): Promise<void> {
    const pty = this.inputTarget();
    return this.queueInput(async () => {
      // The terminal modes claude set are known once the screen has parsed its output so far.
      await this.screen.flushed();
      const pasted = this.screen.bracketedPaste;
      this.writeTo(pty, pasted ? `\x1b[200~${text}\x1b[201~` : text);
      if (!submit) return;
      // The end of a bracketed paste tells claude where the text ends; typed text needs a pause.
      if (!pasted) await new Promise((resolve) => setTimeout(resolve, enterDelayMs));
      if (!this.writeTo(pty, "\r")) {
        throw new PoolError(
          ErrorCode.InvalidState,
          `session ${this.name}'s claude exited before the message was submitted`,
        );
      }
      onSubmitted();
      await this.confirmSubmitted(pty, text);
    });
  }

  /**
   * claude at its prompt sometimes drops an Enter that comes right after it drew: the message
   * then sits on its prompt line. With hooks the pool knows, since no turn starts; Enter is
   * pressed again while the text is still there (never while a turn runs, which queues input).
   */
  private async confirmSubmitted(pty: PtyProcess, text: string): Promise<void> {
    const firstLine = text.split("\n")[0].trim().slice(0, 40);
    for (let attempt = 0; attempt < submitRetries; attempt++) {
      if (!this.hooksThisLaunch || this.evidence.turn !== null || firstLine === "") return;
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
      if (started || this.launched?.pty !== pty || this.evidence.turn !== null) return;
      await this.screen.flushed();
      const prompt = [...this.screen.lines()].reverse().find((l) => l.trimStart().startsWith("❯"));
      if (!prompt?.includes(firstLine)) return;
      this.runtime.log.info(
        `session ${this.id} (${this.name}): Enter was not taken; pressing it again`,
      );
      this.writeTo(pty, "\r");
    }
  }

  resize(cols: number, rows: number): void {
    this.screen.resize(cols, rows);
    this.launched?.pty.resize(cols, rows);
  }

  /** The screen and scrollback as escape sequences, consistent with all output so far. */
  snapshot(withScrollback = true): Promise<ScreenSnapshot> {
    return this.screen.snapshot(withScrollback);
  }

  /** Screen and scrollback as plain text, without the blank lines below the last output. */
  async text(): Promise<string[]> {
    await this.screen.flushed();
    const lines = this.screen.lines(true);
    while (lines.length > 0 && lines[lines.length - 1].trim() === "") lines.pop();
    return lines;
  }

  private inputTarget(): PtyProcess {
    if (this.launched === null || this.status === "stopping") {
      throw new PoolError(
        ErrorCode.InvalidState,
        `session ${this.name} is ${this.status}; resume it with "claude-poolctl resume ${this.id}"`,
      );
    }
    return this.launched.pty;
  }

  /**
   * Input waits until claude has drawn something: before that its terminal may still be in
   * cooked mode, where a typed Enter becomes a newline and the message is never submitted.
   * (Its session file, which makes the session "running", can come before that.)
   */
  private queueInput(step: () => Promise<void>): Promise<void> {
    const next = this.input.then(() => this.untilDrawn()).then(step);
    this.input = next.catch(() => {});
    return next;
  }

  private untilDrawn(): Promise<void> {
    if (this.drawn || this.launched === null) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.off("output", done);
        this.off("changed", onChange);
        resolve();
      };
      const onChange = () => {
        if (this.launched === null) done();
      };
      const timer = setTimeout(done, inputStartTimeoutMs);
      this.on("output", done);
      this.on("changed", onChange);
    });
  }

  /** Writes unless that process has exited meanwhile. */
  private writeTo(pty: PtyProcess, data: string): boolean {
    if (this.launched?.pty !== pty) return false;
    pty.write(data);
    this.activity.input();
    return true;
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
        pty: { file: check.executable, args, cwd, env, ...initialSize },
      });
    } catch (err) {
      this.cannotStart(`cannot start ${check.executable}: ${(err as Error).message}`);
      return;
    }
    const { pty } = launched;
    const generation = ++this.generation;
    this.launched = launched;
    this.drawn = false;
    this.launchError = null;
    this.tail = new Scrollback(tailBytes);
    this.screen.reset();
    this.refusalReported = false;
    this.dialogOnScreen = false;
    this.refusalsBefore = channelRefusals(this.screen.lines(true));
    this.hooksThisLaunch = hooks !== null;
    this.observe({ type: "launched", at: Date.now() }, true);
    this.exited = new Promise((resolve) => (this.markExited = resolve));
    Object.assign(this.rec, { pid: pty.pid, procStart: procStartTime(pty.pid) });
    this.stopReason = null;
    this.activity.touch();
    this.emit("changed");
    this.runtime.log.info(
      `session ${this.id} (${this.name}): started pid ${pty.pid}, ` +
        `${conversation === "resume" ? "resuming" : "new"} conversation ${this.rec.claudeSessionId}`,
    );
    const flow = new FlowControl(pty);
    this.ptyListeners = [
      pty.onData((data) => this.onOutput(data, flow)),
      pty.onExit((exit) => this.onExit(exit, launched, generation)),
    ];
    launched.started.then(
      () => this.onPlaced(launched, generation),
      (err: Error) => this.onPlacementFailed(launched, generation, err),
    );
    this.watcher = new ClaudeSessionWatcher(configDir, pty.pid, (file) => {
      if (file.sessionId !== this.rec.claudeSessionId) {
        this.runtime.log.info(
          `session ${this.id} (${this.name}): conversation is now ${file.sessionId}`,
        );
        this.rec.claudeSessionId = file.sessionId;
        this.emit("changed");
      }
      this.markRunning();
    });
    this.watcher.start();
  }

  private onPlaced(launched: LaunchedProcess, generation: number): void {
    if (generation !== this.generation || launched.unit === null) return;
    this.runtime.log.debug(`session ${this.id} (${this.name}): in ${launched.unit}`);
    const poll = () =>
      launched.usage().then(
        (usage) => {
          if (generation === this.generation && this.launched === launched) this.usage = usage;
        },
        () => {},
      );
    // the first reading waits for claude: until it runs, the scope holds only the stopped shell
    this.pollUsage = poll;
    if (this.status === "running") void poll();
    this.usageTimer = setInterval(poll, usageIntervalMs);
    this.usageTimer.unref();
    this.emit("changed");
  }

  /** With systemd "required", a session that cannot get its scope does not run; with "auto", it runs outside one. */
  private onPlacementFailed(launched: LaunchedProcess, generation: number, err: Error): void {
    if (generation !== this.generation) return;
    if (this.runtime.config().systemd === "required") {
      this.launchError = `cannot place claude in its systemd scope: ${err.message}`;
      launched.pty.kill("SIGKILL");
      return;
    }
    this.runtime.log.warn(
      `session ${this.id} (${this.name}): no systemd scope (${err.message}); running it without one`,
    );
    try {
      process.kill(launched.pty.pid, "SIGCONT");
    } catch {
      // exited meanwhile; onExit reports it
    }
  }

  private onOutput(data: string, flow: FlowControl): void {
    this.drawn = true;
    flow.written(data.length);
    this.screen.write(data, () => flow.parsed(data.length));
    this.tail.append(data);
    this.activity.touch();
    this.markRunning();
    this.scheduleDialogCheck();
    this.emit("output", data);
  }

  /** Reads the screen once output settles: dialogs, claude's permission dialog, a refusal. */
  private scheduleDialogCheck(): void {
    if (this.dialogTimer) return;
    this.dialogTimer = setTimeout(() => {
      void this.screen.flushed().then(() => {
        this.dialogTimer = null;
        try {
          this.readScreenNow();
        } catch (err) {
          this.runtime.log.error(
            `session ${this.id} (${this.name}): reading the screen: ${(err as Error).message}`,
          );
        }
      });
    }, dialogCheckDelayMs);
  }

  private readScreenNow(): void {
    if (this.launched === null) return;
    const reading = readScreen(this.screen.lines());
    const before = this.evidence.dialog;
    this.observe({ type: "screen", at: Date.now(), reading });
    if (this.evidence.dialog !== before) {
      const dialog = this.evidence.dialog;
      this.runtime.log.info(
        `session ${this.id} (${this.name}): ${dialog ? `waiting at the ${dialog} dialog` : "dialog answered"}`,
      );
    }
    if (reading.permissionPrompt !== this.dialogOnScreen) {
      this.dialogOnScreen = reading.permissionPrompt;
      this.emit("changed");
    }
    const refused =
      reading.channelsRefused ||
      (!this.refusalReported &&
        Date.now() - Date.parse(this.rec.startedAt ?? "") < refusalNoticeMs &&
        channelRefusals(this.screen.lines(true)) > this.refusalsBefore);
    if (refused && !this.refusalReported) {
      this.refusalReported = true;
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
  }

  /**
   * Without hooks the screen tells that a turn ended, not what claude said: the reply is read
   * from the transcript, which claude writes a moment after it shows the reply.
   */
  private replyFromTranscript(turn: EndedTurn): void {
    setTimeout(() => {
      let reply = "";
      try {
        const entries = this.transcript();
        const said = entries.filter(
          (e) => e.role === "assistant" && e.text !== "" && (e.time ?? "") >= turn.startedAt,
        );
        reply = said
          .map((e) => e.text)
          .join("\n\n")
          .slice(0, replyChars);
      } catch (err) {
        this.runtime.log.warn(`session ${this.id}: transcript: ${(err as Error).message}`);
      }
      const ended = { ...turn, reply };
      if (this.evidence.lastTurn?.id === turn.id) {
        this.evidence = { ...this.evidence, lastTurn: ended };
        this.emit("changed");
      }
      this.emit("turn", { type: "turn.ended", turn: ended });
    }, transcriptLagMs);
  }

  private onExit(exit: PtyExit, launched: LaunchedProcess, generation: number): void {
    for (const listener of this.ptyListeners) listener.dispose();
    this.ptyListeners = [];
    this.watcher?.dispose();
    this.watcher = null;
    if (this.killTimer) clearTimeout(this.killTimer);
    this.killTimer = null;
    if (this.usageTimer) clearInterval(this.usageTimer);
    this.usageTimer = null;
    this.pollUsage = null;
    this.usage = null;
    this.launched = null;
    this.observe({ type: "exited", at: Date.now() }, true);
    const signal = exit.signal ? signalName(exit.signal) : null;
    Object.assign(this.rec, { pid: null, procStart: null, exitCode: exit.exitCode, signal });
    const released = launched.release();
    void released.finally(() => this.markExited());
    const how = signal ? `killed by ${signal}` : `exited with code ${exit.exitCode}`;
    if (this.stopReason !== null) {
      this.runtime.log.info(
        `session ${this.id} (${this.name}): stopped (${this.stopReason}), ${how}`,
      );
      this.transition("exit", { reason: this.stopReason });
    } else if (this.launchError !== null) {
      this.cannotStart(this.launchError);
    } else if (!signal && exit.exitCode === 0) {
      this.runtime.log.info(`session ${this.id} (${this.name}): claude exited`);
      this.transition("exit", { desired: "stopped", reason: "claude exited" });
    } else {
      const line = crashLine(this.tail.text());
      const reason = line ? `${how}: ${line}` : how;
      this.runtime.log.warn(`session ${this.id} (${this.name}): crashed, ${reason}`);
      this.transition("crash", { reason });
      void released.then((result) => {
        if (generation !== this.generation || this.status !== "crashed") return;
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
    this.transition("fail", { reason });
  }

  private markRunning(): void {
    if (this.status !== "starting") return;
    this.observe({ type: "ready", at: Date.now() }, true);
    this.transition("ready");
    void this.pollUsage?.();
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
