/** The longest wait between two attempts at one notification. */
export const maxBackoffMs = 10 * 60_000;

/** The wait before retry `retry` (1 for the first): `baseMs`, doubled each time, capped. */
export function backoffMs(retry: number, baseMs: number, capMs = maxBackoffMs): number {
  return Math.min(baseMs * 2 ** Math.max(0, retry - 1), capMs);
}

/** The answers that may go otherwise next time: timeouts, rate limits, the server's own faults. */
export function retryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * How long a 429's or 503's `Retry-After` (seconds, or an HTTP date) asks to wait, in ms, capped;
 * null when absent or unreadable.
 */
export function retryAfterMs(
  value: string | null,
  now: number,
  capMs = maxBackoffMs,
): number | null {
  if (value === null || value.trim() === "") return null;
  const seconds = Number(value);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(value) - now;
  return Number.isNaN(ms) ? null : Math.min(Math.max(0, ms), capMs);
}
