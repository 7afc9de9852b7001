/** When the session last had PTY input or output, and input alone: the idle sweep's clocks. */
export class SessionActivity {
  private last: number | null;
  private lastInput = 0;

  constructor(lastActivityAt: string | null) {
    this.last = lastActivityAt ? Date.parse(lastActivityAt) : null;
  }

  get lastActivityAt(): string | null {
    return this.last === null ? null : new Date(this.last).toISOString();
  }

  /** PTY output, or a new process. */
  touch(now = Date.now()): void {
    this.last = now;
  }

  /** PTY input: someone, or the pool, typed at claude. */
  input(now = Date.now()): void {
    this.last = now;
    this.lastInput = now;
  }

  /** Milliseconds since the last input (from the epoch when there was none). */
  sinceInputMs(now = Date.now()): number {
    return now - this.lastInput;
  }

  idleMs(now = Date.now()): number | null {
    if (this.last === null) return null;
    return Math.max(0, now - this.last);
  }
}
