/**
 * Flow control for a terminal in the page, as ttyd does it with xterm.js's write callbacks: the
 * bytes handed to xterm.js and not yet parsed are counted. Past `highWater` the output is dropped
 * instead of queued (a flood would otherwise pile up in the page and freeze it); once xterm.js
 * has caught up to `lowWater`, the screen is redrawn from the pool's snapshot (session.attach),
 * which shows exactly what the dropped output drew. Pure: terminal.ts does the writing.
 */
export type FlowState = "live" | "behind" | "resyncing";

export class OutputFlow {
  state: FlowState = "live";
  /** Bytes written to the terminal whose write callback has not come yet. */
  pending = 0;
  /** Output dropped since the last redraw, for the status line. */
  dropped = 0;

  constructor(
    readonly highWater = 2 << 20,
    readonly lowWater = 256 << 10,
  ) {}

  /**
   * Output arrived: "write" it now (then call `written` from its callback), "drop" it, or drop it
   * and "redraw" at once (nothing is left to wait for).
   */
  accept(bytes: number): "write" | "drop" | "redraw" {
    if (this.state === "live" && this.pending + bytes <= this.highWater) {
      this.pending += bytes;
      return "write";
    }
    this.dropped += bytes;
    if (this.state !== "live") return "drop";
    this.state = "behind";
    return this.written(0) ? "redraw" : "drop";
  }

  /** xterm.js parsed `bytes` of what was written: true when the screen must be redrawn now. */
  written(bytes: number): boolean {
    this.pending = Math.max(0, this.pending - bytes);
    if (this.state !== "behind" || this.pending > this.lowWater) return false;
    this.state = "resyncing";
    return true;
  }

  /** The snapshot of a redraw arrived: written like output, and live from here on. */
  redrawn(bytes: number): void {
    this.state = "live";
    this.dropped = 0;
    this.pending += bytes;
  }
}
