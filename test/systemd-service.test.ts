/**
 * The shipped unit files against a real user manager: socket activation, Type=notify with
 * READY/STATUS/RELOADING/STOPPING and watchdog pings, the hardening options, the sessions slice.
 * Only inside test/systemd-sandbox: it installs units into the user manager's config.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { repoRoot, waitFor } from "./helpers.js";

const inSandbox = process.env.SANDBOX_MANAGER_PID !== undefined;
const skip = inSandbox ? false : "not inside test/systemd-sandbox (run test/run-systemd-tests)";
const unitDir = join(process.env.XDG_CONFIG_HOME ?? "/nonexistent", "systemd", "user");
const socketPath = join(
  process.env.XDG_RUNTIME_DIR ?? "/nonexistent",
  "claude-pool",
  "control.sock",
);
const fixture = join(repoRoot, "dist", "test", "systemd-service-fixture.js");

function systemctl(...args: string[]): string {
  return execFileSync("systemctl", ["--user", ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}

function show(unit: string, ...props: string[]): Record<string, string> {
  const out = systemctl("show", unit, ...props.map((p) => `--property=${p}`));
  return Object.fromEntries(
    out
      .trim()
      .split("\n")
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
}

interface FixtureReply {
  pid: number;
  listenFd: number | null;
  leftInEnv: string[];
  notify: boolean;
  watchdogIntervalMs: number | null;
  reloads: number;
}

function ask(): Promise<FixtureReply> {
  return new Promise((resolve, reject) => {
    let text = "";
    const socket = connect(socketPath);
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => (text += d));
    socket.on("end", () => resolve(JSON.parse(text) as FixtureReply));
    socket.on("error", reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error("no answer from the service")));
  });
}

async function waitForState(unit: string, want: Record<string, string>): Promise<void> {
  let last: Record<string, string> = {};
  await waitFor(`${unit} ${JSON.stringify(want)} (last seen ${JSON.stringify(last)})`, () => {
    last = show(unit, ...Object.keys(want));
    return Object.entries(want).every(([k, v]) => last[k] === v);
  });
}

describe("claude-pool units under a user manager", { skip }, () => {
  before(() => {
    mkdirSync(join(unitDir, "claude-pool.service.d"), { recursive: true });
    for (const file of readdirSync(join(repoRoot, "units"))) {
      copyFileSync(join(repoRoot, "units", file), join(unitDir, file));
    }
    // The shipped service, with the fixture for ExecStart and a short watchdog to see the pings.
    writeFileSync(
      join(unitDir, "claude-pool.service.d", "50-test.conf"),
      `[Service]\nExecStart=\nExecStart=${process.execPath} ${fixture}\nWatchdogSec=2\n`,
    );
    systemctl("daemon-reload");
  });

  after(() => {
    try {
      systemctl("stop", "claude-pool.socket", "claude-pool.service");
    } finally {
      rmSync(join(unitDir, "claude-pool.service.d"), { recursive: true, force: true });
      for (const file of readdirSync(join(repoRoot, "units"))) rmSync(join(unitDir, file));
      systemctl("daemon-reload");
    }
  });

  it("loads the service with the intended settings", () => {
    const props = show(
      "claude-pool.service",
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
    );
    assert.deepEqual(props, {
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
    });
  });

  it("the sessions slice loads with its description", () => {
    assert.deepEqual(show("claude-pool-sessions.slice", "LoadState", "Description"), {
      LoadState: "loaded",
      Description: "claude-pool sessions",
    });
  });

  it("enabling the socket listens on %t/claude-pool/control.sock, 0600 in a 0700 directory", () => {
    systemctl("enable", "--now", "claude-pool.socket");
    assert.equal(show("claude-pool.service", "ActiveState").ActiveState, "inactive");
    assert.ok(statSync(socketPath).isSocket());
    assert.equal(statSync(socketPath).mode & 0o777, 0o600);
    assert.equal(statSync(join(socketPath, "..")).mode & 0o777, 0o700);
  });

  it("the first client starts the service, which gets fd 3 and clears the variables", async () => {
    const reply = await ask();
    assert.equal(reply.listenFd, 3);
    assert.deepEqual(reply.leftInEnv, []);
    assert.equal(reply.notify, true);
    assert.equal(reply.watchdogIntervalMs, 1000);
    await waitForState("claude-pool.service", {
      ActiveState: "active",
      SubState: "running",
      StatusText: "0/5 sessions",
      MainPID: String(reply.pid),
    });
  });

  it("watchdog pings keep it running past WatchdogSec", async () => {
    const { pid } = await ask();
    const until = Date.now() + 4500;
    await waitFor("4.5 s (over two WatchdogSec periods)", () => Date.now() >= until, 6000);
    assert.deepEqual(show("claude-pool.service", "ActiveState", "MainPID", "NRestarts"), {
      ActiveState: "active",
      MainPID: String(pid),
      NRestarts: "0",
    });
  });

  it("reload goes through RELOADING=1 back to READY=1 in the same process", async () => {
    const { pid } = await ask();
    systemctl("reload", "claude-pool.service");
    await waitForState("claude-pool.service", {
      ActiveState: "active",
      StatusText: "reloaded 1",
      MainPID: String(pid),
    });
    assert.equal((await ask()).reloads, 1);
  });

  it("stop sends STOPPING and ends cleanly; the next client starts it again", async () => {
    systemctl("stop", "claude-pool.service");
    assert.deepEqual(show("claude-pool.service", "ActiveState", "Result", "ExecMainStatus"), {
      ActiveState: "inactive",
      Result: "success",
      ExecMainStatus: "0",
    });
    const reply = await ask();
    assert.equal(reply.listenFd, 3);
    await waitForState("claude-pool.service", { ActiveState: "active" });
  });

  it("stopping the socket removes the socket file", () => {
    systemctl("stop", "claude-pool.socket", "claude-pool.service");
    assert.equal(existsSync(socketPath), false);
  });
});
