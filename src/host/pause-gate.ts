/**
 * Reading of a terminal pauses while any consumer is behind (the host's screen model, the
 * supervisor's acknowledgements) and resumes once none is.
 */
export class PauseGate {
  private readonly holders = new Set<string>();

  constructor(
    private readonly pause: () => void,
    private readonly resume: () => void,
  ) {}

  get paused(): boolean {
    return this.holders.size > 0;
  }

  hold(holder: string, on: boolean): void {
    const was = this.paused;
    if (on) this.holders.add(holder);
    else this.holders.delete(holder);
    if (!was && this.paused) this.pause();
    else if (was && !this.paused) this.resume();
  }
}
