/**
 * A token bucket: `perSecond()` requests on average, bursts up to twice that. 0 = no limit. The
 * rate is read on every request, so a reloaded config applies to open connections; when it
 * changes the bucket starts full at the new rate.
 */
export class RateLimiter {
  private tokens = 0;
  private rate = Number.NaN;
  private last = performance.now();

  constructor(readonly perSecond: () => number) {}

  take(): boolean {
    const rate = this.perSecond();
    if (rate === 0) return true;
    const now = performance.now();
    if (rate !== this.rate) {
      this.rate = rate;
      this.tokens = rate * 2;
    } else {
      this.tokens = Math.min(rate * 2, this.tokens + ((now - this.last) / 1000) * rate);
    }
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
