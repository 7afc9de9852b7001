/**
 * SIGHUP on a real pool: what pool.config shows after a reload is what is in force, over the
 * WebSocket as everywhere (Origin, rate limit, pings, address), and what needs a restart says so.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { WebSocket } from "ws";
import type { PoolConfig } from "../src/config/types.js";
import { connectWs, type RpcClient } from "../src/rpc/client.js";
import { PoolProcess, startFakePool, tempDir, waitFor, writeFakeConfig } from "./helpers.js";

let pool: PoolProcess;
let dir: string;
let url: string;
let token: string;
/** The config file's content beyond writeFakeConfig's. */
let settings: Record<string, unknown> = {
  allowedOrigins: ["https://a.example"],
  requestsPerSecond: 0,
  pingSeconds: 30,
};
const clients: RpcClient[] = [];

async function client(): Promise<RpcClient> {
  const c = await connectWs(url, { token });
  clients.push(c);
  return c;
}

const reloadLines = () => pool.stderr.match(/INFO {2}reloaded /g)?.length ?? 0;

/** Writes the config with `changes`, sends SIGHUP and resolves once the pool has reloaded. */
async function reload(changes: Record<string, unknown>): Promise<void> {
  settings = { ...settings, ...changes };
  writeFakeConfig(dir, settings);
  const before = reloadLines();
  pool.child.kill("SIGHUP");
  await waitFor("the reload", () => reloadLines() > before);
}

async function poolConfig(): Promise<PoolConfig> {
  return (await client()).call<PoolConfig>("pool.config");
}

/** The HTTP status of a WebSocket handshake to /rpc from a browser at `origin` (101: open). */
function handshake(origin: string): Promise<number> {
  const ws = new WebSocket(`${url}/rpc`, { headers: { authorization: `Bearer ${token}`, origin } });
  return new Promise((resolve) => {
    ws.once("open", () => {
      ws.close();
      resolve(101);
    });
    ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
  });
}

function batch(n: number): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({ jsonrpc: "2.0", id: i, method: "pool.status" }));
}

/** Sends one batch of `n` status requests on `ws`; resolves with how many got a result. */
function passed(ws: WebSocket, n: number): Promise<number> {
  return new Promise((resolve) => {
    ws.once("message", (d) =>
      resolve((JSON.parse(d.toString()) as { result?: unknown }[]).filter((r) => r.result).length),
    );
    ws.send(JSON.stringify(batch(n)));
  });
}

async function openWs(): Promise<WebSocket> {
  const ws = new WebSocket(`${url}/rpc`, { headers: { authorization: `Bearer ${token}` } });
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  return ws;
}

before(async () => {
  dir = tempDir();
  pool = await startFakePool(settings, dir);
  url = /remote API: (ws:\/\/[^/\s]+)\/rpc/.exec(pool.stderr)![1];
  token = readFileSync(join(dir, "state", "claude-pool", "token"), "utf8").trim();
});

after(async () => {
  for (const c of clients) c.close();
  await pool.stop();
});

/** Each test has its own deadline: a setting not applied would otherwise be waited for. */
const limit = { timeout: 20_000 };

describe("reloading the config", () => {
  it("applies allowedOrigins and requestsPerSecond, to open connections too", limit, async () => {
    const open = await openWs();
    assert.equal(await handshake("https://a.example"), 101);
    assert.equal(await handshake("https://b.example"), 403);
    assert.equal(await passed(open, 100), 100, "no limit yet");

    await reload({ allowedOrigins: ["https://b.example"], requestsPerSecond: 5 });
    assert.equal(await handshake("https://a.example"), 403, "the removed Origin is refused");
    assert.equal(await handshake("https://b.example"), 101);
    const ok = await passed(open, 30);
    assert.ok(ok >= 9 && ok <= 11, `${ok} of 30 passed: a burst of 10 at 5 requests/s`);
    const config = await poolConfig();
    assert.deepEqual(config.allowedOrigins, ["https://b.example"]);
    assert.equal(config.requestsPerSecond, 5);
    open.close();
    await reload({ requestsPerSecond: 0 });
  });

  it("pings at the new pingSeconds", limit, async () => {
    const { hostname, port } = new URL(url);
    const socket = connect(Number(port), hostname);
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write(
      `GET /rpc HTTP/1.1\r\nHost: ${hostname}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n` +
        `Authorization: Bearer ${token}\r\n\r\n`,
    );
    socket.on("data", () => {}); // reads frames, never answers a ping
    const closed = new Promise((resolve) => socket.once("close", resolve));
    await reload({ pingSeconds: 0.2 });
    const started = Date.now();
    await closed;
    assert.ok(Date.now() - started < 5_000, "dropped after two missed pings, not 30 s later");
    assert.equal((await poolConfig()).pingSeconds, 0.2);
    await reload({ pingSeconds: 30 });
  });

  it(
    "moves the remote API to a new apiPort, closing the old one's connections with 1012",
    limit,
    async () => {
      const free = createServer();
      await new Promise<void>((resolve) => free.listen(0, "127.0.0.1", resolve));
      const newPort = (free.address() as { port: number }).port;
      await new Promise((resolve) => free.close(resolve));
      const open = await openWs();
      const closed = new Promise<[number, string]>((resolve) =>
        open.once("close", (code, reason) => resolve([code, reason.toString()])),
      );
      const oldUrl = url;
      await reload({ apiPort: newPort });
      url = `ws://127.0.0.1:${newPort}`;
      assert.deepEqual(await closed, [1012, `the remote API moved to ${url}; reconnect there`]);
      assert.equal((await poolConfig()).apiPort, newPort);
      await assert.rejects(connectWs(oldUrl, { token }), /ECONNREFUSED|not reachable|connect/);
      assert.match(pool.stderr, new RegExp(`remote API: now at ${url}`));
    },
  );

  it("keeps the old address, and shows it, when the new one cannot be served", limit, async () => {
    await reload({ bind: "0.0.0.0", maxSessions: 7 });
    assert.match(
      pool.stderr,
      /remote API stays at .*refusing to serve the remote API on 0\.0\.0\.0/,
    );
    const config = await poolConfig();
    assert.equal(config.bind, "127.0.0.1");
    assert.equal(config.maxSessions, 7, "the rest of the reload applies");
    settings.bind = "127.0.0.1";
  });

  it(
    "refuses to reload what needs a restart, names it, and shows the running value",
    limit,
    async () => {
      await reload({ systemd: "off", auth: { tokenFile: join(dir, "other-token") } });
      assert.match(
        pool.stderr,
        /not reloaded: systemd, auth\.tokenFile \(read only at start; .*restart the pool/,
      );
      const config = await poolConfig();
      assert.equal(config.systemd, "auto");
      assert.deepEqual(config.auth, {});
    },
  );
});
