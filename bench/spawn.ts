/**
 * Spawn → first PTY output: a session started through the pool vs the same fake claude spawned
 * with raw node-pty, interleaved in one run, in two ways: one after another (a burst, where the
 * previous spawn's work still runs beside the next and a launch may find no spare host), and each
 * after a quiet moment, as a user spawns one. Goals: pool ≤ 1.2× raw (issue 3), ≤ 1.1× (issue 14).
 */
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../src/config/load.js";
import { Pool } from "../src/pool.js";
import { StateStore } from "../src/store/state-store.js";
import { fakeClaude } from "../test/helpers.js";
import { percentile, summarize } from "./stats.js";
import { poolSpawnMs, ptyFirstOutputMs } from "./timing.js";

const rounds = Number(process.env.BENCH_ROUNDS ?? 30);
const quietRounds = Number(process.env.BENCH_QUIET_ROUNDS ?? 15);
/** Longer than the spare host's start after a launch and the killed session's teardown. */
const quietMs = 1500;
const dir = mkdtempSync(join(tmpdir(), "claude-pool-bench-"));
const work = join(dir, "work");
mkdirSync(work);
const env = { ...process.env, CLAUDE_CONFIG_DIR: join(dir, "claude"), TERM: "xterm-256color" };

const pool = new Pool({
  config: parseConfig(
    JSON.stringify({
      claudePath: fakeClaude,
      maxSessions: 2,
      defaults: { workingDirectory: work },
    }),
    "bench",
  ),
  store: new StateStore(join(dir, "state")),
  env,
});

const rawSpawn = () =>
  ptyFirstOutputMs(fakeClaude, ["--session-id", randomUUID(), "--name", "bench"], {
    cwd: work,
    env,
  });
const poolSpawn = () => poolSpawnMs(pool);

await pool.start();
const raw: number[] = [];
const pooled: number[] = [];
await rawSpawn(); // warm the page cache and node-pty
await poolSpawn();
for (let i = 0; i < rounds; i++) {
  raw.push(await rawSpawn());
  pooled.push(await poolSpawn());
}
const quiet = () => new Promise((resolve) => setTimeout(resolve, quietMs));
const rawQuiet: number[] = [];
const pooledQuiet: number[] = [];
for (let i = 0; i < quietRounds; i++) {
  await quiet();
  rawQuiet.push(await rawSpawn());
  await quiet();
  pooledQuiet.push(await poolSpawn());
}
await pool.shutdown();
rmSync(dir, { recursive: true, force: true });

const ratio = (a: number[], b: number[]) => (percentile(a, 50) / percentile(b, 50)).toFixed(2);
console.log("spawn → first PTY output (fake claude), one after another");
console.log(summarize("raw node-pty (baseline)", raw));
console.log(summarize("claude-pool session.spawn", pooled));
console.log(`ratio pool/raw (median): ${ratio(pooled, raw)}×   goal ≤ 1.20×`);
console.log(`spawn → first PTY output, each after ${quietMs} ms of quiet`);
console.log(summarize("raw node-pty (baseline)", rawQuiet));
console.log(summarize("claude-pool session.spawn", pooledQuiet));
console.log(`ratio pool/raw (median): ${ratio(pooledQuiet, rawQuiet)}×   goal ≤ 1.10×`);
