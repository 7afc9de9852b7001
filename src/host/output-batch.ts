/** Reads that follow a delivery this closely wait to go with the next one. */
const windowMs = 2;
/** A batch goes at once when it is this large, so a consumer's flow control still bites. */
const maxBatchBytes = 256 * 1024;

/**
 * Coalesces a terminal's reads: output after a quiet moment is delivered at once, and the reads of a
 * burst go together every couple of milliseconds. A PTY gives at most 4 KiB a read, and a frame,
 * a parse and a socket write per read (and a wake-up of the supervisor and its clients) cost more
 * than the bytes.
 */
export class OutputBatch {
  private chunks: Buffer[] = [];
  private size = 0;
  private timer: NodeJS.Timeout | null = null;
  private lastDelivery = -Infinity;

  constructor(
    private readonly deliver: (data: Buffer) => void,
    private readonly now: () => number = performance.now.bind(performance),
  ) {}

  push(data: Buffer): void {
    this.chunks.push(data);
    this.size += data.length;
    if (this.timer !== null && this.size < maxBatchBytes) return;
    const wait = this.lastDelivery + windowMs - this.now();
    if (wait <= 0 || this.size >= maxBatchBytes) this.flush();
    else this.timer = setTimeout(() => this.flush(), wait);
  }

  /** Delivers what is batched now, for a reader that must see all output read so far. */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.size === 0) return;
    const data = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.size);
    this.chunks = [];
    this.size = 0;
    this.lastDelivery = this.now();
    this.deliver(data);
  }

  dispose(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
