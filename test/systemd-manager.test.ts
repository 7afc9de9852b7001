/**
 * SystemdManager and race-free scope placement against a real user manager: run them with
 * test/run-systemd-tests (test/systemd-sandbox). Without a reachable manager they are skipped.
 */
import assert from "node:assert/strict";
import { processState } from "../src/proc.js";
import { spawn as spawnChild } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import type { PtyExit, PtyProcess } from "./pty-process.js";
import { spawnNodePty } from "./node-pty.js";
import { SystemdManager } from "../src/systemd/manager.js";
import type { Limits } from "../src/config/types.js";
import { continueProcess, stoppedLaunch, waitUntilStopped } from "./scope-launch.js";
import { SCOPE_PATTERN, SESSIONS_SLICE, scopeUnitName } from "../src/systemd/unit-names.js";
import { waitFor } from "./helpers.js";
import { cgroupFile, notEnforced, show } from "./systemd-support.js";

const connected = await SystemdManager.connect();
const manager = connected.manager;
const noManager = connected.manager ? false : `no systemd user manager: ${connected.reason}`;
const enforced = !notEnforced;
/** systemd reports OOM kills only where the kernel keeps memory.events: cgroup v2 with memory. */
const cgroupV2Memory = existsSync("/sys/fs/cgroup/cgroup.controllers")
  ? readFileSync("/sys/fs/cgroup/cgroup.controllers", "utf8").split(/\s+/).includes("memory")
  : false;

function newUnit(): string {
  return scopeUnitName(`t${randomBytes(4).toString("hex")}`);
}

interface Launched {
  pty: PtyProcess;
  unit: string;
  placedMs: number;
  output: () => string;
  exited: Promise<PtyExit>;
}

async function launch(command: string, limits: Limits = {}, unit = newUnit()): Promise<Launched> {
  const mgr = manager as SystemdManager;
  const start = performance.now();
  const pty = spawnNodePty({
    cwd: "/",
    env: cleanEnv(),
    cols: 200,
    rows: 50,
    ...stoppedLaunch("/bin/sh", ["-c", command]),
  });
  const placed = (async () => {
    await waitUntilStopped(pty.pid, 5000);
    await mgr.startScope(unit, {
      pids: [pty.pid],
      description: `test ${unit}`,
      slice: SESSIONS_SLICE,
      limits,
      stopTimeoutSec: 2,
    });
    if (!continueProcess(pty.pid)) throw new Error(`process ${pty.pid} exited during placement`);
  })();
  let text = "";
  pty.onData((d) => (text += d));
  const exited = new Promise<PtyExit>((resolve) => pty.onExit(resolve));
  try {
    await placed;
  } catch (err) {
    pty.kill("SIGKILL");
    throw err;
  }
  return { pty, unit, placedMs: performance.now() - start, output: () => text, exited };
}

function cleanEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined),
  );
}

/** The lines after `marker` up to the next marker line (ALLCAPS:), from PTY output. */
function section(text: string, marker: string): string[] {
  const lines = text.split(/\r?\n/);
  const from = lines.indexOf(marker);
  assert.ok(from >= 0, `no ${marker} in output:\n${text}`);
  const rest = lines.slice(from + 1);
  const end = rest.findIndex((l) => /^[A-Z-]+:$/.test(l));
  return end < 0 ? rest : rest.slice(0, end);
}

function exitWithin(l: Launched, ms: number): Promise<PtyExit> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${l.unit} still running after ${ms} ms`)), ms);
    void l.exited.then((exit) => {
      clearTimeout(timer);
      resolve(exit);
    });
  });
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const cgroupLine = (lines: string[], hierarchy: string) =>
  lines.find((l) => l.split(":")[1] === hierarchy)?.split(":")[2];

describe("SystemdManager.connect without a user manager", () => {
  it("says why instead of throwing when there is no bus", async () => {
    const result = await SystemdManager.connect({ env: { XDG_RUNTIME_DIR: "/nonexistent" } });
    assert.equal(result.manager, null);
    assert.match(result.manager ? "" : result.reason, /no user bus/);
  });

  it("says why when the bus address leads nowhere", async () => {
    const result = await SystemdManager.connect({
      env: { DBUS_SESSION_BUS_ADDRESS: "unix:path=/nonexistent/bus" },
      timeoutMs: 2000,
    });
    assert.equal(result.manager, null);
    assert.match(result.manager ? "" : result.reason, /\/nonexistent\/bus/);
  });
});

describe("SystemdManager against the user manager", { skip: noManager }, () => {
  const mgr = manager as SystemdManager;
  const leftovers: Launched[] = [];

  before(() => console.log(`# systemd ${mgr.version}, limits enforced: ${enforced}`));

  after(async () => {
    await Promise.all(leftovers.map((l) => mgr.stopUnit(l.unit)));
    mgr.close();
  });

  it("a PTY program and a child it forks at once run in the scope from the start", async () => {
    const l = await launch(
      "sleep 30 & echo PID: $$; echo CHILD:; cat /proc/$!/cgroup; echo SELF:; cat /proc/$$/cgroup; echo END:; wait",
    );
    leftovers.push(l);
    await waitFor("the program's report", () => l.output().includes("END:"));
    const out = l.output();
    assert.equal(Number(out.match(/PID: (\d+)/)?.[1]), l.pty.pid, "exec kept the pid");
    const own = readFileSync("/proc/self/cgroup", "utf8").trim().split("\n");
    for (const who of ["SELF:", "CHILD:"]) {
      const lines = section(out, who);
      const unified = cgroupLine(lines, "");
      assert.ok(unified?.endsWith(`/${SESSIONS_SLICE}/${l.unit}`), `${who} ${lines.join(" | ")}`);
      assert.notEqual(unified, cgroupLine(own, ""));
      if (enforced && cgroupLine(own, "memory") !== undefined) {
        for (const h of ["name=systemd", "memory", "pids"]) {
          assert.ok(
            cgroupLine(lines, h)?.endsWith(`/${l.unit}`),
            `${who} ${h}: ${lines.join(" | ")}`,
          );
        }
      }
    }
    console.log(
      `# placed in ${l.placedMs.toFixed(1)} ms (spawn, stop, StartTransientUnit + JobRemoved, SIGCONT)`,
    );
  });

  it("records the limits as unit properties", async () => {
    const l = await launch("exec sleep 30", { memoryMax: "50M", tasksMax: 20, cpuQuota: "150%" });
    leftovers.push(l);
    assert.deepEqual(
      show(l.unit, "MemoryMax", "MemoryHigh", "TasksMax", "CPUQuotaPerSecUSec", "Slice"),
      {
        MemoryMax: String(50 * 1024 * 1024),
        MemoryHigh: String(Math.floor(50 * 1024 * 1024 * 0.9)),
        TasksMax: "20",
        CPUQuotaPerSecUSec: "1.500000s",
        Slice: SESSIONS_SLICE,
      },
    );
  });

  it("the limits are in the scope's cgroup files", { skip: notEnforced }, async () => {
    const l = await launch("exec sleep 30", { memoryMax: "50M", tasksMax: 20, cpuQuota: "150%" });
    leftovers.push(l);
    const cg = show(l.unit, "ControlGroup").ControlGroup;
    assert.equal(cgroupFile(cg, ["memory", "memory.limit_in_bytes"], "memory.max"), "52428800");
    assert.equal(cgroupFile(cg, ["pids", "pids.max"], "pids.max"), "20");
    const quota = cgroupFile(cg, ["cpu", "cpu.cfs_quota_us"], "cpu.max").split(" ")[0];
    const period = cgroupFile(cg, ["cpu", "cpu.cfs_period_us"], "cpu.max").split(" ").pop();
    assert.equal(`${quota} ${period}`, "150000 100000");
  });

  it("TasksMax stops forks at the cap", { skip: notEnforced }, async () => {
    const l = await launch(
      "trap '' HUP; i=0; while [ $i -lt 40 ]; do sleep 30 & i=$((i+1)); done; echo FORKED:",
      { tasksMax: 10 },
    );
    leftovers.push(l);
    await l.exited;
    assert.match(l.output(), /fork/i);
    assert.doesNotMatch(l.output(), /FORKED:/);
    const usage = await mgr.unitUsage(l.unit);
    assert.ok(usage?.tasks && usage.tasks > 0 && usage.tasks <= 10, JSON.stringify(usage));
  });

  it("reports CPU time of a loaded scope, null for an unknown one", async () => {
    const l = await launch(
      "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; echo DONE:; exec sleep 30",
    );
    leftovers.push(l);
    await waitFor("the busy loop", () => l.output().includes("DONE:"), 30_000);
    const usage = await mgr.unitUsage(l.unit);
    assert.ok(
      usage !== null && usage.cpuSeconds !== null && usage.cpuSeconds > 0.05,
      JSON.stringify(usage),
    );
    assert.equal(await mgr.unitUsage(newUnit()), null);
  });

  it("reports memory and tasks of a loaded scope", { skip: notEnforced }, async () => {
    const l = await launch("sleep 30 & sleep 30 & echo UP:; wait");
    leftovers.push(l);
    await waitFor("the sleeps", () => l.output().includes("UP:"));
    const usage = await mgr.unitUsage(l.unit);
    assert.ok(
      usage !== null && usage.memoryBytes !== null && usage.memoryBytes > 0,
      JSON.stringify(usage),
    );
    assert.equal(usage.tasks, 3);
  });

  it("starting a scope whose name is taken fails with UnitExists", async () => {
    const l = await launch("exec sleep 30");
    leftovers.push(l);
    await assert.rejects(launch("exec sleep 30", {}, l.unit), /UnitExists|already/);
  });

  it("killUnit signals every process; stop and kill of a collected unit succeed", async () => {
    const l = await launch("exec sleep 30");
    await mgr.killUnit(l.unit, "SIGTERM");
    assert.equal((await l.exited).signal, 15);
    await until(
      "the scope to be collected",
      async () => (await mgr.listUnits(l.unit)).length === 0,
    );
    assert.equal(await mgr.unitResult(l.unit), "success", "the result outlives the unit");
    await mgr.killUnit(l.unit, "SIGTERM");
    await mgr.stopUnit(l.unit);
    await mgr.killUnit(newUnit(), "SIGKILL");
    await mgr.stopUnit(newUnit());
  });

  it("stopUnit ends the processes and waits for the job; the name is free at once", async () => {
    const unit = newUnit();
    for (let i = 0; i < 10; i++) {
      const l = await launch("exec sleep 30", {}, unit);
      await mgr.stopUnit(unit);
      assert.equal((await l.exited).signal, 15);
    }
    assert.deepEqual(await mgr.listUnits(unit), []);
  });

  it("stopUnit kills what ignores SIGTERM after the scope's stop timeout", async () => {
    const l = await launch("trap '' TERM; echo READY:; exec sleep 30");
    await waitFor("the trap", () => l.output().includes("READY:"));
    const start = Date.now();
    await mgr.stopUnit(l.unit);
    assert.equal((await l.exited).signal, 9);
    const took = Date.now() - start;
    assert.ok(took >= 1900 && took < 5000, `stopped after ${took} ms, TimeoutStopSec is 2 s`);
  });

  it("finds a scope left by a previous pool and stops it", async () => {
    const unit = newUnit();
    const previous = (await SystemdManager.connect()).manager as SystemdManager;
    const orphan = spawnChild("sleep", ["60"], { detached: true, stdio: "ignore" });
    orphan.unref();
    const pid = orphan.pid as number;
    await previous.startScope(unit, {
      pids: [pid],
      description: "stale",
      slice: SESSIONS_SLICE,
      limits: {},
    });
    previous.close();

    const found = await mgr.listUnits(SCOPE_PATTERN);
    assert.deepEqual(
      found.filter((u) => u.name === unit),
      [{ name: unit, description: "stale", activeState: "active", subState: "running" }],
    );
    assert.deepEqual(
      (await mgr.unitProcesses(unit)).map((p) => [p.pid, p.command]),
      [[pid, "sleep 60"]],
    );
    await mgr.stopUnit(unit);
    await waitFor("the stale process to end", () => {
      const state = processState(pid);
      return state === null || state === "Z";
    });
    assert.deepEqual(await mgr.unitProcesses(unit), []);
  });

  it("a memory hog over MemoryMax is OOM-killed", { skip: notEnforced }, async () => {
    const l = await launch("x=y; while :; do x=$x$x; done", { memoryMax: "50M" });
    const exit = await exitWithin(l, 20_000);
    assert.equal(exit.signal, 9);
    await mgr.stopUnit(l.unit);
    const result = await mgr.unitResult(l.unit);
    console.log(`# scope result after the OOM kill: ${result}`);
  });

  it(
    "systemd reports an OOM kill as the scope's result",
    {
      skip:
        notEnforced ||
        (cgroupV2Memory
          ? false
          : "cgroup v1: systemd does not see OOM kills (no memory.events), Result stays success"),
    },
    async () => {
      const l = await launch("x=y; while :; do x=$x$x; done", { memoryMax: "50M" });
      assert.equal((await exitWithin(l, 30_000)).signal, 9);
      await mgr.stopUnit(l.unit);
      assert.equal(await mgr.unitResult(l.unit), "oom-kill");
    },
  );
});
