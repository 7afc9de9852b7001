/**
 * Supervisor memory of full terminal histories (issue 12): N sessions each flood 10× their
 * scrollbackBytes of lines. Per session, over the same sessions idle: the supervisor's RSS, and
 * its live memory (heap and array buffers after a full GC; run with --expose-gc), against
 * scrollbackBytes. Goal: live memory ≤ scrollbackBytes a session.
 */
import { makePool, waitFor } from "../test/helpers.js";

const count = Number(process.env.BENCH_SESSIONS ?? 20);
const scrollbackBytes = Number(process.env.BENCH_SCROLLBACK_BYTES ?? 1 << 20);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error("run with node --expose-gc");

function memory(): { rss: number; live: number } {
  gc!();
  const { rss, heapUsed, external } = process.memoryUsage();
  return { rss, live: heapUsed + external };
}

const t = makePool({ maxSessions: count, scrollbackBytes });
const text = async (id: string) => (await t.pool.find(id).text()).join("\n");
const empty = memory();
const ids = Array.from({ length: count }, (_, i) => t.pool.spawn({ name: `fill-${i}` }).id);
for (const id of ids) await waitFor("the prompt", async () => (await text(id)).includes("> "));
const idle = memory();
for (const id of ids) await t.pool.send(id, `/flood ${10 * scrollbackBytes}`);
for (const id of ids) {
  await waitFor("a full history", async () => (await text(id)).includes("flood done"), 120_000);
}
const full = memory();
const kept = (await t.pool.find(ids[0]).text()).length;
await t.close();

const mib = (bytes: number) => `${(bytes / (1 << 20)).toFixed(2).padStart(6)} MiB`;
const perSession = (key: "rss" | "live") => (full[key] - idle[key]) / count;
console.log(
  `${count} sessions at 120×40 with full histories, scrollbackBytes ${mib(scrollbackBytes)}`,
);
console.log(
  `  supervisor RSS: empty ${mib(empty.rss)}, idle ${mib(idle.rss)}, full ${mib(full.rss)}`,
);
console.log(`  lines kept a session          ${String(kept).padStart(6)}`);
for (const [label, key] of [
  ["RSS", "rss"],
  ["live memory", "live"],
] as const) {
  const bytes = perSession(key);
  console.log(
    `  ${`${label} a full history`.padEnd(28)} ${mib(bytes)}   ` +
      `${(bytes / scrollbackBytes).toFixed(2)}× scrollbackBytes`,
  );
}
console.log("  goal: live memory ≤ 1.00× scrollbackBytes");
