import type { RestartPolicy } from "../config/types.js";

export type RestartDecision = { restart: true; delayMs: number } | { restart: false };

/** Counts automatic restarts in a sliding window and spaces them with exponential backoff. */
export class RestartTracker {
  private restartTimes: number[] = [];

  /** Restarts inside the current window. */
  get count(): number {
    return this.restartTimes.length;
  }

  /** Called on a crash at `now`: may the session restart, and after how long? */
  next(now: number, policy: RestartPolicy): RestartDecision {
    const windowStart = now - policy.windowMinutes * 60_000;
    this.restartTimes = this.restartTimes.filter((t) => t > windowStart);
    if (this.restartTimes.length >= policy.maxRestarts) return { restart: false };
    const delayMs = Math.min(
      policy.backoffSeconds * 1000 * 2 ** this.restartTimes.length,
      policy.maxBackoffSeconds * 1000,
    );
    this.restartTimes.push(now);
    return { restart: true, delayMs };
  }

  /** A user started the session again: the crash history no longer counts. */
  reset(): void {
    this.restartTimes = [];
  }
}
