/** When the session last had PTY input or output: the idle sweep's clock. */
export class SessionActivity {
  private last: number | null;

  constructor(lastActivityAt: string | null) {
    this.last = lastActivityAt ? Date.parse(lastActivityAt) : null;
  }

  get lastActivityAt(): string | null {
    return this.last === null ? null : new Date(this.last).toISOString();
  }

  /** PTY input or output. */
  touch(now = Date.now()): void {
    this.last = now;
  }

  idleMs(now = Date.now()): number | null {
    if (this.last === null) return null;
    return Math.max(0, now - this.last);
  }
}
