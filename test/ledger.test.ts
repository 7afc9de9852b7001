/**
 * The durable ledger end to end: `claude-pool start` killed with SIGKILL while 100 messages wait
 * for delivery, and again while they are being delivered; each next pool delivers every one of
 * them, and claude's transcript shows each exactly once.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { LedgerEntry } from "../src/channel/ledger.js";
import { connectUnix, type RpcClient } from "../src/rpc/client.js";
import type { SessionInfo } from "../src/session/session.js";
import { endProcessesUnder, PoolProcess, startFakePool, tempDir, waitFor } from "./helpers.js";

const count = 100;
const pools: PoolProcess[] = [];
const clients: RpcClient[] = [];
after(async () => {
  for (const c of clients) c.close();
  await Promise.all(pools.map((p) => p.stop()));
  await Promise.all(pools.map((p) => endProcessesUnder(p.dir)));
});

async function connect(pool: PoolProcess): Promise<RpcClient> {
  const client = await connectUnix(pool.socket);
  clients.push(client);
  return client;
}

async function killHard(pool: PoolProcess): Promise<void> {
  pool.child.kill("SIGKILL");
  await pool.exited;
  await endProcessesUnder(pool.dir);
}

/** The next pool over the same state dir, once its control socket answers. */
async function restart(dir: string): Promise<{ pool: PoolProcess; local: RpcClient }> {
  const pool = new PoolProcess(dir, ["--config", join(dir, "pool.json")]);
  pools.push(pool);
  await pool.ready();
  return { pool, local: await connect(pool) };
}

function history(local: RpcClient, id: string): Promise<LedgerEntry[]> {
  return local.call<LedgerEntry[]>("channel.history", { id, limit: 200 });
}

/** How often claude took each message: the user entries of its transcript, by text. */
function taken(dir: string, claudeSessionId: string): Map<string, number> {
  const projects = join(dir, "claude", "projects");
  const counts = new Map<string, number>();
  for (const project of readdirSync(projects)) {
    const file = join(projects, project, `${claudeSessionId}.jsonl`);
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").filter(Boolean)) {
      const entry = JSON.parse(line) as { type: string; message: { content: unknown } };
      if (entry.type !== "user" || typeof entry.message.content !== "string") continue;
      counts.set(entry.message.content, (counts.get(entry.message.content) ?? 0) + 1);
    }
  }
  return counts;
}

describe("durable ledger", () => {
  it("delivers 100 queued messages after kill -9, each once, even when killed again while delivering", async () => {
    const dir = tempDir();
    const first = await startFakePool({ stopTimeoutSeconds: 1 }, dir);
    pools.push(first);
    let local = await connect(first);
    // claude takes its time to start at each launch: the messages wait for it meanwhile.
    const session = await local.call<SessionInfo>("session.spawn", {
      name: "durable",
      channel: false,
      env: { FAKE_CLAUDE_START_DELAY_MS: "5000" },
    });
    const texts = Array.from({ length: count }, (_, i) => `durable ${i}`);
    for (const content of texts) await local.call("channel.send", { id: session.id, content });
    const { status } = await local.call<SessionInfo>("session.get", { id: session.id });
    assert.equal(status, "starting", "claude was still starting: nothing was delivered");
    assert.ok((await history(local, session.id)).every((e) => e.state === "queued"));
    await killHard(first);

    // The next pool has them all, queued, and delivers them once claude runs.
    let next = await restart(dir);
    local = next.local;
    const kept = await history(local, session.id);
    assert.deepEqual(
      kept.map((e) => [e.content, e.state]),
      texts.map((t) => [t, "queued"]),
    );
    await waitFor(
      "a third of the replies",
      async () =>
        (await history(local, session.id)).filter((e) => e.state === "replied").length >= count / 3,
      60_000,
    );
    await killHard(next.pool);

    next = await restart(dir);
    local = next.local;
    let states: Record<string, number> = {};
    const done = await waitFor(
      () => `every message answered, not ${JSON.stringify(states)}\n${next.pool.stderr}`,
      async () => {
        const entries = await history(local, session.id);
        states = {};
        for (const e of entries) states[e.state] = (states[e.state] ?? 0) + 1;
        return entries.every((e) => e.state === "replied" || e.state === "failed") && entries;
      },
      60_000,
    );
    assert.deepEqual(
      done.map((e) => e.content),
      texts,
      "the ledger holds each message once, in order",
    );
    const failed = done.filter((e) => e.state === "failed");
    assert.ok(failed.length <= 1, `at most the message claude was answering: ${failed.length}`);
    for (const e of done.filter((x) => x.state === "replied")) {
      assert.deepEqual(
        e.replies.map((r) => r.text),
        [`You said: ${e.content}`],
      );
    }
    const counts = taken(dir, session.claudeSessionId);
    const wrong = texts.filter((t) => counts.get(t) !== 1).map((t) => `${t}: ${counts.get(t)}`);
    assert.deepEqual(wrong, [], "claude took every message exactly once");
  });
});
