/**
 * Hosts benchmark (issue 18): `claude-poolctl status --all` over three pools vs over one, in the
 * same run, goal ≤ 1.3× (the hosts are asked in parallel). The pools serve wss:// on loopback with
 * certificates from a test CA, each with BENCH_REMOTES_SESSIONS (10) stopped sessions; the
 * command runs BENCH_REMOTES_RUNS (15) times each way, interleaved.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { saveRemotes, remotesFile, type Remote } from "../src/cli/poolctl/remotes.js";
import { connectWs } from "../src/rpc/client.js";
import { PoolProcess, repoRoot, tempDir, writeFakeConfig } from "../test/helpers.js";
import { issueCert, makeCa } from "../test/test-ca.js";
import { loadAverage, percentile, summarize } from "./stats.js";

const sessions = Number(process.env.BENCH_REMOTES_SESSIONS ?? 10);
const runs = Number(process.env.BENCH_REMOTES_RUNS ?? 15);
const poolctl = join(repoRoot, "dist", "src", "bin", "claude-poolctl.js");

const ca = makeCa(tempDir("claude-pool-bench-"), "bench CA");
const pools: PoolProcess[] = [];
const remotes: Remote[] = [];
try {
  for (let i = 1; i <= 3; i++) {
    const dir = tempDir("claude-pool-bench-");
    mkdirSync(join(dir, "tls"));
    const tls = issueCert(ca, join(dir, "tls"), "127.0.0.1");
    writeFakeConfig(dir, { tls, maxSessions: sessions + 1, stopTimeoutSeconds: 2 });
    const pool = new PoolProcess(dir, ["--config", join(dir, "pool.json")]);
    pools.push(pool);
    await pool.ready();
    const url = /remote API: (wss:\/\/[^/\s]+)\/rpc/.exec(pool.stderr)![1];
    const remote: Remote = {
      name: `h${i}`,
      url,
      tokenFile: join(dir, "state", "claude-pool", "token"),
      ca: ca.cert,
    };
    remotes.push(remote);
    const client = await connectWs(url, {
      token: readFileSync(remote.tokenFile!, "utf8").trim(),
      ca: readFileSync(ca.cert),
    });
    for (let s = 0; s < sessions; s++) {
      const made = await client.call<{ id: string }>("session.spawn", { name: `b${s}` });
      await client.call("session.kill", { id: made.id });
    }
    client.close();
  }

  const configs = [1, 3].map((count) => {
    const home = tempDir("claude-pool-bench-");
    saveRemotes(remotes.slice(0, count), remotesFile({ XDG_CONFIG_HOME: home }));
    return home;
  });
  const time = (home: string): number => {
    const started = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [poolctl, "status", "--all"], {
      env: { ...process.env, XDG_CONFIG_HOME: home, CLAUDE_POOL_SOCKET: join(home, "none.sock") },
      encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(`status --all failed: ${r.stderr}`);
    return Number(process.hrtime.bigint() - started) / 1e6;
  };
  time(configs[0]);
  const one: number[] = [];
  const three: number[] = [];
  for (let i = 0; i < runs; i++) {
    one.push(time(configs[0]));
    three.push(time(configs[1]));
  }
  console.log(`status --all (${sessions} sessions a host, wss:// on loopback), ${loadAverage()}`);
  console.log(summarize("one host", one));
  console.log(summarize("three hosts", three));
  const ratio = percentile(three, 50) / percentile(one, 50);
  console.log(`three hosts / one host: ${ratio.toFixed(2)}× (goal ≤ 1.3×)`);
} finally {
  await Promise.all(pools.map((p) => p.stop()));
}
