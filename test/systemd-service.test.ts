/**
 * The real service: the shipped units (claude-pool.service, .socket, -sessions.slice) with
 * `claude-pool start` over fake claudes, under the sandbox's user manager. Socket activation,
 * READY and STATUS, reload, the watchdog, stop, a second activation, journald priorities.
 * Only inside test/systemd-sandbox (test/run-systemd-tests): it installs units into the user
 * manager's config. The journald test needs SANDBOX_JOURNALD=1, which test/run-systemd-tests sets.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connectUnix } from "../src/rpc/client.js";
import type { SessionInfo } from "../src/session/session.js";
import { claudePoolBin, fakeClaude, tempDir, waitFor } from "./helpers.js";
import {
  call,
  controlSocket,
  gone,
  inSandbox,
  installUnits,
  scopeUnits,
  SERVICE,
  show,
  SOCKET,
  systemctl,
} from "./systemd-support.js";

const skip = inSandbox ? false : "not inside test/systemd-sandbox (run test/run-systemd-tests)";
const noJournal =
  process.env.SANDBOX_JOURNALD === "1"
    ? false
    : "no private journald: SANDBOX_JOURNALD is not 1 (test/run-systemd-tests sets it)";
const WATCHDOG_SEC = 2;
/** What the sessions' claude must not inherit from the service. */
const SERVICE_VARIABLES = [
  "LISTEN_FDS",
  "LISTEN_PID",
  "LISTEN_FDNAMES",
  "NOTIFY_SOCKET",
  "WATCHDOG_USEC",
  "WATCHDOG_PID",
  "INVOCATION_ID",
  "JOURNAL_STREAM",
];

async function waitForProps(unit: string, want: Record<string, string>): Promise<void> {
  let last: Record<string, string> = {};
  await waitFor(
    () => `${unit} ${JSON.stringify(want)}, last seen ${JSON.stringify(last)}`,
    () => {
      last = show(unit, ...Object.keys(want));
      return Object.entries(want).every(([k, v]) => last[k] === v);
    },
  );
}

/** Polls session.list until every session named in `names` runs in its scope. */
async function runningInScopes(names: string[]): Promise<SessionInfo[]> {
  let last: SessionInfo[] = [];
  return waitFor(
    () => `${names.join(", ")} running in their scopes; last seen ${JSON.stringify(last)}`,
    async () => {
      last = await call<SessionInfo[]>("session.list");
      const found = names.map((n) => last.find((s) => s.name === n));
      const ok = found.every(
        (s) =>
          s !== undefined &&
          s.status === "running" &&
          s.pid !== null &&
          s.unit === `claude-pool-${s.id}.scope`,
      );
      return ok ? (found as SessionInfo[]) : false;
    },
  );
}

/** The service's journal entries written by the pool itself (its stderr), as journald stores them. */
function poolJournal(...args: string[]): { MESSAGE: string; PRIORITY: string }[] {
  const out = execFileSync(
    "journalctl",
    ["--user-unit", SERVICE, "--output", "json", "--no-pager", ...args],
    { encoding: "utf8" },
  );
  return out
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((e) => e.SYSLOG_IDENTIFIER === "claude-pool" && e._TRANSPORT === "stdout")
    .map((e) => ({ MESSAGE: String(e.MESSAGE), PRIORITY: String(e.PRIORITY) }));
}

describe("claude-pool.service under a user manager", { skip }, () => {
  const dir = inSandbox ? tempDir("claude-pool-service-") : "/nonexistent";
  const configFile = join(dir, "pool.json");
  let uninstall = () => {};
  const writeConfig = (overrides: Record<string, unknown> = {}) =>
    writeFileSync(
      configFile,
      JSON.stringify({
        claudePath: fakeClaude,
        apiPort: 0,
        systemd: "required",
        maxSessions: 4,
        stopTimeoutSeconds: 2,
        restart: { backoffSeconds: 0.1, maxBackoffSeconds: 1 },
        defaults: { workingDirectory: join(dir, "work") },
        primarySession: { name: "primary", keepWarm: true },
        ...overrides,
      }),
    );
  /** MainPID of the first activation, and the pids of its sessions. */
  let mainPid = 0;
  let sessionPids: Record<string, number> = {};
  let activatedAt = 0;

  before(() => {
    for (const sub of ["work", "state", "claude"]) mkdirSync(join(dir, sub));
    writeConfig();
    uninstall = installUnits([
      "ExecStart=",
      `ExecStart=${process.execPath} ${claudePoolBin} start --config ${configFile}`,
      `Environment=XDG_STATE_HOME=${dir}/state CLAUDE_CONFIG_DIR=${dir}/claude`,
      `Environment=PATH=${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
      `WatchdogSec=${WATCHDOG_SEC}`,
    ]);
  });

  after(() => {
    try {
      systemctl("disable", "--now", SOCKET, SERVICE);
    } finally {
      uninstall();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("loads the shipped units with the test's ExecStart", () => {
    assert.deepEqual(
      show(
        SERVICE,
        "LoadState",
        "Type",
        "NotifyAccess",
        "KillMode",
        "Restart",
        "RestartPreventExitStatus",
        "NoNewPrivileges",
        "LockPersonality",
        "RestrictRealtime",
        "RestrictSUIDSGID",
        "PrivateTmp",
      ),
      {
        LoadState: "loaded",
        Type: "notify",
        NotifyAccess: "all",
        KillMode: "mixed",
        Restart: "on-failure",
        RestartPreventExitStatus: "78",
        NoNewPrivileges: "yes",
        LockPersonality: "yes",
        RestrictRealtime: "yes",
        RestrictSUIDSGID: "yes",
        PrivateTmp: "no",
      },
    );
    assert.match(
      show(SERVICE, "ExecStart").ExecStart,
      new RegExp(`argv\\[\\]=${process.execPath} ${claudePoolBin} start --config ${configFile} `),
    );
    assert.deepEqual(show("claude-pool-sessions.slice", "LoadState", "Description"), {
      LoadState: "loaded",
      Description: "claude-pool sessions",
    });
  });

  it("enabling the socket listens on %t/claude-pool/control.sock (0600 in a 0700 dir); the service waits", () => {
    systemctl("enable", "--now", SOCKET);
    assert.equal(show(SOCKET, "ActiveState").ActiveState, "active");
    assert.equal(show(SERVICE, "ActiveState").ActiveState, "inactive");
    assert.ok(statSync(controlSocket).isSocket());
    assert.equal(statSync(controlSocket).mode & 0o777, 0o600);
    assert.equal(statSync(dirname(controlSocket)).mode & 0o777, 0o700);
  });

  it("the first client starts the service; pool.status answers on the activated socket", async () => {
    const client = await connectUnix(controlSocket);
    const status = await client
      .call<{ pid: number; systemd: { scopes: boolean } }>("pool.status")
      .finally(() => client.close());
    activatedAt = Date.now();
    mainPid = status.pid;
    assert.equal(status.systemd.scopes, true);
    // READY=1 goes to systemd beside the first answers, by a datagram it reads when it gets to it.
    await waitForProps(SERVICE, { ActiveState: "active" });
    const props = show(SERVICE, "ActiveState", "SubState", "MainPID", "NRestarts", "WatchdogUSec");
    assert.deepEqual(props, {
      ActiveState: "active",
      SubState: "running",
      MainPID: String(mainPid),
      NRestarts: "0",
      WatchdogUSec: `${WATCHDOG_SEC}s`,
    });
  });

  it('after READY, StatusText says "N/M sessions" and follows a session start', async () => {
    await waitForProps(SERVICE, { ActiveState: "active", StatusText: "1/4 sessions" });
    await call("session.spawn", { name: "second" });
    await waitForProps(SERVICE, { ActiveState: "active", StatusText: "2/4 sessions" });
    const sessions = await runningInScopes(["primary", "second"]);
    sessionPids = Object.fromEntries(sessions.map((s) => [s.name, s.pid!]));
  });

  it("sessions run in their scopes, not in the service, without the service's variables", () => {
    const serviceCgroup = show(SERVICE, "ControlGroup").ControlGroup;
    for (const [name, pid] of Object.entries(sessionPids)) {
      const cgroup = readFileSync(`/proc/${pid}/cgroup`, "utf8");
      assert.match(cgroup, /\/claude-pool-sessions\.slice\/claude-pool-[0-9a-f]{8}\.scope$/m, name);
      assert.ok(!cgroup.includes(`${serviceCgroup}\n`), `${name} is not in ${serviceCgroup}`);
      const env = readFileSync(`/proc/${pid}/environ`, "utf8")
        .split("\0")
        .map((e) => e.slice(0, e.indexOf("=")));
      assert.deepEqual(
        SERVICE_VARIABLES.filter((v) => env.includes(v)),
        [],
        `${name} inherited service variables`,
      );
      assert.ok(env.includes("CLAUDE_POOL_SESSION_ID"));
    }
  });

  it("reload rereads the config in the same process; sessions keep running", async () => {
    writeConfig({ maxSessions: 6 });
    systemctl("reload", SERVICE);
    await waitForProps(SERVICE, {
      ActiveState: "active",
      StatusText: "2/6 sessions",
      MainPID: String(mainPid),
    });
    const config = await call<{ maxSessions: number }>("pool.config");
    assert.equal(config.maxSessions, 6);
    const sessions = await runningInScopes(["primary", "second"]);
    assert.deepEqual(
      Object.fromEntries(sessions.map((s) => [s.name, s.pid])),
      sessionPids,
      "same claude processes",
    );
    assert.equal(show(SERVICE, "NRestarts").NRestarts, "0");
  });

  it(
    "logs to journald with priorities: an error at -p 3, no <N> prefixes, no timestamps",
    { skip: noJournal },
    async () => {
      const failed = await call<SessionInfo>("session.spawn", {
        name: "nowhere",
        workingDirectory: join(dir, "missing"),
      });
      assert.equal(failed.status, "failed");
      const failure = `session ${failed.id} (nowhere): failed, working directory ${join(dir, "missing")} does not exist`;
      let errors: { MESSAGE: string; PRIORITY: string }[] = [];
      await waitFor(
        () => `"${failure}" in journalctl -p 3: ${JSON.stringify(errors)}`,
        () => {
          errors = poolJournal("--priority", "3");
          return errors.some((e) => e.MESSAGE.startsWith(failure));
        },
      );
      assert.ok(
        errors.every((e) => Number(e.PRIORITY) <= 3),
        JSON.stringify(errors),
      );

      const entries = poolJournal();
      const find = (re: RegExp) => entries.find((e) => re.test(e.MESSAGE));
      assert.equal(find(/^claude-pool v\S+ \| port /)?.PRIORITY, "6");
      assert.equal(find(/^control socket: fd 3 from systemd;/)?.PRIORITY, "6", "socket-activated");
      assert.equal(find(/^reloaded .*running sessions are unchanged/)?.PRIORITY, "6");
      assert.equal(find(/^session [0-9a-f]{8} \(nowhere\): failed/)?.PRIORITY, "3");
      const decorated = entries.filter(
        (e) =>
          /^<\d>/.test(e.MESSAGE) ||
          /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d/.test(e.MESSAGE) ||
          /^(DEBUG|INFO|WARN|ERROR)\b/.test(e.MESSAGE),
      );
      assert.deepEqual(decorated, [], "journald strips the priority; the pool adds no timestamp");
    },
  );

  it(`the watchdog pings keep it alive past WatchdogSec=${WATCHDOG_SEC}`, async () => {
    // WatchdogTimestamp is the last WATCHDOG=1; without pings systemd kills the pool after 2 s.
    const start = Number(
      show(SERVICE, "ExecMainStartTimestampMonotonic").ExecMainStartTimestampMonotonic,
    );
    let last = 0;
    await waitFor(
      () =>
        `a watchdog ping ${2 * WATCHDOG_SEC} s after the start; last at +${(last - start) / 1e6} s`,
      () => {
        last = Number(show(SERVICE, "WatchdogTimestampMonotonic").WatchdogTimestampMonotonic);
        return last - start > 2 * WATCHDOG_SEC * 1e6;
      },
      3 * WATCHDOG_SEC * 1000 + 2000,
    );
    assert.ok(Date.now() - activatedAt > WATCHDOG_SEC * 1000);
    assert.deepEqual(show(SERVICE, "ActiveState", "MainPID", "NRestarts"), {
      ActiveState: "active",
      MainPID: String(mainPid),
      NRestarts: "0",
    });
  });

  it("restart leaves the sessions running: the new supervisor adopts them, and attach redraws their screens", async () => {
    await call("session.send", { id: "primary", text: "/env CLAUDE_POOL_SESSION_ID\r" });
    const before = await call<SessionInfo>("session.get", { id: "primary" });
    await waitFor("the answer on primary's screen", async () => {
      const { lines } = await call<{ lines: string[] }>("session.logs", { id: "primary" });
      return lines.some((l) => l.includes(`CLAUDE_POOL_SESSION_ID=${before.id}`));
    });
    systemctl("restart", SERVICE);
    const status = await call<{ pid: number }>("pool.status");
    assert.notEqual(status.pid, mainPid, "a new supervisor");
    mainPid = status.pid;
    const sessions = await runningInScopes(["primary", "second"]);
    assert.deepEqual(
      Object.fromEntries(sessions.map((s) => [s.name, s.pid])),
      sessionPids,
      "the same claude processes",
    );
    for (const s of sessions) assert.equal(s.restarts, 0, s.name);
    const client = await connectUnix(controlSocket);
    try {
      const screen = await client.call<{ data: string }>("session.attach", { id: "primary" });
      assert.ok(
        screen.data.includes(`CLAUDE_POOL_SESSION_ID=${before.id}`),
        "the screen came through",
      );
    } finally {
      client.close();
    }
  });

  it("kill -9 of the supervisor leaves the sessions running; the restarted one adopts them", async () => {
    systemctl("kill", "--signal=SIGKILL", "--kill-whom=main", SERVICE);
    let status = { pid: mainPid };
    await waitFor(
      "a new supervisor",
      async () => {
        status = await call<{ pid: number }>("pool.status").catch(() => status);
        return status.pid !== mainPid;
      },
      20_000,
    );
    mainPid = status.pid;
    const sessions = await runningInScopes(["primary", "second"]);
    assert.deepEqual(
      Object.fromEntries(sessions.map((s) => [s.name, s.pid])),
      sessionPids,
      "the same claude processes",
    );
  });

  it("kill -9 of a session's host crashes the session, which restarts in a new scope", async () => {
    const before = await call<SessionInfo>("session.get", { id: "second" });
    process.kill(before.hostPid!, "SIGKILL");
    let last: SessionInfo = before;
    const after = await waitFor(
      () => `second restarted; last ${JSON.stringify(last)}`,
      async () => {
        last = await call<SessionInfo>("session.get", { id: "second" });
        return last.status === "running" && last.pid !== before.pid && last.restarts === 1 && last;
      },
    );
    assert.ok(gone(before.pid!), "the old claude is gone");
    assert.match(after.unit ?? "", /^claude-pool-[0-9a-f]{8}\.scope$/);
    sessionPids.second = after.pid!;
  });

  it("stop ends the sessions and exits cleanly, leaving no claude-pool-*.scope", () => {
    assert.equal(scopeUnits().length, 2);
    systemctl("stop", SERVICE);
    assert.deepEqual(show(SERVICE, "ActiveState", "Result", "ExecMainCode", "ExecMainStatus"), {
      ActiveState: "inactive",
      Result: "success",
      ExecMainCode: "1", // CLD_EXITED
      ExecMainStatus: "0",
    });
    assert.deepEqual(scopeUnits(), []);
    for (const [name, pid] of Object.entries(sessionPids)) assert.ok(gone(pid), `${name} ${pid}`);
    assert.equal(show(SOCKET, "ActiveState").ActiveState, "active", "the socket keeps listening");
  });

  it("the next client starts it again, and the sessions resume in new scopes", async () => {
    const status = await call<{ pid: number }>("pool.status");
    assert.notEqual(status.pid, mainPid);
    await waitForProps(SERVICE, {
      ActiveState: "active",
      MainPID: String(status.pid),
      StatusText: "2/6 sessions",
    });
    const sessions = await runningInScopes(["primary", "second"]);
    for (const s of sessions) assert.notEqual(s.pid, sessionPids[s.name]);
  });

  it("stopping socket and service removes the socket file and every scope", () => {
    systemctl("stop", SOCKET, SERVICE);
    assert.equal(existsSync(controlSocket), false);
    assert.deepEqual(scopeUnits(), []);
    assert.equal(show(SERVICE, "ActiveState").ActiveState, "inactive");
  });
});
