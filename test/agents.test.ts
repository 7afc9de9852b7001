/**
 * Agents messaging each other: fake claudes call the pool's MCP tools list_sessions and
 * send_message (a typed or channel message `TOOL <name> <json>`), and the pool checks
 * agentMessaging and the hop limit. The claudes of a and b cannot hear channels (an API-key
 * login): messages to them are typed, and the tools work all the same; c's hears its channel.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { LedgerEntry } from "../src/channel/ledger.js";
import { connectUnix, type RpcClient } from "../src/rpc/client.js";
import type { SessionInfo } from "../src/session/session.js";
import { makeHookedPool, PoolProcess, startFakePool, waitFor } from "./helpers.js";

let pool: PoolProcess;
let local: RpcClient;
const sessions: Record<string, SessionInfo> = {};

async function get(name: string): Promise<SessionInfo> {
  return local.call<SessionInfo>("session.get", { id: name });
}

async function spawnConnected(name: string, env: Record<string, string> = {}): Promise<void> {
  sessions[name] = await local.call<SessionInfo>("session.spawn", { name, env });
  await waitFor(
    `${name}'s channel server connected and claude at its prompt`,
    async () => {
      const s = await get(name);
      return s.channel && s.activity === "idle";
    },
    30_000,
  );
}

/** Types `line` into session `name` and resolves with the reply of the turn it starts. */
async function ask(name: string, line: string): Promise<string> {
  const before = (await get(name)).lastTurn?.id;
  await local.call("session.send", { id: name, text: line });
  const turn = await waitFor(
    `${name} to answer ${line.slice(0, 60)}`,
    async () => {
      const last = (await get(name)).lastTurn;
      return last !== null && last.id !== before && last.prompt === line.slice(0, 200) && last;
    },
    30_000,
  );
  return turn.reply;
}

const tool = (name: string, args: Record<string, unknown>) =>
  `TOOL ${name} ${JSON.stringify(args)}`;

async function history(name: string): Promise<LedgerEntry[]> {
  return local.call<LedgerEntry[]>("channel.history", { id: name, limit: 200 });
}

before(async () => {
  pool = await startFakePool({
    stopTimeoutSeconds: 2,
    // b's refusal of channels is usually seen on its screen at once; if not, type soon anyway.
    channelFallbackSeconds: 2,
    agentMessaging: [
      { from: "a", to: ["b", "c"] },
      { from: "b", to: ["a"] },
      { from: "*", to: ["nobody"] },
    ],
  });
  local = await connectUnix(pool.socket);
  await Promise.all([
    spawnConnected("a", { FAKE_CLAUDE_CHANNELS: "refused" }),
    spawnConnected("b", { FAKE_CLAUDE_CHANNELS: "refused" }),
    spawnConnected("c"),
  ]);
});

after(async () => {
  local.close();
  await pool.stop();
});

describe("agent messaging", () => {
  it("a sends to b (stopped, so resumed) and gets b's reply back in its tool call", async () => {
    await local.call("session.kill", { id: "b" });
    const reply = await ask(
      "a",
      tool("send_message", { to: "b", text: "hello b", wait_seconds: 30 }),
    );
    assert.equal(reply, "b replied:\n\nYou said: hello b");
    const [entry] = await history("b");
    assert.equal(entry.from, `session:${sessions.a.id}`);
    assert.deepEqual(entry.meta, { from_session: "a", hops: "1" });
    assert.deepEqual([entry.state, entry.via], ["replied", "pty"]);
    assert.equal((await get("b")).status, "running");
    // Its tools are there once its MCP server is (claude took the message before that).
    await waitFor("b's channel server back", async () => (await get("b")).channel, 30_000);
  });

  it("a message to a session that hears its channel is answered with its reply tool", async () => {
    const reply = await ask(
      "a",
      tool("send_message", { to: "c", text: "hello c", wait_seconds: 30 }),
    );
    assert.equal(reply, "c replied:\n\nYou said: hello c");
    const [entry] = await history("c");
    assert.deepEqual([entry.state, entry.via, entry.meta.hops], ["replied", "channel", "1"]);
  });

  it("list_sessions shows the sessions the caller may message, with their last reply", async () => {
    const listed = JSON.parse(await ask("a", tool("list_sessions", {}))) as Record<
      string,
      unknown
    >[];
    assert.deepEqual(
      listed.map((s) => [s.name, s.status, s.workingDirectory, s.lastReply]),
      [
        ["b", "running", sessions.b.workingDirectory, "You said: hello b"],
        ["c", "running", sessions.c.workingDirectory, "You said: hello c"],
      ],
    );
    assert.equal(await ask("c", tool("list_sessions", {})), "(no sessions you may message)");
  });

  it("refuses a pair agentMessaging does not allow, saying what the config needs", async () => {
    const reply = await ask("c", tool("send_message", { to: "a", text: "let me in" }));
    assert.match(
      reply,
      /^error: send_message failed: agentMessaging does not allow c to message a; .*\{"from": "c", "to": \["a"\]\}/,
    );
    assert.ok(!(await history("a")).some((e) => e.content === "let me in"));
  });

  it("a loop between two agents stops at the hop limit", async () => {
    // Each message asks its receiver to message the other one again, five levels deep.
    let line = tool("send_message", { to: "b", text: "the end", wait_seconds: 0 });
    for (const to of ["a", "b", "a", "b"]) {
      line = tool("send_message", { to, text: line, wait_seconds: 0 });
    }
    const first = await ask("a", line);
    assert.match(first, /^Sent to b \(message [0-9a-f-]+, \w+\)\. The reply comes to you/);
    const refused = await waitFor(
      "the fifth hop refused",
      async () => (await history("a")).find((e) => e.meta.hops === "4" && e.replies.length > 0),
      30_000,
    );
    assert.match(
      refused.replies[0].text,
      /error: send_message failed: hop limit reached: this would be agent message 5 .* at most 4/,
    );
    const chain = [...(await history("a")), ...(await history("b"))].filter(
      (e) => e.meta.from_session !== undefined && e.meta.in_reply_to === undefined,
    );
    assert.deepEqual(chain.map((e) => e.meta.hops).sort(), ["1", "1", "2", "3", "4"]);
    assert.ok(!chain.some((e) => e.content === "the end"));
  });
});

describe("agent messaging off", () => {
  it("refuses, and says how to turn it on", async () => {
    const t = await makeHookedPool();
    try {
      await t.pool.start();
      const s = t.pool.spawn({ name: "lonely", channel: false });
      await assert.rejects(
        t.hub.agents.send(s.id, "anyone", "hi", 0),
        /agent messaging is off in the pool's config; .*agentMessaging to rules like \[\{"from": "lonely", "to": \["\*"\]\}\]/,
      );
      assert.throws(() => t.hub.agents.list(s.id), /agent messaging is off/);
    } finally {
      await t.close();
    }
  });
});
