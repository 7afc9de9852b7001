/**
 * The channel bridge end to end: fake claudes start `claude-pool channel` from the MCP config the
 * pool writes, and clients talk to them over WebSocket JSON-RPC, the claude-socket endpoint and
 * claude-poolctl chat.
 */
import assert from "node:assert/strict";
import { execFile, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { WebSocket } from "ws";
import { z } from "zod";
import type { LedgerEntry } from "../src/channel/ledger.js";
import type { EndedTurn } from "../src/session/evidence.js";
import { connectUnix, connectWs, type RpcClient } from "../src/rpc/client.js";
import type { SessionInfo } from "../src/session/session.js";
import {
  claudePoolBin,
  PoolProcess,
  rejectsWithRpc,
  repoRoot,
  startFakePool,
  tempDir,
  waitFor,
} from "./helpers.js";

const poolctl = join(repoRoot, "dist", "src", "bin", "claude-poolctl.js");
type Params = Record<string, unknown>;

/** Every notification a client receives, and a way to wait for one. */
class Signals {
  readonly seen: { method: string; params: Params }[] = [];
  constructor(readonly client: RpcClient) {
    client.on("notification", (method, params) => this.seen.push({ method, params }));
  }
  next(method: string, match: (p: Params) => boolean = () => true, timeoutMs = 10_000) {
    return waitFor(
      `${method} in ${JSON.stringify(this.seen.map((s) => s.method))}`,
      () => this.seen.find((s) => s.method === method && match(s.params))?.params,
      timeoutMs,
    );
  }
}

interface TestPool {
  process: PoolProcess;
  dir: string;
  url: string;
  admin: string;
  local: RpcClient;
}

const pools: TestPool[] = [];
const clients: RpcClient[] = [];
after(async () => {
  for (const c of clients) c.close();
  await Promise.all(pools.map(async (p) => (p.local.close(), await p.process.stop())));
});

async function startPool(config: Record<string, unknown>): Promise<TestPool> {
  const dir = tempDir();
  const process = await startFakePool({ stopTimeoutSeconds: 2, ...config }, dir);
  const url = /remote API: (ws:\/\/[^/\s]+)\/rpc/.exec(process.stderr)![1];
  const admin = readFileSync(join(dir, "state", "claude-pool", "token"), "utf8").trim();
  const local = await connectUnix(process.socket);
  const pool = { process, dir, url, admin, local };
  pools.push(pool);
  return pool;
}

async function remote(pool: TestPool, token = pool.admin): Promise<Signals> {
  const client = await connectWs(pool.url, { token });
  clients.push(client);
  await client.call("pool.subscribe", {});
  return new Signals(client);
}

async function token(pool: TestPool, name: string, scopes: string[]): Promise<string> {
  const r = await pool.local.call<{ token: string }>("token.create", { name, scopes });
  return r.token;
}

/** Spawns a session and waits until its channel server is connected. */
async function channelSession(pool: TestPool, settings: Params = {}): Promise<SessionInfo> {
  const s = await pool.local.call<SessionInfo>("session.spawn", settings);
  return waitFor(
    `session ${s.id} channel connected`,
    async () => {
      const info = await pool.local.call<SessionInfo>("session.get", { id: s.id });
      return info.channel ? info : undefined;
    },
    15_000,
  );
}

function auditLines(pool: TestPool): Params[] {
  const file = join(pool.dir, "state", "claude-pool", "audit.log");
  return readFileSync(file, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l) as Params);
}

/** `claude-pool channel` for session `id`, driven by the MCP SDK's own Client as claude would. */
async function sdkChannel(id: string, socket: string) {
  const client = new Client({ name: "sdk-test", version: "1" }, { capabilities: {} });
  const delivered: Params[] = [];
  const verdicts: Params[] = [];
  client.setNotificationHandler(
    z.object({ method: z.literal("notifications/claude/channel"), params: z.any() }),
    ({ params }) => void delivered.push(params as Params),
  );
  client.setNotificationHandler(
    z.object({ method: z.literal("notifications/claude/channel/permission"), params: z.any() }),
    ({ params }) => void verdicts.push(params as Params),
  );
  const env = { ...process.env, CLAUDE_POOL_SESSION_ID: id, CLAUDE_POOL_SOCKET: socket };
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [claudePoolBin, "channel"],
      env: env as Record<string, string>,
      stderr: "ignore",
    }),
  );
  return { client, delivered, verdicts };
}

describe("channel bridge", () => {
  let pool: TestPool;
  before(async () => {
    pool = await startPool({ maxSessions: 12 });
  });

  it("passes the generated --mcp-config and the development channel to claude", async () => {
    const s = await channelSession(pool, { name: "argv" });
    await pool.local.call("session.resize", { id: s.id, cols: 1000, rows: 40 });
    await pool.local.call("session.send", { id: s.id, text: "/args" });
    const args = await waitFor("the /args line", async () => {
      const { lines } = await pool.local.call<{ lines: string[] }>("session.logs", { id: s.id });
      const line = lines.find((l) => l.startsWith('["'));
      return line ? (JSON.parse(line) as string[]) : undefined;
    });
    const config = args[args.indexOf("--mcp-config") + 1];
    assert.match(config, new RegExp(`${s.id}\\.mcp\\.json$`));
    assert.deepEqual(args.slice(-2), [
      "--dangerously-load-development-channels",
      "server:claude-pool",
    ]);
    const servers = (JSON.parse(readFileSync(config, "utf8")) as { mcpServers: Params }).mcpServers;
    assert.deepEqual(Object.keys(servers), ["claude-pool"]);
  });

  it("delivers a ws client's message through the channel and signals claude's reply", async () => {
    const s = await channelSession(pool, { name: "reply" });
    const a = await remote(pool);
    const sent = await a.client.call<LedgerEntry>("channel.send", {
      id: s.id,
      content: "hello over the channel",
      meta: { topic: "greeting" },
    });
    assert.match(sent.messageId, /^[0-9a-f-]{36}$/);
    const reply = await a.next("channel.reply", (p) => p.id === s.id);
    assert.equal(reply.text, "You said: hello over the channel");
    assert.deepEqual(reply.messageIds, [sent.messageId]);
    assert.equal(reply.chatId, sent.chatId);
    const status = await a.next("channel.status", (p) => p.id === s.id);
    assert.equal(status.status, "thinking");
    const [entry] = await a.client.call<LedgerEntry[]>("channel.history", { id: s.id });
    assert.equal(entry.state, "replied");
    assert.equal(entry.via, "channel");
    assert.equal(entry.from, "admin");
    const states = a.seen
      .filter((x) => x.method === "channel.message")
      .map((x) => (x.params.message as LedgerEntry).state);
    assert.deepEqual(states, ["queued", "delivered", "replied"]);
    // The message reached claude as a channel notification, not as typed input.
    const { lines } = await pool.local.call<{ lines: string[] }>("session.logs", { id: s.id });
    assert.ok(
      lines.some((l) => l.includes("← claude-pool: hello over the channel")),
      lines.join("\n"),
    );
  });

  it("queues a message while the channel is down and delivers it once it is back", async () => {
    const s = await channelSession(pool, { name: "restart" });
    const a = await remote(pool);
    const channelPid = spawnSync("pgrep", ["-f", `-P`, String(s.pid), "claude-pool.js channel"], {
      encoding: "utf8",
    }).stdout.trim();
    assert.match(channelPid, /^\d+$/, "the channel server runs as claude's child");
    process.kill(Number(channelPid), "SIGKILL");
    await a.next(
      "session.changed",
      (p) => (p.session as SessionInfo).id === s.id && !(p.session as SessionInfo).channel,
    );
    const sent = await a.client.call<LedgerEntry>("channel.send", {
      id: s.id,
      content: "while down",
    });
    assert.equal(sent.state, "queued");
    // A new claude process brings a new channel server.
    await pool.local.call("session.kill", { id: s.id });
    await pool.local.call("session.resume", { id: s.id });
    const reply = await a
      .next("channel.reply", (p) => p.id === s.id, 15_000)
      .catch((e: Error) => {
        throw new Error(`${e.message}\n${JSON.stringify(a.seen)}\n${pool.process.stderr}`);
      });
    assert.equal(reply.text, "You said: while down");
    const [entry] = await a.client.call<LedgerEntry[]>("channel.history", { id: s.id });
    assert.equal(entry.via, "channel");
    assert.equal(entry.state, "replied");
  });

  it("routes a permission prompt to the client whose message started the turn", async () => {
    const s = await channelSession(pool, { name: "perm-origin" });
    const a = await remote(pool);
    const b = await remote(pool, await token(pool, "approver-b", ["read", "approve"]));
    await a.client.call("channel.send", { id: s.id, content: "perm Bash ls -la" });
    const request = await a.next("permission.request", (p) => p.id === s.id);
    assert.equal(request.toolName, "Bash");
    assert.match(String(request.requestId), /^[a-km-z]{5}$/);
    assert.equal(request.inputPreview, JSON.stringify({ command: "ls -la" }));
    await a.client.call("permission.respond", {
      id: s.id,
      requestId: request.requestId,
      behavior: "allow",
    });
    const reply = await a.next("channel.reply", (p) => p.id === s.id);
    assert.equal(reply.text, `permission ${String(request.requestId)} allow`);
    await b.next("permission.resolved", (p) => p.requestId === request.requestId);
    assert.ok(
      !b.seen.some((x) => x.method === "permission.request" && x.params.id === s.id),
      "the other approver was not asked",
    );
    const line = auditLines(pool).find((l) => l.requestId === request.requestId)!;
    assert.deepEqual(
      { session: line.session, tool: line.tool, decision: line.decision, by: line.by },
      { session: s.id, tool: "Bash", decision: "allow", by: "admin" },
    );
    assert.ok(!Number.isNaN(Date.parse(String(line.time))));
    await rejectsWithRpc(
      a.client.call("permission.respond", {
        id: s.id,
        requestId: request.requestId,
        behavior: "deny",
      }),
      -32602,
      /no pending permission request/,
    );
  });

  it("asks every approver when the sender cannot approve, and denies what they deny", async () => {
    const s = await channelSession(pool, { name: "perm-all" });
    const sender = await remote(pool, await token(pool, "sender", ["read", "control"]));
    const a = await remote(pool);
    const b = await remote(pool, await token(pool, "approver-c", ["read", "approve"]));
    await sender.client.call("channel.send", { id: s.id, content: "perm Write notes.txt" });
    const ra = await a.next("permission.request", (p) => p.id === s.id);
    const rb = await b.next("permission.request", (p) => p.id === s.id);
    assert.equal(ra.requestId, rb.requestId);
    assert.ok(!sender.seen.some((x) => x.method === "permission.request"), "no approve scope");
    await rejectsWithRpc(
      sender.client.call("permission.respond", {
        id: s.id,
        requestId: ra.requestId,
        behavior: "allow",
      }),
      -32004,
      /approve/,
    );
    await b.client.call("permission.respond", {
      id: s.id,
      requestId: rb.requestId,
      behavior: "deny",
    });
    const reply = await sender.next("channel.reply", (p) => p.id === s.id);
    assert.equal(reply.text, `permission ${String(ra.requestId)} deny`);
    const line = auditLines(pool).find((l) => l.requestId === ra.requestId)!;
    assert.equal(line.by, "approver-c");
    assert.equal(line.decision, "deny");
  });

  it("speaks claude-socket's protocol at /sessions/:id/socket", async () => {
    const s = await channelSession(pool, { name: "socket" });
    const ws = new WebSocket(`${pool.url}/sessions/${s.name}/socket?session=chat-1`, {
      headers: { authorization: `Bearer ${pool.admin}` },
    });
    const frames: Params[] = [];
    ws.on("message", (d) => frames.push(JSON.parse(String(d)) as Params));
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    const frame = (type: string, match: (f: Params) => boolean = () => true) =>
      waitFor(`${type} frame`, () => frames.find((f) => f.type === type && match(f)));
    ws.send(
      JSON.stringify({
        type: "message",
        session_id: "chat-1",
        content: "hi socket",
        user: "ann",
        ts: "t1",
      }),
    );
    const status = await frame("status");
    assert.deepEqual(status, { type: "status", session_id: "chat-1", status: "thinking" });
    const reply = await frame("reply");
    assert.equal(reply.session_id, "chat-1");
    assert.equal(reply.content, "You said: hi socket");
    assert.equal(typeof reply.message_id, "string");
    ws.send(JSON.stringify({ type: "fetch_history", session_id: "chat-1" }));
    const history = await frame("history");
    assert.deepEqual(
      (history.messages as Params[]).map((m) => [m.role, m.content]),
      [
        ["user", "hi socket"],
        ["assistant", "You said: hi socket"],
      ],
    );
    ws.send(JSON.stringify({ type: "message", session_id: "chat-1", content: "perm Bash rm x" }));
    const request = await frame("permission_request");
    assert.equal(request.tool_name, "Bash");
    ws.send(
      JSON.stringify({
        type: "permission_response",
        request_id: request.request_id,
        allowed: "no",
      }),
    );
    await frame("error", (f) => /allowed: true or false/.test(String(f.message)));
    ws.send(
      JSON.stringify({
        type: "permission_response",
        request_id: request.request_id,
        allowed: true,
      }),
    );
    await frame("reply", (f) => f.content === `permission ${String(request.request_id)} allow`);
    ws.send(JSON.stringify({ type: "bogus" }));
    await frame("error", (f) => /unknown message type: bogus/.test(String(f.message)));
    ws.send("{not json");
    await frame("error", (f) => f.message === "invalid JSON");
    ws.send("null");
    await frame("error", (f) => /JSON object/.test(String(f.message)));
    ws.close();
    const refused = new WebSocket(`${pool.url}/sessions/${s.id}/socket`);
    const status401 = await new Promise<number>((resolve) =>
      refused.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)),
    );
    assert.equal(status401, 401);
  });

  it("claude-poolctl chat --message prints the reply", async () => {
    const s = await channelSession(pool, { name: "cli" });
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [poolctl, "chat", s.name, "--message", "from the cli", "--timeout", "10"],
      { env: { ...process.env, CLAUDE_POOL_SOCKET: pool.process.socket } },
    );
    assert.equal(stdout, "You said: from the cli\n");
  });

  it("claude-poolctl chat: type messages, see replies, answer a permission prompt", async () => {
    const s = await channelSession(pool, { name: "chat" });
    const chat = spawn(process.execPath, [poolctl, "chat", s.name], {
      env: { ...process.env, CLAUDE_POOL_SOCKET: pool.process.socket },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    chat.stdout.on("data", (d: Buffer) => (out += d.toString()));
    chat.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const shown = (re: RegExp) => waitFor(`${re} in:\n${out}`, () => re.exec(out) ?? undefined);
    try {
      await shown(/chatting with chat/);
      chat.stdin.write("hello chat\n");
      await shown(/claude> You said: hello chat/);
      chat.stdin.write("perm Bash make\n");
      const [, tool] = await shown(/claude wants to use (\w+)/);
      assert.equal(tool, "Bash");
      await shown(/allow\? \[y\/n\]/);
      chat.stdin.write("y\n");
      const [, requestId] = await shown(/claude> permission ([a-z]{5}) allow/);
      await shown(new RegExp(`${requestId}: allow \\(local\\)`));
    } finally {
      chat.stdin.end();
    }
    const [code] = (await once(chat, "exit")) as [number];
    assert.equal(code, 0);
  });

  it("serves claude over MCP stdio to the SDK's own Client", async () => {
    const s = await pool.local.call<SessionInfo>("session.spawn", { name: "sdk", channel: false });
    const local = new Signals(await connectUnix(pool.process.socket));
    clients.push(local.client);
    await local.client.call("pool.subscribe", {});
    const { client, delivered, verdicts } = await sdkChannel(s.id, pool.process.socket);
    try {
      assert.deepEqual(client.getServerCapabilities()?.experimental, {
        "claude/channel": {},
        "claude/channel/permission": {},
      });
      assert.match(client.getInstructions() ?? "", /the reply\s+tool/);
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), [
        "fetch_messages",
        "list_sessions",
        "reply",
        "send_message",
        "status",
      ]);
      await local.next(
        "session.changed",
        (p) =>
          (p.session as SessionInfo).id === s.id && (p.session as SessionInfo).channel === true,
      );
      const sent = await local.client.call<LedgerEntry>("channel.send", {
        id: s.id,
        content: "to the sdk",
        meta: { chat_id: "c9" },
      });
      const note = await waitFor("channel notification", () => delivered[0]);
      assert.deepEqual(note, {
        content: "to the sdk",
        meta: { user: "local", chat_id: "c9", message_id: sent.messageId, sender: "local" },
      });
      const result = await client.callTool({
        name: "reply",
        arguments: { chat_id: "c9", text: "got it" },
      });
      assert.deepEqual(result.content, [{ type: "text", text: "sent" }]);
      const reply = await local.next("channel.reply", (p) => p.id === s.id);
      assert.deepEqual(
        [reply.chatId, reply.text, reply.messageIds],
        ["c9", "got it", [sent.messageId]],
      );
      const fetched = await client.callTool({ name: "fetch_messages", arguments: { limit: 5 } });
      assert.match(
        JSON.stringify(fetched.content),
        /user \(chat c9\): to the sdk.*assistant \(chat c9\): got it/,
      );
      await client.notification({
        method: "notifications/claude/channel/permission_request",
        params: {
          request_id: "abcde",
          tool_name: "Edit",
          description: "edit a file",
          input_preview: "{}",
        },
      });
      const request = await local.next("permission.request", (p) => p.id === s.id);
      assert.equal(request.toolName, "Edit");
      await local.client.call("permission.respond", {
        id: s.id,
        requestId: "abcde",
        behavior: "deny",
      });
      assert.deepEqual(await waitFor("verdict", () => verdicts[0]), {
        request_id: "abcde",
        behavior: "deny",
      });
    } finally {
      await client.close();
    }
  });

  it("refuses to run outside a session", () => {
    const run = spawnSync(process.execPath, [claudePoolBin, "channel"], {
      env: { ...process.env, CLAUDE_POOL_SESSION_ID: "" },
      encoding: "utf8",
    });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /CLAUDE_POOL_SESSION_ID is not set/);
  });
});

describe("delivery fallbacks and timeouts", () => {
  let pool: TestPool;
  before(async () => {
    pool = await startPool({
      maxSessions: 4,
      permissionTimeoutSeconds: 0.5,
      channelFallbackSeconds: 0.5,
      confirmDevelopmentChannels: true,
    });
  });

  it("types into the terminal when claude takes no notice of its channel", async () => {
    const s = await channelSession(pool, { name: "deaf", env: { FAKE_CLAUDE_CHANNELS: "off" } });
    const a = await remote(pool);
    await a.client.call("channel.send", { id: s.id, content: "are you there" });
    const typed = await a.next("channel.message", (p) => (p.message as LedgerEntry).via === "pty");
    assert.match(String((typed.message as LedgerEntry).note), /started no turn/);
    await waitFor("the typed message's echo", async () => {
      const { lines } = await pool.local.call<{ lines: string[] }>("session.logs", { id: s.id });
      return lines.some((l) => l.includes("You said: are you there"));
    });
  });

  it("types into the terminal of a session without a channel, each message once", async () => {
    const s = await pool.local.call<SessionInfo>("session.spawn", {
      name: "nochannel",
      channel: false,
    });
    const a = await remote(pool);
    const texts = ["plain 1", "plain 2", "plain 3"];
    await Promise.all(texts.map((content) => a.client.call("channel.send", { id: s.id, content })));
    for (const text of texts) {
      await a.next("channel.message", (p) => {
        const m = p.message as LedgerEntry;
        return m.content === text && m.via === "pty" && m.note === null;
      });
    }
    const screen = await waitFor("three replies", async () => {
      const { lines } = await pool.local.call<{ lines: string[] }>("session.logs", { id: s.id });
      return lines.filter((l) => l.includes("You said: plain")).length >= 3 ? lines : undefined;
    });
    for (const text of texts) {
      assert.equal(screen.filter((l) => l.includes(`You said: ${text}`)).length, 1, text);
    }
    assert.equal((await pool.local.call<SessionInfo>("session.get", { id: s.id })).channel, false);
  });

  it("keeps at most 100 messages waiting for a session, and says why it refuses more", async () => {
    const s = await pool.local.call<SessionInfo>("session.spawn", {
      name: "stuck",
      channel: false,
      env: { FAKE_CLAUDE_DIALOG: "trust-folder" },
    });
    await waitFor("blockedOn trust-folder", async () => {
      const info = await pool.local.call<SessionInfo>("session.get", { id: s.id });
      return info.blockedOn === "trust-folder";
    });
    for (let i = 0; i < 100; i++) {
      await pool.local.call("channel.send", { id: s.id, content: `waiting ${i}` });
    }
    await rejectsWithRpc(
      pool.local.call("channel.send", { id: s.id, content: "one too many" }),
      -32003,
      /100 messages waiting for delivery/,
    );
    const history = await pool.local.call<LedgerEntry[]>("channel.history", {
      id: s.id,
      limit: 200,
    });
    assert.equal(history.length, 100);
    assert.ok(history.every((e) => e.state === "queued"));
    await pool.local.call("session.kill", { id: s.id });
  });

  it("denies a permission request nobody answers in permissionTimeoutSeconds", async () => {
    const s = await channelSession(pool, { name: "timeout" });
    const a = await remote(pool);
    await a.client.call("channel.send", { id: s.id, content: "perm Bash sleep 1" });
    const request = await a.next("permission.request", (p) => p.id === s.id);
    const resolved = await a.next("permission.resolved", (p) => p.requestId === request.requestId);
    assert.deepEqual([resolved.behavior, resolved.by], ["deny", "timeout"]);
    const reply = await a.next("channel.reply", (p) => p.id === s.id);
    assert.equal(reply.text, `permission ${String(request.requestId)} deny`);
    const line = auditLines(pool).find((l) => l.requestId === request.requestId)!;
    assert.deepEqual([line.decision, line.by], ["deny", "timeout"]);
  });

  it("answers the development channels warning only with confirmDevelopmentChannels", async () => {
    const env = { FAKE_CLAUDE_DIALOG: "development-channels" };
    const s = await channelSession(pool, { name: "devwarn", env });
    assert.equal(s.blockedOn, null);
    const other = pools[0];
    const blocked = await other.local.call<SessionInfo>("session.spawn", { name: "devwarn", env });
    await waitFor("blockedOn development-channels", async () => {
      const info = await other.local.call<SessionInfo>("session.get", { id: blocked.id });
      return info.blockedOn === "development-channels";
    });
    await other.local.call("session.kill", { id: blocked.id });
  });
});

describe("claude-pool channel when the pool goes away", () => {
  it("answers Claude's tool calls at once, then reconnects to the pool when it is back", async () => {
    const dir = tempDir();
    let poolProcess = await startFakePool({}, dir);
    let local = await connectUnix(poolProcess.socket);
    const s = await local.call<SessionInfo>("session.spawn", { name: "solo", channel: false });
    const { client, delivered } = await sdkChannel(s.id, poolProcess.socket);
    const connected = async () =>
      (await local.call<SessionInfo>("session.get", { id: s.id })).channel;
    try {
      await waitFor("channel connected", connected);
      local.close();
      await poolProcess.stop();
      // Once the server has seen the pool go, replies are kept for later, never waited on.
      await waitFor("a reply kept for later", async () => {
        const result = await client.callTool({
          name: "reply",
          arguments: { chat_id: "x", text: "while the pool is away" },
        });
        return /queued: the pool is restarting/.test(JSON.stringify(result.content));
      });
      const t0 = Date.now();
      const fetched = await client.callTool({ name: "fetch_messages", arguments: {} });
      assert.equal(fetched.isError, true);
      assert.ok(Date.now() - t0 < 1000, "tool calls do not wait for the pool");
      poolProcess = await startFakePool({}, dir);
      local = await connectUnix(poolProcess.socket);
      await waitFor("channel reconnected", connected, 15_000);
      await local.call("channel.send", { id: s.id, content: "after the restart" });
      const note = await waitFor("notification after the restart", () => delivered[0]);
      assert.equal(note.content, "after the restart");
    } finally {
      await client.close();
      local.close();
      await poolProcess.stop();
    }
  });
});

describe("delivery to claudes that report their turns through hooks", () => {
  let pool: TestPool;
  before(async () => {
    pool = await startPool({ maxSessions: 5, channelFallbackSeconds: 6 });
  });

  /** The session's channel.reply signals, oldest first, without their sequence numbers. */
  const repliesOf = (a: Signals, id: string) =>
    a.seen
      .filter((x) => x.method === "channel.reply" && x.params.id === id)
      .map(({ params: { seq: _seq, ...reply } }) => reply);

  async function screen(id: string): Promise<string[]> {
    return (await pool.local.call<{ lines: string[] }>("session.logs", { id })).lines;
  }

  /** Sends `texts` one after another, each once the one before is replied; returns the entries. */
  async function converse(a: Signals, id: string, texts: string[]): Promise<LedgerEntry[]> {
    const sent: LedgerEntry[] = [];
    for (const content of texts) {
      const entry = await a.client.call<LedgerEntry>("channel.send", { id, content });
      sent.push(entry);
      await a.next("channel.reply", (p) => (p.messageIds as string[]).includes(entry.messageId));
    }
    return sent;
  }

  /** Each message replied exactly once, in order, with the turn's reply, and typed once. */
  async function assertTypedAndReplied(a: Signals, id: string, sent: LedgerEntry[]) {
    assert.deepEqual(
      repliesOf(a, id),
      sent.map((e) => ({
        id,
        chatId: e.chatId,
        text: `You said: ${e.content}`,
        messageIds: [e.messageId],
      })),
    );
    const history = await a.client.call<LedgerEntry[]>("channel.history", { id });
    assert.deepEqual(
      history.map((e) => [e.content, e.state, e.via]),
      sent.map((e) => [e.content, "replied", "pty"]),
    );
    const lines = await screen(id);
    for (const e of sent) {
      const echoes = lines.filter((l) => l.includes(`You said: ${e.content}`));
      assert.equal(echoes.length, 1, `"${e.content}" typed once:\n${lines.join("\n")}`);
    }
    assert.equal((await pool.local.call<SessionInfo>("session.get", { id })).evidence, "hooks");
  }

  it("types what a claude that refuses channels dropped, as soon as it says so, and all after it", async () => {
    const env = {
      FAKE_CLAUDE_CHANNELS: "refused",
      FAKE_CLAUDE_NOTICES_HIDDEN: "1",
      FAKE_CLAUDE_CHANNELS_TOAST_MS: "1500",
    };
    const a = await remote(pool);
    const s = await channelSession(pool, { name: "refused-later", env });
    const t0 = Date.now();
    const first = await a.client.call<LedgerEntry>("channel.send", { id: s.id, content: "one" });
    const typed = await a.next("channel.message", (p) => {
      const m = p.message as LedgerEntry;
      return m.messageId === first.messageId && m.via === "pty";
    });
    const typedAfterMs = Date.now() - t0;
    assert.ok(typedAfterMs < 4000, `typed ${typedAfterMs} ms after it was sent`);
    assert.equal((typed.message as LedgerEntry).note, "claude said channels are not available");
    const viaChannel = a.seen.filter(
      (x) => x.method === "channel.message" && (x.params.message as LedgerEntry).via === "channel",
    );
    assert.equal(viaChannel.length, 1, "it went through the channel first, and claude dropped it");
    await a.next("channel.reply", (p) => (p.messageIds as string[]).includes(first.messageId));
    const rest = await converse(a, s.id, ["two", "three"]);
    await assertTypedAndReplied(a, s.id, [first, ...rest]);
    const lines = await screen(s.id);
    assert.ok(lines.some((l) => l.includes("channels aren't available right now")));
    assert.ok(!lines.some((l) => l.includes("← claude-pool")), "claude showed no channel message");
  });

  it("types every message at once into a claude whose welcome refuses channels", async () => {
    const env = { FAKE_CLAUDE_CHANNELS: "refused" };
    const s = await channelSession(pool, { name: "refused-at-start", env });
    const a = await remote(pool);
    const t0 = Date.now();
    const sent = await converse(a, s.id, ["uno", "dos", "tres"]);
    assert.ok(Date.now() - t0 < 3000, `three replies took ${Date.now() - t0} ms`);
    await assertTypedAndReplied(a, s.id, sent);
    const history = await a.client.call<LedgerEntry[]>("channel.history", { id: s.id });
    assert.ok(history.every((e) => e.note === "claude said channels are not available"));
    const lines = await screen(s.id);
    assert.ok(lines.some((l) => l.includes("Channels are not currently available")));
    assert.ok(
      !a.seen.some(
        (x) =>
          x.method === "channel.message" && (x.params.message as LedgerEntry).via === "channel",
      ),
      "none went through the channel",
    );
  });

  it("types at once into a claude whose refusal went into the scrollback as it started", async () => {
    // The welcome's notice, then enough output to push it off the screen before any check.
    const env = { FAKE_CLAUDE_CHANNELS: "refused", FAKE_CLAUDE_FLOOD_BYTES: "200000" };
    const s = await channelSession(pool, { name: "refused-off-screen", env });
    const a = await remote(pool);
    const sent = await converse(a, s.id, ["eins"]);
    await assertTypedAndReplied(a, s.id, sent);
    const history = await a.client.call<LedgerEntry[]>("channel.history", { id: s.id });
    assert.ok(history.every((e) => e.note === "claude said channels are not available"));
    const { lines } = await pool.local.call<{ lines: string[] }>("session.logs", {
      id: s.id,
      lines: 100,
    });
    assert.ok(!lines.some((l) => l.includes("Channels are not currently available")));
  });

  it("types a message, once, that a claude silently ignoring its channel took no notice of", async () => {
    const s = await channelSession(pool, { name: "ignores", env: { FAKE_CLAUDE_CHANNELS: "off" } });
    const a = await remote(pool);
    const t0 = Date.now();
    const sent = await converse(a, s.id, ["are you there", "and now"]);
    assert.ok(Date.now() - t0 >= 6000, "the first waited channelFallbackSeconds for a turn");
    await assertTypedAndReplied(a, s.id, sent);
  });

  it("takes the reply tool's text as the reply, and the turn's end adds none", async () => {
    const s = await channelSession(pool, { name: "listens" });
    const a = await remote(pool);
    const sent = await a.client.call<LedgerEntry>("channel.send", { id: s.id, content: "hi" });
    const ended = await a.next("turn.ended", (p) => p.id === s.id);
    assert.equal((ended.turn as EndedTurn).reply, "Sent the reply through the channel.");
    await a.next("turn.started", (p) => p.id === s.id);
    assert.deepEqual(repliesOf(a, s.id), [
      { id: s.id, chatId: sent.chatId, text: "You said: hi", messageIds: [sent.messageId] },
    ]);
    const [entry] = await a.client.call<LedgerEntry[]>("channel.history", { id: s.id });
    assert.deepEqual([entry.state, entry.via, entry.replies.length], ["replied", "channel", 1]);
  });
});
