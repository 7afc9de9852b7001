import type { Dialog } from "../session/dialogs.js";

/**
 * The session host's protocol, spoken over `<runtime>/sessions/<id>.sock`. Frames are
 * `[kind u8][length u32 BE][payload]`: a JSON message, or output (`[offset u64 BE][bytes]`, the
 * terminal's bytes as read, with the offset of their first byte since the host started).
 *
 * The host speaks first with `hello`; its shape and the frame layout never change, so a
 * supervisor can always tell which version a host speaks, and stop it with `signal`.
 */
export const protocolVersion = 4;

export const enum FrameKind {
  Message = 1,
  Output = 2,
}

/**
 * Output sent to the supervisor and not yet acknowledged at which the host stops reading claude's
 * terminal, and below which it reads again. Larger than the screen model's marks: each
 * acknowledgement wakes the host, and the bytes in flight wait in the supervisor, not here.
 */
export const unackedHighBytes = 1 << 20;
export const unackedLowBytes = 256 * 1024;

const headerBytes = 5;
const offsetBytes = 8;
/** A snapshot of a large scrollback is the largest message. */
export const maxFrameBytes = 64 * 1024 * 1024;

/** What the supervisor gives a host (`native/claude-pool-host`) on its stdin. */
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
  /**
   * Phrases (ASCII, in any case) the host looks for in the lines that go into the scrollback in
   * claude's first minute, where the screen's lines would not show them (see HostScreen).
   */
  notices: string[];
  /** How long a host whose claude exited waits for a supervisor to collect the exit. */
  lingerMs?: number;
}

export interface HostExit {
  code: number;
  signal: number | null;
  /** The last few KiB of output, for the crash reason. */
  tail?: string;
}

export interface HostHello {
  t: "hello";
  version: number;
  hostPid: number;
  hostStart: string | null;
  /** claude's pid. */
  pid: number;
  procStart: string | null;
  /** Bytes of output so far. */
  offset: number;
  cols: number;
  rows: number;
  /** Whether claude has written to its terminal. */
  drawn: boolean;
  /** Set when claude exited while no supervisor was connected. */
  exit: HostExit | null;
}

/** The screen's lines once output settles, sent whenever they change. */
export interface HostScreen {
  t: "screen";
  lines: string[];
  /**
   * In claude's first minute: whether a line that went into the scrollback since the last screen
   * message (at an attach, any it keeps), or one of the screen's, holds one of the spec's notices.
   */
  noticed?: boolean;
}

export type Reply =
  | { t: "reply"; req: number; ok: true; result: unknown }
  | { t: "reply"; req: number; ok: false; error: string };

export type HostMessage = HostHello | HostScreen | Reply | { t: "exit"; exit: HostExit };

export interface SnapshotResult {
  data: string;
  cols: number;
  rows: number;
  /** The output before this offset is in the snapshot; output from it on is not. */
  offset: number;
}

/** How typing went: typed, or not, because claude exited or a dialog is shown. */
export type TypeResult = { typed: true } | { typed: false; dialog?: Dialog };

export type Request =
  | { t: "snapshot"; req: number; scrollback: boolean }
  | { t: "lines"; req: number; scrollback: boolean }
  /** Types a message: pasted when claude asked for it, then Enter as a read of its own. */
  | { t: "type"; req: number; text: string; submit: boolean };

export type SupervisorMessage =
  /** After `hello`: output streams from here on. */
  | { t: "attach"; version: number }
  | { t: "input"; data: string }
  | { t: "resize"; cols: number; rows: number }
  /** To claude's process group. */
  | { t: "signal"; signal: NodeJS.Signals }
  /** Everything before `offset` was taken. */
  | { t: "ack"; offset: number }
  /** claude's exit was seen: the host may exit. */
  | { t: "release" }
  | Request;

export type Frame =
  | { kind: FrameKind.Message; message: unknown }
  | { kind: FrameKind.Output; offset: number; data: Buffer };

export function encodeMessage(message: HostMessage | SupervisorMessage): Buffer {
  const payload = Buffer.from(JSON.stringify(message));
  const header = Buffer.allocUnsafe(headerBytes);
  header.writeUInt8(FrameKind.Message, 0);
  header.writeUInt32BE(payload.length, 1);
  return Buffer.concat([header, payload]);
}

export function encodeOutput(offset: number, data: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(headerBytes + offsetBytes + data.length);
  frame.writeUInt8(FrameKind.Output, 0);
  frame.writeUInt32BE(offsetBytes + data.length, 1);
  frame.writeBigUInt64BE(BigInt(offset), headerBytes);
  data.copy(frame, headerBytes + offsetBytes);
  return frame;
}

/**
 * Splits a byte stream into frames. A frame that is too large, of an unknown kind or not JSON
 * is an error: the stream cannot be trusted after it, so the connection ends.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly maxBytes = maxFrameBytes) {}

  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    for (;;) {
      if (this.buffered < headerBytes) return frames;
      const head = this.peek(headerBytes);
      const kind = head.readUInt8(0);
      const length = head.readUInt32BE(1);
      if (kind !== FrameKind.Message && kind !== FrameKind.Output) {
        throw new Error(`unknown frame kind ${kind}`);
      }
      if (length > this.maxBytes) throw new Error(`frame of ${length} bytes is over the limit`);
      if (this.buffered < headerBytes + length) return frames;
      const payload = this.take(headerBytes + length).subarray(headerBytes);
      if (kind === FrameKind.Message) {
        let message: unknown;
        try {
          message = JSON.parse(payload.toString("utf8"));
        } catch {
          throw new Error("a message frame is not JSON");
        }
        frames.push({ kind, message });
      } else {
        if (payload.length < offsetBytes) throw new Error("an output frame has no offset");
        const offset = Number(payload.readBigUInt64BE(0));
        frames.push({ kind, offset, data: payload.subarray(offsetBytes) });
      }
    }
  }

  private peek(bytes: number): Buffer {
    if (this.chunks[0].length < bytes) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0].subarray(0, bytes);
  }

  private take(bytes: number): Buffer {
    if (this.chunks[0].length < bytes) this.chunks = [Buffer.concat(this.chunks)];
    const head = this.chunks[0];
    const taken = head.subarray(0, bytes);
    if (head.length === bytes) this.chunks.shift();
    else this.chunks[0] = head.subarray(bytes);
    this.buffered -= bytes;
    return taken;
  }
}

/** `<dir>/<id>.sock`, the socket a session's host listens on. */
export function hostSocketPath(sessionsDir: string, sessionId: string): string {
  return `${sessionsDir}/${sessionId}.sock`;
}
