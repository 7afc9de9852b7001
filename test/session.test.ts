import assert from "node:assert/strict";
import { existsSync, readdirSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ErrorCode, PoolError } from "../src/errors.js";
import { Pool } from "../src/pool.js";
import { processState } from "../src/proc.js";
import { PlainLauncher } from "../src/pty/process-launcher.js";
import type { ProcessLauncher } from "../src/session/launcher.js";
import type { SessionRecord } from "../src/session/session.js";
import {
  OutputRecorder,
  poolFactory,
  processArgs,
  waitFor,
  waitForSession,
  waitForStatus,
  type TestPool,
} from "./helpers.js";

const newPool = poolFactory();

/** Gives a conversation a transcript, as one submitted message does. */
async function say(t: TestPool, id: string, rec: OutputRecorder, text: string): Promise<void> {
  await t.pool.send(id, text);
  await rec.waitFor(new RegExp(`You said: ${text}`));
}

function rejectsWith(fn: () => unknown, code: number, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof PoolError, `expected a PoolError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, message);
    return true;
  });
}

describe("session lifecycle", () => {
  it("starts a new conversation with --session-id and --name, then runs", async () => {
    const t = newPool();
    const s = t.pool.spawn({ name: "alpha" });
    assert.equal(s.status, "starting");
    assert.match(s.id, /^[0-9a-f]{8}$/);
    const running = await waitForStatus(t.pool, s.id, "running");
    assert.ok(running.pid);
    assert.deepEqual(processArgs(running.pid).slice(0, 4), [
      "--session-id",
      s.claudeSessionId,
      "--name",
      "alpha",
    ]);
    const file = join(t.claudeDir, "sessions", `${running.pid}.json`);
    await waitFor("claude's session file", () => existsSync(file));
  });

  it("passes TERM, the working directory and the session's env and flags", async () => {
    const t = newPool();
    // claude refuses a --settings that is no regular file, /dev/null too
    const settings = join(t.dir, "settings.json");
    writeFileSync(settings, "{}");
    const s = t.pool.spawn({
      name: "flags",
      env: { POOL_TEST_VAR: "hello" },
      model: "sonnet",
      pluginDirs: ["/opt/plugins/a"],
      args: ["--settings", settings],
      channels: ["plugin:discord@claude-plugins-official"],
      developmentChannels: ["server:dev"],
    });
    const rec = new OutputRecorder(t.pool, () => s.id);
    const running = await waitForStatus(t.pool, s.id, "running");
    assert.deepEqual(processArgs(running.pid!).slice(4), [
      "--model",
      "sonnet",
      "--plugin-dir",
      "/opt/plugins/a",
      "--settings",
      settings,
      "--channels",
      "plugin:discord@claude-plugins-official",
      "--dangerously-load-development-channels",
      "server:dev",
    ]);
    for (const [name, value] of [
      ["TERM", "xterm-256color"],
      ["POOL_TEST_VAR", "hello"],
      ["CLAUDE_POOL_SESSION_ID", s.id],
    ]) {
      await t.pool.send(s.id, `/env ${name}`);
      await rec.waitFor(new RegExp(`${name}=${value}`));
    }
  });

  it("claude inherits no descriptor of the pool: no other session's PTY master", async () => {
    const t = newPool();
    const first = t.pool.spawn({ name: "first" });
    await waitForStatus(t.pool, first.id, "running");
    const second = await waitForStatus(t.pool, t.pool.spawn({ name: "second" }).id, "running");
    const fds = readdirSync(`/proc/${second.pid}/fd`).map((fd) => ({
      fd: Number(fd),
      target: (() => {
        try {
          return readlinkSync(`/proc/${second.pid}/fd/${fd}`);
        } catch {
          return "";
        }
      })(),
    }));
    assert.ok(!fds.some((f) => f.target === "/dev/ptmx"), JSON.stringify(fds));
    const terminal = fds.filter((f) => f.fd <= 2).map((f) => f.target);
    assert.equal(new Set(terminal).size, 1, "stdin, stdout and stderr are its own terminal");
    assert.match(terminal[0], /^\/dev\/pts\/\d+$/);
  });

  it("kill stops with SIGTERM: running → stopping → stopped", async () => {
    const t = newPool();
    const s = t.pool.spawn({ name: "k" });
    await waitForStatus(t.pool, s.id, "running");
    const seen: string[] = [];
    t.pool.on("session.changed", (info) => info.id === s.id && seen.push(info.status));
    const stopped = await t.pool.kill("k");
    assert.equal(stopped.status, "stopped");
    assert.deepEqual(seen, ["stopping", "stopped"]);
    assert.equal(stopped.pid, null);
    assert.equal(stopped.reason, "stopped by request");
    // idempotent, like systemctl stop
    assert.equal((await t.pool.kill(s.id)).status, "stopped");
  });

  it("kill while starting: starting → stopping → stopped", async () => {
    const t = newPool();
    const s = t.pool.spawn({ name: "slow", env: { FAKE_CLAUDE_START_DELAY_MS: "5000" } });
    assert.equal(t.pool.get(s.id).status, "starting");
    const seen: string[] = [];
    // Status changes only: the host's connection (claude's pid) is a change of its own.
    t.pool.on(
      "session.changed",
      (info) => info.id === s.id && seen.at(-1) !== info.status && seen.push(info.status),
    );
    const stopped = await t.pool.kill(s.id);
    assert.equal(stopped.status, "stopped");
    assert.deepEqual(seen, ["stopping", "stopped"]);
  });

  it("kills with SIGKILL after the grace period when claude ignores SIGTERM", async () => {
    const t = newPool({ stopTimeoutSeconds: 0.3 });
    const s = t.pool.spawn({ name: "stubborn", env: { FAKE_CLAUDE_IGNORE_SIGTERM: "1" } });
    await waitForStatus(t.pool, s.id, "running");
    const stopped = await t.pool.kill(s.id);
    assert.equal(stopped.status, "stopped");
    assert.equal(stopped.signal, "SIGKILL");
  });

  it("a clean exit of claude is stopped, not a crash", async () => {
    const t = newPool();
    const s = t.pool.spawn({ name: "quitter" });
    await waitForStatus(t.pool, s.id, "running");
    await t.pool.send(s.id, "/exit");
    const stopped = await waitForStatus(t.pool, s.id, "stopped");
    assert.equal(stopped.exitCode, 0);
    assert.equal(stopped.restarts, 0);
    assert.equal(stopped.reason, "claude exited");
  });

  it("resume continues the conversation with --resume once it has a transcript", async () => {
    const t = newPool();
    const s = t.pool.spawn({ name: "talker" });
    const rec = new OutputRecorder(t.pool, () => s.id);
    await waitForStatus(t.pool, s.id, "running");
    await say(t, s.id, rec, "remember me");
    await t.pool.kill(s.id);
    const resumed = t.pool.resume("talker");
    assert.equal(resumed.status, "starting");
    const running = await waitForStatus(t.pool, s.id, "running");
    assert.deepEqual(processArgs(running.pid!).slice(0, 2), ["--resume", s.claudeSessionId]);
    await rec.waitFor(/Resumed conversation .* \(2 messages\)/);
    assert.equal(running.claudeSessionId, s.claudeSessionId);
  });

  it("kill and an immediate resume, again and again: each run has a host of its own, and the old one is gone", async () => {
    const t = newPool();
    const s = t.pool.spawn({ name: "again" });
    let { hostPid } = await waitForStatus(t.pool, s.id, "running");
    for (let round = 0; round < 5; round++) {
      await t.pool.kill(s.id);
      t.pool.resume(s.id);
      const running = await waitForStatus(t.pool, s.id, "running");
      assert.notEqual(running.hostPid, hostPid);
      assert.ok([null, "Z"].includes(processState(hostPid!)), `round ${round}: the old host runs`);
      hostPid = running.hostPid;
    }
  });

  it("a conversation without messages restarts with the same --session-id", async () => {
    const t = newPool();
    const s = t.pool.spawn({ name: "silent" });
    await waitForStatus(t.pool, s.id, "running");
    await t.pool.kill(s.id);
    t.pool.resume(s.id);
    const running = await waitForStatus(t.pool, s.id, "running");
    assert.deepEqual(processArgs(running.pid!).slice(0, 2), ["--session-id", s.claudeSessionId]);
  });

  it("follows a sessionId switch (/clear) and resumes the new conversation", async () => {
    const t = newPool();
    const s = t.pool.spawn({ name: "clearer" });
    const rec = new OutputRecorder(t.pool, () => s.id);
    await waitForStatus(t.pool, s.id, "running");
    await t.pool.send(s.id, "/clear");
    const [, newId] = await rec.waitFor(/new session ([0-9a-f-]{36})/);
    const switched = await waitForSession(
      t.pool,
      s.id,
      "new id",
      (x) => x.claudeSessionId === newId,
    );
    assert.notEqual(switched.claudeSessionId, s.claudeSessionId);
    await say(t, s.id, rec, "after clear");
    await t.pool.kill(s.id);
    t.pool.resume(s.id);
    const running = await waitForStatus(t.pool, s.id, "running");
    assert.deepEqual(processArgs(running.pid!).slice(0, 2), ["--resume", newId]);
  });

  it("finds sessions by id, name and unique id prefix", async () => {
    const t = newPool();
    const s = t.pool.spawn({ name: "findme" });
    assert.equal(t.pool.get(s.id).id, s.id);
    assert.equal(t.pool.get("findme").id, s.id);
    assert.equal(t.pool.get(s.id.slice(0, 3)).id, s.id);
    rejectsWith(() => t.pool.get("nope"), ErrorCode.SessionNotFound, /claude-poolctl list/);
    await waitForStatus(t.pool, s.id, "running");
  });

  it("refuses a duplicate name and invalid settings", () => {
    const t = newPool({ defaults: { workingDirectory: "/nonexistent" } });
    t.pool.spawn({ name: "dup" });
    rejectsWith(() => t.pool.spawn({ name: "dup" }), ErrorCode.InvalidParams, /exists already/);
    rejectsWith(
      () => t.pool.spawn({ name: "bad name!" }),
      ErrorCode.InvalidParams,
      /\/name must match pattern/,
    );
    rejectsWith(
      () => t.pool.spawn({ pluginDirs: "x" } as never),
      ErrorCode.InvalidParams,
      /\/pluginDirs must be array/,
    );
  });

  it("remove deletes a stopped session and refuses a running one", async () => {
    const t = newPool();
    const s = t.pool.spawn({ name: "rm" });
    await waitForStatus(t.pool, s.id, "running");
    rejectsWith(() => t.pool.remove(s.id), ErrorCode.InvalidState, /stop it first/);
    await t.pool.kill(s.id);
    const removed = new Promise((r) => t.pool.once("session.removed", r));
    t.pool.remove(s.id);
    assert.equal(await removed, s.id);
    rejectsWith(() => t.pool.get(s.id), ErrorCode.SessionNotFound, /no session/);
    assert.equal(t.store.load().records.length, 0);
  });

  it("resume of a running session is refused", async () => {
    const t = newPool();
    const s = t.pool.spawn({ name: "busy" });
    await waitForStatus(t.pool, s.id, "running");
    rejectsWith(
      () => t.pool.resume(s.id),
      ErrorCode.InvalidState,
      /only stopped, crashed or failed/,
    );
  });

  it("a message sent before claude has drawn waits for it, then is submitted", async () => {
    const t = newPool();
    const early = t.pool.spawn({ name: "early", env: { FAKE_CLAUDE_START_DELAY_MS: "300" } });
    assert.equal(t.pool.get(early.id).status, "starting");
    // Running (its session file is there) while its terminal is still cooked:
    const cooked = t.pool.spawn({ name: "cooked", env: { FAKE_CLAUDE_DRAW_DELAY_MS: "500" } });
    await waitForStatus(t.pool, cooked.id, "running");
    await Promise.all([t.pool.send(early.id, "sent early"), t.pool.send(cooked.id, "sent cooked")]);
    for (const [s, text] of [
      [early, "You said: sent early"],
      [cooked, "You said: sent cooked"],
    ] as const) {
      await waitFor(text, async () =>
        (await t.pool.find(s.id).text()).some((l) => l.includes(text)),
      );
    }
  });

  it("send to a stopped session says to resume it", async () => {
    const t = newPool();
    const s = t.pool.spawn({ name: "mute" });
    await waitForStatus(t.pool, s.id, "running");
    await t.pool.kill(s.id);
    rejectsWith(() => t.pool.send(s.id, "hi"), ErrorCode.InvalidState, /resume/);
  });
});

describe("crashes and restarts", () => {
  it("restarts a crashed session with --resume and counts the restart", async () => {
    const t = newPool();
    const s = t.pool.spawn({ name: "crashy" });
    const rec = new OutputRecorder(t.pool, () => s.id);
    await waitForStatus(t.pool, s.id, "running");
    await say(t, s.id, rec, "before the crash");
    const firstPid = t.pool.get(s.id).pid;
    await t.pool.send(s.id, "/crash 7");
    const crashed = await waitForStatus(t.pool, s.id, "crashed");
    assert.equal(crashed.exitCode, 7);
    assert.match(crashed.reason ?? "", /exited with code 7/);
    const restarted = await waitForSession(
      t.pool,
      s.id,
      "running again",
      (x) => x.status === "running" && x.pid !== firstPid,
    );
    assert.equal(restarted.restarts, 1);
    assert.deepEqual(processArgs(restarted.pid!).slice(0, 2), ["--resume", s.claudeSessionId]);
  });

  it("kill during the restart backoff stops it for good: crashed → stopped, no restart", async () => {
    const t = newPool({ restart: { backoffSeconds: 30 } });
    const s = t.pool.spawn({ name: "waiting" });
    await waitForStatus(t.pool, s.id, "running");
    await t.pool.send(s.id, "/crash 4");
    await waitForSession(
      t.pool,
      s.id,
      "a restart scheduled",
      (x) => x.status === "crashed" && x.restarts === 1,
    );
    const stopped = await t.pool.kill(s.id);
    assert.equal(stopped.status, "stopped");
    assert.equal(stopped.pid, null);
    assert.equal(t.store.load().records.find((r) => r.id === s.id)?.desired, "stopped");
    t.pool.remove(s.id);
  });

  it("a failed session resumes and can fail again: failed → starting → … → failed", async () => {
    const t = newPool({ restart: { maxRestarts: 0 } });
    const s = t.pool.spawn({ name: "fragile", env: { FAKE_CLAUDE_EXIT_AFTER_MS: "10" } });
    const failed = await waitForStatus(t.pool, s.id, "failed");
    assert.match(failed.reason ?? "", /exited with code 1.*gave up after 0 restarts/);
    const again = t.pool.resume(s.id);
    assert.equal(again.status, "starting");
    await waitForStatus(t.pool, s.id, "failed");
  });

  it("a death by a signal the pool did not send is a crash", async () => {
    const t = newPool();
    const s = t.pool.spawn({ name: "segv" });
    await waitForStatus(t.pool, s.id, "running");
    await t.pool.send(s.id, "/segv");
    const crashed = await waitForStatus(t.pool, s.id, "crashed");
    assert.equal(crashed.signal, "SIGSEGV");
    assert.match(crashed.reason ?? "", /killed by SIGSEGV/);
  });

  it("gives up after maxRestarts in the window, keeping the reason, with growing backoff", async () => {
    const t = newPool({ restart: { maxRestarts: 3, windowMinutes: 5, backoffSeconds: 0.2 } });
    const starts: number[] = [];
    const crashes: number[] = [];
    const s = t.pool.spawn({
      name: "doomed",
      env: { FAKE_CLAUDE_EXIT_AFTER_MS: "50", FAKE_CLAUDE_EXIT_CODE: "2" },
    });
    let last: string = s.status;
    t.pool.on("session.changed", (x) => {
      if (x.id !== s.id || x.status === last) return;
      last = x.status;
      if (x.status === "starting") starts.push(Date.now());
      if (x.status === "crashed") crashes.push(Date.now());
    });
    const failed = await waitForStatus(t.pool, s.id, "failed", 15_000);
    assert.equal(failed.restarts, 3);
    assert.match(failed.reason ?? "", /exited with code 2.*gave up after 3 restarts in 5 min/);
    assert.equal(starts.length, 3);
    // backoff 200 ms, 400 ms, 800 ms after each crash: each wait from a crash to the next start
    // exceeds the one before (how long claude takes to start and crash is not part of it)
    const waits = starts.map((t0, i) => t0 - crashes[i]);
    assert.ok(waits[1] > waits[0] + 50, `waits should grow: ${waits.join(", ")}`);
    const again = t.pool.resume(s.id);
    assert.equal(again.restarts, 0, "a resume starts a fresh restart window");
    await waitForStatus(t.pool, s.id, "failed", 15_000);
  });

  it("a crash reason carries claude's last line of output", async () => {
    const t = newPool({ restart: { maxRestarts: 0 } });
    const s = t.pool.spawn({ name: "gone", args: ["--resume", "not-a-conversation"] });
    const failed = await waitForStatus(t.pool, s.id, "failed");
    assert.equal(
      failed.reason,
      "exited with code 1: No conversation found with session ID: not-a-conversation " +
        "(gave up after 0 restarts in 5 min)",
    );
    assert.equal(failed.restarts, 0);
  });
});

describe("preflight failures fail at once, without a restart loop", () => {
  it("missing claude binary", async () => {
    const t = newPool({ claudePath: "/nonexistent/claude" });
    const s = t.pool.spawn({ name: "nobin" });
    assert.equal(s.status, "failed");
    assert.match(s.reason ?? "", /claude binary not found: "\/nonexistent\/claude".*claudePath/);
    assert.equal(s.restarts, 0);
  });

  it("claude not in PATH", () => {
    const t = newPool({ claudePath: "claude-does-not-exist" });
    const s = t.pool.spawn({ name: "nopath" });
    assert.equal(s.status, "failed");
    assert.match(s.reason ?? "", /not an executable file in PATH/);
  });

  it("missing working directory", () => {
    const t = newPool();
    const s = t.pool.spawn({ name: "nodir", workingDirectory: "/nonexistent/dir" });
    assert.equal(s.status, "failed");
    assert.match(s.reason ?? "", /working directory \/nonexistent\/dir does not exist/);
  });

  it(
    "root with dangerouslySkipPermissions, unless IS_SANDBOX=1",
    { skip: process.getuid?.() !== 0 && "not running as root" },
    async () => {
      const t = newPool();
      const refused = t.pool.spawn({ name: "root", dangerouslySkipPermissions: true });
      assert.equal(refused.status, "failed");
      assert.match(refused.reason ?? "", /refused while the pool runs as root/);
      const sandboxed = t.pool.spawn({
        name: "sandboxed",
        dangerouslySkipPermissions: true,
        env: { IS_SANDBOX: "1" },
      });
      const running = await waitForStatus(t.pool, sandboxed.id, "running");
      assert.ok(processArgs(running.pid!).includes("--dangerously-skip-permissions"));
    },
  );
});

describe("capacity and idle", () => {
  it("maxSessions is enforced with a pool-full error, and a freed slot can be used", async () => {
    const t = newPool({ maxSessions: 2 });
    const a = t.pool.spawn({ name: "a" });
    t.pool.spawn({ name: "b" });
    rejectsWith(
      () => t.pool.spawn({ name: "c" }),
      ErrorCode.PoolFull,
      /pool is full \(2\/2.*maxSessions/,
    );
    assert.equal(t.pool.status().active, 2);
    await t.pool.kill(a.id);
    const c = t.pool.spawn({ name: "c" });
    assert.equal(c.status, "starting");
    rejectsWith(() => t.pool.resume(a.id), ErrorCode.PoolFull, /pool is full/);
  });

  it("the idle sweep stops idle sessions but not keepWarm ones", async () => {
    const t = newPool({ idleTimeoutMinutes: 0.01, idleCheckSeconds: 0.1 });
    await t.pool.start();
    const idle = t.pool.spawn({ name: "idle" });
    const warm = t.pool.spawn({ name: "warm", keepWarm: true });
    await waitForStatus(t.pool, warm.id, "running");
    const stopped = await waitForStatus(t.pool, idle.id, "stopped", 5000);
    assert.match(stopped.reason ?? "", /idle for 0 min/);
    assert.equal(t.pool.get(warm.id).status, "running");
    assert.equal(t.store.load().records.find((r) => r.id === idle.id)?.desired, "stopped");
  });

  it("idle time counts from the last input or output", async () => {
    const t = newPool({ idleTimeoutMinutes: 1 });
    const s = t.pool.spawn({ name: "clock", env: { FAKE_CLAUDE_HANG: "1" } });
    const started = await waitForStatus(t.pool, s.id, "running");
    const before = Date.parse(started.lastActivityAt!);
    await waitFor("the clock to move", () => Date.now() > before + 5);
    await t.pool.send(s.id, "x", { raw: true });
    const touched = Date.parse(t.pool.get(s.id).lastActivityAt!);
    assert.ok(touched > before, "input is activity");
    t.pool.sweepIdle(touched + 59_000);
    assert.equal(t.pool.get(s.id).status, "running");
    t.pool.sweepIdle(touched + 61_000);
    const stopped = await waitForStatus(t.pool, s.id, "stopped");
    assert.match(stopped.reason ?? "", /idle for 1 min/);
  });
});

/** Running, as opposed to gone or a zombie nobody has reaped yet. */
function alive(pid: number): boolean {
  const state = processState(pid);
  return state !== null && state !== "Z";
}

/** Has claude start a child that ignores SIGTERM and SIGHUP; resolves with its pid. */
async function stubbornChild(t: TestPool, id: string): Promise<number> {
  const rec = new OutputRecorder(t.pool, () => id);
  await t.pool.send(id, "/spawn-child stubborn");
  return Number((await rec.waitFor(/child (\d+)/))[1]);
}

describe("stopping a session's processes", () => {
  it("kill ends claude's whole process group: SIGKILL for a child that ignores SIGTERM", async () => {
    const t = newPool({ stopTimeoutSeconds: 0.5 });
    const s = t.pool.spawn({ name: "parent" });
    const running = await waitForStatus(t.pool, s.id, "running");
    const child = await stubbornChild(t, s.id);
    await t.pool.kill(s.id);
    assert.ok(!alive(running.pid!), "claude is gone");
    await waitFor("the stubborn child to be killed", () => !alive(child), 3000);
  });

  it("shutdown SIGKILLs a claude that ignores SIGTERM and SIGHUP after stopTimeoutSeconds", async () => {
    const t = newPool({ stopTimeoutSeconds: 0.5 });
    const s = t.pool.spawn({
      name: "deaf",
      env: { FAKE_CLAUDE_IGNORE_SIGTERM: "1", FAKE_CLAUDE_IGNORE_SIGHUP: "1" },
    });
    const running = await waitForStatus(t.pool, s.id, "running");
    const child = await stubbornChild(t, s.id);
    await t.pool.shutdown();
    const stopped = t.pool.get(s.id);
    assert.equal(stopped.status, "stopped");
    assert.equal(stopped.signal, "SIGKILL");
    assert.ok(!alive(running.pid!), "claude is gone");
    await waitFor("the stubborn child to be killed", () => !alive(child), 3000);
  });
});

describe("crash reasons and screens", () => {
  it("a crash reason quotes no screen line that is not an error", async () => {
    const t = newPool();
    const s = t.pool.spawn({ name: "shot" });
    const rec = new OutputRecorder(t.pool, () => s.id);
    const running = await waitForStatus(t.pool, s.id, "running");
    await t.pool.send(s.id, "/env POOL_QUIET");
    await rec.waitFor(/POOL_QUIET is unset/);
    process.kill(running.pid!, "SIGKILL");
    const crashed = await waitForStatus(t.pool, s.id, "crashed");
    assert.equal(crashed.reason, "killed by SIGKILL");
  });

  it("a new process gets a fresh screen; the old one's output stays in the scrollback", async () => {
    const t = newPool();
    const s = t.pool.spawn({ name: "redraw" });
    const rec = new OutputRecorder(t.pool, () => s.id);
    await waitForStatus(t.pool, s.id, "running");
    await t.pool.send(s.id, "/env FIRST_PROCESS");
    await rec.waitFor(/FIRST_PROCESS is unset/);
    await t.pool.kill(s.id);
    rec.clear();
    t.pool.resume(s.id);
    await rec.waitFor(/Claude Code \(fake\)/);
    // Each launch has a host of its own, with a screen and scrollback of its own.
    const screen = await t.pool.find(s.id).text();
    assert.match(screen[0], /^Claude Code \(fake\)/, screen.join("\n"));
    assert.ok(!screen.some((l) => l.includes("FIRST_PROCESS")), screen.join("\n"));
  });
});

describe("what a launch reads", () => {
  it("defaults apply at each launch: a reloaded defaults.env reaches the next claude", async () => {
    const t = newPool();
    const withUrl = (url: string) =>
      t.configFor({
        defaults: { workingDirectory: t.workDir, env: { POOL_URL: url, POOL_OWN: "default" } },
      });
    t.pool.reconfigure(withUrl("http://old.example"));
    const s = t.pool.spawn({ name: "follower", env: { POOL_OWN: "mine" } });
    const rec = new OutputRecorder(t.pool, () => s.id);
    await waitForStatus(t.pool, s.id, "running");
    await t.pool.send(s.id, "/env POOL_URL");
    await rec.waitFor(/POOL_URL=http:\/\/old\.example/);
    await t.pool.kill(s.id);
    t.pool.reconfigure(withUrl("http://new.example"));
    rec.clear();
    t.pool.resume(s.id);
    await waitForStatus(t.pool, s.id, "running");
    await t.pool.send(s.id, "/env POOL_URL");
    await rec.waitFor(/POOL_URL=http:\/\/new\.example/);
    await t.pool.send(s.id, "/env POOL_OWN");
    await rec.waitFor(/POOL_OWN=mine/);
    assert.deepEqual(t.store.load().records.find((r) => r.id === s.id)?.settings, {
      name: "follower",
      env: { POOL_OWN: "mine" },
      workingDirectory: t.workDir,
    });
  });
});

describe("sessions that cannot start", () => {
  it("resume fails again with the reason, never an internal error", () => {
    const t = newPool();
    const s = t.pool.spawn({ name: "nowhere", workingDirectory: "/nonexistent/dir" });
    assert.equal(s.status, "failed");
    const again = t.pool.resume(s.id);
    assert.equal(again.status, "failed");
    assert.match(
      again.reason ?? "",
      /working directory \/nonexistent\/dir does not exist.*will retry at the next start or reload/,
    );
  });

  it("keep their wish to run and start at the next reload that fixes the cause", async () => {
    const t = newPool({ claudePath: "/nonexistent/claude" });
    await t.pool.start();
    const s = t.pool.spawn({ name: "later" });
    assert.equal(s.status, "failed");
    assert.match(s.reason ?? "", /claude binary not found.*will retry at the next start or reload/);
    assert.equal(t.store.load().records.find((r) => r.id === s.id)?.desired, "running");
    t.pool.reconfigure(t.configFor({}));
    await waitForStatus(t.pool, s.id, "running");
  });
});

describe("records and processes", () => {
  it("records the session as starting, without a pid, before claude is forked", async () => {
    const t = newPool();
    const plain = new PlainLauncher();
    const atFork: SessionRecord[] = [];
    const launcher: ProcessLauncher = {
      kind: plain.kind,
      launch: (request) => {
        atFork.push(...t.store.load().records.filter((r) => r.id === request.sessionId));
        return plain.launch(request);
      },
      adopt: (records, socketOf, graceMs) => plain.adopt(records, socketOf, graceMs),
      prepare: () => plain.prepare(),
      close: () => plain.close(),
    };
    const pool = new Pool({ config: t.config, store: t.store, env: t.env, launcher });
    try {
      const s = pool.spawn({ name: "recorded" });
      assert.deepEqual(
        atFork.map((r) => [r.status, r.pid]),
        [["starting", null]],
      );
      const running = await waitForStatus(pool, s.id, "running");
      assert.equal(t.store.load().records.find((r) => r.id === s.id)?.pid, running.pid);
    } finally {
      await pool.shutdown();
    }
  });

  it("refuses spawn and resume once the pool is shutting down, and starts nothing", async () => {
    const t = newPool({ stopTimeoutSeconds: 1 });
    const stubborn = t.pool.spawn({ name: "stubborn", env: { FAKE_CLAUDE_IGNORE_SIGTERM: "1" } });
    const quiet = t.pool.spawn({ name: "quiet" });
    await waitForStatus(t.pool, stubborn.id, "running");
    await waitForStatus(t.pool, quiet.id, "running");
    await t.pool.kill(quiet.id);
    const down = t.pool.shutdown();
    rejectsWith(
      () => t.pool.spawn({ name: "late" }),
      ErrorCode.InvalidState,
      /the pool is shutting down/,
    );
    rejectsWith(() => t.pool.resume(quiet.id), ErrorCode.InvalidState, /the pool is shutting down/);
    await down;
    assert.deepEqual(
      t.pool.list().map((s) => [s.name, s.status, s.pid]),
      [
        ["stubborn", "stopped", null],
        ["quiet", "stopped", null],
      ],
    );
  });
});
