/**
 * Session hosts (the Host issue), in one run:
 * - the supervisor's CPU time per MiB of output it forwards to an attached client, against the CPU
 *   time of reading the same flood from raw node-pty in-process (the old supervisor's lower bound);
 * - a 200 MiB flood with a fast and a stalled client: the supervisor's RSS growth (goal ≤ 32 MB)
 *   and another session's session.list latency throughout (goal p99 ≤ 10 ms);
 * - memory: a host's RSS beside the real claude's RSS (goal ≤ 15 %), and the supervisor's RSS with
 *   BENCH_IDLE_SESSIONS (200) idle sessions of a minimal claude (goal ≤ 100 MB); beside them, what
 *   other holders of a terminal take: an empty node process, a worker thread with a screen model
 *   in one process (the supervisor, were the screen models kept there), and a tmux server.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect } from "node:net";
import pty from "node-pty";
import { connectUnix } from "../src/rpc/client.js";
import type { SessionInfo } from "../src/session/session.js";
import { listenUnix } from "../src/rpc/unix-server.js";
import { RpcServer } from "../src/rpc/server.js";
import { createControlRegistry } from "../src/rpc/methods.js";
import { SignalRouter } from "../src/rpc/signals.js";
import { silentLogger } from "../src/log.js";
import { fakeClaude, makePool, startFakePool, tempDir, waitFor } from "../test/helpers.js";
import { realPool, skipReason, waitForIdle } from "../test/real-claude-support.js";
import { loadAverage } from "./stats.js";

const floodBytes = Number(process.env.BENCH_FLOOD_BYTES ?? 32 * 1024 * 1024);
const idleSessions = Number(process.env.BENCH_IDLE_SESSIONS ?? 200);
const mib = floodBytes / (1 << 20);

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
}

/** Memory no other process shares (USS): what one more such process costs. */
function privateOf(pid: number): number {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const kib = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(rollup)?.[1] ?? 0);
  return (kib("Private_Clean") + kib("Private_Dirty")) * 1024;
}

const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** CPU of this process while it reads a flood straight from node-pty. */
async function rawCpuPerMiB(): Promise<number> {
  const dir = tempDir();
  const child = pty.spawn(process.execPath, [fakeClaude], {
    cwd: dir,
    env: {
      ...process.env,
      CLAUDE_CONFIG_DIR: join(dir, "claude"),
      TERM: "xterm-256color",
    } as Record<string, string>,
    cols: 120,
    rows: 40,
  });
  let text = "";
  let t0 = 0;
  const done = new Promise<number>((resolve) => {
    child.onData((data) => {
      text = (text + data).slice(-400);
      if (t0 === 0 && text.includes("> ")) {
        t0 = cpuMs();
        child.write(`/flood ${floodBytes}\r`);
      } else if (t0 !== 0 && text.includes("flood done")) resolve(cpuMs() - t0);
    });
  });
  const ms = await done;
  child.kill("SIGKILL");
  return ms / mib;
}

/** CPU of the supervisor (this process) while an attached client gets a flood through it. */
async function supervisorCpuPerMiB(): Promise<number> {
  const t = makePool({ maxSessions: 2 });
  const router = new SignalRouter(t.pool);
  const rpc = new RpcServer(createControlRegistry(t.pool), silentLogger);
  const path = join(tempDir(), "control.sock");
  const server = await listenUnix({
    path,
    fd: null,
    rpc,
    router,
    snapshot: (id, scrollback) => t.pool.find(id).snapshot(scrollback),
    log: silentLogger,
  });
  const session = t.pool.spawn({ name: "flood" });
  await waitFor("the prompt", async () =>
    (await t.pool.find(session.id).text()).join("").includes("> "),
  );
  const client = await connectUnix(path);
  let tail = "";
  const done = new Promise<void>((resolve) =>
    client.on("notification", (method: string, params: { data?: string }) => {
      if (method !== "session.output") return;
      tail = (tail + (params.data ?? "")).slice(-400);
      if (tail.includes("flood done")) resolve();
    }),
  );
  await client.call("session.attach", { id: session.id });
  const t0 = cpuMs();
  await client.call("session.send", { id: session.id, text: `/flood ${floodBytes}\r` });
  await done;
  const ms = cpuMs() - t0;
  client.close();
  server.close();
  await t.close();
  return ms / mib;
}

/**
 * A 200 MiB flood in one session of a pool process, with a fast and a stalled attached client:
 * the supervisor's RSS growth, and session.list latency (another session's answer) throughout.
 */
async function floodWithClients(): Promise<{
  growth: number;
  p50: number;
  p99: number;
  calls: number;
}> {
  const pool = await startFakePool({ maxSessions: 3 });
  const client = await connectUnix(pool.socket);
  const flood = await client.call<SessionInfo>("session.spawn", { name: "flood" });
  await client.call<SessionInfo>("session.spawn", { name: "other" });
  const logs = async () =>
    (await client.call<{ lines: string[] }>("session.logs", { id: flood.id })).lines;
  await waitFor("the prompt", async () => (await logs()).includes("> "));
  const stalled = connect(pool.socket);
  await new Promise((resolve) => stalled.once("connect", resolve));
  stalled.write(
    JSON.stringify({ jsonrpc: "2.0", id: 1, method: "session.attach", params: { id: flood.id } }) +
      "\n",
  );
  stalled.pause();
  const fast = await connectUnix(pool.socket);
  let tail = "";
  fast.on("notification", (method: string, params: { data?: string }) => {
    if (method === "session.output") tail = (tail + (params.data ?? "")).slice(-200);
  });
  await fast.call("session.attach", { id: flood.id });
  const pid = pool.child.pid!;
  const before = rssOf(pid);
  let peak = before;
  const latencies: number[] = [];
  await client.call("session.send", { id: flood.id, text: `/flood ${200 << 20}\r` });
  while (!tail.includes("flood done")) {
    const t0 = performance.now();
    await client.call("session.list");
    latencies.push(performance.now() - t0);
    peak = Math.max(peak, rssOf(pid));
  }
  stalled.destroy();
  fast.close();
  client.close();
  await pool.stop();
  latencies.sort((a, b) => a - b);
  const at = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))];
  return { growth: peak - before, p50: at(0.5), p99: at(0.99), calls: latencies.length };
}

/** A host's RSS and its real claude's, idle at the prompt after one turn. */
async function hostBesideRealClaude(): Promise<{
  host: number;
  claude: number;
  hostPrivate: number;
  claudePrivate: number;
} | null> {
  if (skipReason("the host memory benchmark") !== false) return null;
  const t = await realPool();
  const session = t.pool.spawn({ name: "real" });
  await waitForIdle(t, session.id);
  await t.pool.send(session.id, "hello\r");
  await waitFor("a reply", () => t.pool.get(session.id).lastTurn !== null, 60_000);
  const info = t.pool.get(session.id);
  const sizes = {
    host: rssOf(info.hostPid!),
    claude: rssOf(info.pid!),
    hostPrivate: privateOf(info.hostPid!),
    claudePrivate: privateOf(info.pid!),
  };
  await t.close();
  return sizes;
}

/**
 * The RSS of a pool process (the supervisor as users run it) before and with `count` idle
 * sessions of a claude that draws a prompt and sleeps.
 */
async function supervisorWithIdleSessions(
  count: number,
): Promise<{ before: number; after: number; host: number; hostPrivate: number }> {
  const dir = tempDir();
  const tiny = join(dir, "tiny-claude");
  writeFileSync(tiny, "#!/bin/sh\nprintf 'tiny claude\\r\\n> '\nexec sleep 100000\n");
  chmodSync(tiny, 0o755);
  const pool = await startFakePool({ claudePath: tiny, maxSessions: count, idleTimeoutMinutes: 0 });
  const client = await connectUnix(pool.socket);
  const pid = pool.child.pid!;
  const before = rssOf(pid);
  for (let i = 0; i < count; i++) await client.call("session.spawn", { name: `idle-${i}` });
  const sessions = await waitFor(
    `${count} sessions running`,
    async () => {
      const list = await client.call<SessionInfo[]>("session.list");
      return list.every((s) => s.status === "running") && list;
    },
    count * 2000,
  );
  const after = rssOf(pid);
  const host = rssOf(sessions[0].hostPid!);
  const hostPrivate = privateOf(sessions[0].hostPid!);
  client.close();
  await pool.stop();
  return { before, after, host, hostPrivate };
}

/**
 * The memory of other holders of a terminal: an empty node process (what any Node host starts
 * from), and a tmux server holding one program in a pane (a native holder with a screen model).
 */
async function referenceHolders(): Promise<{ node: number; tmux: number; tmuxPrivate: number }> {
  const node = await nodeRss(["-e", "console.log('up'); setInterval(() => {}, 1e6)"]);
  const server = `claude-pool-bench-${process.pid}`;
  const tmux = (...args: string[]) =>
    execFileSync("tmux", ["-L", server, "-f", "/dev/null", ...args], { encoding: "utf8" });
  tmux(
    "new-session",
    "-d",
    "-x",
    "100",
    "-y",
    "30",
    "printf 'tiny claude\\n> '; exec sleep 100000",
  );
  try {
    await waitFor("tmux's pane", () => tmux("capture-pane", "-p").includes("tiny claude"));
    const pid = Number(tmux("display-message", "-p", "#{pid}").trim());
    return { node, tmux: rssOf(pid), tmuxPrivate: privateOf(pid) };
  } finally {
    tmux("kill-server");
  }
}

/** The RSS of a node process run with `args`, once it has written its first output. */
async function nodeRss(args: string[]): Promise<number> {
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"] });
  try {
    await new Promise((resolve) => child.stdout.once("data", resolve));
    return rssOf(child.pid!);
  } finally {
    child.kill("SIGKILL");
  }
}

const format = (bytes: number) => `${(bytes / (1 << 20)).toFixed(1)} MiB`;
const raw = await rawCpuPerMiB();
const supervisor = await supervisorCpuPerMiB();
console.log(`supervisor CPU per MiB of attached output (${mib} MiB flood, ${loadAverage()})`);
console.log(`  raw node-pty read in-process (baseline)  ${raw.toFixed(2)} ms/MiB`);
console.log(`  supervisor forwarding from the host       ${supervisor.toFixed(2)} ms/MiB`);
console.log(`  ratio supervisor/raw: ${(supervisor / raw).toFixed(2)}×`);

const flood = await floodWithClients();
console.log("200 MiB flood, one fast and one stalled client");
console.log(`  supervisor RSS growth ${format(flood.growth)}   goal ≤ 32 MB`);
console.log(
  `  session.list during it: p50 ${flood.p50.toFixed(2)} ms, p99 ${flood.p99.toFixed(2)} ms over ${flood.calls} calls   goal p99 ≤ 10 ms`,
);

const real = await hostBesideRealClaude();
if (real) {
  console.log("memory of a session, the real claude idle after one turn");
  console.log(`  claude RSS ${format(real.claude)}, host RSS ${format(real.host)}`);
  console.log(`  host/claude: ${((real.host / real.claude) * 100).toFixed(1)}%   goal ≤ 15%`);
  console.log(
    `  unshared (USS, what one more costs): claude ${format(real.claudePrivate)}, ` +
      `host ${format(real.hostPrivate)}, ${((real.hostPrivate / real.claudePrivate) * 100).toFixed(1)}%`,
  );
}

const idle = await supervisorWithIdleSessions(idleSessions);
console.log(`supervisor with ${idleSessions} idle sessions (a minimal claude)`);
console.log(
  `  supervisor RSS ${format(idle.before)} before, ${format(idle.after)} with them   goal ≤ 100 MB`,
);
console.log(`  one host's RSS ${format(idle.host)}, unshared ${format(idle.hostPrivate)}`);

const tmuxThere = spawnSync("tmux", ["-V"]).status === 0;
const holders = tmuxThere ? await referenceHolders() : null;
if (!holders) console.log("other holders of a terminal: skipped, tmux is not installed");
else {
  console.log("other holders of a terminal, for the host's memory goal");
  console.log(`  an empty node process: RSS ${format(holders.node)}`);
  console.log(
    `  a tmux server holding one pane: RSS ${format(holders.tmux)}, unshared ${format(holders.tmuxPrivate)}`,
  );
  if (real) {
    const share = (bytes: number) => `${((bytes / real.claude) * 100).toFixed(1)}%`;
    console.log(
      `  of the real claude's RSS: empty node ${share(holders.node)}, tmux ${share(holders.tmux)}`,
    );
  }
}
