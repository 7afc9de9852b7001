/** What flow control stops and restarts: a PTY's reading. */
export interface Pausable {
  pause(): void;
  resume(): void;
}

/**
 * Output handed to a consumer (the screen model, the supervisor) and not yet taken by it, at which
 * reading pauses, and below which it resumes (VS Code's pty host: FlowControlConstants
 * HighWatermarkChars and LowWatermarkChars).
 */
export const highWatermarkChars = 100_000;
export const lowWatermarkChars = 5_000;

/**
 * Watermark flow control after xterm.js's guide (xtermjs.org/docs/guides/flowcontrol): the PTY stops
 * being read while a consumer is behind, so a flooding program blocks in its write as it would on a
 * real terminal, instead of a backlog growing until xterm discards it with an error.
 */
export class FlowControl {
  private unparsed = 0;
  private paused = false;

  constructor(
    private readonly source: Pausable,
    private readonly high = highWatermarkChars,
    private readonly low = lowWatermarkChars,
  ) {}

  /** `chars` more were handed to the consumer. */
  written(chars: number): void {
    this.unparsed += chars;
    if (!this.paused && this.unparsed > this.high) {
      this.paused = true;
      this.source.pause();
    }
  }

  /** The consumer has taken `chars` of what was written. */
  parsed(chars: number): void {
    this.unparsed = Math.max(0, this.unparsed - chars);
    if (this.paused && this.unparsed < this.low) {
      this.paused = false;
      this.source.resume();
    }
  }
}
