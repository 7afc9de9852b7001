/**
 * GET /metrics: Prometheus' text format, read by the strict parser of prom-text.ts, checked
 * against what pool.status and session.list say; and the pure counting of restarts and crashes.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { tally, type SessionFacts, type Seen } from "../src/metrics/session-tally.js";
import { connectUnix, connectWs, type RpcClient } from "../src/rpc/client.js";
import type { SessionInfo } from "../src/session/session.js";
import type { LedgerEntry } from "../src/channel/ledger.js";
import { startFakePool, tempDir, waitFor, type PoolProcess } from "./helpers.js";
import { parsePrometheusText, valueOf, type Family } from "./prom-text.js";

describe("tally: restarts and crashes from successive session states", () => {
  const facts = (status: SessionFacts["status"], extra: Partial<SessionFacts> = {}) => ({
    status,
    restarts: 0,
    signal: null,
    reason: null,
    ...extra,
  });
  /** Runs the states through tally; returns what it counted. */
  const run = (states: SessionFacts[]) => {
    let seen: Seen | undefined;
    const counted: string[] = [];
    for (const s of states) {
      const t = tally(seen, s);
      seen = t.seen;
      if (t.restarted) counted.push("restart");
      if (t.crashed) counted.push(`crash:${t.crashed}`);
    }
    return counted;
  };

  it("a crash is counted once its restart is scheduled, with the exit or signal kind", () => {
    const code = { reason: "exited with code 3" };
    assert.deepEqual(
      run([
        facts("starting"),
        facts("running"),
        facts("crashed", code),
        facts("crashed", { ...code, restarts: 1 }),
        facts("starting", { restarts: 1 }),
        facts("running", { restarts: 1 }),
      ]),
      ["restart", "crash:exit"],
    );
    const segv = { signal: "SIGSEGV", reason: "killed by SIGSEGV" };
    assert.deepEqual(
      run([facts("running"), facts("crashed", segv), facts("crashed", { ...segv, restarts: 1 })]),
      ["restart", "crash:signal"],
    );
  });

  it("an OOM kill, known only after the scope is gone, counts as oom", () => {
    assert.deepEqual(
      run([
        facts("running"),
        facts("crashed", { signal: "SIGKILL", reason: "killed by SIGKILL" }),
        facts("crashed", { signal: "SIGKILL", reason: "oom", restarts: 1 }),
      ]),
      ["restart", "crash:oom"],
    );
    assert.deepEqual(
      run([
        facts("running", { restarts: 3 }),
        facts("crashed", { signal: "SIGKILL", restarts: 3 }),
        facts("failed", { signal: "SIGKILL", reason: "oom (gave up after 3 restarts in 5 min)" }),
      ]),
      ["crash:oom"],
    );
  });

  it("a crash whose restart is cut short by a stop still counts; a resume counts no restart", () => {
    assert.deepEqual(
      run([
        facts("running"),
        facts("crashed", { exitCode: 1 } as Partial<SessionFacts>),
        facts("stopped", { reason: "stopped by request" }),
        facts("starting"),
        facts("running"),
      ]),
      ["crash:exit"],
    );
    assert.deepEqual(
      run([
        facts("running", { restarts: 2 }),
        facts("stopped", { restarts: 2 }),
        facts("starting"),
      ]),
      [],
    );
  });
});

describe("the strict text-format parser", () => {
  it("reads families, labels with escapes, and special values", () => {
    const families = parsePrometheusText(
      [
        "# HELP a_total Things.\\nMore.",
        "# TYPE a_total counter",
        'a_total{x="q\\"uote",y="back\\\\slash\\n"} 3',
        "# TYPE h histogram",
        'h_bucket{le="+Inf"} 2',
        "h_sum 1.5e-3",
        "h_count 2",
        "g NaN",
        "",
      ].join("\n"),
    );
    assert.equal(families.get("a_total")?.help, "Things.\nMore.");
    assert.deepEqual(families.get("a_total")?.samples[0].labels, {
      x: 'q"uote',
      y: "back\\slash\n",
    });
    assert.equal(valueOf(families, "h_sum"), 0.0015);
    assert.ok(Number.isNaN(valueOf(families, "g")));
  });

  it("refuses what the format does not allow", () => {
    const bad = [
      "a 1", // no final newline
      "a 1\na 2\n", // a series twice
      "a 1\nb 1\na 2\n", // a family split
      "# TYPE a counter\na -1\n", // a negative counter
      'a{x="1"} one\n', // not a float
      'a{x="\\t"} 1\n', // a bad escape
      "a 1\n# TYPE a gauge\n", // TYPE after samples
      "# TYPE h histogram\nh_bucket 1\n", // bucket without le
      '1a{x="1"} 1\n', // a bad name
    ];
    for (const text of bad) assert.throws(() => parsePrometheusText(text), Error, text);
  });
});

describe("GET /metrics", () => {
  let pool: PoolProcess;
  let local: RpcClient;
  let ws: RpcClient;
  let base: string;
  let reader: string;

  before(async () => {
    const dir = tempDir();
    pool = await startFakePool(
      { maxSessions: 4, restart: { backoffSeconds: 0.05, maxBackoffSeconds: 1 } },
      dir,
    );
    const url = /remote API: (ws:\/\/[^/\s]+)\/rpc/.exec(pool.stderr)![1];
    base = url.replace(/^ws/, "http");
    local = await connectUnix(pool.socket);
    const admin = readFileSync(join(dir, "state", "claude-pool", "token"), "utf8").trim();
    ws = await connectWs(url, { token: admin });
    const created = await local.call<{ token: string }>("token.create", {
      name: "prometheus",
      scopes: ["read"],
    });
    reader = created.token;
  });

  after(async () => {
    ws?.close();
    local?.close();
    await pool?.stop();
  });

  const scrape = async (token: string | null = reader, method = "GET") =>
    fetch(`${base}/metrics`, {
      method,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });

  const metrics = async (): Promise<Map<string, Family>> => {
    const res = await scrape();
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    return parsePrometheusText(await res.text());
  };

  it("needs a token with the read scope; GET or HEAD only", async () => {
    assert.equal((await scrape(null)).status, 401);
    assert.equal((await scrape("cpt_wrong")).status, 401);
    const { token: control } = await local.call<{ token: string }>("token.create", {
      name: "controller",
      scopes: ["control"],
    });
    const refused = await scrape(control);
    assert.equal(refused.status, 403);
    assert.match(((await refused.json()) as { error: string }).error, /"read" scope/);
    assert.equal((await scrape(reader, "POST")).status, 405);
    const head = await scrape(reader, "HEAD");
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");
  });

  it("sessions by status and activity, restarts and crashes, as pool.status and session.list say", async () => {
    const steady = await local.call<SessionInfo>("session.spawn", { name: "steady" });
    const crashy = await local.call<SessionInfo>("session.spawn", { name: "crashy" });
    const stopped = await local.call<SessionInfo>("session.spawn", { name: "stopped" });
    const idle = (id: string) =>
      waitFor(`${id} idle`, async () => {
        const s = await local.call<SessionInfo>("session.get", { id });
        return s.activity === "idle" ? s : undefined;
      });
    await Promise.all([steady, crashy, stopped].map((s) => idle(s.id)));
    await local.call("session.kill", { id: stopped.id });
    await local.call("session.send", { id: crashy.id, text: "/crash 3" });
    await waitFor("crashy restarted and idle again", async () => {
      const s = await local.call<SessionInfo>("session.get", { id: crashy.id });
      return s.restarts === 1 && s.activity === "idle";
    });

    const families = await metrics();
    const status = await local.call<{ active: number; maxSessions: number; sessions: number }>(
      "pool.status",
    );
    const sessions = await local.call<SessionInfo[]>("session.list");
    for (const s of ["starting", "running", "stopping", "stopped", "crashed", "failed"]) {
      assert.equal(
        valueOf(families, "claude_pool_sessions", { status: s }),
        sessions.filter((x) => x.status === s).length,
        s,
      );
    }
    const total = families.get("claude_pool_sessions")!.samples.reduce((n, x) => n + x.value, 0);
    assert.equal(total, status.sessions);
    assert.equal(valueOf(families, "claude_pool_sessions_active"), status.active);
    assert.equal(valueOf(families, "claude_pool_sessions_max"), status.maxSessions);
    assert.equal(
      valueOf(families, "claude_pool_channels_connected"),
      sessions.filter((x) => x.channel).length,
    );
    assert.equal(valueOf(families, "claude_pool_sessions_by_activity", { activity: "idle" }), 2);
    assert.equal(valueOf(families, "claude_pool_sessions_by_activity", { activity: "busy" }), 0);
    const labels = { id: crashy.id, name: "crashy" };
    assert.equal(valueOf(families, "claude_pool_session_restarts_total", labels), 1);
    assert.equal(
      valueOf(families, "claude_pool_session_crashes_total", { ...labels, reason: "exit" }),
      1,
    );
    assert.equal(families.get("claude_pool_session_crashes_total")!.samples.length, 1);
    assert.equal(families.get("claude_pool_session_restarts_total")!.type, "counter");
    assert.ok(valueOf(families, "process_resident_memory_bytes") > 0);
    assert.equal(families.get("claude_pool_info")!.samples[0].value, 1);
  });

  it("RPC requests and errors by method and transport; clients by transport, channels apart", async () => {
    await ws.call("session.list");
    await assert.rejects(local.call("session.get", { id: "nosuchsession" }));
    await assert.rejects(local.call("no.such.method"));
    const families = await metrics();
    const spawns = valueOf(families, "claude_pool_rpc_requests_total", {
      method: "session.spawn",
      transport: "unix",
    });
    assert.equal(spawns, 3);
    assert.ok(
      valueOf(families, "claude_pool_rpc_requests_total", {
        method: "session.list",
        transport: "ws",
      }) >= 1,
    );
    const notFound = { method: "session.get", transport: "unix", code: "-32001" };
    assert.equal(valueOf(families, "claude_pool_rpc_errors_total", notFound), 1);
    const unknown = { method: "unknown", transport: "unix", code: "-32601" };
    assert.equal(valueOf(families, "claude_pool_rpc_errors_total", unknown), 1);
    for (const s of families.get("claude_pool_rpc_requests_total")!.samples) {
      assert.notEqual(s.labels.method, "no.such.method", "a client's text is never a label");
    }
    // this test's local and WebSocket clients; the sessions' channel servers are not clients
    assert.equal(valueOf(families, "claude_pool_clients", { transport: "unix" }), 1);
    assert.equal(valueOf(families, "claude_pool_clients", { transport: "ws" }), 1);
  });

  it("messages by path and state, permission prompts by decision, hook events", async () => {
    const s = await local.call<SessionInfo>("session.spawn", { name: "talker" });
    await waitFor("talker's channel", async () => {
      const info = await local.call<SessionInfo>("session.get", { id: s.id });
      return info.channel && info.activity === "idle";
    });
    await ws.call("pool.subscribe", { signals: ["permission.request"] });
    const requests: Record<string, unknown>[] = [];
    ws.on("notification", (method, params) => {
      if (method === "permission.request") requests.push(params);
    });
    await ws.call("channel.send", { id: s.id, content: "perm Bash ls" });
    const request = await waitFor("the permission request", () => requests[0]);
    await ws.call("permission.respond", {
      id: s.id,
      requestId: request.requestId,
      behavior: "allow",
    });
    await waitFor("the message replied", async () => {
      const [entry] = await local.call<LedgerEntry[]>("channel.history", { id: s.id });
      return entry?.state === "replied";
    });
    await local.call("session.send", { id: s.id, text: "typed hello" });
    const families = await waitFor("the typed message's Stop hook in /metrics", async () => {
      const f = await metrics();
      const stops = f
        .get("claude_pool_hook_events_total")
        ?.samples.find((x) => x.labels.event === "Stop");
      return (stops?.value ?? 0) >= 2 ? f : undefined;
    });
    for (const state of ["delivered", "replied"]) {
      assert.equal(valueOf(families, "claude_pool_messages_total", { path: "channel", state }), 1);
    }
    assert.equal(
      valueOf(families, "claude_pool_messages_total", { path: "none", state: "queued" }),
      1,
    );
    assert.equal(
      valueOf(families, "claude_pool_permission_prompts_total", {
        decision: "allow",
        source: "channel",
      }),
      1,
    );
    assert.equal(valueOf(families, "claude_pool_permission_prompts_pending"), 0);
    assert.ok(
      valueOf(families, "claude_pool_hook_events_total", { event: "UserPromptSubmit" }) >= 1,
    );
  });
});
