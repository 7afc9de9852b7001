/**
 * Spawn → first PTY output: a session started through the pool vs the same fake claude spawned
 * with raw node-pty, interleaved in one run. Goal (issue 3): pool ≤ 1.2× raw.
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
await pool.shutdown();
rmSync(dir, { recursive: true, force: true });

console.log("spawn → first PTY output (fake claude)");
console.log(summarize("raw node-pty (baseline)", raw));
console.log(summarize("claude-pool session.spawn", pooled));
const ratio = percentile(pooled, 50) / percentile(raw, 50);
console.log(`ratio pool/raw (median): ${ratio.toFixed(2)}×   goal ≤ 1.20×`);
