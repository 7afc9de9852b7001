/**
 * Notifications end to end: a pool process of fake claudes POSTs to HTTP receivers in this test
 * (a flaky one, an ntfy stand-in, one that never answers) as its sessions wait, reply and crash.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import { parseConfig } from "../src/config/load.js";
import { silentLogger } from "../src/log.js";
import type { EndpointStatus } from "../src/notify/endpoint.js";
import { header, verifySignature } from "../src/notify/format.js";
import { Notifier } from "../src/notify/notifier.js";
import { connectUnix, connectWs, type RpcClient } from "../src/rpc/client.js";
import type { SessionInfo } from "../src/session/session.js";
import {
  makeHookedPool,
  PoolProcess,
  repoRoot,
  startFakePool,
  tempDir,
  waitFor,
} from "./helpers.js";

interface Received {
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
  status: number;
}

/** HTTP receivers on one port: /flaky fails its first two requests, /hang never answers. */
class Receiver {
  readonly requests: Received[] = [];
  private readonly sockets = new Set<Socket>();
  private flakyLeft = 2;
  /** Requests to /hang still open. */
  hanging = 0;
  private readonly server = createServer((req, res) => this.handle(req, res));
  port = 0;

  async listen(): Promise<void> {
    this.server.on("connection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  url(path: string, auth = ""): string {
    return `http://${auth}127.0.0.1:${this.port}${path}`;
  }

  on(path: string): Received[] {
    return this.requests.filter((r) => r.path === path);
  }

  close(): void {
    for (const s of this.sockets) s.destroy();
    this.server.close();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      const path = req.url ?? "";
      if (path === "/hang") {
        this.requests.push({ path, headers: req.headers, body, status: 0 });
        this.hanging++;
        res.on("close", () => this.hanging--);
        return; // never answers
      }
      const status = path === "/flaky" && this.flakyLeft-- > 0 ? 503 : 200;
      this.requests.push({ path, headers: req.headers, body, status });
      res.writeHead(status).end();
    });
  }
}

const secret = "It's a Secret to Everybody";
const receiver = new Receiver();
let pool: PoolProcess;
let local: RpcClient;
const clients: RpcClient[] = [];

before(async () => {
  await receiver.listen();
  pool = await startFakePool(
    {
      stopTimeoutSeconds: 2,
      publicUrl: "https://pool.example/",
      confirmDevelopmentChannels: true,
      restart: { backoffSeconds: 0.05 },
      notify: [
        {
          url: receiver.url("/flaky"),
          secret,
          events: ["waiting", "turn.ended", "crashed", "failed"],
          backoffSeconds: 0.1,
        },
        { url: receiver.url("/ntfy/alerts", "ann:pw@"), format: "ntfy", events: ["waiting"] },
        {
          url: receiver.url("/hang"),
          timeoutSeconds: 2,
          retries: 1,
          backoffSeconds: 0.1,
          queueSize: 2,
        },
      ],
    },
    tempDir(),
  );
  local = await connectUnix(pool.socket);
});

after(async () => {
  for (const c of [local, ...clients]) c.close();
  await pool.stop();
  receiver.close();
});

async function poolctl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return promisify(execFile)(
    process.execPath,
    [join(repoRoot, "dist", "src", "bin", "claude-poolctl.js"), ...args],
    { env: { ...process.env, CLAUDE_POOL_SOCKET: pool.socket } },
  ).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => err,
  );
}

/** The JSON bodies /flaky accepted, parsed. */
function accepted(event: string): Record<string, unknown>[] {
  return receiver
    .on("/flaky")
    .filter((r) => r.status === 200 && r.headers[header.event.toLowerCase()] === event)
    .map((r) => JSON.parse(r.body) as Record<string, unknown>);
}

async function status(client = local): Promise<EndpointStatus[]> {
  return (await client.call<{ notify: EndpointStatus[] }>("pool.status")).notify;
}

describe("notifications", () => {
  let waiting: SessionInfo;

  it("a session waiting at a dialog is POSTed, signed, and retried after two failures", async () => {
    const confirmed = await local.call<SessionInfo>("session.spawn", {
      name: "confirmed",
      env: { FAKE_CLAUDE_DIALOG: "development-channels" },
    });
    waiting = await local.call<SessionInfo>("session.spawn", {
      name: "asks",
      env: { FAKE_CLAUDE_DIALOG: "trust-folder" },
    });
    const [body] = await waitFor("the waiting event at /flaky", () => {
      const bodies = accepted("waiting");
      return bodies.length > 0 && bodies;
    });
    assert.equal(body.title, "asks waits at the trust-folder dialog");
    assert.deepEqual(body.waitingFor, { kind: "dialog", dialog: "trust-folder" });
    assert.equal(body.url, `https://pool.example/#/sessions/${waiting.id}`);
    const told = accepted("waiting").map((b) => (b.session as { name: string }).name);
    assert.deepEqual(told, ["asks"], "not the dialog the pool answered itself");
    const answered = await local.call<SessionInfo>("session.get", { id: confirmed.id });
    assert.equal(answered.activity, "idle");
    const tries = receiver.on("/flaky").filter((r) => JSON.parse(r.body).id === body.id);
    assert.deepEqual(
      tries.map((r) => r.status),
      [503, 503, 200],
    );
    for (const r of tries) {
      assert.equal(r.headers[header.delivery.toLowerCase()], body.id);
      const sig = String(r.headers[header.signature.toLowerCase()]);
      assert.ok(verifySignature(secret, r.body, sig), `${sig} signs ${r.body}`);
    }
  });

  it("ntfy gets a JSON publish with a click URL to the session's dashboard page", async () => {
    const publish = await waitFor("the ntfy publish", () => receiver.on("/ntfy/")[0]);
    assert.equal(
      publish.headers.authorization,
      `Basic ${Buffer.from("ann:pw").toString("base64")}`,
    );
    const body = JSON.parse(publish.body) as Record<string, unknown>;
    assert.equal(body.topic, "alerts");
    assert.equal(body.priority, 4);
    assert.equal(body.click, `https://pool.example/#/sessions/${waiting.id}`);
    assert.equal(body.title, "asks waits at the trust-folder dialog");
  });

  it("a reply (turn.ended, opted in) comes with its excerpt; a crash is told", async () => {
    const s = await local.call<SessionInfo>("session.spawn", { name: "worker" });
    await waitFor("worker idle", async () => {
      const info = await local.call<SessionInfo>("session.get", { id: s.id });
      return info.activity === "idle";
    });
    await local.call("session.send", { id: s.id, text: "hello there" });
    const turn = await waitFor("turn.ended at /flaky", () => accepted("turn.ended")[0]);
    assert.equal(turn.title, "worker replied");
    assert.equal(turn.message, "You said: hello there");
    assert.equal((turn.turn as { reply: string }).reply, "You said: hello there");
    await local.call("session.send", { id: s.id, text: "/crash 3" });
    const crashed = await waitFor("crashed at /flaky", () => accepted("crashed")[0]);
    assert.equal(crashed.title, "worker crashed");
    assert.match(String(crashed.reason), /code 3/);
  });

  it("a receiver that never answers stalls nothing, and pool.status shows it failing", async () => {
    const s = await local.call<SessionInfo>("session.spawn", { name: "doomed" });
    await local.call("session.send", { id: s.id, text: "/crash 4" });
    await waitFor("a request hanging at /hang", () => receiver.hanging > 0);
    for (let i = 0; i < 5; i++) {
      const started = Date.now();
      await local.call("session.list");
      assert.ok(Date.now() - started < 1000, `session.list took ${Date.now() - started} ms`);
    }
    assert.ok(receiver.hanging > 0, "still hanging while the pool answered");
    const hang = await waitFor(
      "the /hang endpoint to fail",
      async () => (await status()).find((e) => e.url.endsWith("/hang") && !e.ok),
      15_000,
    );
    assert.match(hang.lastError ?? "", /no answer within 2 s/);
    const [flaky] = await status();
    assert.equal(flaky.ok, true);
    assert.ok(flaky.sent >= 3, JSON.stringify(flaky));
    assert.match(pool.stderr, /notify http:\/\/127\.0\.0\.1:\d+\/hang: no answer within 2 s/);
    assert.equal(
      pool.stderr.match(/notify http:\/\/127\.0\.0\.1:\d+\/hang: no answer/g)?.length,
      1,
      "logged once until it recovers",
    );
  });

  it("below admin, pool.status and pool.config show no credentials", async () => {
    const url = /remote API: (ws:\/\/[^/\s]+)\/rpc/.exec(pool.stderr)![1];
    const { token } = await local.call<{ token: string }>("token.create", {
      name: "viewer",
      scopes: ["read"],
    });
    const viewer = await connectWs(url, { token });
    clients.push(viewer);
    const shown = await status(viewer);
    assert.equal(shown[1].url, receiver.url("/ntfy/alerts", "%3Credacted%3E@"));
    assert.equal((await status())[1].url, receiver.url("/ntfy/alerts", "ann:pw@"));
    const config = await viewer.call<{ notify: { secret?: string }[] }>("pool.config");
    assert.equal(config.notify[0].secret, "<redacted>");
  });

  it("claude-poolctl notify test sends to every endpoint and prints each result", async () => {
    const before = receiver.requests.length;
    // --timeout 1: the CLI waits for the pool as long as the slowest endpoint may take too.
    const run = await poolctl(["notify", "test", "--timeout", "1"]);
    assert.equal(run.code, 1, "one endpoint failed");
    const lines = run.stdout.trim().split("\n");
    assert.equal(lines.length, 3, run.stdout);
    assert.match(lines[0], /^ok {5}http:\/\/127\.0\.0\.1:\d+\/flaky \(HTTP 200, \d+ ms\)$/);
    assert.match(lines[1], /^ok {5}http:\/\/ann:pw@127\.0\.0\.1:\d+\/ntfy\/alerts/);
    assert.match(lines[2], /^FAILED http:\/\/127\.0\.0\.1:\d+\/hang \(no answer within 2 s/);
    assert.match(run.stderr, /1 of 3 endpoints failed/);
    const tests = receiver.requests.slice(before).filter((r) => r.path !== "/hang");
    assert.ok(tests.some((r) => r.headers[header.event.toLowerCase()] === "test"));
  });

  it("claude-poolctl notify prints each endpoint's health; status notes the failing one", async () => {
    const run = await poolctl(["notify"]);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trim().split("\n");
    assert.match(lines[0], /\/flaky \[json: waiting,turn\.ended,crashed,failed\] ok; \d+ sent, /);
    assert.match(lines[2], /\/hang \[json: .*\] failing: no answer within 2 s \(since .*\); /);
    const shown = await poolctl(["status"]);
    assert.match(
      shown.stdout,
      /notify http:\/\/127\.0\.0\.1:\d+\/hang fails: no answer within 2 s/,
    );
  });
});

describe("notifications of scheduled runs", () => {
  it("a run's reply is POSTed as a schedule event once the scheduler says it fired", async () => {
    const t = await makeHookedPool({
      notify: [{ url: receiver.url("/runs"), events: ["schedule"] }],
    });
    const notifier = new Notifier({
      config: () => t.pool.currentConfig(),
      log: silentLogger,
      sessionPage: (id) => `https://pool.example/#/sessions/${id}`,
    });
    const scheduler = new EventEmitter();
    try {
      notifier.watch(t.pool, t.hub);
      notifier.watchSchedules(scheduler);
      await t.pool.start();
      const s = t.pool.spawn({ name: "nightly-target", channel: false });
      const entry = t.hub.send(
        s.id,
        "run the report",
        {},
        { from: "schedule:nightly", client: null },
      );
      scheduler.emit("schedule.fired", { name: "nightly", messageId: entry.messageId });
      const run = await waitFor("the schedule event", () => receiver.on("/runs")[0]);
      const body = JSON.parse(run.body) as Record<string, unknown>;
      assert.equal(body.event, "schedule");
      assert.equal(body.title, "Schedule nightly: done");
      assert.equal(body.message, "You said: run the report");
      assert.deepEqual(body.schedule, {
        name: "nightly",
        messageId: entry.messageId,
        outcome: "replied",
        reply: "You said: run the report",
      });
      assert.equal(receiver.on("/runs").length, 1, "no turn.ended: not subscribed");
    } finally {
      notifier.close();
      await t.close();
    }
  });
});

describe("Notifier reloads", () => {
  it("keeps an endpoint whose entry is unchanged, with its counts; drops a removed one", async () => {
    const parse = (notify: unknown[]) => parseConfig(JSON.stringify({ notify }), "test");
    const kept = { url: receiver.url("/kept"), events: ["crashed"] };
    let config = parse([kept, { url: receiver.url("/gone") }]);
    const notifier = new Notifier({
      config: () => config,
      log: silentLogger,
      sessionPage: () => null,
    });
    try {
      await notifier.test(true);
      assert.deepEqual(
        notifier.status(true).map((e) => [e.url, e.sent]),
        [
          [receiver.url("/kept"), 1],
          [receiver.url("/gone"), 1],
        ],
      );
      config = parse([kept, { url: receiver.url("/new") }]);
      assert.deepEqual(
        notifier.status(true).map((e) => [e.url, e.sent]),
        [
          [receiver.url("/kept"), 1],
          [receiver.url("/new"), 0],
        ],
      );
    } finally {
      notifier.close();
    }
  });
});
