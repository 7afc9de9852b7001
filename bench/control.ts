/**
 * Control-plane benchmarks (issue 4), each against a baseline measured in the same run:
 * - session.list with 100 sessions over the Unix socket vs a bare newline-JSON echo server;
 * - `claude-poolctl status` wall time vs `node -e 0`;
 * - attached output throughput of a flood vs reading the same flood from raw node-pty.
 */
import { spawnSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { newRecord } from "../src/pool.js";
import { resolveSpec } from "../src/session/spec.js";
import { StateStore } from "../src/store/state-store.js";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pty from "node-pty";
import { connectUnix, type RpcClient } from "../src/rpc/client.js";
import { LineReader } from "../src/rpc/line-reader.js";
import type { SessionInfo } from "../src/session/session.js";
import { fakeClaude, repoRoot, startFakePool, waitFor } from "../test/helpers.js";
import { percentile, summarize } from "./stats.js";

const dir = mkdtempSync(join(tmpdir(), "claude-pool-bench-"));
const work = join(dir, "work");
mkdirSync(work);
const floodBytes = Number(process.env.BENCH_FLOOD_BYTES ?? 32 * 1024 * 1024);

/** A registry of `count` stopped sessions, as a pool that ran them leaves it. */
function seedRegistry(count: number): void {
  const store = new StateStore(join(dir, "state", "claude-pool"));
  const defaults = { workingDirectory: work };
  store.save(
    Array.from({ length: count }, (_, i) => ({
      ...newRecord(randomBytes(4).toString("hex"), resolveSpec(`bench-${i}`, defaults, {}, true)),
      desired: "stopped" as const,
    })),
  );
}

/** Requests in flight at once on one connection; returns req/s and per-request latencies. */
async function load(
  call: () => Promise<unknown>,
  total: number,
  concurrency = 16,
): Promise<{ perSecond: number; latencies: number[] }> {
  const latencies: number[] = [];
  let issued = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (issued < total) {
      issued++;
      const start = performance.now();
      await call();
      latencies.push(performance.now() - start);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { perSecond: total / ((performance.now() - t0) / 1000), latencies };
}

/**
 * The least a newline-JSON server over a Unix socket can do: parse a request and answer with a
 * reply serialized beforehand (the same session list the pool returns).
 */
async function echoServer(path: string, result: unknown): Promise<() => void> {
  const payload = JSON.stringify(result);
  const server = createServer((socket) => {
    const reader = new LineReader({
      line: (text) => {
        const { id } = JSON.parse(text) as { id: number };
        socket.write(`{"jsonrpc":"2.0","id":${id},"result":${payload}}\n`);
      },
      oversized: () => socket.destroy(),
    });
    socket.on("data", (chunk: Buffer) => reader.push(chunk));
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return () => server.close();
}

function wallTime(args: string[], env: NodeJS.ProcessEnv, runs = 15): number[] {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const result = spawnSync(process.execPath, args, { env, stdio: ["ignore", "ignore", "pipe"] });
    times.push(performance.now() - t0);
    if (result.status !== 0) throw new Error(`${args.join(" ")} failed: ${result.stderr}`);
  }
  return times;
}

async function rawFloodMs(): Promise<number> {
  const child = pty.spawn(fakeClaude, ["--session-id", randomUUID()], {
    cols: 120,
    rows: 40,
    cwd: work,
    env: { ...process.env, CLAUDE_CONFIG_DIR: join(dir, "claude") },
  });
  let text = "";
  let t0 = 0;
  const done = new Promise<number>((resolve) =>
    child.onData((data) => {
      text += data;
      if (t0 === 0 && text.includes("> ")) {
        text = "";
        t0 = performance.now();
        child.write(`/flood ${floodBytes}\r`);
      } else if (t0 !== 0 && text.slice(-200).includes("flood done")) {
        resolve(performance.now() - t0);
      }
      if (text.length > 4096) text = text.slice(-200);
    }),
  );
  const ms = await done;
  child.kill("SIGTERM");
  return ms;
}

async function attachedFloodMs(client: RpcClient): Promise<number> {
  const session = await client.call<SessionInfo>("session.spawn", { name: "flood" });
  let text = "";
  let waiting: ((ms: number) => void) | null = null;
  let t0 = 0;
  client.on("notification", (method, params) => {
    if (method !== "session.output" || params.id !== session.id) return;
    text = (text + String(params.data)).slice(-256);
    if (waiting && text.includes("flood done")) waiting(performance.now() - t0);
  });
  await client.call("session.attach", { id: session.id });
  await waitFor("the prompt", () => text.includes("> "));
  const done = new Promise<number>((resolve) => (waiting = resolve));
  t0 = performance.now();
  await client.call("session.send", { id: session.id, text: `/flood ${floodBytes}` });
  const ms = await done;
  await client.call("session.kill", { id: session.id });
  return ms;
}

seedRegistry(100);
const pool = await startFakePool({}, dir);
const client = await connectUnix(pool.socket);
const sessions = await client.call<SessionInfo[]>("session.list");
const count = sessions.length;

const echoPath = join(dir, "echo.sock");
const closeEcho = await echoServer(echoPath, sessions);
const echo = await connectUnix(echoPath);
const requests = Number(process.env.BENCH_REQUESTS ?? 20_000);
await load(() => echo.call("session.list"), 2000);
await load(() => client.call("session.list"), 2000);
const baseline = await load(() => echo.call("session.list"), requests);
const listed = await load(() => client.call("session.list"), requests);
echo.close();
closeEcho();

console.log(
  `session.list with ${count} sessions (${JSON.stringify(sessions).length} bytes) over the Unix socket, 16 in flight`,
);
console.log(
  `  echo server (baseline)   ${baseline.perSecond.toFixed(0).padStart(7)} req/s   p99 ${percentile(baseline.latencies, 99).toFixed(2)} ms`,
);
console.log(
  `  claude-pool              ${listed.perSecond.toFixed(0).padStart(7)} req/s   p99 ${percentile(listed.latencies, 99).toFixed(2)} ms`,
);
console.log(
  `  ratio pool/echo: ${(listed.perSecond / baseline.perSecond).toFixed(2)}×   goal ≥ 20000 req/s, p99 ≤ 2 ms`,
);

const env = { ...process.env, CLAUDE_POOL_SOCKET: pool.socket };
const poolctl = join(repoRoot, "dist", "src", "bin", "claude-poolctl.js");
const nodeNothing = wallTime(["-e", "0"], env);
const status = wallTime([poolctl, "status"], env);
console.log("\nclaude-poolctl status, wall time");
console.log(summarize("  node -e 0 (baseline)", nodeNothing));
console.log(summarize("  claude-poolctl status", status));
console.log(
  `  ratio: ${(percentile(status, 50) / percentile(nodeNothing, 50)).toFixed(2)}×   goal ≤ 2.00×`,
);

const rawMs = await rawFloodMs();
const attachedMs = await attachedFloodMs(client);
const mb = floodBytes / (1024 * 1024);
console.log(`\nflood of ${mb} MiB through a PTY`);
console.log(
  `  raw node-pty read (baseline)   ${(mb / (rawMs / 1000)).toFixed(1).padStart(6)} MiB/s`,
);
console.log(
  `  attached over the socket       ${(mb / (attachedMs / 1000)).toFixed(1).padStart(6)} MiB/s`,
);
console.log(`  ratio attached/raw: ${((rawMs / attachedMs) * 100).toFixed(0)}%   goal ≥ 80%`);

client.close();
await pool.stop();
rmSync(dir, { recursive: true, force: true });
