/**
 * Channel bridge benchmark (issue 7): a message's round trip client → pool → channel server →
 * fake claude → reply tool → channel.reply signal, over WebSocket, with 1 and 50 sessions busy
 * at once. Baseline in the same run: the terminal path, session.send typed into the same fake
 * claude until its echo comes back as session.output.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { LedgerEntry } from "../src/channel/ledger.js";
import { connectWs, type RpcClient } from "../src/rpc/client.js";
import type { SessionInfo } from "../src/session/session.js";
import { startFakePool, tempDir, waitFor } from "../test/helpers.js";
import { replyWaiter } from "./reply-waiter.js";
import { percentile } from "./stats.js";

const sessionsAtOnce = Number(process.env.BENCH_CHANNEL_SESSIONS ?? 50);
const roundTrips = Number(process.env.BENCH_CHANNEL_ROUND_TRIPS ?? 200);

/** Resolves when session output matching `match` arrives; register before sending. */
function outputWaiter(client: RpcClient) {
  const waiters = new Set<{ match: (data: string) => boolean; done: () => void }>();
  client.on("notification", (method, params) => {
    if (method !== "session.output") return;
    for (const w of waiters) {
      if (w.match(String(params.data))) {
        waiters.delete(w);
        w.done();
      }
    }
  });
  return (match: (data: string) => boolean) =>
    new Promise<void>((done) => waiters.add({ match, done }));
}

type Waiters = { reply: ReturnType<typeof replyWaiter>; output: ReturnType<typeof outputWaiter> };

/** Times `count` round trips, one after another. */
async function time(count: number, roundTrip: (i: number) => Promise<void>): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    await roundTrip(i);
    ms.push(performance.now() - t0);
  }
  return ms;
}

const channelRoundTrips = (client: RpcClient, until: Waiters, id: string, count: number) =>
  time(count, async (i) => {
    const sent = await client.call<LedgerEntry>("channel.send", { id, content: `ping ${i}` });
    await until.reply(sent.messageId);
  });

const terminalRoundTrips = (client: RpcClient, until: Waiters, id: string, count: number) =>
  time(count, async (i) => {
    const echoed = until.output((data) => data.includes(`said: typed ${i}\r`));
    await client.call("session.send", { id, text: `typed ${i}` });
    await echoed;
  });

const line = (label: string, ms: number[], baseline?: number[]) => {
  const p50 = percentile(ms, 50);
  const ratio = baseline ? `   ${(p50 / percentile(baseline, 50)).toFixed(2)}× terminal p50` : "";
  return `${label.padEnd(40)} p50 ${p50.toFixed(2).padStart(7)} ms   p99 ${percentile(ms, 99).toFixed(2).padStart(7)} ms   (n=${ms.length})${ratio}`;
};

const dir = tempDir("claude-pool-bench-");
const pool = await startFakePool({ maxSessions: sessionsAtOnce + 1, stopTimeoutSeconds: 2 }, dir);
try {
  const url = /remote API: (ws:\/\/[^/\s]+)\/rpc/.exec(pool.stderr)![1];
  const token = readFileSync(join(dir, "state", "claude-pool", "token"), "utf8").trim();
  const client = await connectWs(`${url}`, { token });
  await client.call("pool.subscribe", { signals: ["channel.reply", "session.output"] });
  const until: Waiters = { reply: replyWaiter(client), output: outputWaiter(client) };
  const sessions: SessionInfo[] = [];
  for (let i = 0; i < sessionsAtOnce; i++) {
    sessions.push(await client.call<SessionInfo>("session.spawn", { name: `bench-${i}` }));
  }
  await waitFor(
    `${sessionsAtOnce} channels connected`,
    async () =>
      (await client.call<SessionInfo[]>("session.list")).filter((s) => s.channel).length ===
      sessionsAtOnce,
    120_000,
  );
  const first = sessions[0].id;
  await channelRoundTrips(client, until, first, 20); // warm-up
  await terminalRoundTrips(client, until, first, 20);
  const terminal = await terminalRoundTrips(client, until, first, roundTrips);
  const one = await channelRoundTrips(client, until, first, roundTrips);
  const perSession = Math.max(1, Math.round(roundTrips / 10));
  const t0 = performance.now();
  const many = (
    await Promise.all(sessions.map((s) => channelRoundTrips(client, until, s.id, perSession)))
  ).flat();
  const seconds = (performance.now() - t0) / 1000;
  console.log("channel round trip: channel.send → fake claude's reply tool → channel.reply (ws)");
  console.log(line("  terminal path, 1 session (baseline)", terminal));
  console.log(line("  channel, 1 session", one, terminal));
  console.log(line(`  channel, ${sessionsAtOnce} sessions at once`, many, terminal));
  console.log(
    `  ${sessionsAtOnce} sessions: ${(many.length / seconds).toFixed(0)} round trips/s in all`,
  );
  client.close();
} finally {
  await pool.stop();
}
