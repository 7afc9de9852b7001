/**
 * Binary output, for clients that attach with `binary: true`: a session's terminal bytes as
 * claude wrote them, with no JSON string to build or parse. A message is
 * `[id length u8][id, UTF-8][bytes]`. Over WebSocket it is one binary frame; over the Unix socket
 * it is a record `[0x00][message length u32 BE][message]` between the JSON lines, which no line
 * can begin with.
 */

const recordMark = 0x00;
const recordHeaderBytes = 5;

export function encodeOutput(sessionId: string, chunks: readonly Buffer[]): Buffer {
  const id = Buffer.from(sessionId);
  if (id.length > 255) throw new Error(`session id of ${id.length} bytes is too long`);
  return Buffer.concat([Buffer.of(id.length), id, ...chunks]);
}

/** Null for a message too short to hold its id. */
export function decodeOutput(message: Buffer): { id: string; data: Buffer } | null {
  if (message.length < 1 || message.length < 1 + message[0]) return null;
  return {
    id: message.subarray(1, 1 + message[0]).toString(),
    data: message.subarray(1 + message[0]),
  };
}

/** The Unix socket's record header for a message of `bytes`. */
export function recordHeader(bytes: number): Buffer {
  const header = Buffer.allocUnsafe(recordHeaderBytes);
  header[0] = recordMark;
  header.writeUInt32BE(bytes, 1);
  return header;
}

export interface StreamReaderEvents {
  /** One JSON line, without its newline. */
  line(text: string): void;
  record(message: Buffer): void;
  /** A line or record over the cap: the stream cannot be followed after it. */
  oversized(): void;
}

/** A client's reader of the Unix socket: JSON lines, and binary output records between them. */
export class StreamReader {
  private parts: Buffer[] = [];
  private partBytes = 0;
  /** In a line, in a record's header, or in its body (`need` bytes in all). */
  private state: "between" | "line" | "header" | "body" = "between";
  private need = 0;
  private failed = false;

  constructor(
    private readonly events: StreamReaderEvents,
    private readonly maxBytes: number,
  ) {}

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length && !this.failed) {
      if (this.state === "between") {
        if (chunk[at] === recordMark) {
          this.state = "header";
          this.need = recordHeaderBytes;
        } else this.state = "line";
      }
      if (this.state === "line") {
        const newline = chunk.indexOf(0x0a, at);
        const end = newline === -1 ? chunk.length : newline;
        this.keep(chunk.subarray(at, end));
        if (newline === -1) return;
        at = newline + 1;
        const text = this.take().toString("utf8");
        this.state = "between";
        if (text.trim() !== "") this.events.line(text);
        continue;
      }
      const end = Math.min(chunk.length, at + this.need - this.partBytes);
      this.keep(chunk.subarray(at, end));
      at = end;
      if (this.partBytes < this.need) return;
      const whole = this.take();
      if (this.state === "header") {
        this.state = "body";
        this.need = whole.readUInt32BE(1);
        if (this.need > this.maxBytes) this.fail();
        else if (this.need === 0) this.endRecord(Buffer.alloc(0));
      } else this.endRecord(whole);
    }
  }

  private endRecord(message: Buffer): void {
    this.state = "between";
    this.events.record(message);
  }

  private keep(part: Buffer): void {
    if (part.length === 0) return;
    this.parts.push(part);
    this.partBytes += part.length;
    if (this.state === "line" && this.partBytes > this.maxBytes) this.fail();
  }

  private take(): Buffer {
    const whole = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts);
    this.parts = [];
    this.partBytes = 0;
    return whole;
  }

  private fail(): void {
    this.failed = true;
    this.parts = [];
    this.partBytes = 0;
    this.events.oversized();
  }
}
