import type { Dialog } from "./dialogs.js";

/**
 * What a session is doing, from the evidence the pool has: PTY traffic and the first-run dialog
 * on its screen. Later sources (Claude Code hooks) report here too.
 */
export class SessionActivity {
  private last: number | null;
  private dialog: Dialog | null = null;

  constructor(lastActivityAt: string | null) {
    this.last = lastActivityAt ? Date.parse(lastActivityAt) : null;
  }

  get lastActivityAt(): string | null {
    return this.last === null ? null : new Date(this.last).toISOString();
  }

  get blockedOn(): Dialog | null {
    return this.dialog;
  }

  /** PTY input or output. */
  touch(now = Date.now()): void {
    this.last = now;
  }

  /** Returns whether the dialog changed. Leaving a dialog counts as activity. */
  setBlockedOn(dialog: Dialog | null, now = Date.now()): boolean {
    if (dialog === this.dialog) return false;
    this.dialog = dialog;
    this.touch(now);
    return true;
  }

  /** Idle time does not run while a dialog waits for someone to answer it. */
  idleMs(now = Date.now()): number | null {
    if (this.last === null) return null;
    return this.dialog ? 0 : Math.max(0, now - this.last);
  }
}
