/**
 * Control-plane benchmarks (issue 4), each against a baseline measured in the same run:
 * - session.list with 100 sessions over the Unix socket vs a bare newline-JSON echo server;
 * - `claude-poolctl status` wall time vs `node -e 0`;
 * - attached output throughput of a flood vs reading the same flood from raw node-pty, with output
 *   as session.output signals (JSON) and as bytes (`binary: true`).
 */
import { spawnSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { newRecord } from "../src/pool.js";
import { StateStore } from "../src/store/state-store.js";
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pty from "node-pty";
import { connectUnix, connectWs, type RpcClient } from "../src/rpc/client.js";
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
  store.save(
    Array.from({ length: count }, (_, i) => ({
      ...newRecord(randomBytes(4).toString("hex"), { name: `bench-${i}`, workingDirectory: work }),
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

async function attachedFloodMs(client: RpcClient, name: string, binary: boolean): Promise<number> {
  const session = await client.call<SessionInfo>("session.spawn", { name });
  let text = "";
  let waiting: ((ms: number) => void) | null = null;
  let t0 = 0;
  const seen = (data: string) => {
    text = (text + data).slice(-256);
    if (waiting && text.includes("flood done")) waiting(performance.now() - t0);
  };
  client.on("notification", (method, params) => {
    if (method === "session.output" && params.id === session.id) seen(String(params.data));
  });
  client.on("output", (id, data) => {
    if (id === session.id) seen(data.subarray(-256).toString("latin1"));
  });
  await client.call("session.attach", { id: session.id, binary });
  await waitFor("the prompt", () => text.includes("> "));
  const done = new Promise<number>((resolve) => (waiting = resolve));
  t0 = performance.now();
  await client.call("session.send", { id: session.id, text: `/flood ${floodBytes}` });
  const ms = await done;
  await client.call("session.kill", { id: session.id });
  await client.call("session.remove", { id: session.id });
  return ms;
}

const line = (label: string, r: { perSecond: number; latencies: number[] }) =>
  `  ${label.padEnd(24)} ${r.perSecond.toFixed(0).padStart(7)} req/s   p99 ${percentile(r.latencies, 99).toFixed(2)} ms`;

seedRegistry(100);
const pool = await startFakePool({ requestsPerSecond: 0 }, dir);
const client = await connectUnix(pool.socket);
const url = /remote API: (ws:\/\/[^/\s]+)\/rpc/.exec(pool.stderr)![1];
const token = readFileSync(join(dir, "state", "claude-pool", "token"), "utf8").trim();
const ws = await connectWs(url, { token });
const sessions = await client.call<SessionInfo[]>("session.list");
const count = sessions.length;

const echoPath = join(dir, "echo.sock");
const closeEcho = await echoServer(echoPath, sessions);
const echo = await connectUnix(echoPath);
const requests = Number(process.env.BENCH_REQUESTS ?? 20_000);
for (const c of [echo, client, ws]) await load(() => c.call("session.list"), 2000);
const baseline = await load(() => echo.call("session.list"), requests);
const listed = await load(() => client.call("session.list"), requests);
const listedWs = await load(() => ws.call("session.list"), requests);
echo.close();
closeEcho();
const size = JSON.stringify(sessions).length;
console.log(`session.list with ${count} sessions (${size} bytes a reply), 16 in flight`);
console.log(line("echo server (baseline)", baseline));
console.log(line("Unix socket", listed));
console.log(line("WebSocket", listedWs));
console.log(
  `  Unix/echo ${(listed.perSecond / baseline.perSecond).toFixed(2)}×, ` +
    `WebSocket/Unix ${(listedWs.perSecond / listed.perSecond).toFixed(2)}×   ` +
    "goals: Unix ≥ 20000 req/s p99 ≤ 2 ms, WebSocket ≥ 10000 req/s",
);
const status = await load(() => client.call("pool.status"), requests);
const statusWs = await load(() => ws.call("pool.status"), requests);
console.log("pool.status (a small reply), 16 in flight");
console.log(line("Unix socket", status));
console.log(line("WebSocket", statusWs));

const env = { ...process.env, CLAUDE_POOL_SOCKET: pool.socket };
const poolctl = join(repoRoot, "dist", "src", "bin", "claude-poolctl.js");
const nodeNothing = wallTime(["-e", "0"], env);
const poolctlStatus = wallTime([poolctl, "status"], env);
console.log("\nclaude-poolctl status, wall time");
console.log(summarize("  node -e 0 (baseline)", nodeNothing));
console.log(summarize("  claude-poolctl status", poolctlStatus));
console.log(
  `  ratio: ${(percentile(poolctlStatus, 50) / percentile(nodeNothing, 50)).toFixed(2)}×   goal ≤ 2.00×`,
);

// Interleaved rounds, each in a new session: one flood swings by a fifth on a busy machine.
const floodRounds = Number(process.env.BENCH_FLOOD_ROUNDS ?? 3);
const rawWay = "raw node-pty read (baseline)";
const ways: Record<string, () => Promise<number>> = {
  [rawWay]: rawFloodMs,
  "Unix socket, JSON": () => attachedFloodMs(client, "flood-unix", false),
  "Unix socket, bytes": () => attachedFloodMs(client, "flood-unix-bytes", true),
  "WebSocket, JSON": () => attachedFloodMs(ws, "flood-ws", false),
  "WebSocket, bytes": () => attachedFloodMs(ws, "flood-ws-bytes", true),
};
const floods = new Map<string, number[]>(Object.keys(ways).map((way) => [way, []]));
for (let round = 0; round < floodRounds; round++) {
  for (const [way, flood] of Object.entries(ways)) floods.get(way)!.push(await flood());
}
const mb = floodBytes / (1024 * 1024);
const rate = (ms: number) => (mb / (ms / 1000)).toFixed(1).padStart(6);
const rates = (runs: number[]) => runs.map((ms) => rate(ms).trim()).join(", ");
const rawMs = percentile(floods.get(rawWay)!, 50);
console.log(`\nflood of ${mb} MiB through a PTY, median of ${floodRounds} rounds (each round's)`);
for (const [way, runs] of floods) {
  const ms = percentile(runs, 50);
  const share = way === rawWay ? "" : `  ${((rawMs / ms) * 100).toFixed(0).padStart(3)}% of raw`;
  console.log(`  ${way.padEnd(30)} ${rate(ms)} MiB/s${share}   (${rates(runs)})`);
}
console.log("  attached/raw goal ≥ 90%");

client.close();
ws.close();
await pool.stop();
rmSync(dir, { recursive: true, force: true });
