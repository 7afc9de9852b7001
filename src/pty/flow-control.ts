/** What flow control stops and restarts: a PTY's reading. */
export interface Pausable {
  pause(): void;
  resume(): void;
}

/**
 * Characters of output written to the screen model but not yet parsed at which reading pauses, and
 * below which it resumes (VS Code's pty host: FlowControlConstants HighWatermarkChars and
 * LowWatermarkChars).
 */
export const highWatermarkChars = 100_000;
export const lowWatermarkChars = 5_000;

/**
 * Watermark flow control after xterm.js's guide (xtermjs.org/docs/guides/flowcontrol): the PTY stops
 * being read while the screen model is behind, so a flooding program blocks in its write as it would
 * on a real terminal, instead of the backlog growing in the pool until xterm discards it with an
 * error.
 */
export class FlowControl {
  private unparsed = 0;
  private paused = false;

  constructor(
    private readonly source: Pausable,
    private readonly high = highWatermarkChars,
    private readonly low = lowWatermarkChars,
  ) {}

  /** `chars` more were handed to the screen model. */
  written(chars: number): void {
    this.unparsed += chars;
    if (!this.paused && this.unparsed > this.high) {
      this.paused = true;
      this.source.pause();
    }
  }

  /** The screen model has parsed `chars` of what was written. */
  parsed(chars: number): void {
    this.unparsed = Math.max(0, this.unparsed - chars);
    if (this.paused && this.unparsed < this.low) {
      this.paused = false;
      this.source.resume();
    }
  }
}
