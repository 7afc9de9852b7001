import { EventEmitter } from "node:events";
import { connect, type Socket } from "node:net";
import { StringDecoder } from "node:string_decoder";
import { readScreen, type ClaudeScreen } from "../session/screen-reading.js";
import {
  encodeMessage,
  FrameDecoder,
  FrameKind,
  protocolVersion,
  unackedLowBytes,
  type Frame,
  type HostExit,
  type HostHello,
  type HostMessage,
  type SnapshotResult,
  type SupervisorMessage,
  type TypeResult,
} from "./protocol.js";

/**
 * Output is acknowledged in steps of this many bytes (well below the host's low mark, so a paused
 * host reads again at once), or this long after it stops coming.
 */
const ackStepBytes = unackedLowBytes / 2;
const ackDelayMs = 5;
/** Typing for a claude that has drawn nothing yet waits at most this long. */
const drawnTimeoutMs = 60_000;

interface HostEvents {
  /**
   * Output as text (without a character cut at its end, which comes with the next), with the byte
   * offset of its first byte, and as the bytes read.
   */
  data: [data: string, offset: number, bytes: Buffer];
  screen: [reading: ClaudeScreen];
  exit: [exit: HostExit];
  /** The connection ended without an exit: the host is gone, or was replaced. */
  lost: [reason: string];
}

/** The supervisor's end of a session host's socket. */
export class HostConnection extends EventEmitter<HostEvents> {
  private readonly text = new StringDecoder("utf8");
  private readonly pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (err: Error) => void }
  >();
  private nextReq = 1;
  private received = 0;
  private ackedTo = 0;
  private acksHeld = false;
  private ackScheduled = false;
  private exited = false;
  private closed = false;
  /** Whether claude has drawn text: before that its terminal may be in cooked mode. */
  private drawn: boolean;
  private drawnWaiters: (() => void)[] = [];
  private typing: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly socket: Socket,
    readonly hello: HostHello,
    private readonly decoder: FrameDecoder,
  ) {
    super();
    this.received = hello.offset;
    this.ackedTo = hello.offset;
    this.drawn = hello.drawn;
    socket.on("data", (chunk) => this.onData(chunk));
    socket.on("close", () => this.onClose());
  }

  /** Connects and reads the host's hello; a host of another protocol version is an error. */
  static open(path: string, timeoutMs = 5000): Promise<HostConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(path);
      const decoder = new FrameDecoder();
      const timer = setTimeout(
        () => fail(new Error(`no hello from ${path} in ${timeoutMs} ms`)),
        timeoutMs,
      );
      const fail = (err: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      socket.once("error", fail);
      const onData = (chunk: Buffer) => {
        let frames;
        try {
          frames = decoder.push(chunk);
        } catch (err) {
          fail(err as Error);
          return;
        }
        if (frames.length === 0) return;
        socket.off("data", onData);
        socket.off("error", fail);
        clearTimeout(timer);
        const first = frames[0];
        const hello = first.kind === FrameKind.Message ? (first.message as HostHello) : null;
        if (hello?.t !== "hello" || typeof hello.version !== "number") {
          fail(new Error(`${path} did not say hello`));
          return;
        }
        socket.on("error", () => {});
        if (hello.version !== protocolVersion) {
          const err = new HostVersionError(hello);
          socket.destroy();
          reject(err);
          return;
        }
        const connection = new HostConnection(socket, hello, decoder);
        resolve(connection);
        connection.onFrames(frames.slice(1));
      };
      socket.on("data", onData);
    });
  }

  get pid(): number {
    return this.hello.pid;
  }

  get hostPid(): number {
    return this.hello.hostPid;
  }

  /** Starts the output stream. */
  attach(): void {
    this.send({ t: "attach", version: protocolVersion });
  }

  write(data: string): void {
    this.send({ t: "input", data: wellFormed(data) });
  }

  resize(cols: number, rows: number): void {
    this.send({ t: "resize", cols, rows });
  }

  /** Signals claude's process group. */
  kill(signal: NodeJS.Signals = "SIGHUP"): void {
    this.send({ t: "signal", signal });
  }

  /**
   * While held, output is not acknowledged, so the host stops reading claude's terminal past its
   * watermark: a client that is slow to read slows the session instead of missing its output.
   */
  holdAcks(held: boolean): void {
    this.acksHeld = held;
    if (!held) this.ack();
  }

  /** claude's exit is taken: the host may end. */
  release(): void {
    this.send({ t: "release" });
  }

  snapshot(scrollback: boolean): Promise<SnapshotResult> {
    return this.request({ t: "snapshot", req: 0, scrollback }) as Promise<SnapshotResult>;
  }

  lines(scrollback: boolean): Promise<string[]> {
    return this.request({ t: "lines", req: 0, scrollback }) as Promise<string[]>;
  }

  /**
   * Types one message, in order with other typed messages: once claude has drawn, and not while a
   * dialog is on the screen, which the keys would answer. The host pastes it and presses Enter.
   */
  type(text: string, submit: boolean): Promise<TypeResult> {
    const step = async (): Promise<TypeResult> => {
      await this.untilDrawn();
      if (this.exited) return { typed: false };
      const { dialog } = readScreen(await this.lines(false));
      if (dialog !== null) return { typed: false, dialog };
      return (await this.request({
        t: "type",
        req: 0,
        text: wellFormed(text),
        submit,
      })) as TypeResult;
    };
    const next = this.typing.then(step);
    this.typing = next.catch(() => {});
    return next;
  }

  private untilDrawn(): Promise<void> {
    if (this.drawn || this.exited || this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, drawnTimeoutMs);
      this.drawnWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private wakeTypists(): void {
    for (const waiter of this.drawnWaiters.splice(0)) waiter();
  }

  /** Closes the connection; the host and claude run on. */
  dispose(): void {
    this.closed = true;
    this.socket.destroy();
  }

  private request(message: Extract<SupervisorMessage, { req: number }>): Promise<unknown> {
    if (this.socket.destroyed) {
      return Promise.reject(new Error("the session's host is not connected"));
    }
    const req = this.nextReq++;
    return new Promise((resolve, reject) => {
      this.pending.set(req, { resolve, reject });
      this.send({ ...message, req });
    });
  }

  private send(message: SupervisorMessage): void {
    if (!this.socket.destroyed) this.socket.write(encodeMessage(message));
  }

  private onData(chunk: Buffer): void {
    let frames;
    try {
      frames = this.decoder.push(chunk);
    } catch (err) {
      this.socket.destroy(err as Error);
      return;
    }
    this.onFrames(frames);
  }

  private onFrames(frames: Frame[]): void {
    for (const frame of frames) {
      if (frame.kind === FrameKind.Output) this.onOutput(frame.offset, frame.data);
      else this.onMessage(frame.message as HostMessage);
    }
  }

  private onOutput(offset: number, data: Buffer): void {
    this.received = offset + data.length;
    this.emit("data", this.text.write(data), offset, data);
    if (this.received - this.ackedTo >= ackStepBytes) this.ack();
    else if (!this.ackScheduled) {
      this.ackScheduled = true;
      setTimeout(() => {
        this.ackScheduled = false;
        this.ack();
      }, ackDelayMs);
    }
  }

  private ack(): void {
    if (this.acksHeld || this.received === this.ackedTo) return;
    this.ackedTo = this.received;
    this.send({ t: "ack", offset: this.received });
  }

  private onMessage(message: HostMessage): void {
    switch (message.t) {
      case "screen": {
        const reading = readScreen(message.lines);
        // A resumed conversation pushes claude's notice into the scrollback at once.
        if (message.noticed === true) reading.channelsRefused = true;
        // Modes are set before anything is drawn; a dialog is on the screen only once its text is.
        if (!this.drawn && message.lines.some((line) => line.trim() !== "")) {
          this.drawn = true;
          this.wakeTypists();
        }
        this.emit("screen", reading);
        return;
      }
      case "reply": {
        const waiter = this.pending.get(message.req);
        if (!waiter) return;
        this.pending.delete(message.req);
        if (message.ok) waiter.resolve(message.result);
        else waiter.reject(new Error(message.error));
        return;
      }
      case "exit":
        if (this.exited) return;
        this.exited = true;
        this.wakeTypists();
        this.emit("exit", message.exit);
        return;
      default:
        return;
    }
  }

  private onClose(): void {
    for (const waiter of this.pending.values()) {
      waiter.reject(new Error("the session's host went away"));
    }
    this.pending.clear();
    this.wakeTypists();
    if (!this.exited && !this.closed) this.emit("lost", "its host went away");
  }
}

/** Text the host can take as UTF-8: a lone surrogate (from a client's JSON) becomes U+FFFD. */
function wellFormed(text: string): string {
  return text.replace(/\p{Cs}/gu, "\uFFFD");
}

/** A host that speaks another version of the protocol. */
export class HostVersionError extends Error {
  constructor(readonly hello: HostHello) {
    super(`the session's host speaks protocol ${hello.version}, this pool ${protocolVersion}`);
  }
}
