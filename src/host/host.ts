import { mkdirSync, openSync, statSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { createServer, type Server, type Socket } from "node:net";
import { stderrIsJournal } from "../log.js";
import { procStartTime } from "../proc.js";
import { FlowControl } from "../pty/flow-control.js";
import { closeInheritedDescriptors } from "../pty/inherited-fds.js";
import { spawnNodePty } from "../pty/node-pty.js";
import type { PtyProcess } from "../pty/pty.js";
import { ScreenModel } from "../pty/screen.js";
import { channelRefusals, readScreen, type ClaudeScreen } from "../session/screen-reading.js";
import {
  encodeMessage,
  encodeOutput,
  FrameDecoder,
  FrameKind,
  protocolVersion,
  type HostExit,
  type HostMessage,
  type Request,
  type TypeResult,
  type SupervisorMessage,
  unackedHighBytes,
  unackedLowBytes,
} from "./protocol.js";
import { ByteTail } from "./byte-tail.js";
import { OutputBatch } from "./output-batch.js";
import { PauseGate } from "./pause-gate.js";

/** What the supervisor gives a host on its stdin. */
export interface HostSpec {
  sessionId: string;
  socketPath: string;
  file: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  cols: number;
  rows: number;
  scrollbackBytes: number;
  /** How long a host whose claude exited waits for a supervisor to collect the exit. */
  lingerMs?: number;
}

/** Output settles this long before the screen is read. */
const screenCheckDelayMs = 50;
/** Text typed without bracketed paste and its Enter must reach claude as separate reads. */
const enterDelayMs = 25;
/** Input for a claude that has drawn nothing yet waits at most this long. */
const inputStartTimeoutMs = 60_000;
/** claude says at start that it cannot hear channels; past this the scrollback is not searched. */
const refusalNoticeMs = 60_000;
/** Enough for claude's last lines, box drawing and colours included. */
const tailBytes = 16_384;
/** Output kept for the first supervisor, which attaches a moment after claude starts. */
const earlyBytes = 1 << 20;
const defaultLingerMs = 60 * 60 * 1000;
/** After a stop, how long the host waits for the supervisor to take claude's exit. */
const stopLingerMs = 2000;

/**
 * A session's host: owns claude's PTY and its screen model, and serves one supervisor at a time
 * on a Unix socket. The supervisor may come and go; claude runs on.
 */
export class SessionHost {
  private readonly screen: ScreenModel;
  private readonly child: PtyProcess;
  private readonly server: Server;
  private readonly gate: PauseGate;
  /** The screen model's backlog of unparsed output. */
  private readonly screenFlow: FlowControl;
  /** Output sent to the supervisor and not yet acknowledged; one per attached connection. */
  private peerFlow: FlowControl | null = null;
  private readonly tail = new ByteTail(tailBytes);
  private readonly batch = new OutputBatch((data) => this.onOutput(data));
  private readonly startedAt = Date.now();
  private peer: Socket | null = null;
  private attached = false;
  private offset = 0;
  private acked = 0;
  /** Output before the first attach, with its offsets; null once a supervisor attached. */
  private early: { offset: number; data: Buffer }[] | null = [];
  private earlySize = 0;
  private drawn = false;
  private drawnWaiters: (() => void)[] = [];
  private exit: HostExit | null = null;
  private stopping = false;
  private screenTimer: NodeJS.Timeout | null = null;
  private lastScreen = "";
  private reading: ClaudeScreen | null = null;
  private lingerTimer: NodeJS.Timeout | null = null;
  /** The device and inode of the socket this host listens on, so it never removes another host's. */
  private socketFile: string | null = null;
  private input: Promise<void> = Promise.resolve();

  constructor(private readonly spec: HostSpec) {
    // claude first: its start-up is what a launch waits for; its output comes in a later turn.
    this.child = spawnNodePty(spec);
    this.screen = new ScreenModel(spec.cols, spec.rows, spec.scrollbackBytes, (err) =>
      log(`screen model: ${err.message}`),
    );
    preferForOomKill(this.child.pid);
    this.gate = new PauseGate(
      () => this.child.pause(),
      () => this.child.resume(),
    );
    this.screenFlow = new FlowControl(this.holder("screen"));
    this.child.onData((data) => this.batch.push(data));
    this.child.onExit(({ exitCode, signal }) => {
      this.batch.flush();
      this.onExit({ code: exitCode, signal: signal || null });
    });
    this.server = createServer((socket) => this.onConnection(socket));
  }

  get pid(): number {
    return this.child.pid;
  }

  listen(): Promise<void> {
    try {
      unlinkSync(this.spec.socketPath);
    } catch {
      // none left by an earlier host
    }
    const umask = process.umask(0o177);
    return new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.spec.socketPath, () => {
        process.umask(umask);
        this.server.off("error", reject);
        // Gone at once (null): this host never removes the path.
        this.socketFile = fileIdentity(this.spec.socketPath);
        resolve();
      });
    });
  }

  /** SIGTERM: claude is being stopped with it; once it exits, the host goes too. */
  terminating(): void {
    this.stopping = true;
    if (this.exit) this.linger(stopLingerMs);
  }

  private onOutput(data: Buffer): void {
    const start = this.offset;
    this.offset += data.length;
    this.screenFlow.written(data.length);
    this.screen.write(data, () => this.screenFlow.parsed(data.length));
    this.tail.append(data);
    if (this.early !== null && this.earlySize + data.length <= earlyBytes) {
      this.early.push({ offset: start, data });
      this.earlySize += data.length;
    }
    if (this.peer && this.attached) {
      this.peer.write(encodeOutput(start, data));
      this.peerFlow?.written(data.length);
    }
    this.scheduleScreenCheck();
  }

  /** A consumer's say in whether claude's terminal is read. */
  private holder(name: string): { pause: () => void; resume: () => void } {
    return { pause: () => this.gate.hold(name, true), resume: () => this.gate.hold(name, false) };
  }

  private scheduleScreenCheck(): void {
    if (this.screenTimer) return;
    // Output during the wait for the parser schedules the next check, so the last is never missed.
    this.screenTimer = setTimeout(() => {
      this.screenTimer = null;
      void this.screen.flushed().then(() => this.readScreenNow());
    }, screenCheckDelayMs);
  }

  private readScreenNow(): void {
    const lines = this.screen.lines();
    // Modes are set before anything is drawn; a dialog is on the screen only once its text is.
    if (!this.drawn && lines.some((line) => line.trim() !== "")) {
      this.drawn = true;
      for (const waiter of this.drawnWaiters.splice(0)) waiter();
    }
    const reading = readScreen(lines);
    if (!reading.channelsRefused && Date.now() - this.startedAt < refusalNoticeMs) {
      reading.channelsRefused = channelRefusals(this.screen.lines(true)) > 0;
    }
    this.reading = reading;
    const json = JSON.stringify(reading);
    if (json === this.lastScreen) return;
    this.lastScreen = json;
    if (this.attached) this.send({ t: "screen", reading });
  }

  private onExit(exit: HostExit): void {
    this.exit = exit;
    for (const waiter of this.drawnWaiters.splice(0)) waiter();
    // The last output is parsed before the exit is told, so a snapshot after it is complete.
    void this.screen.flushed().then(() => {
      if (this.attached) this.send({ t: "exit", exit: { ...exit, tail: this.tail.text() } });
      // Stopped by a supervisor that is gone already: no one is left to take the exit.
      if (this.stopping && this.peer === null) this.close();
      else this.linger(this.stopping ? stopLingerMs : (this.spec.lingerMs ?? defaultLingerMs));
    });
  }

  /** Waits for a supervisor to take the exit, then ends. */
  private linger(ms: number): void {
    if (this.lingerTimer) clearTimeout(this.lingerTimer);
    this.lingerTimer = setTimeout(() => this.close(), ms);
  }

  private close(): void {
    // Closing the server unlinks whatever its path names by then: the socket of the session's next
    // host, if the session was resumed while this one lingered. The process's exit closes it too.
    if (this.ownsSocketPath()) this.server.close();
    this.peer?.end();
    this.batch.dispose();
    this.screen.dispose();
    setImmediate(() => process.exit(0));
  }

  private ownsSocketPath(): boolean {
    return this.socketFile !== null && fileIdentity(this.spec.socketPath) === this.socketFile;
  }

  private onConnection(socket: Socket): void {
    // One supervisor at a time: a new one (after a restart) replaces the old.
    this.peer?.destroy();
    this.peer = socket;
    this.attached = false;
    this.peerFlow = null;
    this.gate.hold("peer", false);
    const decoder = new FrameDecoder();
    socket.on("data", (chunk) => {
      let frames;
      try {
        frames = decoder.push(chunk);
      } catch (err) {
        log(`supervisor connection: ${(err as Error).message}`);
        socket.destroy();
        return;
      }
      for (const frame of frames) {
        if (frame.kind === FrameKind.Message) this.onMessage(frame.message as SupervisorMessage);
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      if (this.peer !== socket) return;
      this.peer = null;
      this.attached = false;
      this.peerFlow = null;
      this.gate.hold("peer", false);
      // The supervisor that stopped claude went before it took the exit: no one else will.
      if (this.exit && this.stopping) this.close();
    });
    this.send({
      t: "hello",
      version: protocolVersion,
      hostPid: process.pid,
      hostStart: procStartTime(process.pid),
      pid: this.child.pid,
      procStart: procStartTime(this.child.pid),
      offset: this.offset,
      cols: this.screen.cols,
      rows: this.screen.rows,
      drawn: this.drawn,
      exit: this.exit,
    });
  }

  private onMessage(message: SupervisorMessage): void {
    switch (message.t) {
      case "attach":
        this.attached = true;
        this.peerFlow = new FlowControl(this.holder("peer"), unackedHighBytes, unackedLowBytes);
        this.acked = this.sendEarly();
        if (this.reading) this.send({ t: "screen", reading: this.reading });
        if (this.exit) {
          void this.screen.flushed().then(() => {
            if (this.exit) this.send({ t: "exit", exit: { ...this.exit, tail: this.tail.text() } });
          });
        }
        return;
      case "input":
        if (!this.exit) this.child.write(message.data);
        return;
      case "resize":
        if (this.exit) return;
        this.screen.resize(message.cols, message.rows);
        this.child.resize(message.cols, message.rows);
        return;
      case "signal":
        // The supervisor stops claude: it takes the exit at once, or not at all.
        if (message.signal === "SIGTERM" || message.signal === "SIGKILL") this.stopping = true;
        this.signal(message.signal);
        return;
      case "ack":
        if (message.offset <= this.acked) return;
        this.peerFlow?.parsed(message.offset - this.acked);
        this.acked = message.offset;
        return;
      case "release":
        // Answers to requests sent before the release go out first.
        if (this.exit) void this.answering.then(() => this.close());
        return;
      case "snapshot":
      case "lines":
      case "type":
        this.answer(message);
        return;
      default:
        log(`unknown message ${JSON.stringify((message as { t?: unknown }).t)}`);
    }
  }

  private answer(request: Request): void {
    const work = (async (): Promise<unknown> => {
      await this.answering;
      switch (request.t) {
        case "snapshot": {
          const offset = this.offset;
          const snap = await this.screen.snapshot(request.scrollback);
          return { ...snap, offset };
        }
        case "lines":
          this.batch.flush();
          await this.screen.flushed();
          return this.screen.lines(request.scrollback);
        case "type":
          return this.type(request.text, request.submit);
      }
    })();
    const sent = work.then(
      (result) => this.send({ t: "reply", req: request.req, ok: true, result }),
      (err: Error) => this.send({ t: "reply", req: request.req, ok: false, error: err.message }),
    );
    // type waits for claude to draw; snapshot and lines need not wait for it.
    if (request.t !== "type") this.answering = sent;
  }

  /** The last snapshot or lines request's answer, sent. */
  private answering: Promise<void> = Promise.resolve();

  /**
   * Types one message, in order with other typed messages: once claude has drawn text and its
   * output settled (before that its terminal may be in cooked mode, where Enter is a newline),
   * pasted when claude enabled bracketed paste, then Enter as a read of its own. Not while a dialog is on the screen, which
   * the keys would answer, nor once claude has exited.
   */
  private type(text: string, submit: boolean): Promise<TypeResult> {
    const step = async (): Promise<TypeResult> => {
      await this.untilDrawn();
      this.batch.flush();
      await this.screen.flushed();
      if (this.exit) return { typed: false };
      const { dialog } = readScreen(this.screen.lines());
      if (dialog !== null) return { typed: false, dialog };
      const pasted = this.screen.bracketedPaste;
      this.child.write(pasted ? `\x1b[200~${text}\x1b[201~` : text);
      if (!submit) return { typed: true };
      if (!pasted) await new Promise((resolve) => setTimeout(resolve, enterDelayMs));
      if (this.exit) return { typed: false };
      this.child.write("\r");
      return { typed: true };
    };
    const next = this.input.then(step);
    this.input = next.then(
      () => {},
      () => {},
    );
    return next;
  }

  private untilDrawn(): Promise<void> {
    if (this.drawn || this.exit) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, inputStartTimeoutMs);
      this.drawnWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** claude leads its own session, so its tools and MCP servers share its process group. */
  private signal(signal: NodeJS.Signals): void {
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // the group is gone already
    }
  }

  /**
   * The first supervisor gets claude's first output too (from the offset its hello named, as far
   * as it was kept); the offset it is acknowledged from.
   */
  private sendEarly(): number {
    const early = this.early ?? [];
    this.early = null;
    const from = early[0]?.offset ?? this.offset;
    if (from !== 0 || early.length === 0) return this.offset;
    for (const { offset, data } of early) this.peer?.write(encodeOutput(offset, data));
    this.peerFlow?.written(this.offset - from);
    return from;
  }

  private send(message: HostMessage): void {
    if (this.peer && !this.peer.destroyed) this.peer.write(encodeMessage(message));
  }
}

/**
 * When the session's scope runs out of memory, the kernel kills its largest process, which can be
 * the host: claude and what it runs are made the kernel's first choice instead (raising a
 * child's oom_score_adj needs no privilege), so the host lives to report the kill.
 */
function preferForOomKill(pid: number): void {
  try {
    writeFileSync(`/proc/${pid}/oom_score_adj`, "500");
  } catch (err) {
    log(`oom_score_adj of ${pid}: ${(err as Error).message}`);
  }
}

/** Where the host's messages go: the journal, or a file beside its socket (from its spec on). */
let logFd: number | null = null;

/** The device and inode of the file at `path`, or null if there is none. */
function fileIdentity(path: string): string | null {
  try {
    const { dev, ino } = statSync(path);
    return `${dev}:${ino}`;
  } catch {
    return null;
  }
}

function log(message: string): void {
  const line = `claude-pool host ${process.pid}: ${message}\n`;
  try {
    if (logFd !== null) writeSync(logFd, line);
    else process.stderr.write(line);
  } catch {
    // no one reads the host's messages any more
  }
}

/**
 * `claude-pool host`: loads, then waits for its spec on stdin; starts claude, says "ready" on
 * stdout.
 */
export async function runHost(): Promise<void> {
  // A first screen model costs milliseconds of compiling, which a waiting spare host can spend
  // before its claude starts rather than while it does.
  new ScreenModel(80, 24, 0).dispose();
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // A spare host the supervisor never used: it went away, or did not need it.
  if (chunks.length === 0) process.exit(0);
  const spec = JSON.parse(Buffer.concat(chunks).toString("utf8")) as HostSpec;
  process.title = `claude-pool host ${spec.sessionId}`;
  process.stderr.on("error", () => {});
  mkdirSync(dirname(spec.socketPath), { recursive: true, mode: 0o700 });
  if (!stderrIsJournal()) {
    logFd = openSync(spec.socketPath.replace(/\.sock$/, ".host.log"), "a", 0o600);
  }
  closeInheritedDescriptors();
  const host = new SessionHost(spec);
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => host.terminating());
  }
  process.on("SIGHUP", () => {});
  process.on("SIGPIPE", () => {});
  await host.listen();
  process.stdout.write(`ready ${host.pid}\n`);
  process.stdout.end();
}
