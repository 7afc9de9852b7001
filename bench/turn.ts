/**
 * A message's round trip to the real Claude Code CLI and back, its model played by the Anthropic
 * API stand-in: through the pool (`channel.send`, then the `channel.reply` signal, in-process over
 * the control socket, as `claude-poolctl chat ID --message` does; with an API-key login claude
 * refuses the pool's channel, so the message is typed into the PTY and the reply comes from the
 * Stop hook) against the same turn typed straight into a claude under tmux, polling the pane
 * until `echo: <text>` shows. Both claudes run at once, turns interleaved, same stand-in and seed.
 * Goal: pool ≤ 1.1× tmux at p50.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import type { LedgerEntry } from "../src/channel/ledger.js";
import { connectUnix } from "../src/rpc/client.js";
import type { SessionInfo } from "../src/session/session.js";
import { FakeAnthropic } from "../test/fake-anthropic.js";
import { PoolProcess, repoRoot, tempDir, waitFor } from "../test/helpers.js";
import { realClaude } from "../test/real-claude-support.js";
import { claudeHome, claudeIdle, requireRealClaude, sleep } from "./real-claude.js";
import { replyWaiter } from "./reply-waiter.js";
import { loadAverage, percentile } from "./stats.js";
import { TmuxPane } from "./tmux-control.js";

requireRealClaude("the message round trip benchmark");

const turns = Number(process.env.BENCH_TURNS ?? 30);
const cliTurns = Number(process.env.BENCH_CLI_TURNS ?? 5);
const warmUp = 3;
/** How often the tmux side captures the pane. */
const pollMs = 5;
const poolctl = join(repoRoot, "dist", "src", "bin", "claude-poolctl.js");

/** When the stand-in last got a turn's request: splits each round trip in two. */
let asked = 0;
let onAsked = () => {};
const api = await FakeAnthropic.start({
  onRequest: (r) => {
    if (r.kind !== "turn") return;
    asked = performance.now();
    onAsked();
  },
});
/** Resolves when the stand-in gets the next turn's request. */
const nextRequest = () => new Promise<void>((resolve) => (onAsked = resolve));

interface Timed {
  total: number;
  /** From the message to the stand-in getting claude's request. */
  toApi: number;
  /** From there to the reply. */
  fromApi: number;
}

/** A turn from `t0` to `end`, split where the stand-in got the turn's request. */
function timed(t0: number, end: number): Timed {
  if (asked < t0) throw new Error("a turn ended before claude asked the stand-in");
  return { total: end - t0, toApi: asked - t0, fromApi: end - asked };
}

const root = tempDir("claude-pool-bench-");
const poolHome = claudeHome(api, join(root, "pool"));
const tmuxHome = claudeHome(api, join(root, "tmux"));
const configFile = join(root, "pool", "pool.json");
writeFileSync(
  configFile,
  JSON.stringify({
    claudePath: realClaude,
    apiPort: 0,
    systemd: "off",
    defaults: { workingDirectory: poolHome.workDir, env: poolHome.env },
  }),
);
const pool = new PoolProcess(join(root, "pool"), ["--config", configFile]);
let pane: TmuxPane | null = null;
try {
  const tmux = await TmuxPane.start(
    `claude-pool-bench-${process.pid}`,
    [realClaude, "--session-id", randomUUID(), "--name", "bench"],
    { cwd: tmuxHome.workDir, env: tmuxHome.env },
  );
  pane = tmux;
  await pool.ready();
  const client = await connectUnix(pool.socket);
  await client.call("pool.subscribe", { signals: ["channel.reply"] });
  const untilReply = replyWaiter(client);
  const { id } = await client.call<SessionInfo>("session.spawn", { name: "bench" });
  const session = await waitFor(
    "the pool's session to be idle",
    async () => {
      const s = await client.call<SessionInfo>("session.get", { id });
      return s.activity === "idle" ? s : undefined;
    },
    30_000,
  );
  const tmuxPid = await tmux.pid();
  await claudeIdle(tmuxHome.claudeDir, tmuxPid);

  const poolTurn = async (text: string): Promise<Timed> => {
    await claudeIdle(poolHome.claudeDir, session.pid!);
    const t0 = performance.now();
    const sent = await client.call<LedgerEntry>("channel.send", { id, content: text });
    await untilReply(sent.messageId);
    return timed(t0, performance.now());
  };

  const pollGaps: number[] = [];
  /**
   * The reply showed between the last capture without it (or claude's request to the stand-in)
   * and the first with it: the midpoint of the two, ± half a polling interval.
   */
  const tmuxTurn = async (text: string): Promise<Timed> => {
    await claudeIdle(tmuxHome.claudeDir, tmuxPid);
    const reply = new RegExp(`echo: ${text}\\s*$`, "m");
    const requested = nextRequest();
    const t0 = performance.now();
    await tmux.type(text);
    // No reply before claude asks for one; polling only after that keeps the load off claude.
    await requested;
    let before = asked;
    for (;;) {
      const at = performance.now();
      if (reply.test(await tmux.screen())) {
        pollGaps.push(at - before);
        return timed(t0, (before + at) / 2);
      }
      before = at;
      if (at - t0 > 30_000) throw new Error(`no "echo: ${text}" on the tmux pane in 30 s`);
      await sleep(Math.max(0, at + pollMs - performance.now()));
    }
  };

  const cliTurn = async (text: string) => {
    await claudeIdle(poolHome.claudeDir, session.pid!);
    const t0 = performance.now();
    const { stdout } = await promisify(execFile)(process.execPath, [
      ...[poolctl, "chat", id, "--message", text, "--socket", pool.socket],
    ]);
    if (stdout.trim() !== `echo: ${text}`) throw new Error(`chat --message printed ${stdout}`);
    return performance.now() - t0;
  };

  // The first message waits for the channel that claude ignores, then is typed.
  for (let i = 0; i < warmUp; i++) {
    await poolTurn(`warm pool ${i}`);
    await tmuxTurn(`warm tmux ${i}`);
  }
  const pooled: Timed[] = [];
  const typed: Timed[] = [];
  const cli: number[] = [];
  for (let i = 0; i < turns; i++) {
    // Alternating which goes first, so neither always follows the other's turn.
    if (i % 2 === 0) {
      pooled.push(await poolTurn(`pool turn ${i}`));
      typed.push(await tmuxTurn(`tmux turn ${i}`));
    } else {
      typed.push(await tmuxTurn(`tmux turn ${i}`));
      pooled.push(await poolTurn(`pool turn ${i}`));
    }
    if (i < cliTurns) cli.push(await cliTurn(`cli turn ${i}`));
  }
  client.close();

  const f = (n: number) => n.toFixed(1).padStart(6);
  const p50 = (ms: number[]) => percentile(ms, 50);
  const line = (label: string, ms: number[]) =>
    `${label.padEnd(56)} p50 ${f(p50(ms))} ms   p90 ${f(percentile(ms, 90))} ms   (n=${ms.length})`;
  const split = (t: Timed[]) =>
    `${"".padEnd(4)}to the API request p50 ${f(p50(t.map((x) => x.toApi)))} ms, ` +
    `from it to the reply p50 ${f(p50(t.map((x) => x.fromApi)))} ms`;
  const totals = (t: Timed[]) => t.map((x) => x.total);
  const ratio = (ms: number[]) => p50(ms) / p50(totals(typed));
  const gap = pollGaps.reduce((x, y) => x + y, 0) / pollGaps.length;
  console.log(
    `message → reply round trip, real claude 2.1.332 against the API stand-in (${loadAverage()})`,
  );
  console.log(line("  typed into claude under tmux (baseline)", totals(typed)));
  console.log(split(typed));
  console.log(line("  pool: channel.send → channel.reply (RPC, unix socket)", totals(pooled)));
  console.log(split(pooled));
  console.log(line("  pool: claude-poolctl chat --message (whole CLI run)", cli));
  console.log(
    `  tmux: pane captured every ${gap.toFixed(1)} ms on average; a turn ends at the midpoint ` +
      `of the last two captures (± ${(gap / 2).toFixed(1)} ms)`,
  );
  // Turn i of each ran back to back: differences of pairs, less moved by the machine's load.
  const paired = (of: (t: Timed) => number) => p50(pooled.map((t, i) => of(t) - of(typed[i])));
  console.log(
    `  pool − tmux, p50 of the turns' pairs: ${paired((t) => t.total).toFixed(1)} ms in all, ` +
      `${paired((t) => t.toApi).toFixed(1)} ms to the API request`,
  );
  console.log(
    `ratio pool/tmux (p50): ${ratio(totals(pooled)).toFixed(2)}×   goal ≤ 1.10×;   ` +
      `CLI/tmux ${ratio(cli).toFixed(2)}× (with the CLI's own start-up)`,
  );
} finally {
  pane?.close();
  await pool.stop();
  await api.close();
  rmSync(root, { recursive: true, force: true });
}
