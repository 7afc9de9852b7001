/**
 * What the durable ledger costs channel.send: 50 sessions send at once, each its next message as
 * soon as the last one is on disk. A send's latency runs from Ledger.add (which writes the line)
 * until the store's synced() says it is on disk, which is when channel.send answers. Baseline,
 * in the same run and the same directory: each of the 50 writers appends the same bytes itself
 * with fs.appendFile and fdatasync, as a store without group commit would. The two alternate in
 * rounds so that they share the machine's conditions.
 */
import { open, rm } from "node:fs/promises";
import { join } from "node:path";
import type { LedgerOp } from "../src/channel/ledger.js";
import { LedgerStore } from "../src/store/ledger-store.js";
import { tempDir } from "../test/helpers.js";
import { loadAverage, percentile } from "./stats.js";

const sessions = 50;
const perSession = Number(process.env.BENCH_LEDGER_MESSAGES ?? 20);
const rounds = Number(process.env.BENCH_LEDGER_ROUNDS ?? 3);
const content = "Check the nightly build and summarize what failed. ".repeat(4);
const root = tempDir("claude-pool-bench-");
const ids = Array.from({ length: sessions }, (_, i) => (0x10000000 + i).toString(16));

/** 50 sessions through one LedgerStore: every send waits until its line is synced. */
async function ledgerRound(round: number): Promise<number[]> {
  const { store } = LedgerStore.open(join(root, `ledger-${round}.jsonl`));
  const latencies: number[] = [];
  await Promise.all(
    ids.map(async (id) => {
      const ledger = store.ledger(id);
      for (let i = 0; i < perSession; i++) {
        const start = performance.now();
        ledger.add(content, {}, "bench");
        await store.synced();
        latencies.push(performance.now() - start);
      }
    }),
  );
  store.close();
  return latencies;
}

/** The same lines, each writer appending and syncing its own. */
async function baselineRound(round: number): Promise<number[]> {
  const file = await open(join(root, `baseline-${round}.jsonl`), "a");
  const latencies: number[] = [];
  await Promise.all(
    ids.map(async (id) => {
      for (let i = 0; i < perSession; i++) {
        const start = performance.now();
        const line = JSON.stringify([addOp(id)]) + "\n";
        await file.appendFile(line);
        await file.datasync();
        latencies.push(performance.now() - start);
      }
    }),
  );
  await file.close();
  return latencies;
}

function addOp(session: string): LedgerOp {
  const at = new Date().toISOString();
  return {
    op: "add",
    session,
    entry: {
      messageId: crypto.randomUUID(),
      sessionId: session,
      chatId: crypto.randomUUID(),
      content,
      meta: {},
      state: "queued",
      via: null,
      delivery: null,
      from: "bench",
      createdAt: at,
      deliveredAt: null,
      repliedAt: null,
      replies: [],
      note: null,
    },
  };
}

const ledger: number[] = [];
const baseline: number[] = [];
for (let round = 0; round < rounds; round++) {
  baseline.push(...(await baselineRound(round)));
  ledger.push(...(await ledgerRound(round)));
}
await rm(root, { recursive: true, force: true });

const f = (n: number) => n.toFixed(2).padStart(8);
const line = (label: string, ms: number[]) =>
  `${label.padEnd(40)} p50 ${f(percentile(ms, 50))} ms   p99 ${f(percentile(ms, 99))} ms   (n=${ms.length})`;
console.log(`ledger append until on disk, ${sessions} sessions sending at once (${loadAverage()})`);
console.log(line("baseline: appendFile + fdatasync each", baseline));
console.log(line("ledger: write + group fdatasync", ledger));
const ratio = (p: number) => (percentile(ledger, p) / percentile(baseline, p)).toFixed(2);
console.log(`ledger / baseline: p50 ${ratio(50)}x   p99 ${ratio(99)}x`);
