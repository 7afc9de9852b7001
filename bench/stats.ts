import { cpus, loadavg } from "node:os";

/** Percentile of a sample (nearest rank). */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export function summarize(label: string, ms: number[]): string {
  const f = (n: number) => n.toFixed(1).padStart(7);
  return `${label.padEnd(34)} median ${f(percentile(ms, 50))} ms   p90 ${f(percentile(ms, 90))} ms   (n=${ms.length})`;
}

/** The machine's load while a benchmark ran, which its numbers depend on. */
export function loadAverage(): string {
  return `load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores`;
}
