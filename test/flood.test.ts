import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { ScreenModel } from "./xterm-screen.js";
import { connectUnix, type RpcClient } from "../src/rpc/client.js";
import type { SessionInfo } from "../src/session/session.js";
import {
  blockedInTtyWrite,
  OutputRecorder,
  poolFactory,
  startFakePool,
  waitFor,
  waitForStatus,
  type PoolProcess,
} from "./helpers.js";

const floodBytes = 64 * 1024 * 1024;

/** Bytes `pid` has written so far. */
function written(pid: number): number {
  return Number(/^wchar: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, "utf8"))![1]);
}

async function timed<T>(call: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const t0 = performance.now();
  const result = await call();
  return { result, ms: performance.now() - t0 };
}

describe("a session flooding its terminal with erase-screen sequences", () => {
  let pool: PoolProcess;
  let client: RpcClient;

  before(async () => {
    pool = await startFakePool();
    client = await connectUnix(pool.socket);
  });

  after(async () => {
    client.close();
    await pool.stop();
  });

  it("blocks in its writes while the pool stays up and answers", async () => {
    const s = await client.call<SessionInfo>("session.spawn", { name: "flood" });
    const logs = async () =>
      (await client.call<{ lines: string[] }>("session.logs", { id: s.id })).lines;
    await waitFor("the prompt", async () => (await logs()).includes("> "));
    const pid = (await client.call<SessionInfo>("session.get", { id: s.id })).pid!;
    await client.call("session.send", { id: s.id, text: `/flood-erase ${floodBytes}` });

    // At 120×40 xterm parses erase-screen at well under 1 MB/s, so the screen sets the pace: claude
    // blocks in its writes while the pool reads no faster than it parses. (Unchecked, what the pool
    // has read but not parsed grows by about 1 MB/s until xterm throws at 50 MB and the pool dies.)
    await waitFor("claude blocked in a write to its terminal", () => blockedInTtyWrite(pid));
    await waitFor("2 MB of the flood written", () => written(pid) > 2_000_000, 30_000);
    const status = await timed(() => client.call<{ status: string }>("pool.status"));
    assert.equal(status.result.status, "ok");
    assert.ok(status.ms < 1000, `pool.status took ${status.ms.toFixed(0)} ms during the flood`);
    // session.logs waits until the screen has parsed what the pool has read: a small backlog.
    const behind = await timed(logs);
    assert.ok(behind.ms < 3000, `session.logs took ${behind.ms.toFixed(0)} ms during the flood`);
    // Sampled at one instant claude may be between two writes: it blocks again at once.
    await waitFor("claude blocked in its write again", () => blockedInTtyWrite(pid), 5000);

    // The rest would take minutes at 120×40; at 20×5 the screen parses it in seconds.
    await client.call("session.resize", { id: s.id, cols: 20, rows: 5 });
    await waitFor("the flood's end", async () => (await logs()).includes("flood done"), 60_000);
    assert.equal(pool.child.exitCode, null, pool.stderr);
    assert.doesNotMatch(pool.stderr, /screen model|discarded/);
    assert.ok(written(pid) > floodBytes);

    // The replay drawn on a fresh terminal is the screen the pool shows, the flood's end on it.
    await client.call("session.resize", { id: s.id, cols: 120, rows: 40 });
    const screen = await client.call<{ data: string; cols: number; rows: number }>(
      "session.attach",
      { id: s.id, readOnly: true },
    );
    const replica = new ScreenModel(screen.cols, screen.rows, 1 << 20);
    replica.write(screen.data);
    await replica.flushed();
    const drawn = replica.lines(true);
    while (drawn.length > 0 && drawn[drawn.length - 1].trim() === "") drawn.pop();
    const shown = await logs();
    assert.deepEqual(drawn, shown);
    assert.deepEqual(shown.slice(-2), ["flood done", "> "]);
  });
});

describe("output while the screen holds the terminal back", () => {
  const newPool = poolFactory();

  it("reaches the session's output listeners complete and in order", async () => {
    const t = newPool();
    const s = t.pool.spawn({ name: "paused" });
    const rec = new OutputRecorder(t.pool, () => s.id);
    await waitForStatus(t.pool, s.id, "running");
    await rec.waitFor(/> $/);
    // 100000 sequences: 400000 characters, four times the backlog at which reading pauses
    await t.pool.send(s.id, "/flood-erase 400000");
    await rec.waitFor(/flood done\r\r\n> $/, 60_000);
    const flood = /\/flood-erase 400000\r\r\n([^]*)\r\r\nflood done/.exec(rec.text)![1];
    assert.equal(flood, "\x1b[2J".repeat(100_000));
  });
});
