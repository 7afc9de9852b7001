import assert from "node:assert/strict";
import { spawn as spawnChild, spawnSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Ajv } from "ajv";
import { ScreenModel } from "./xterm-screen.js";
import { connectUnix, type RpcClient } from "../src/rpc/client.js";
import type { Introspection } from "../src/rpc/registry.js";
import type { SessionInfo } from "../src/session/session.js";
import {
  fakeClaude,
  PoolProcess,
  rejectsWithRpc,
  repoRoot,
  tempDir,
  waitFor,
  writeFakeConfig,
} from "./helpers.js";

const poolctl = join(repoRoot, "dist", "src", "bin", "claude-poolctl.js");

/** Newline-delimited JSON over a raw socket, for what a well-behaved client never sends. */
class RawConnection {
  private buffer = "";
  readonly messages: Record<string, unknown>[] = [];
  constructor(readonly socket: Socket) {
    socket.on("data", (d: Buffer) => {
      this.buffer += d.toString();
      let nl: number;
      while ((nl = this.buffer.indexOf("\n")) !== -1) {
        this.messages.push(JSON.parse(this.buffer.slice(0, nl)) as Record<string, unknown>);
        this.buffer = this.buffer.slice(nl + 1);
      }
    });
  }
  static open(path: string): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect(path, () => resolve(new RawConnection(socket)));
      socket.once("error", reject);
    });
  }
  async next(count = 1): Promise<Record<string, unknown>[]> {
    const start = this.messages.length;
    await waitFor(`${count} replies`, () => this.messages.length >= start + count);
    return this.messages.slice(start, start + count);
  }
}

let dir: string;
let pool: PoolProcess;
let client: RpcClient;
const clients: RpcClient[] = [];

async function newClient(): Promise<RpcClient> {
  const c = await connectUnix(pool.socket);
  clients.push(c);
  return c;
}

function poolctlRun(args: string[], input?: string) {
  return spawnSync(process.execPath, [poolctl, ...args], {
    encoding: "utf8",
    input,
    env: { ...process.env, CLAUDE_POOL_SOCKET: pool.socket },
  });
}

/** Spawns a session and resolves once it is running. */
async function runningSession(
  name: string,
  env: Record<string, string> = {},
): Promise<SessionInfo> {
  const watcher = await newClient();
  await watcher.call("pool.subscribe", { signals: ["session.changed"] });
  const running = new Promise<SessionInfo>((resolve) =>
    watcher.on("notification", (_method, params) => {
      const changed = params.session as SessionInfo;
      if (changed.name === name && changed.status === "running") resolve(changed);
    }),
  );
  await client.call("session.spawn", { name, env });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} did not start running`)), 10_000);
  });
  try {
    return await Promise.race([running, deadline]);
  } finally {
    clearTimeout(timer);
    watcher.close();
  }
}

/** Collects session.output for one session on one client. */
function outputOf(
  c: RpcClient,
  id: string,
): { text: () => string; events: Record<string, unknown>[] } {
  let text = "";
  const events: Record<string, unknown>[] = [];
  c.on("notification", (method, params) => {
    if (method !== "session.output" || params.id !== id) return;
    events.push(params);
    text += String(params.data);
  });
  return { text: () => text, events };
}

before(async () => {
  dir = tempDir();
  writeFakeConfig(dir, { maxSessions: 6, stopTimeoutSeconds: 2 });
  pool = new PoolProcess(dir, ["--config", join(dir, "pool.json")]);
  await pool.ready();
  client = await newClient();
});

after(async () => {
  for (const c of clients) c.close();
  await pool.stop();
});

describe("control socket", () => {
  it("is 0600 in a 0700 directory", () => {
    assert.equal(statSync(pool.socket).mode & 0o777, 0o600);
    assert.equal(statSync(dirname(pool.socket)).mode & 0o777, 0o700);
  });

  it("refuses a second pool on the same socket, naming the running pid", async () => {
    const second = new PoolProcess(dir, ["--config", join(dir, "pool.json")]);
    const { code } = await second.exited;
    assert.equal(code, 1);
    assert.match(second.stderr, new RegExp(`already running, pid ${pool.child.pid}`));
  });

  it("replaces a stale socket left by a dead pool", async () => {
    const other = tempDir();
    const stale = join(other, "control.sock");
    // a listener killed with SIGKILL leaves its socket file behind
    const holder = spawnChild(process.execPath, [
      "-e",
      `require("net").createServer().listen(${JSON.stringify(stale)}, () => console.log("up"))`,
    ]);
    await new Promise((resolve) => holder.stdout.once("data", resolve));
    holder.kill("SIGKILL");
    await new Promise((resolve) => holder.once("exit", resolve));
    assert.ok(statSync(stale).isSocket());
    writeFileSync(join(other, "pool.json"), JSON.stringify({ claudePath: fakeClaude, apiPort: 0 }));
    const p = new PoolProcess(other, ["--config", join(other, "pool.json")]);
    await p.ready();
    assert.match(p.stderr, /removing stale socket/);
    const c = await connectUnix(p.socket);
    assert.equal((await c.call<{ status: string }>("pool.status")).status, "ok");
    c.close();
    await p.stop();
  });
});

describe("control socket without XDG_RUNTIME_DIR", () => {
  it("falls back to a private directory under /tmp and says so", async () => {
    const other = tempDir();
    writeFileSync(join(other, "pool.json"), JSON.stringify({ claudePath: fakeClaude, apiPort: 0 }));
    const fallback = `/tmp/claude-pool-${process.getuid!()}/control.sock`;
    const env = { CLAUDE_POOL_SOCKET: "", XDG_RUNTIME_DIR: "" };
    const p = new PoolProcess(other, ["--config", join(other, "pool.json")], env);
    try {
      await p.waitForLog(new RegExp(`XDG_RUNTIME_DIR is not set; control socket at ${fallback}`));
      await p.ready();
      assert.equal(statSync(dirname(fallback)).mode & 0o777, 0o700);
      const status = spawnSync(process.execPath, [poolctl, "status", "--json"], {
        encoding: "utf8",
        env: { ...process.env, ...env },
      });
      assert.equal(status.status, 0, status.stderr);
      assert.equal(JSON.parse(status.stdout).pid, p.child.pid);
    } finally {
      await p.stop();
    }
  });
});

describe("methods", () => {
  it("introspect lists every method and signal with schemas, and results match them", async () => {
    const result = await client.call<Introspection>("pool.introspect");
    const names = result.methods.map((m) => m.name);
    for (const name of [
      "pool.status",
      "pool.config",
      "pool.introspect",
      "pool.subscribe",
      "pool.unsubscribe",
      "session.list",
      "session.get",
      "session.spawn",
      "session.kill",
      "session.resume",
      "session.remove",
      "session.send",
      "session.attach",
      "session.detach",
      "session.resize",
      "channel.send",
      "channel.history",
      "permission.respond",
      "session.transcript",
      "schedule.list",
      "schedule.add",
      "schedule.remove",
      "schedule.run",
      "schedule.history",
    ]) {
      assert.ok(names.includes(name), `${name} is introspectable`);
    }
    assert.deepEqual(
      result.signals.map((s) => s.name),
      [
        "session.changed",
        "session.removed",
        "turn.started",
        "turn.delta",
        "turn.ended",
        "session.output",
        "channel.message",
        "channel.reply",
        "channel.status",
        "permission.request",
        "permission.resolved",
        "schedule.fired",
      ],
    );
    const ajv = new Ajv({ strict: false });
    const check = async (method: string, params: object) => {
      const schema = result.methods.find((m) => m.name === method)!.result;
      const value = await client.call(method, params);
      assert.ok(ajv.validate(schema, value), `${method}: ${ajv.errorsText()}`);
      return value;
    };
    const s = (await check("session.spawn", { name: "schema" })) as SessionInfo;
    await check("pool.status", {});
    await check("session.list", {});
    await check("session.get", { id: s.id });
    await check("session.kill", { id: s.id });
    await check("session.resume", { id: s.id });
    await check("session.kill", { id: s.id });
    await check("session.remove", { id: s.id });
    await check("schedule.list", {});
  });

  it("answers every error with its code and a hint", async () => {
    await rejectsWithRpc(client.call("session.get", { id: "zzz" }), -32001, /claude-poolctl list/);
    await rejectsWithRpc(client.call("no.such"), -32601, /no method "no.such".*introspect/);
    await rejectsWithRpc(
      client.call("session.get", {}),
      -32602,
      /must have required property 'id'/,
    );
    await rejectsWithRpc(
      client.call("session.resize", { id: "x", cols: "wide", rows: 1 }),
      -32602,
      /cols must be integer/,
    );
    const s = await runningSession("state");
    await rejectsWithRpc(
      client.call("session.resume", { id: s.id }),
      -32003,
      /only stopped, crashed or failed/,
    );
    await rejectsWithRpc(client.call("session.remove", { id: s.id }), -32003, /stop it first/);
    await rejectsWithRpc(
      client.call("pool.subscribe", { signals: ["nope"] }),
      -32602,
      /unknown signal "nope"/,
    );
    await client.call("session.kill", { id: s.id });
    await client.call("session.remove", { id: s.id });
  });

  it("refuses a spawn past maxSessions with pool full (-32002)", async () => {
    const ids: string[] = [];
    const status = await client.call<{ active: number; maxSessions: number }>("pool.status");
    for (let i = status.active; i < status.maxSessions; i++) {
      ids.push((await client.call<SessionInfo>("session.spawn", { name: `fill${i}` })).id);
    }
    await rejectsWithRpc(
      client.call("session.spawn", { name: "overflow" }),
      -32002,
      /pool is full/,
    );
    for (const id of ids) {
      await client.call("session.kill", { id });
      await client.call("session.remove", { id });
    }
  });

  it("handles batches, notifications and parse errors", async () => {
    const raw = await RawConnection.open(pool.socket);
    raw.socket.write(
      JSON.stringify([
        { jsonrpc: "2.0", id: 1, method: "pool.status" },
        { jsonrpc: "2.0", method: "pool.status" },
        { jsonrpc: "2.0", id: 2, method: "nope" },
        { foo: 1 },
      ]) + "\n",
    );
    const [batch] = await raw.next();
    const replies = batch as unknown as Record<string, unknown>[];
    assert.ok(Array.isArray(replies));
    assert.equal(replies.length, 3, "the notification gets no reply");
    assert.equal((replies[0].result as { status: string }).status, "ok");
    assert.equal((replies[1].error as { code: number }).code, -32601);
    assert.equal((replies[2].error as { code: number }).code, -32600);
    raw.socket.write("{ not json\n");
    const [parse] = await raw.next();
    assert.equal((parse.error as { code: number }).code, -32700);
    raw.socket.end();
  });

  it("survives 1,000 malformed messages and an oversized one on the same connection", async () => {
    const raw = await RawConnection.open(pool.socket);
    const garbage = [
      "{",
      "[]",
      '"x"',
      "null",
      '{"jsonrpc":"1.0"}',
      '{"jsonrpc":"2.0","id":{},"method":1}',
    ];
    let text = "";
    for (let i = 0; i < 1000; i++) text += garbage[i % garbage.length] + "\n";
    raw.socket.write(text);
    const replies = await raw.next(1000);
    assert.ok(
      replies.every((r) => typeof (r.error as { code?: number } | undefined)?.code === "number"),
    );
    raw.socket.write("x".repeat(1.5 * 1024 * 1024) + "\n");
    const [big] = await raw.next();
    assert.equal((big.error as { code: number }).code, -32600);
    assert.match((big.error as { message: string }).message, /larger than 1048576 bytes/);
    raw.socket.write(JSON.stringify({ jsonrpc: "2.0", id: 7, method: "pool.status" }) + "\n");
    const [status] = await raw.next();
    assert.equal(status.id, 7);
    raw.socket.end();
  });
});

describe("signals", () => {
  it("session.changed for every state change, with a per-connection seq", async () => {
    const watcher = await newClient();
    const seen: { seq: number; status: string; id: string }[] = [];
    watcher.on("notification", (method, params) => {
      if (method !== "session.changed") return;
      const s = params.session as SessionInfo;
      seen.push({ seq: params.seq as number, status: s.status, id: s.id });
    });
    const subscribed = await watcher.call<{ signals: string[] }>("pool.subscribe", {
      signals: ["session.changed", "session.removed"],
    });
    assert.deepEqual(subscribed.signals, ["session.changed", "session.removed"]);
    const s = await client.call<SessionInfo>("session.spawn", { name: "signals" });
    await waitFor("running signal", () =>
      seen.some((e) => e.id === s.id && e.status === "running"),
    );
    await client.call("session.kill", { id: s.id });
    await waitFor("stopped signal", () =>
      seen.some((e) => e.id === s.id && e.status === "stopped"),
    );
    // Other fields change within a status too (claude's SessionEnd hook while it stops).
    const mine = seen
      .filter((e) => e.id === s.id)
      .map((e) => e.status)
      .filter((status, i, all) => status !== all[i - 1]);
    assert.deepEqual(mine, ["starting", "running", "stopping", "stopped"]);
    const seqs = seen.map((e) => e.seq);
    assert.deepEqual(
      seqs,
      seqs.map((_, i) => seqs[0] + i),
      "seq increases by one",
    );
    await client.call("session.remove", { id: s.id });
  });
});

describe("attach", () => {
  it("replays a screen that equals the session's, then streams live output to two clients", async () => {
    const s = await runningSession("screen");
    await client.call("session.send", { id: s.id, text: "first message" });
    await client.call("session.send", { id: s.id, text: "\x1b[31mred\x1b[0m" });
    let settled: string[] = [];
    const deadline = Date.now() + 10_000;
    while (!/You said: red\n> $/.test(settled.join("\n")) && Date.now() < deadline) {
      settled = (await client.call<{ lines: string[] }>("session.logs", { id: s.id })).lines;
    }
    const [a, b] = [await newClient(), await newClient()];
    const outA = outputOf(a, s.id);
    const outB = outputOf(b, s.id);
    const screenA = await a.call<{ data: string; cols: number; rows: number }>("session.attach", {
      id: s.id,
    });
    await b.call("session.attach", { id: s.id, readOnly: true });
    // the replay, drawn on a fresh terminal, shows what the pool's model shows
    const replica = new ScreenModel(screenA.cols, screenA.rows, 1 << 20);
    replica.write(screenA.data);
    await replica.flushed();
    const logs = await client.call<{ lines: string[] }>("session.logs", { id: s.id });
    const drawn = replica.lines(true);
    while (drawn.length > 0 && drawn[drawn.length - 1].trim() === "") drawn.pop();
    assert.deepEqual(drawn, logs.lines);
    assert.match(logs.lines.join("\n"), /You said: first message/);

    await client.call("session.send", { id: s.id, text: "live line" });
    await waitFor(
      "live output on both",
      () => /live line/.test(outA.text()) && /live line/.test(outB.text()),
    );
    await a.call("session.detach", { id: s.id });
    await client.call("session.send", { id: s.id, text: "after detach" });
    await waitFor("b still streams", () => /after detach/.test(outB.text()));
    assert.doesNotMatch(outA.text(), /after detach/);
    await client.call("session.kill", { id: s.id });
  });

  it("with binary: live output comes as records of the bytes claude wrote, between the replies", async () => {
    const s = await runningSession("bytes");
    const c = await newClient();
    const asText = outputOf(c, s.id);
    const bytes: Buffer[] = [];
    c.on("output", (id, data) => id === s.id && bytes.push(data));
    const live = () => Buffer.concat(bytes).toString();
    const screen = await c.call<{ binary: boolean; data: string }>("session.attach", {
      id: s.id,
      binary: true,
    });
    assert.equal(screen.binary, true);
    assert.equal(typeof screen.data, "string", "the attach reply is JSON as ever");
    await c.call("session.send", { id: s.id, text: "grüße\nin two lines" });
    await waitFor("the reply as bytes", () => /You said: grüße/.test(live()));
    // replies and signals go on between the records
    assert.equal((await c.call<SessionInfo>("session.get", { id: s.id })).id, s.id);
    await c.call("session.send", { id: s.id, text: "/flood 300000" });
    await waitFor("a flood as bytes", () => /flood done/.test(live()), 30_000);
    assert.equal((await c.call<SessionInfo>("session.get", { id: s.id })).id, s.id);
    assert.equal(asText.text(), "", "no output as text to a binary attach");
    // a plain attach on the same connection goes back to text
    await c.call("session.attach", { id: s.id });
    await client.call("session.send", { id: s.id, text: "as text again" });
    await waitFor("text output", () => /as text again/.test(asText.text()));
    assert.doesNotMatch(live(), /as text again/);
    await client.call("session.kill", { id: s.id });
  });

  it("a slow reader is resynced from the screen, memory stays bounded, others are unaffected", async () => {
    const s = await runningSession("flood");
    const fast = await newClient();
    const fastOut = outputOf(fast, s.id);
    await fast.call("session.attach", { id: s.id });
    const slow = await RawConnection.open(pool.socket);
    slow.socket.write(
      JSON.stringify({ jsonrpc: "2.0", id: 1, method: "session.attach", params: { id: s.id } }) +
        "\n",
    );
    await slow.next();
    slow.socket.pause();
    const rss = () =>
      Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pool.child.pid}/status`, "utf8"))![1]) *
      1024;
    const before = rss();
    await client.call("session.send", { id: s.id, text: "/flood 8000000" });
    await waitFor(
      "flood to finish for the fast client",
      () => /flood done/.test(fastOut.text()),
      60_000,
    );
    const growth = rss() - before;
    assert.ok(growth < 64 * 1024 * 1024, `pool RSS grew by ${growth} bytes`);
    slow.socket.resume();
    await waitFor(
      "the slow client's resync",
      () =>
        slow.messages.some((m) => (m.params as { resync?: boolean } | undefined)?.resync === true),
      30_000,
    );
    const seqs = slow.messages
      .map((m) => (m.params as { seq?: number } | undefined)?.seq)
      .filter((x) => x !== undefined);
    assert.ok(
      seqs.some((seq, i) => i > 0 && seq! > seqs[i - 1]! + 1),
      "dropped output shows as a seq gap",
    );
    slow.socket.end();
    await client.call("session.kill", { id: s.id });
  });
});

describe("session.send", () => {
  it("pastes with bracketed paste when claude enabled it: an inner newline stays in the message", async () => {
    const s = await runningSession("paste");
    const c = await newClient();
    const out = outputOf(c, s.id);
    await c.call("session.attach", { id: s.id });
    await client.call("session.send", { id: s.id, text: "one\rtwo" });
    await waitFor("the reply", () => /You said: one/.test(out.text()));
    await client.call("session.send", { id: s.id, text: "marker" });
    await waitFor("marker", () => /You said: marker/.test(out.text()));
    assert.equal(out.text().match(/You said:/g)?.length, 2, "one message, then the marker");
    await client.call("session.kill", { id: s.id });
  });

  it("types plainly when it did not: an inner Enter submits, and Enter comes separately", async () => {
    const s = await runningSession("plain", { FAKE_CLAUDE_NO_BRACKETED_PASTE: "1" });
    const c = await newClient();
    const out = outputOf(c, s.id);
    await c.call("session.attach", { id: s.id });
    await client.call("session.send", { id: s.id, text: "one\rtwo" });
    await waitFor("both replies", () => /You said: one[\s\S]*You said: two/.test(out.text())).catch(
      (e: Error) => {
        throw new Error(e.message + JSON.stringify(out.text()));
      },
    );
    assert.ok(!out.text().includes("\x1b[200~"), "no bracketed paste");
    await client.call("session.send", { id: s.id, text: "typed", submit: false });
    await client.call("session.send", { id: s.id, text: "\r", raw: true });
    await waitFor("raw Enter submits", () => /You said: typed/.test(out.text()));
    await client.call("session.kill", { id: s.id });
  });
});

describe("claude-poolctl", () => {
  it("status prints the seed's header and table", async () => {
    const s = await runningSession("ctl");
    const result = poolctlRun(["status"]);
    assert.equal(result.status, 0, result.stderr);
    const [header, blank, columns, rule, ...rows] = result.stdout.trimEnd().split("\n");
    assert.match(
      header,
      /^claude-pool \| status: ok \| uptime: \d+(s|m \d+s) \| active: \d+\/6 \| mem: \d+MB$/,
    );
    assert.equal(blank, "");
    assert.match(columns, /^ID\s+Name\s+Status\s+PID\s+Idle Time\s+Keep Warm\s+Activity$/);
    assert.match(rule, /^-{83,}$/);
    assert.ok(
      rows.some((r) =>
        new RegExp(`^${s.id}\\s+ctl\\s+running\\s+${s.pid}\\s+\\d+s\\s+no\\s+idle$`).test(r),
      ),
      rows.join("\n"),
    );
    const json = JSON.parse(poolctlRun(["status", "--json"]).stdout);
    assert.equal(json.status, "ok");
    assert.ok(json.sessions.some((x: SessionInfo) => x.id === s.id));
  });

  it("exit codes: 0 ok, 1 pool error, 2 usage, 3 unreachable with a hint", () => {
    assert.equal(poolctlRun(["list"]).status, 0);
    const missing = poolctlRun(["kill", "nonexistent"]);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /no session "nonexistent"/);
    assert.equal(poolctlRun(["frobnicate"]).status, 2);
    assert.equal(poolctlRun(["call", "pool.status", "{bad"]).status, 2);
    const away = spawnSync(process.execPath, [poolctl, "status"], {
      encoding: "utf8",
      env: { ...process.env, CLAUDE_POOL_SOCKET: join(tempDir(), "none.sock") },
    });
    assert.equal(away.status, 3);
    assert.match(away.stderr, /systemctl --user start claude-pool/);
  });

  it("spawn, send, logs, call, kill, resume and remove, with --json", () => {
    const spawned = JSON.parse(
      poolctlRun(["spawn", "--name", "cli", "--json"]).stdout,
    ) as SessionInfo;
    assert.equal(spawned.name, "cli");
    assert.equal(poolctlRun(["send", "cli", "-"], "from stdin").status, 0);
    const deadline = Date.now() + 10_000;
    let logs = "";
    while (!/You said: from stdin/.test(logs) && Date.now() < deadline)
      logs = poolctlRun(["logs", "cli"]).stdout;
    assert.match(logs, /You said: from stdin/);
    assert.equal(
      JSON.parse(poolctlRun(["call", "session.get", '{"id":"cli"}']).stdout).id,
      spawned.id,
    );
    assert.match(
      poolctlRun(["kill", "cli"]).stdout,
      new RegExp(`^stopped ${spawned.id} \\(cli\\), stopped`),
    );
    assert.match(poolctlRun(["resume", spawned.id.slice(0, 5)]).stdout, /^resumed .*starting/);
    poolctlRun(["kill", "cli"]);
    assert.equal(poolctlRun(["remove", "cli"]).stdout.trim(), `removed ${spawned.id}`);
  });

  it("claude-pool's seed commands are aliases that use the socket (--port is ignored)", () => {
    const seed = (args: string[]) =>
      spawnSync(
        process.execPath,
        [join(repoRoot, "dist", "src", "bin", "claude-pool.js"), ...args],
        {
          encoding: "utf8",
          env: { ...process.env, CLAUDE_POOL_SOCKET: pool.socket },
        },
      );
    const spawned = seed(["spawn", "--name", "seedling", "--port", "3200"]);
    assert.equal(spawned.status, 0, spawned.stderr);
    assert.match(spawned.stdout, /^spawned [0-9a-f]{8} \(seedling\)/);
    const status = seed(["status", "--port", "3200"]);
    assert.match(status.stdout, /^claude-pool \| status: ok \|/);
    assert.match(status.stdout, /seedling/);
    assert.match(seed(["kill", "seedling"]).stdout, /^stopped .*\(seedling\), stopped/);
    assert.match(seed(["resume", "seedling"]).stdout, /^resumed .*\(seedling\)/);
    seed(["kill", "seedling"]);
  });

  it("monitor prints signals as they come", async () => {
    const child = spawnChild(process.execPath, [poolctl, "monitor"], {
      env: { ...process.env, CLAUDE_POOL_SOCKET: pool.socket },
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    await waitFor("monitor to subscribe", () => /monitoring/.test(err));
    const s = await client.call<SessionInfo>("session.spawn", { name: "monitored" });
    await waitFor("monitor output", () =>
      new RegExp(`\\d+ session.changed ${s.id} monitored running`).test(out),
    );
    child.kill();
    await client.call("session.kill", { id: s.id });
  });
});
