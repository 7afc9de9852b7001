/**
 * Spawn → first PTY output with a systemd scope, without one, and with `systemd-run --user
 * --scope` of the same fake claude, in one run. Goal (issue 5): the scope adds ≤ 30 ms and beats
 * systemd-run. Run inside test/systemd-sandbox (make bench does) or a real user session.
 */
import { randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../src/config/load.js";
import { silentLogger } from "../src/log.js";
import { Pool } from "../src/pool.js";
import { StateStore } from "../src/store/state-store.js";
import { setUpSystemd } from "../src/systemd/connect.js";
import { fakeClaude } from "../test/helpers.js";
import { percentile, summarize } from "./stats.js";
import { poolSpawnMs, ptyFirstOutputMs } from "./timing.js";

const rounds = Number(process.env.BENCH_ROUNDS ?? 20);
const dir = mkdtempSync(join(tmpdir(), "claude-pool-bench-"));
const work = join(dir, "work");
mkdirSync(work);
const env = { ...process.env, CLAUDE_CONFIG_DIR: join(dir, "claude"), TERM: "xterm-256color" };
const config = parseConfig(
  JSON.stringify({
    claudePath: fakeClaude,
    maxSessions: 2,
    systemd: "required",
    defaults: { workingDirectory: work },
  }),
  "bench",
);

const firstOutput = (file: string, args: string[]) =>
  ptyFirstOutputMs(file, args, { cwd: work, env });
const poolSpawn = poolSpawnMs;

const systemd = await setUpSystemd(config, silentLogger);
if (!systemd.launcher) throw new Error(`no user manager: ${systemd.reason}`);
const scoped = new Pool({
  config,
  store: new StateStore(join(dir, "scoped")),
  env,
  launcher: systemd.launcher,
});
const plain = new Pool({
  config: { ...config, systemd: "off" },
  store: new StateStore(join(dir, "plain")),
  env,
});
await scoped.start();
await plain.start();

const results = {
  raw: [] as number[],
  plain: [] as number[],
  scoped: [] as number[],
  run: [] as number[],
};
const fakeArgs = () => ["--session-id", randomUUID()];
const systemdRun = () => ["--user", "--scope", "--quiet", "--collect", fakeClaude, ...fakeArgs()];
// warm up every path once (the first scope also creates the parent slices)
await firstOutput(fakeClaude, fakeArgs());
await poolSpawn(plain);
await poolSpawn(scoped);
await firstOutput("systemd-run", systemdRun());
for (let i = 0; i < rounds; i++) {
  results.raw.push(await firstOutput(fakeClaude, fakeArgs()));
  results.plain.push(await poolSpawn(plain));
  results.scoped.push(await poolSpawn(scoped));
  results.run.push(await firstOutput("systemd-run", systemdRun()));
}
await Promise.all([scoped.shutdown(), plain.shutdown()]);
systemd.close();
rmSync(dir, { recursive: true, force: true });

const median = (xs: number[]) => percentile(xs, 50);
console.log(
  "spawn → first PTY output (fake claude), systemd " +
    (process.env.SANDBOX_MANAGER_PID ? "sandbox" : "user manager"),
);
console.log(summarize("raw node-pty", results.raw));
console.log(summarize("pool, no scope", results.plain));
console.log(summarize("pool, own scope", results.scoped));
console.log(summarize("systemd-run --user --scope", results.run));
console.log(
  `scope adds ${(median(results.scoped) - median(results.plain)).toFixed(1)} ms (goal ≤ 30 ms); ` +
    `pool+scope / systemd-run: ${(median(results.scoped) / median(results.run)).toFixed(2)}× (goal < 1)`,
);
