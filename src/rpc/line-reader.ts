/** Max bytes of one newline-delimited JSON message on the Unix socket. */
export const maxMessageBytes = 1 << 20;

export interface LineReaderEvents {
  line(text: string): void;
  /** A message passed the size cap; the rest of it, up to the next newline, is dropped. */
  oversized(): void;
}

/** Splits a byte stream into newline-delimited messages of at most `maxBytes` each. */
export class LineReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private discarding = false;

  constructor(
    private readonly events: LineReaderEvents,
    private readonly maxBytes = maxMessageBytes,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      const end = newline === -1 ? chunk.length : newline;
      this.take(chunk.subarray(start, end));
      if (newline === -1) return;
      this.endLine();
      start = newline + 1;
    }
  }

  private take(part: Buffer): void {
    if (this.discarding) return;
    if (this.pendingBytes + part.length > this.maxBytes) {
      this.discarding = true;
      this.pending = [];
      this.pendingBytes = 0;
      this.events.oversized();
      return;
    }
    if (part.length > 0) {
      this.pending.push(part);
      this.pendingBytes += part.length;
    }
  }

  private endLine(): void {
    if (this.discarding) {
      this.discarding = false;
      return;
    }
    const text = Buffer.concat(this.pending).toString("utf8");
    this.pending = [];
    this.pendingBytes = 0;
    if (text.trim() !== "") this.events.line(text);
  }
}
