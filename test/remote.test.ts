/** The remote API on loopback: WebSocket JSON-RPC, tokens and scopes, REST, /ws, TLS. */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { WebSocket } from "ws";
import type { PoolConfig } from "../src/config/types.js";
import { connectUnix, connectWs, type RpcClient } from "../src/rpc/client.js";
import type { SessionInfo } from "../src/session/session.js";
import {
  PoolProcess,
  rejectsWithRpc,
  repoRoot,
  startFakePool,
  tempDir,
  waitFor,
  writeFakeConfig,
} from "./helpers.js";
import { issueCert, makeCa } from "./test-ca.js";

const poolctl = join(repoRoot, "dist", "src", "bin", "claude-poolctl.js");
let pool: PoolProcess;
let url: string;
let admin: string;
let local: RpcClient;
/** A secret in the config's defaults.env, which only admin callers may see. */
const apiKey = "sk-ant-remote-test-secret";
const clients: RpcClient[] = [];

async function remote(token: string | undefined = admin): Promise<RpcClient> {
  const client = await connectWs(url, { token });
  clients.push(client);
  return client;
}

function http(path: string, init: RequestInit & { token?: string | null } = {}): Promise<Response> {
  const token = init.token === undefined ? admin : init.token;
  const headers: Record<string, string> = { ...(init.headers as Record<string, string>) };
  if (token) headers.authorization = `Bearer ${token}`;
  return fetch(`${url.replace(/^ws/, "http")}${path}`, { ...init, headers });
}

/** Resolves once the session's screen shows the fake's prompt. */
async function untilPrompt(c: RpcClient, id: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const { lines } = await c.call<{ lines: string[] }>("session.logs", { id });
    if (lines.some((l) => l.startsWith(">"))) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`session ${id} never showed its prompt`);
}

/** A WebSocket handshake by hand, then a socket that does nothing it is not told to. */
async function rawUpgrade(path: string, token: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await new Promise((resolve) => socket.once("connect", resolve));
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n` +
      `Authorization: Bearer ${token}\r\n\r\n`,
  );
  const head = await new Promise<string>((resolve) =>
    socket.once("data", (d: Buffer) => resolve(d.toString())),
  );
  assert.match(head, /^HTTP\/1\.1 101/);
  return socket;
}

before(async () => {
  const dir = tempDir();
  pool = await startFakePool(
    {
      maxSessions: 4,
      stopTimeoutSeconds: 2,
      requestsPerSecond: 50,
      pingSeconds: 0.5,
      allowedOrigins: ["https://app.example"],
      defaults: { workingDirectory: join(dir, "work"), env: { ANTHROPIC_API_KEY: apiKey } },
    },
    dir,
  );
  url = /remote API: (ws:\/\/[^/\s]+)\/rpc/.exec(pool.stderr)![1];
  admin = readFileSync(join(dir, "state", "claude-pool", "token"), "utf8").trim();
  local = await connectUnix(pool.socket);
});

after(async () => {
  for (const c of clients) c.close();
  local.close();
  await pool.stop();
});

describe("authentication", () => {
  it("/health needs no token and says no more than ok, uptime, active, max", async () => {
    const res = await http("/health", { token: null });
    assert.equal(res.status, 200);
    assert.deepEqual(Object.keys((await res.json()) as object).sort(), [
      "active",
      "max",
      "status",
      "uptime",
    ]);
  });

  it("refuses a missing or wrong token, on WebSocket and REST alike", async () => {
    await rejectsWithRpc(connectWs(url), -32004, /no token/);
    await rejectsWithRpc(
      connectWs(url, { token: "cpt_wrong" }),
      -32004,
      /unknown or revoked token/,
    );
    assert.equal((await http("/sessions", { token: null })).status, 401);
    assert.equal((await http("/sessions", { token: "cpt_wrong" })).status, 401);
  });

  it("takes the token from ?token= for browsers", async () => {
    const ws = new WebSocket(`${url}/rpc?token=${admin}`);
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    ws.close();
  });

  it("checks a browser's Origin against allowedOrigins", async () => {
    const refused = new WebSocket(`${url}/rpc`, {
      headers: { authorization: `Bearer ${admin}`, origin: "https://evil.example" },
    });
    const status = await new Promise<number>((resolve) =>
      refused.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)),
    );
    assert.equal(status, 403);
    const allowed = new WebSocket(`${url}/rpc`, {
      headers: { authorization: `Bearer ${admin}`, origin: "https://app.example" },
    });
    await new Promise((resolve, reject) => allowed.once("open", resolve).once("error", reject));
    allowed.close();
  });

  it("each scope reaches its own methods only; a revoked token stops working", async () => {
    const make = (name: string, scopes: string[]) =>
      local.call<{ token: string }>("token.create", { name, scopes }).then((r) => r.token);
    const readerToken = await make("reader", ["read"]);
    const reader = await remote(readerToken);
    const controller = await remote(await make("controller", ["control"]));
    const approver = await remote(await make("approver", ["approve"]));
    const administrator = await remote(admin);

    assert.ok(Array.isArray(await reader.call("session.list")));
    await rejectsWithRpc(
      reader.call("session.spawn", { name: "nope" }),
      -32004,
      /needs a token with the "control" scope/,
    );
    await rejectsWithRpc(reader.call("token.list"), -32004, /"admin" scope/);
    await rejectsWithRpc(approver.call("session.list"), -32004, /"read" scope/);
    await rejectsWithRpc(
      controller.call("token.create", { name: "x", scopes: ["admin"] }),
      -32004,
      /"admin"/,
    );

    const s = await controller.call<SessionInfo>("session.spawn", { name: "scoped" });
    await reader.call("session.attach", { id: s.id, readOnly: true });
    await rejectsWithRpc(
      reader.call("session.attach", { id: s.id }),
      -32004,
      /writable attach needs the "control" scope/,
    );
    await rejectsWithRpc(
      reader.call("session.send", { id: s.id, text: "hi" }),
      -32004,
      /"control"/,
    );
    await controller.call("session.kill", { id: s.id });
    await controller.call("session.remove", { id: s.id });

    const listed = await administrator.call<{ name: string; scopes: string[] }[]>("token.list");
    assert.deepEqual(listed.find((t) => t.name === "reader")?.scopes, ["read"]);
    assert.ok(!JSON.stringify(listed).includes("cpt_"), "no secrets in the list");
    await administrator.call("token.revoke", { id: "reader" });
    await rejectsWithRpc(
      connectWs(url, { token: readerToken }),
      -32004,
      /unknown or revoked token/,
    );
  });
});

describe("secrets", () => {
  it("pool.config redacts env values below admin; admin and the control socket see them", async () => {
    for (const scopes of [["read"], ["read", "control", "approve"]]) {
      const { token } = await local.call<{ token: string }>("token.create", {
        name: `config-${scopes.join("-")}`,
        scopes,
      });
      const config = await (await remote(token)).call<PoolConfig>("pool.config");
      assert.deepEqual(config.defaults.env, { ANTHROPIC_API_KEY: "<redacted>" });
      assert.ok(!JSON.stringify(config).includes(apiKey), JSON.stringify(config));
    }
    for (const full of [await remote(admin), local]) {
      const config = await full.call<PoolConfig>("pool.config");
      assert.deepEqual(config.defaults.env, { ANTHROPIC_API_KEY: apiKey });
    }
  });
});

describe("protocol limits", () => {
  it("answers malformed JSON with -32700 and keeps the connection", async () => {
    const ws = new WebSocket(`${url}/rpc`, { headers: { authorization: `Bearer ${admin}` } });
    await new Promise((resolve) => ws.once("open", resolve));
    const replies: Record<string, unknown>[] = [];
    ws.on("message", (d) => replies.push(JSON.parse(d.toString()) as Record<string, unknown>));
    ws.send("{ not json");
    ws.send(JSON.stringify({ jsonrpc: "2.0", id: 5, method: "pool.status" }));
    await waitFor("two replies", () => replies.length >= 2);
    assert.equal((replies[0].error as { code: number }).code, -32700);
    assert.equal(replies[1].id, 5);
    ws.close();
  });

  it("closes the connection with 1009 on a frame over 1 MiB", async () => {
    const ws = new WebSocket(`${url}/rpc`, { headers: { authorization: `Bearer ${admin}` } });
    await new Promise((resolve) => ws.once("open", resolve));
    const closed = new Promise<number>((resolve) => ws.once("close", resolve));
    ws.send("x".repeat((1 << 20) + 1));
    assert.equal(await closed, 1009);
  });

  it("limits requests per connection", async () => {
    const c = await remote();
    const results = await Promise.allSettled(
      Array.from({ length: 300 }, () => c.call("pool.status")),
    );
    const limited = results.filter((r) => r.status === "rejected");
    assert.ok(limited.length > 0, "some requests are refused");
    assert.ok(results.filter((r) => r.status === "fulfilled").length >= 50, "a burst goes through");
  });

  it("counts each request of a batch against the limit, and caps a batch at 100", async () => {
    const ws = new WebSocket(`${url}/rpc`, { headers: { authorization: `Bearer ${admin}` } });
    await new Promise((resolve) => ws.once("open", resolve));
    const replies: unknown[] = [];
    ws.on("message", (d) => replies.push(JSON.parse(d.toString())));
    const batch = (n: number) =>
      JSON.stringify(
        Array.from({ length: n }, (_, i) => ({ jsonrpc: "2.0", id: i, method: "pool.status" })),
      );
    const started = performance.now();
    for (let i = 0; i < 5; i++) ws.send(batch(100));
    await waitFor("five batch replies", () => replies.length >= 5);
    const seconds = (performance.now() - started) / 1000;
    const all = (replies as { result?: unknown; error?: { code: number } }[][]).flat();
    assert.equal(all.length, 500, "every request of every batch is answered");
    const passed = all.filter((r) => r.result !== undefined).length;
    // requestsPerSecond 50: a burst of 100, then 50 a second
    assert.ok(passed <= 100 + 50 * seconds + 1, `${passed} of 500 passed in ${seconds} s`);
    assert.ok(all.filter((r) => r.error?.code === -32000).length >= 500 - passed);

    ws.send(batch(101));
    await waitFor("the refusal", () => replies.length >= 6);
    const refused = replies[5] as { id: unknown; error: { code: number; message: string } };
    assert.equal(refused.id, null);
    assert.equal(refused.error.code, -32600);
    assert.match(refused.error.message, /batch of 101 requests is over the limit of 100/);
    ws.close();
  });

  it("drops a peer that stops answering pings", async () => {
    const socket = await rawUpgrade("/rpc", admin);
    socket.pause(); // read nothing: no pong ever goes back
    const closed = new Promise((resolve) => socket.once("close", resolve));
    socket.resume();
    socket.on("data", () => {}); // reads frames but never answers a ping
    await closed;
  });
});

describe("seed REST API and /ws", () => {
  it("GET/POST /sessions, GET/DELETE /sessions/:id, POST /sessions/:id/resume", async () => {
    const created = await http("/sessions", {
      method: "POST",
      body: JSON.stringify({ name: "rest" }),
    });
    assert.equal(created.status, 201);
    const session = (await created.json()) as SessionInfo;
    assert.equal(session.name, "rest");
    const list = (await (await http("/sessions")).json()) as SessionInfo[];
    assert.ok(list.some((s) => s.id === session.id));
    assert.equal(
      ((await (await http(`/sessions/${session.id}`)).json()) as SessionInfo).id,
      session.id,
    );
    const killed = await http(`/sessions/rest`, { method: "DELETE" });
    assert.equal(killed.status, 200);
    assert.equal(((await killed.json()) as SessionInfo).status, "stopped");
    const resumed = await http(`/sessions/${session.id}/resume`, { method: "POST" });
    assert.equal(resumed.status, 200);
    const again = await http(`/sessions/${session.id}/resume`, { method: "POST" });
    assert.equal(again.status, 409);
    assert.match(
      ((await again.json()) as { error: string }).error,
      /only stopped, crashed or failed/,
    );
    await http(`/sessions/${session.id}`, { method: "DELETE" });
    await local.call("session.remove", { id: session.id });
  });

  it("answers errors as JSON with status codes", async () => {
    assert.equal((await http("/sessions/nonexistent")).status, 404);
    const bad = await http("/sessions", { method: "POST", body: "{nope" });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /not valid JSON/);
    assert.equal(
      (await http("/sessions", { method: "POST", body: '{"pluginDirs":"x"}' })).status,
      400,
    );
    assert.equal((await http("/nowhere")).status, 404);
    const ids: string[] = [];
    for (;;) {
      const res = await http("/sessions", { method: "POST", body: "{}" });
      if (res.status === 409) {
        assert.match(((await res.json()) as { error: string }).error, /pool is full/);
        break;
      }
      assert.equal(res.status, 201);
      ids.push(((await res.json()) as SessionInfo).id);
    }
    for (const id of ids) {
      await local.call("session.kill", { id });
      await local.call("session.remove", { id });
    }
  });

  it("answers a bad path with 400, a wrong method with 405 and Allow, plain HTTP to a WebSocket with 426", async () => {
    for (const method of ["GET", "DELETE"]) {
      const bad = await http("/sessions/%E0%A4%A", { method });
      assert.equal(bad.status, 400, method);
      assert.match(((await bad.json()) as { error: string }).error, /malformed percent-encoding/);
    }
    const health = await http("/health", { method: "POST", token: null });
    assert.equal(health.status, 405);
    assert.equal(health.headers.get("allow"), "GET, HEAD");
    const put = await http("/sessions", { method: "PUT" });
    assert.equal(put.status, 405);
    assert.equal(put.headers.get("allow"), "GET, POST");
    for (const path of ["/rpc", "/ws", "/sessions/x/socket"]) {
      const plain = await http(path);
      assert.equal(plain.status, 426, path);
      assert.equal(plain.headers.get("upgrade"), "websocket");
      assert.match(((await plain.json()) as { error: string }).error, /is a WebSocket endpoint/);
    }
    const upgrade = new WebSocket(`${url}/sessions/%E0%A4%A/socket`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    const refused = await new Promise<number>((resolve) =>
      upgrade.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0)),
    );
    assert.equal(refused, 400);

    // a request target that is no URL, which no fetch() sends
    const { hostname, port } = new URL(url);
    const raw = connect(Number(port), hostname);
    raw.write(`GET //[ HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`);
    let answer = "";
    raw.on("data", (d: Buffer) => (answer += d.toString()));
    await new Promise((resolve) => raw.once("close", resolve));
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.equal(((await local.call("pool.status")) as { status: string }).status, "ok");
    assert.doesNotMatch(pool.stderr, /ERROR.*REST/);
  });

  it("DELETE /sessions/:id?remove=true stops the session, then removes it", async () => {
    const created = await http("/sessions", { method: "POST", body: '{"name":"gone"}' });
    const session = (await created.json()) as SessionInfo;
    const wrong = await http(`/sessions/${session.id}?remove=yes`, { method: "DELETE" });
    assert.equal(wrong.status, 400);
    assert.match(((await wrong.json()) as { error: string }).error, /takes true or false/);
    assert.notEqual(
      (await local.call<SessionInfo>("session.get", { id: session.id })).status,
      "stopped",
    );
    const removed = await http(`/sessions/gone?remove=true`, { method: "DELETE" });
    assert.equal(removed.status, 200);
    assert.deepEqual(await removed.json(), { removed: session.id });
    assert.equal((await http(`/sessions/${session.id}`)).status, 404);
  });

  it("/ws sends the session list, then updates and removals", async () => {
    const ws = new WebSocket(`${url}/ws`, { headers: { authorization: `Bearer ${admin}` } });
    const events: { type: string; session?: SessionInfo; id?: string; sessions?: unknown[] }[] = [];
    ws.on("message", (d) => events.push(JSON.parse(d.toString())));
    await waitFor("the first message", () => events.length > 0);
    assert.equal(events[0].type, "sessions");
    assert.ok(Array.isArray(events[0].sessions));
    const s = await local.call<SessionInfo>("session.spawn", { name: "watched" });
    await waitFor("a running update", () =>
      events.some(
        (e) =>
          e.type === "session_update" && e.session?.id === s.id && e.session.status === "running",
      ),
    );
    await local.call("session.kill", { id: s.id });
    await local.call("session.remove", { id: s.id });
    await waitFor("removed", () =>
      events.some((e) => e.type === "session_removed" && e.id === s.id),
    );
    ws.close();
  });
});

describe("remote attach", () => {
  it("replays the screen and streams live output over WebSocket", async () => {
    const c = await remote();
    const s = await c.call<SessionInfo>("session.spawn", { name: "far" });
    let live = "";
    c.on("notification", (m, p) => {
      if (m === "session.output" && p.id === s.id) live += String(p.data);
    });
    await untilPrompt(c, s.id);
    const screen = await c.call<{ data: string }>("session.attach", { id: s.id });
    assert.match(screen.data, /Claude Code \(fake\)/);
    await c.call("session.send", { id: s.id, text: "over the network" });
    await waitFor("the reply", () => /You said: over the network/.test(live));
    await c.call("session.kill", { id: s.id });
    await c.call("session.remove", { id: s.id });
  });

  it("with binary: live output comes as binary frames of the bytes claude wrote", async () => {
    const c = await remote();
    const s = await c.call<SessionInfo>("session.spawn", { name: "far-bytes" });
    let text = "";
    const bytes: Buffer[] = [];
    c.on("notification", (m, p) => {
      if (m === "session.output" && p.id === s.id && !p.resync) text += String(p.data);
    });
    c.on("output", (id, data) => id === s.id && bytes.push(data));
    await untilPrompt(c, s.id);
    const screen = await c.call<{ binary: boolean }>("session.attach", { id: s.id, binary: true });
    assert.equal(screen.binary, true);
    await c.call("session.send", { id: s.id, text: "über das Netz" });
    await waitFor("the reply as bytes", () =>
      /You said: über das Netz/.test(Buffer.concat(bytes).toString()),
    );
    assert.equal(text, "", "no output as text to a binary attach");
    await c.call("session.kill", { id: s.id });
    await c.call("session.remove", { id: s.id });
  });

  it("a slow WebSocket client during a flood: bounded memory, others unaffected", async () => {
    // a pool of its own: with this file's 0.5 s pings the paused client would be dropped as dead
    const dir = tempDir();
    const floodPool = await startFakePool({ requestsPerSecond: 0 }, dir);
    const floodUrl = /remote API: (ws:\/\/[^/\s]+)\/rpc/.exec(floodPool.stderr)![1];
    const token = readFileSync(join(dir, "state", "claude-pool", "token"), "utf8").trim();
    const fast = await connectWs(floodUrl, { token });
    const s = await fast.call<SessionInfo>("session.spawn", { name: "wsflood" });
    let fastText = "";
    fast.on("notification", (m, p) => {
      if (m === "session.output" && p.id === s.id)
        fastText = (fastText + String(p.data)).slice(-4096);
    });
    await untilPrompt(fast, s.id);
    await fast.call("session.attach", { id: s.id });
    // a first flood grows the screen's scrollback and the heap to their working size
    await fast.call("session.send", { id: s.id, text: "/flood 8000000" });
    await waitFor("the warm-up flood", () => /flood done/.test(fastText), 60_000);
    fastText = "";
    const { hostname, port } = new URL(floodUrl);
    const script = join(repoRoot, "test", "slow-ws-client.py");
    const slow = spawn("python3", [script, hostname, port, token, s.id]);
    let said = "";
    slow.stdout.on("data", (d: Buffer) => (said += d.toString()));
    await waitFor("the slow client to attach", () => said.includes("attached"));
    const rss = () =>
      Number(
        /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${floodPool.child.pid}/status`, "utf8"))![1],
      ) * 1024;
    const before = rss();
    await fast.call("session.send", { id: s.id, text: "/flood 8000000" });
    await waitFor("the flood to reach the fast client", () => /flood done/.test(fastText), 60_000);
    const growth = rss() - before;
    assert.ok(growth < 32 * 1024 * 1024, `pool RSS grew by ${growth} bytes`);
    slow.stdin.write("read now\n");
    await waitFor("the slow client's verdict", () => said.split("\n").length > 2, 15_000);
    assert.match(said, /^attached\nresync\n$/, "the slow client is redrawn from the screen");
    fast.close();
    await floodPool.stop();
  });
});

describe("claude-poolctl over the network and tokens", () => {
  const run = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [poolctl, ...args], {
      encoding: "utf8",
      env: { ...process.env, CLAUDE_POOL_SOCKET: pool.socket, ...env },
    });

  it("token prints the main token; create, list and revoke manage extra ones", () => {
    assert.equal(run(["token"]).stdout.trim(), admin);
    const made = run(["token", "create", "--name", "phone", "--scope", "read,approve"]);
    assert.equal(made.status, 0, made.stderr);
    const phone = made.stdout.trim();
    assert.match(phone, /^cpt_/);
    assert.match(run(["token", "list"]).stdout, /phone\s+read,approve/);
    const status = run(["status", "--url", url, "--token", phone]);
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, /^claude-pool \| status: ok/);
    const config = run(["config", "--url", url, "--token", phone]);
    assert.equal(config.status, 0, config.stderr);
    assert.equal(JSON.parse(config.stdout).defaults.env.ANTHROPIC_API_KEY, "<redacted>");
    assert.ok(!config.stdout.includes(apiKey), config.stdout);
    const spawn = run(["spawn", "--name", "nope"], {
      CLAUDE_POOL_URL: url,
      CLAUDE_POOL_TOKEN: phone,
      CLAUDE_POOL_SOCKET: "",
    });
    assert.equal(spawn.status, 1);
    assert.match(spawn.stderr, /"control" scope/);
    assert.match(run(["token", "revoke", "phone"]).stdout, /^revoked [0-9a-f]{8} \(phone\)/);
    const revoked = run(["list", "--url", url, "--token", phone]);
    assert.equal(revoked.status, 1);
    assert.match(revoked.stderr, /unknown or revoked token/);
  });

  it("token rotate replaces the main token", async () => {
    const rotated = run(["token", "rotate"]).stdout.trim();
    assert.notEqual(rotated, admin);
    await rejectsWithRpc(connectWs(url, { token: admin }), -32004, /unknown or revoked/);
    admin = rotated;
    await (await remote(admin)).call("pool.status");
  });
});

it("refuses a non-loopback address without TLS, and says why", async () => {
  const dir = tempDir();
  writeFakeConfig(dir, { bind: "0.0.0.0" });
  const p = new PoolProcess(dir, ["--config", join(dir, "pool.json")]);
  assert.equal((await p.exited).code, 1);
  assert.match(p.stderr, /refusing to serve the remote API on 0\.0\.0\.0 without TLS.*tls\.cert/);
});

it("serves wss:// with a certificate made here", { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const ca = makeCa(dir, "claude-pool test CA");
  const tls = issueCert(ca, dir, "127.0.0.1");
  const secure = await startFakePool({ tls }, dir);
  try {
    const wss = /remote API: (wss:\/\/[^/\s]+)\/rpc/.exec(secure.stderr)![1];
    const token = readFileSync(join(dir, "state", "claude-pool", "token"), "utf8").trim();
    const c = await connectWs(wss, { token, ca: readFileSync(ca.cert) });
    assert.equal((await c.call<{ status: string }>("pool.status")).status, "ok");
    c.close();
    await assert.rejects(connectWs(wss, { token }), /unable to verify the first certificate/);
  } finally {
    await secure.stop();
  }
});
