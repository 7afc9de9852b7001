/**
 * `claude-pool start` as a plain process next to the sandbox's user manager, with systemd
 * "required": sessions in claude-pool-<id>.scope from their first instruction, limits and usage,
 * OOM kills, no scopes left after SIGTERM, stale scopes after kill -9, and the two modes without
 * a user bus. The scope tests need test/run-systemd-tests (test/systemd-sandbox); the tests
 * without a bus run anywhere.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connectUnix, type RpcClient } from "../src/rpc/client.js";
import type { SessionInfo } from "../src/session/session.js";
import type { Check } from "../src/doctor/types.js";
import { claudePoolBin, fakeClaude, PoolProcess, tempDir, waitFor } from "./helpers.js";
import { parsePrometheusText, valueOf } from "./prom-text.js";
import {
  cgroupFile,
  gone,
  inSandbox,
  notEnforced,
  scopeUnits,
  show,
  systemctl,
} from "./systemd-support.js";

const noSandbox = inSandbox
  ? false
  : "needs the user manager of test/systemd-sandbox (run test/run-systemd-tests)";
const SLICE = "claude-pool-sessions.slice";

/** The cgroup of `pid` in the given hierarchy ("" is cgroup2), or undefined. */
function cgroupOf(lines: string[], hierarchy: string): string | undefined {
  return lines.find((l) => l.split(":")[1] === hierarchy)?.split(":")[2];
}

function cgroupLines(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cgroup`, "utf8").trim().split("\n");
}

/** Polls session.get until `test` holds. */
async function sessionWhere(
  client: RpcClient,
  id: string,
  what: string,
  test: (s: SessionInfo) => boolean,
  timeoutMs = 10_000,
): Promise<SessionInfo> {
  let last: SessionInfo | null = null;
  return waitFor(
    () => `session ${id} ${what}; last seen ${JSON.stringify(last)}`,
    async () => {
      last = await client.call<SessionInfo>("session.get", { id });
      return test(last) ? last : false;
    },
    timeoutMs,
  );
}

/** Running, with its pid (optionally not `oldPid`) placed in its scope. */
function placedAndRunning(
  client: RpcClient,
  id: string,
  oldPid: number | null = null,
): Promise<SessionInfo> {
  return sessionWhere(
    client,
    id,
    `running in claude-pool-${id}.scope${oldPid === null ? "" : ` with a pid other than ${oldPid}`}`,
    (s) =>
      s.status === "running" &&
      s.unit === `claude-pool-${id}.scope` &&
      s.pid !== null &&
      s.pid !== oldPid,
  );
}

/** PTY output as plain lines (session.logs), polled until `re` matches one. */
async function outputMatch(client: RpcClient, id: string, re: RegExp): Promise<RegExpMatchArray> {
  let lines: string[] = [];
  return waitFor(
    () => `${re} in the output of ${id}:\n${lines.join("\n")}`,
    async () => {
      ({ lines } = await client.call<{ lines: string[] }>("session.logs", { id }));
      for (const line of lines) {
        const m = line.match(re);
        if (m) return m;
      }
      return false;
    },
  );
}

const pools: PoolProcess[] = [];
const clients: RpcClient[] = [];
const dirs: string[] = [];
after(async () => {
  for (const c of clients) c.close();
  // After a failed test: stop pools the way systemd would, then whatever scopes they left.
  await Promise.all(
    pools.map(async (p) => {
      if (p.child.exitCode !== null || p.child.signalCode !== null) return;
      const kill = setTimeout(() => p.child.kill("SIGKILL"), 5000);
      p.child.kill("SIGTERM");
      await p.exited;
      clearTimeout(kill);
    }),
  );
  if (inSandbox) {
    const left = scopeUnits();
    if (left.length > 0) systemctl("stop", ...left);
  }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/**
 * A pool dir: work dir, a config, and a claudePath wrapper that, when the session's env has
 * RECORD_CGROUP, records its own pid and cgroup and those of a child it forks, then execs the fake.
 */
function setup(config: Record<string, unknown> = {}): { dir: string; config: string } {
  const dir = tempDir("claude-pool-systemd-");
  dirs.push(dir);
  mkdirSync(join(dir, "work"));
  const wrapper = join(dir, "claude-wrapper");
  writeFileSync(
    wrapper,
    `#!/bin/sh
if [ -n "$RECORD_CGROUP" ]; then
  echo $$ > "$RECORD_CGROUP.pid"
  cat /proc/$$/cgroup > "$RECORD_CGROUP.self"
  cat /proc/self/cgroup > "$RECORD_CGROUP.child"
fi
exec ${fakeClaude} "$@"
`,
    { mode: 0o755 },
  );
  writeFileSync(
    join(dir, "pool.json"),
    JSON.stringify({
      claudePath: wrapper,
      apiPort: 0,
      systemd: "required",
      stopTimeoutSeconds: 1,
      logLevel: "debug",
      restart: { backoffSeconds: 0.1, maxBackoffSeconds: 1 },
      defaults: { workingDirectory: join(dir, "work") },
      ...config,
    }),
  );
  return { dir, config: join(dir, "pool.json") };
}

async function startPool(
  dir: string,
  env: Record<string, string> = {},
): Promise<{ pool: PoolProcess; client: RpcClient }> {
  const pool = new PoolProcess(dir, ["--config", join(dir, "pool.json")], env);
  pools.push(pool);
  await pool.ready();
  const client = await connectUnix(pool.socket);
  clients.push(client);
  return { pool, client };
}

describe("claude-pool start with systemd required", { skip: noSandbox }, () => {
  let pool: PoolProcess;
  let client: RpcClient;
  let dir: string;

  before(async () => {
    ({ dir } = setup());
    ({ pool, client } = await startPool(dir));
  });

  it("says it uses scopes, in the log and in pool.status", async () => {
    await pool.waitForLog(/systemd \S+: each session runs in its own scope/);
    const status = await client.call<{ systemd: unknown }>("pool.status");
    assert.deepEqual(status.systemd, { mode: "required", scopes: true, reason: null });
  });

  it("runs a session in claude-pool-<id>.scope from its first instruction, with its children", async () => {
    const record = join(dir, "first");
    const spawned = await client.call<SessionInfo>("session.spawn", {
      name: "placed",
      env: { RECORD_CGROUP: record },
    });
    const s = await placedAndRunning(client, spawned.id);
    const unit = `claude-pool-${s.id}.scope`;
    const props = show(unit, "ActiveState", "ControlGroup", "Slice", "Description");
    assert.equal(props.ActiveState, "active");
    assert.equal(props.Slice, SLICE);
    assert.equal(props.Description, "claude-pool session placed");
    const scopeCgroup = props.ControlGroup;
    assert.ok(scopeCgroup.endsWith(`/${SLICE}/${unit}`), scopeCgroup);
    const own = cgroupLines(process.pid);

    // What the claudePath wrapper saw before it exec'd the fake: itself and a child in the scope.
    assert.equal(Number(readFileSync(`${record}.pid`, "utf8")), s.pid, "exec kept the pid");
    const sightings: [string, string[]][] = [
      ["first instruction", readFileSync(`${record}.self`, "utf8").trim().split("\n")],
      ["child forked at once", readFileSync(`${record}.child`, "utf8").trim().split("\n")],
      ["claude now", cgroupLines(s.pid!)],
    ];
    // A child claude forks while running (like a tool): /spawn-child prints its pid.
    await client.call("session.send", { id: s.id, text: "/spawn-child" });
    const child = Number((await outputMatch(client, s.id, /^child (\d+)/))[1]);
    assert.ok(child > 0, "the fake spawned a child");
    sightings.push(["child of claude", cgroupLines(child)]);

    for (const [who, lines] of sightings) {
      assert.equal(cgroupOf(lines, ""), scopeCgroup, `${who}: ${lines.join(" | ")}`);
      assert.notEqual(cgroupOf(lines, ""), cgroupOf(own, ""));
      if (!notEnforced && cgroupOf(own, "memory") !== undefined) {
        for (const h of ["name=systemd", "memory", "pids"]) {
          assert.ok(cgroupOf(lines, h)?.endsWith(`/${unit}`), `${who} ${h}: ${lines.join(" | ")}`);
        }
      }
    }
  });

  const limits = { memoryMax: "64M", tasksMax: 50, cpuQuota: "50%" };
  let limited: SessionInfo;

  it("maps the session's limits onto its scope's properties", async () => {
    const spawned = await client.call<SessionInfo>("session.spawn", { name: "limited", limits });
    limited = await placedAndRunning(client, spawned.id);
    assert.deepEqual(
      show(
        limited.unit!,
        "MemoryMax",
        "MemoryHigh",
        "TasksMax",
        "CPUQuotaPerSecUSec",
        "CollectMode",
        "TimeoutStopUSec",
      ),
      {
        MemoryMax: String(64 << 20),
        MemoryHigh: String(Math.floor((64 << 20) * 0.9)),
        TasksMax: "50",
        CPUQuotaPerSecUSec: "500ms",
        CollectMode: "inactive-or-failed",
        TimeoutStopUSec: "1s",
      },
    );
  });

  it("the limits are in the scope's cgroup files", { skip: notEnforced }, () => {
    const cg = show(limited.unit!, "ControlGroup").ControlGroup;
    assert.equal(cgroupFile(cg, ["memory", "memory.limit_in_bytes"], "memory.max"), "67108864");
    assert.equal(cgroupFile(cg, ["pids", "pids.max"], "pids.max"), "50");
    const quota = cgroupFile(cg, ["cpu", "cpu.cfs_quota_us"], "cpu.max").split(" ")[0];
    const period = cgroupFile(cg, ["cpu", "cpu.cfs_period_us"], "cpu.max").split(" ").pop();
    assert.equal(`${quota} ${period}`, "50000 100000");
  });

  it("session.get reports the scope's CPU time", async () => {
    const s = await sessionWhere(
      client,
      limited.id,
      "with cpuSeconds",
      (x) => x.cpuSeconds !== null,
    );
    assert.ok(s.cpuSeconds! >= 0 && s.cpuSeconds! < 60, JSON.stringify(s));
  });

  it("session.get reports the scope's memory and tasks", { skip: notEnforced }, async () => {
    const s = await sessionWhere(
      client,
      limited.id,
      "with the memory and threads of a running node",
      // node runs several threads, each a task
      (x) => x.memoryBytes !== null && x.memoryBytes > 4 << 20 && x.tasks !== null && x.tasks > 1,
      12_000,
    );
    assert.ok(s.memoryBytes! <= 64 << 20, JSON.stringify(s));
    assert.ok(s.tasks! <= 50, JSON.stringify(s));
  });

  it(
    "a memory hog killed by MemoryMax is crashed with reason oom, then restarted",
    { skip: notEnforced },
    async () => {
      const spawned = await client.call<SessionInfo>("session.spawn", {
        name: "hog",
        limits: { memoryMax: "64M" },
      });
      const hog = await placedAndRunning(client, spawned.id);
      const seen: SessionInfo[] = [];
      await client.call("pool.subscribe", { signals: ["session.changed"] });
      client.on("notification", (method, params) => {
        const session = params.session as SessionInfo | undefined;
        if (method === "session.changed" && session?.id === hog.id) seen.push(session);
      });
      await client.call("session.send", { id: hog.id, text: "/hog" });
      const restarted = await sessionWhere(
        client,
        hog.id,
        "restarted once",
        (s) => s.restarts === 1 && s.status === "running" && s.pid !== hog.pid,
        20_000,
      );
      const crashed = seen.filter((s) => s.status === "crashed");
      assert.ok(
        crashed.some((s) => s.reason === "oom" && s.signal === "SIGKILL"),
        `crashed states: ${JSON.stringify(crashed.map((s) => [s.reason, s.signal]))}; the pool ` +
          `said: ${pool.stderr
            .split("\n")
            .filter((line) => line.includes(hog.id))
            .join("\n")}`,
      );
      assert.ok(gone(hog.pid!), "the hog is gone");
      assert.equal(
        cgroupOf(cgroupLines(restarted.pid!), ""),
        show(restarted.unit!, "ControlGroup").ControlGroup,
      );
      await pool.waitForLog(new RegExp(`session ${hog.id} \\(hog\\): killed by its memory limit`));
    },
  );

  it("claude-pool doctor finds the user manager, and the API port served by this pool", () => {
    const port = /\| port (\d+) \|/.exec(pool.stderr)![1];
    const config = join(dir, "doctor.json");
    const pooled = JSON.parse(readFileSync(join(dir, "pool.json"), "utf8")) as object;
    writeFileSync(config, JSON.stringify({ ...pooled, apiPort: Number(port) }));
    const run = spawnSync(
      process.execPath,
      [claudePoolBin, "doctor", "--config", config, "--json"],
      {
        env: { ...process.env, XDG_STATE_HOME: join(dir, "state") },
        encoding: "utf8",
      },
    );
    const { checks } = JSON.parse(run.stdout) as { checks: Check[] };
    const of = (name: string) => checks.find((c) => c.check === name)!;
    assert.equal(of("systemd").status, "ok", run.stdout);
    assert.match(
      of("systemd").message,
      /^user manager \(systemd \S+\): each session in its own scope$/,
    );
    assert.match(of("port").message, /served by a running claude-pool/);
  });

  it("GET /metrics carries each scope's memory, tasks and CPU, and the oom crash", async () => {
    const base = /remote API: ws:\/\/([^/\s]+)\/rpc/.exec(pool.stderr)![1];
    const token = readFileSync(join(dir, "state", "claude-pool", "token"), "utf8").trim();
    const res = await fetch(`http://${base}/metrics`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const families = parsePrometheusText(await res.text());
    const sessions = await client.call<SessionInfo[]>("session.list");
    const hog = sessions.find((s) => s.name === "hog")!;
    const labels = { id: hog.id, name: "hog" };
    assert.equal(
      valueOf(families, "claude_pool_session_crashes_total", { ...labels, reason: "oom" }),
      1,
    );
    assert.equal(valueOf(families, "claude_pool_session_restarts_total", labels), 1);
    for (const s of sessions.filter((x) => x.cpuSeconds !== null)) {
      const cpu = valueOf(families, "claude_pool_session_cpu_seconds_total", { id: s.id });
      assert.ok(cpu >= 0 && cpu < 60, `${s.name}: ${cpu}`);
    }
    if (!notEnforced) {
      for (const s of sessions.filter((x) => x.memoryBytes !== null)) {
        assert.ok(valueOf(families, "claude_pool_session_memory_bytes", { id: s.id }) > 0);
        assert.ok(valueOf(families, "claude_pool_session_tasks", { id: s.id }) >= 1);
      }
    }
  });

  it("SIGTERM stops every session and leaves no claude-pool-*.scope", async () => {
    const sessions = await client.call<SessionInfo[]>("session.list");
    const pids = sessions.map((s) => s.pid).filter((p): p is number => p !== null);
    assert.ok(pids.length >= 2, JSON.stringify(sessions));
    assert.notDeepEqual(scopeUnits(), []);
    pool.child.kill("SIGTERM");
    assert.deepEqual(await pool.exited, { code: 0, signal: null });
    assert.deepEqual(scopeUnits(), []);
    for (const pid of pids) assert.ok(gone(pid), `pid ${pid} is gone`);
  });
});

describe("kill -9 of a pool with systemd required", { skip: noSandbox }, () => {
  it("leaves the session running in its scope; the next pool adopts it, same pid, same scope", async () => {
    const { dir } = setup();
    const first = await startPool(dir);
    const spawned = await first.client.call<SessionInfo>("session.spawn", { name: "kept" });
    const old = await placedAndRunning(first.client, spawned.id);
    const unit = old.unit!;
    const invocation = show(unit, "InvocationID").InvocationID;
    assert.equal(cgroupOf(cgroupLines(old.hostPid!), ""), show(unit, "ControlGroup").ControlGroup);

    first.pool.child.kill("SIGKILL");
    await first.pool.exited;
    assert.ok(!gone(old.pid!), "claude outlived the pool");

    const next = await startPool(dir);
    await next.pool.waitForLog(
      new RegExp(`adopted host ${old.hostPid} \\(claude pid ${old.pid}\\)`),
    );
    const adopted = await next.client.call<SessionInfo>("session.get", { id: old.id });
    assert.equal(adopted.status, "running");
    assert.equal(adopted.pid, old.pid);
    assert.equal(adopted.unit, unit);
    assert.equal(show(unit, "InvocationID").InvocationID, invocation, "the same scope");
    assert.doesNotMatch(next.pool.stderr, /left by the previous pool/);

    next.pool.child.kill("SIGTERM");
    assert.deepEqual(await next.pool.exited, { code: 0, signal: null });
    assert.deepEqual(scopeUnits(), []);
    assert.ok(gone(old.pid!));
  });

  it("stops the scope of a session whose host died with the pool (its claude ignoring SIGHUP) and resumes it in a new one", async () => {
    const { dir } = setup();
    const first = await startPool(dir);
    const spawned = await first.client.call<SessionInfo>("session.spawn", {
      name: "stubborn",
      env: { FAKE_CLAUDE_IGNORE_SIGHUP: "1", FAKE_CLAUDE_IGNORE_SIGTERM: "1" },
    });
    const old = await placedAndRunning(first.client, spawned.id);
    const unit = old.unit!;
    const oldInvocation = show(unit, "InvocationID").InvocationID;

    first.pool.child.kill("SIGKILL");
    await first.pool.exited;
    process.kill(old.hostPid!, "SIGKILL");
    await waitFor("the host gone", () => gone(old.hostPid!));
    assert.deepEqual(scopeUnits(), [unit]);
    assert.ok(!gone(old.pid!), "claude outlived its host (it ignores the hangup)");

    const next = await startPool(dir);
    await next.pool.waitForLog(
      new RegExp(`stopping ${unit.replace(".", "\\.")}, left by the previous pool`),
    );
    const resumed = await placedAndRunning(next.client, old.id, old.pid);
    assert.ok(gone(old.pid!), `the old claude ${old.pid} is gone`);
    assert.equal(resumed.unit, unit);
    const props = show(unit, "ActiveState", "InvocationID", "ControlGroup");
    assert.equal(props.ActiveState, "active");
    assert.notEqual(props.InvocationID, oldInvocation, "a fresh scope");
    assert.equal(cgroupOf(cgroupLines(resumed.pid!), ""), props.ControlGroup);
    assert.equal(next.pool.stderr.match(/left by the previous pool/g)?.length, 1, next.pool.stderr);

    next.pool.child.kill("SIGTERM");
    assert.deepEqual(await next.pool.exited, { code: 0, signal: null });
    assert.deepEqual(scopeUnits(), []);
    assert.ok(gone(resumed.pid!));
  });

  it("leaves alone a claude-pool-*.scope that is none of its sessions", async () => {
    const foreign = "claude-pool-f0f0f0f0.scope";
    const sleeper = spawn(
      "systemd-run",
      ["--user", "--scope", "--quiet", `--unit=${foreign}`, "sleep", "120"],
      { stdio: "ignore" },
    );
    try {
      await waitFor(
        () => `${foreign} active`,
        () => show(foreign, "ActiveState").ActiveState === "active",
      );
      const { dir } = setup();
      // Ready means the registry's leftovers are dealt with: that comes before the socket listens.
      const { pool } = await startPool(dir);
      assert.equal(show(foreign, "ActiveState").ActiveState, "active");
      assert.doesNotMatch(pool.stderr, /left by the previous pool/);
      pool.child.kill("SIGTERM");
      assert.deepEqual(await pool.exited, { code: 0, signal: null });
      assert.equal(show(foreign, "ActiveState").ActiveState, "active");
    } finally {
      sleeper.kill("SIGKILL");
    }
    await waitFor(
      () => `${foreign} gone after its process`,
      () => !scopeUnits().includes(foreign),
    );
  });
});

describe("claude-pool start without a user bus", () => {
  /** A bus address that leads nowhere and a runtime dir without a bus. */
  function noBus(dir: string): Record<string, string> {
    mkdirSync(join(dir, "run"), { mode: 0o700 });
    return {
      DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(dir, "no-bus", "bus")}`,
      XDG_RUNTIME_DIR: join(dir, "run"),
    };
  }

  it('with systemd "required", exits 1 and says why', async () => {
    const { dir } = setup({ systemd: "required" });
    const pool = new PoolProcess(dir, ["--config", join(dir, "pool.json")], noBus(dir));
    pools.push(pool);
    const exit = await pool.exited;
    assert.deepEqual(exit, { code: 1, signal: null }, pool.stderr);
    assert.match(
      pool.stderr,
      /claude-pool: systemd is "required" in the config, but no user manager answers: .*no-bus\/bus/,
    );
    assert.equal(existsSync(pool.socket), false, "no control socket left behind");
  });

  it('with systemd "auto", runs sessions as plain children and says so once', async () => {
    const { dir } = setup({ systemd: "auto" });
    const { pool, client } = await startPool(dir, noBus(dir));
    const status = await client.call<{
      systemd: { mode: string; scopes: boolean; reason: string };
    }>("pool.status");
    assert.equal(status.systemd.mode, "auto");
    assert.equal(status.systemd.scopes, false);
    assert.match(status.systemd.reason, /no-bus\/bus/);
    const spawned = await client.call<SessionInfo>("session.spawn", { name: "plain" });
    const s = await sessionWhere(client, spawned.id, "running", (x) => x.status === "running");
    assert.equal(s.unit, null);
    assert.equal(s.cpuSeconds, null);
    const warnings = pool.stderr.match(
      /no systemd user manager \(.*\); sessions run without scopes or limits/g,
    );
    assert.equal(warnings?.length, 1, pool.stderr);
    assert.doesNotMatch(pool.stderr, /systemd scope/, "no per-session scope warnings");
    pool.child.kill("SIGTERM");
    assert.deepEqual(await pool.exited, { code: 0, signal: null });
    assert.ok(gone(s.pid!));
  });
});
