/** The parts of src/systemd that need no user manager. */
import assert from "node:assert/strict";
import { processState } from "../src/proc.js";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { spawnNodePty } from "./node-pty.js";
import type { PtyExit } from "./pty-process.js";
import { cgroup2CpuSeconds } from "../src/systemd/cgroup-cpu.js";
import { ServiceNotifier } from "../src/systemd/notify.js";
import { continueProcess, stoppedLaunch, waitUntilStopped } from "./scope-launch.js";
import { parseCpuQuota, parseSize, scopeProperties } from "../src/systemd/scope-properties.js";
import { takeListenFd } from "../src/systemd/socket-activation.js";
import {
  SCOPE_PATTERN,
  scopeUnitName,
  sessionIdOfScope,
  unitObjectPath,
} from "../src/systemd/unit-names.js";
import { tempDir, waitFor } from "./helpers.js";

describe("scope properties", () => {
  it("parses sizes in powers of 1024", () => {
    assert.equal(parseSize(4096), 4096n);
    assert.equal(parseSize("512"), 512n);
    assert.equal(parseSize("50M"), 52_428_800n);
    assert.equal(parseSize("2G"), 2_147_483_648n);
    assert.equal(parseSize("1.5G"), 1_610_612_736n);
    assert.equal(parseSize("1T"), 1_099_511_627_776n);
    for (const bad of ["", "2GB", "-1", "0", "0.5", "G"]) {
      assert.throws(() => parseSize(bad), /invalid size/, bad);
    }
    assert.throws(() => parseSize(0), /invalid size/);
  });

  it("turns a CPU percentage into µs per second", () => {
    assert.equal(parseCpuQuota("150%"), 1_500_000n);
    assert.equal(parseCpuQuota("100%"), 1_000_000n);
    assert.equal(parseCpuQuota("2.5%"), 25_000n);
    assert.throws(() => parseCpuQuota("150"), /invalid CPU quota/);
    assert.throws(() => parseCpuQuota("0%"), /above 0%/);
  });

  it("maps options and limits onto typed StartTransientUnit properties", () => {
    const props = scopeProperties({
      pids: [42],
      description: "main",
      slice: "claude-pool-sessions.slice",
      limits: { memoryMax: "1G", tasksMax: 100, cpuQuota: "150%" },
      stopTimeoutSec: 10,
    });
    const byName = Object.fromEntries(
      props.map(([name, v]) => [name, `${v.signature}:${String(v.value)}`]),
    );
    assert.deepEqual(byName, {
      PIDs: "au:42",
      Description: "s:main",
      Slice: "s:claude-pool-sessions.slice",
      CollectMode: "s:inactive-or-failed",
      MemoryAccounting: "b:true",
      CPUAccounting: "b:true",
      TasksAccounting: "b:true",
      TimeoutStopUSec: "t:10000000",
      MemoryMax: "t:1073741824",
      MemoryHigh: "t:966367641",
      TasksMax: "t:100",
      CPUQuotaPerSecUSec: "t:1500000",
    });
    const bare = scopeProperties({ pids: [1], description: "d", slice: "s.slice", limits: {} });
    assert.deepEqual(
      bare.map(([name]) => name),
      [
        "PIDs",
        "Description",
        "Slice",
        "CollectMode",
        "MemoryAccounting",
        "CPUAccounting",
        "TasksAccounting",
      ],
    );
  });
});

describe("unit names", () => {
  it("names a session's scope and reads the id back", () => {
    assert.equal(scopeUnitName("ab12cd34"), "claude-pool-ab12cd34.scope");
    assert.equal(sessionIdOfScope("claude-pool-ab12cd34.scope"), "ab12cd34");
    assert.equal(sessionIdOfScope("claude-pool-sessions.slice"), null);
    assert.equal(sessionIdOfScope("claude-pool-.scope"), null);
    assert.equal(SCOPE_PATTERN, "claude-pool-*.scope");
  });

  it("escapes a unit name into its object path like systemd", () => {
    assert.equal(
      unitObjectPath("claude-pool-ab12cd34.scope"),
      "/org/freedesktop/systemd1/unit/claude_2dpool_2dab12cd34_2escope",
    );
    assert.equal(unitObjectPath("a@b.service"), "/org/freedesktop/systemd1/unit/a_40b_2eservice");
  });
});

describe("socket activation", () => {
  it("takes fd 3 when LISTEN_PID is this process and clears the variables", () => {
    const env: NodeJS.ProcessEnv = { LISTEN_FDS: "1", LISTEN_PID: "77", LISTEN_FDNAMES: "x" };
    assert.equal(takeListenFd(env, 77), 3);
    assert.deepEqual(env, {});
  });

  it("ignores variables meant for another process, and clears them too", () => {
    const env: NodeJS.ProcessEnv = { LISTEN_FDS: "1", LISTEN_PID: "78", PATH: "/bin" };
    assert.equal(takeListenFd(env, 77), null);
    assert.deepEqual(env, { PATH: "/bin" });
    assert.equal(takeListenFd({ LISTEN_FDS: "0", LISTEN_PID: "77" }, 77), null);
    assert.equal(takeListenFd({}, 77), null);
  });
});

describe("ServiceNotifier", () => {
  function fakeNotify(): { command: string; calls: () => string[] } {
    const dir = tempDir();
    const log = join(dir, "calls");
    const command = join(dir, "systemd-notify");
    writeFileSync(command, `#!/bin/sh\necho "$NOTIFY_SOCKET $*" >> ${log}\n`);
    chmodSync(command, 0o755);
    return {
      command,
      calls: () => {
        try {
          return readFileSync(log, "utf8").trim().split("\n");
        } catch {
          return [];
        }
      },
    };
  }

  it("is a no-op outside systemd", async () => {
    const fake = fakeNotify();
    const notifier = ServiceNotifier.fromEnvironment({}, 1234, fake.command);
    assert.equal(notifier.enabled, false);
    assert.equal(notifier.watchdogIntervalMs, null);
    assert.equal(await notifier.ready("x"), false);
    assert.deepEqual(fake.calls(), []);
  });

  it("sends fields in call order through systemd-notify and clears the variables", async () => {
    const fake = fakeNotify();
    const env: NodeJS.ProcessEnv = {
      NOTIFY_SOCKET: "/run/n",
      WATCHDOG_USEC: "30000000",
      WATCHDOG_PID: "1234",
      HOME: "/h",
    };
    const notifier = ServiceNotifier.fromEnvironment(env, 1234, fake.command);
    assert.deepEqual(env, { HOME: "/h" });
    assert.equal(notifier.watchdogIntervalMs, 15_000);
    void notifier.ready("1/5 sessions");
    void notifier.status("2/5\nsessions");
    void notifier.reloading();
    void notifier.watchdog();
    assert.equal(await notifier.stopping(), true);
    assert.deepEqual(fake.calls(), [
      "/run/n --pid=1234 READY=1 STATUS=1/5 sessions",
      "/run/n --pid=1234 STATUS=2/5 sessions",
      "/run/n --pid=1234 RELOADING=1",
      "/run/n --pid=1234 WATCHDOG=1",
      "/run/n --pid=1234 STOPPING=1",
    ]);
  });

  it("has no watchdog when WATCHDOG_PID names another process", () => {
    const env = { NOTIFY_SOCKET: "/run/n", WATCHDOG_USEC: "30000000", WATCHDOG_PID: "9" };
    assert.equal(ServiceNotifier.fromEnvironment(env, 1234).watchdogIntervalMs, null);
  });

  it("resolves false instead of throwing when systemd-notify cannot run", async () => {
    const env = { NOTIFY_SOCKET: "/run/n" };
    const notifier = ServiceNotifier.fromEnvironment(env, 1234, "/nonexistent/systemd-notify");
    assert.equal(await notifier.ready(), false);
  });
});

describe("stopped launch", () => {
  it("a node-pty session leader stops itself, then SIGCONT execs the program with its pid", async () => {
    const { file, args } = stoppedLaunch("/bin/sh", ["-c", "echo RUNNING $$; exec sleep 30"]);
    const pty = spawnNodePty({
      file,
      args,
      cwd: "/",
      env: { PATH: "/usr/bin:/bin" },
      cols: 80,
      rows: 24,
    });
    let out = "";
    pty.onData((d) => (out += d));
    const exited = new Promise<PtyExit>((resolve) => pty.onExit(resolve));
    try {
      await waitUntilStopped(pty.pid, 2000);
      assert.equal(processState(pty.pid), "T");
      assert.equal(readFileSync(`/proc/${pty.pid}/comm`, "utf8").trim(), "bash", "the wrapper");
      assert.equal(out, "");
      assert.equal(continueProcess(pty.pid), true);
      await waitFor("sleep to run", () =>
        readFileSync(`/proc/${pty.pid}/comm`, "utf8").trim() === "sleep" ? true : undefined,
      );
      // The echo ran before the exec, but its output reaches this process a moment later.
      await waitFor("its output", () => new RegExp(`RUNNING ${pty.pid}`).test(out));
      assert.notEqual(processState(pty.pid), "T");
    } finally {
      pty.kill("SIGKILL");
    }
    assert.equal((await exited).signal, 9);
  });

  it("waitUntilStopped fails fast for a process that exits or never stops", async () => {
    const pty = spawnNodePty({
      file: "/bin/sh",
      args: ["-c", "exit 3"],
      cwd: "/",
      env: {},
      cols: 80,
      rows: 24,
    });
    await assert.rejects(waitUntilStopped(pty.pid, 2000), /exited before it stopped/);
    const sleeper = spawnNodePty({
      file: "/bin/sleep",
      args: ["5"],
      cwd: "/",
      env: {},
      cols: 80,
      rows: 24,
    });
    await assert.rejects(waitUntilStopped(sleeper.pid, 50), /did not stop .* within 50 ms/);
    sleeper.kill("SIGKILL");
    assert.equal(continueProcess(2 ** 22 + 1), false);
  });
});

describe("cgroup2 CPU fallback", () => {
  it("is null for a cgroup that does not exist", () => {
    assert.equal(cgroup2CpuSeconds("/no/such.scope"), null);
  });
});
