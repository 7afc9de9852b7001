/**
 * The dashboard's server side without a browser: the files as served (types, gzip, caching,
 * CSP), the one-time login codes and POST /login, the WebSocket's subprotocol token and the
 * page's own Origin, and `claude-poolctl dashboard`.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createServer, get, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import { WebSocket } from "ws";
import { acceptsGzip, DashboardAssets } from "../src/dashboard/assets.js";
import { LoginCodes, loginCodeSeconds } from "../src/dashboard/login-codes.js";
import { dashboardUrl } from "../src/dashboard/methods.js";
import { connectUnix, type RpcClient } from "../src/rpc/client.js";
import { PoolProcess, repoRoot, startFakePool, tempDir } from "./helpers.js";

const poolctl = join(repoRoot, "dist", "src", "bin", "claude-poolctl.js");

describe("login codes", () => {
  it("work once, and not after their time", () => {
    let now = 1_000_000;
    const codes = new LoginCodes(() => now);
    const a = codes.issue();
    assert.match(a.code, /^[A-Za-z0-9_-]{24}$/);
    assert.equal(a.expiresAt.getTime(), now + loginCodeSeconds * 1000);
    assert.equal(codes.redeem(a.code), true);
    assert.equal(codes.redeem(a.code), false, "used up");
    const b = codes.issue();
    now += loginCodeSeconds * 1000;
    assert.equal(codes.redeem(b.code), false, "expired");
    assert.equal(codes.redeem("never-issued"), false);
  });

  it("keep only the latest sixteen", () => {
    const codes = new LoginCodes();
    const issued = Array.from({ length: 17 }, () => codes.issue().code);
    assert.equal(codes.redeem(issued[0]), false, "the oldest was dropped");
    assert.ok(issued.slice(1).every((c) => codes.redeem(c)));
  });
});

describe("dashboard address", () => {
  it("is http(s) at the API's host, this machine's name for a wildcard bind", () => {
    assert.equal(dashboardUrl("ws://127.0.0.1:3200"), "http://127.0.0.1:3200");
    assert.equal(dashboardUrl("wss://pool.example:8443"), "https://pool.example:8443");
    assert.equal(dashboardUrl("ws://0.0.0.0:3200", "box"), "http://box:3200");
    assert.equal(dashboardUrl("wss://[::]:3200", "box"), "https://box:3200");
    assert.equal(dashboardUrl("ws://[::1]:3200"), "http://[::1]:3200");
  });
});

describe("Accept-Encoding", () => {
  const cases: [string | undefined, boolean][] = [
    [undefined, false],
    ["", false],
    ["gzip", true],
    ["gzip, deflate, br", true],
    ["br;q=1.0, gzip;q=0.8", true],
    ["gzip;q=0", false],
    ["identity", false],
    ["*", true],
    ["*;q=0", false],
    ["gzip;q=0, *", false],
    ["GZIP", true],
  ];
  for (const [header, expected] of cases) {
    it(`${JSON.stringify(header)} → ${expected ? "gzip" : "plain"}`, () => {
      assert.equal(acceptsGzip(header), expected);
    });
  }
});

describe("dashboard files", () => {
  let server: Server;
  let base: string;
  const dir = tempDir();
  const script = "console.log('dashboard');".repeat(50);
  before(async () => {
    mkdirSync(join(dir, "assets"));
    writeFileSync(join(dir, "index.html"), "<!doctype html><title>t</title>");
    writeFileSync(join(dir, "assets", "index-abc123.js"), script);
    writeFileSync(join(dir, "logo.png"), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    const assets = DashboardAssets.load(dir)!;
    server = createServer((req, res) => {
      const path = new URL(req.url!, "http://x").pathname;
      if (assets.has(path)) assets.serve(req, res, path);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it("is null when nothing was built", () => {
    assert.equal(DashboardAssets.load(join(dir, "missing")), null);
  });

  it("serves index.html at / with the CSP, never cached without asking", async () => {
    const res = await fetch(`${base}/`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
    assert.equal(res.headers.get("cache-control"), "no-cache");
    assert.match(
      res.headers.get("content-security-policy")!,
      /default-src 'none'; script-src 'self'/,
    );
    assert.equal(res.headers.get("x-content-type-options"), "nosniff");
    assert.equal(res.headers.get("x-frame-options"), "DENY");
    assert.equal(await res.text(), "<!doctype html><title>t</title>");
  });

  it("gzips text for a client that takes it, and caches hashed assets for a year", async () => {
    const raw = await fetch(`${base}/assets/index-abc123.js`, {
      headers: { "accept-encoding": "gzip" },
    });
    assert.equal(raw.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.equal(raw.headers.get("cache-control"), "public, max-age=31536000, immutable");
    assert.equal(raw.headers.get("vary"), "accept-encoding");
    // fetch decodes gzip itself; the bytes on the wire are checked with node:http below
    assert.equal(await raw.text(), script);
    const wire = await new Promise<{ encoding?: string; body: Buffer }>((resolve, reject) => {
      const headers = { "accept-encoding": "gzip" };
      get(`${base}/assets/index-abc123.js`, { headers }, (r) => {
        const chunks: Buffer[] = [];
        r.on("data", (c: Buffer) => chunks.push(c));
        r.on("end", () =>
          resolve({ encoding: r.headers["content-encoding"], body: Buffer.concat(chunks) }),
        );
      }).on("error", reject);
    });
    assert.equal(wire.encoding, "gzip");
    assert.ok(wire.body.length < script.length / 5, `${wire.body.length} bytes gzipped`);
    assert.equal(gunzipSync(wire.body).toString(), script);
  });

  it("answers 304 to a matching ETag and HEAD without a body", async () => {
    const first = await fetch(`${base}/assets/index-abc123.js`);
    const etag = first.headers.get("etag")!;
    const again = await fetch(`${base}/assets/index-abc123.js`, {
      headers: { "if-none-match": etag },
    });
    assert.equal(again.status, 304);
    const head = await fetch(`${base}/logo.png`, { method: "HEAD" });
    assert.equal(head.headers.get("content-type"), "image/png");
    assert.equal(head.headers.get("content-encoding"), null, "images are not gzipped");
    assert.equal(head.headers.get("content-length"), "4");
  });
});

describe("dashboard on the pool's port", () => {
  let pool: PoolProcess;
  let http: string;
  let ws: string;
  let admin: string;
  let local: RpcClient;
  let dir: string;
  before(async () => {
    dir = tempDir();
    pool = await startFakePool({ allowedOrigins: ["https://app.example"] }, dir);
    ws = /remote API: (ws:\/\/[^/\s]+)\/rpc/.exec(pool.stderr)![1];
    http = ws.replace(/^ws/, "http");
    admin = readFileSync(join(dir, "state", "claude-pool", "token"), "utf8").trim();
    local = await connectUnix(pool.socket);
  });
  after(async () => {
    local.close();
    await pool.stop();
  });

  const login = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${http}/login`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify(body),
    });

  it("serves the built page at /", async () => {
    const res = await fetch(`${http}/`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /<div id="app">/);
    assert.equal((await fetch(`${http}/assets/nothing.js`)).status, 404);
  });

  it("trades a login link's code once for the main token", async () => {
    const link = await local.call<{ url: string; code: string; expiresAt: string }>(
      "dashboard.login",
    );
    assert.equal(link.url, `${http}/#login=${link.code}`);
    const res = await login({ code: link.code });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("cache-control"), "no-store");
    const body = (await res.json()) as { token: string; name: string; scopes: string[] };
    assert.deepEqual(body, {
      token: admin,
      name: "admin",
      scopes: ["read", "control", "approve", "admin"],
    });
    const again = await login({ code: link.code });
    assert.equal(again.status, 401);
    assert.match(((await again.json()) as { error: string }).error, /used already or has expired/);
  });

  it("checks a pasted token and tells its scopes", async () => {
    const { token } = await local.call<{ token: string }>("token.create", {
      name: "watcher",
      scopes: ["read"],
    });
    const res = await login({ token });
    assert.deepEqual(await res.json(), { token, name: "watcher", scopes: ["read"] });
    const wrong = await login({ token: "cpt_wrong" });
    assert.equal(wrong.status, 401);
    assert.match(((await wrong.json()) as { error: string }).error, /unknown or revoked token/);
    const empty = await login({});
    assert.equal(empty.status, 400);
    assert.equal((await fetch(`${http}/login`)).status, 405);
  });

  it("refuses sign-in from a page of another origin", async () => {
    const res = await login({ token: admin }, { origin: "https://evil.example" });
    assert.equal(res.status, 403);
    assert.equal((await login({ token: admin }, { origin: "https://app.example" })).status, 200);
  });

  /** Opens /rpc as a browser would: token in the subprotocol, Origin of the page. */
  const browserSocket = (token: string, origin: string) =>
    new Promise<WebSocket>((resolve, reject) => {
      const socket = new WebSocket(
        `${ws}/rpc`,
        ["claude-pool", `bearer.${Buffer.from(token).toString("base64url")}`],
        { headers: { origin } },
      );
      socket.once("open", () => resolve(socket));
      socket.once("unexpected-response", (_req, res) => reject(new Error(`${res.statusCode}`)));
      socket.once("error", reject);
    });

  it("takes the token from the WebSocket subprotocol, from the pool's own origin", async () => {
    const socket = await browserSocket(admin, http);
    assert.equal(socket.protocol, "claude-pool", "the token is never echoed");
    socket.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "pool.status" }));
    const reply = await new Promise<string>((resolve) =>
      socket.once("message", (data) => resolve(String(data))),
    );
    assert.equal(JSON.parse(reply).result.status, "ok");
    socket.close();
    await assert.rejects(browserSocket("cpt_wrong", http), /401/);
    await assert.rejects(browserSocket(admin, "http://evil.example"), /403/);
  });

  it("claude-poolctl dashboard prints the link, and --base-url another address", async () => {
    const run = promisify(execFile);
    const env = { ...process.env, CLAUDE_POOL_SOCKET: pool.socket };
    const { stdout, stderr } = await run(process.execPath, [poolctl, "dashboard"], { env });
    const url = stdout.trim();
    assert.match(url, new RegExp(`^${http}/#login=[A-Za-z0-9_-]{24}$`));
    assert.match(stderr, /within 1[12]\d s; it works once/);
    assert.equal((await login({ code: url.split("=")[1] })).status, 200);
    const proxied = await run(
      process.execPath,
      [poolctl, "dashboard", "--base-url", "https://pool.example/claude/"],
      { env },
    );
    assert.match(proxied.stdout.trim(), /^https:\/\/pool\.example\/claude\/#login=[\w-]{24}$/);
  });

  it("answers 500 when the token file is gone, and keeps serving", async () => {
    const file = join(dir, "state", "claude-pool", "token");
    const { code } = await local.call<{ code: string }>("dashboard.login");
    renameSync(file, `${file}.away`);
    try {
      const res = await login({ code });
      assert.equal(res.status, 500);
      assert.match(((await res.json()) as { error: string }).error, /see the pool's log/);
    } finally {
      renameSync(`${file}.away`, file);
    }
    assert.equal((await fetch(`${http}/health`)).status, 200);
    await pool.waitForLog(/POST \/login: ENOENT/);
  });
});
