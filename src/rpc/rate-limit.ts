/** A token bucket: `perSecond` requests on average, bursts up to twice that. 0 = no limit. */
export class RateLimiter {
  private tokens: number;
  private last = performance.now();

  constructor(private readonly perSecond: number) {
    this.tokens = perSecond * 2;
  }

  take(): boolean {
    if (this.perSecond === 0) return true;
    const now = performance.now();
    this.tokens = Math.min(
      this.perSecond * 2,
      this.tokens + ((now - this.last) / 1000) * this.perSecond,
    );
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
