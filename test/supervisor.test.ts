import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import {
  closeSync,
  cpSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { processState } from "../src/proc.js";
import { connectUnix } from "../src/rpc/client.js";
import { projectSlug } from "../src/session/claude-state.js";
import { protocolVersion } from "../src/host/protocol.js";
import type { SessionInfo, SessionRecord } from "../src/session/session.js";
import { describeLeftover } from "./leftovers.js";
import {
  claudePoolBin,
  endProcessesUnder,
  PoolProcess,
  processArgs,
  repoRoot,
  tempDir,
  waitFor,
  writeFakeConfig,
} from "./helpers.js";

/**
 * This build with the host protocol's version one lower: what the previous release's hosts say.
 * Its copy of dist/src sits as deep in the checkout, so it finds package.json and node_modules,
 * and its host is compiled beside it, where the copy looks for one.
 */
function legacyBuild(): string {
  const root = join(repoRoot, ".legacy-host");
  rmSync(root, { recursive: true, force: true });
  cpSync(join(repoRoot, "dist", "src"), join(root, "src"), { recursive: true });
  const protocol = join(root, "src", "host", "protocol.js");
  const text = readFileSync(protocol, "utf8");
  const patched = text.replace(
    `protocolVersion = ${protocolVersion};`,
    `protocolVersion = ${protocolVersion - 1};`,
  );
  assert.notEqual(patched, text, "the protocol version is where the test expects it");
  writeFileSync(protocol, patched);
  const sources = readdirSync(join(repoRoot, "native"))
    .filter((name) => name.endsWith(".c"))
    .map((name) => join(repoRoot, "native", name));
  mkdirSync(join(root, "native"));
  execFileSync("gcc", [
    "-O2",
    `-DPROTOCOL_VERSION=${protocolVersion - 1}`,
    "-o",
    join(root, "native", "claude-pool-host"),
    ...sources,
    "-Wl,-Bstatic",
    "-lvterm",
    "-ljansson",
    "-Wl,-Bdynamic",
  ]);
  return join(root, "src", "bin", "claude-pool.js");
}

function records(dir: string): SessionRecord[] {
  try {
    return (
      JSON.parse(readFileSync(join(dir, "state", "claude-pool", "state.json"), "utf8")) as {
        sessions: SessionRecord[];
      }
    ).sessions;
  } catch {
    return [];
  }
}

function runningRecord(dir: string, name: string, notPid?: number): SessionRecord | false {
  const r = records(dir).find((x) => x.settings.name === name);
  return r?.status === "running" && r.pid !== null && r.pid !== notPid ? r : false;
}

/** Running, as opposed to gone or a zombie its new parent has not reaped yet. */
function alive(pid: number): boolean {
  const state = processState(pid);
  return state !== null && state !== "Z";
}

const children: PoolProcess[] = [];
// The pools still running stop the way systemd stops them. Whatever runs in a pool's dir then
// was left by a test (a pool killed with SIGKILL whose claude ignored the hangup) or by a pool's
// stop: it is ended, and named as a failure.
after(
  async () => {
    await Promise.all(children.map((p) => p.stop()));
    const dirs = new Set(children.map((p) => p.dir));
    const left = (await Promise.all([...dirs].map(endProcessesUnder))).flat();
    assert.deepEqual(left.map(describeLeftover), [], "processes the pools left (now killed)");
  },
  { timeout: 30_000 },
);

function startPool(dir: string, args: string[] = []): PoolProcess {
  const p = new PoolProcess(dir, ["--config", join(dir, "pool.json"), ...args]);
  children.push(p);
  return p;
}

function setup(env: Record<string, string> = {}): string {
  const dir = tempDir();
  writeFakeConfig(dir, {
    stopTimeoutSeconds: 1,
    primarySession: { name: "junior", keepWarm: true, workingDirectory: join(dir, "work"), env },
  });
  return dir;
}

/** What one submitted message leaves on disk: claude's transcript of the conversation. */
function giveTranscript(dir: string, claudeSessionId: string): void {
  const project = join(dir, "claude", "projects", projectSlug(join(dir, "work")));
  mkdirSync(project, { recursive: true });
  writeFileSync(
    join(project, `${claudeSessionId}.jsonl`),
    JSON.stringify({
      type: "user",
      sessionId: claudeSessionId,
      message: { role: "user", content: "hi" },
    }) + "\n",
  );
}

describe("claude-pool start", () => {
  it("starts primarySession, stops sessions on SIGTERM, exits 0 and resumes on the next start", async () => {
    const dir = setup();
    const pool = startPool(dir, ["--port", "4123"]);
    await pool.waitForLog(/claude-pool v\d+\.\d+\.\d+ \| port 4123 \| max 5 sessions/);
    const first = await waitFor("junior running", () => runningRecord(dir, "junior"));
    assert.deepEqual(processArgs(first.pid!).slice(0, 4), [
      "--session-id",
      first.claudeSessionId,
      "--name",
      "junior",
    ]);
    giveTranscript(dir, first.claudeSessionId);

    pool.child.kill("SIGTERM");
    assert.deepEqual(await pool.exited, { code: 0, signal: null });
    assert.ok(!alive(first.pid!), "claude was stopped with the pool");
    const saved = records(dir).find((r) => r.id === first.id)!;
    assert.equal(saved.status, "stopped");
    assert.equal(saved.desired, "running");

    const next = startPool(dir);
    const resumed = await waitFor("junior running again", () =>
      runningRecord(dir, "junior", first.pid!),
    );
    assert.equal(resumed.id, first.id);
    assert.deepEqual(processArgs(resumed.pid!).slice(0, 2), ["--resume", first.claudeSessionId]);
    next.child.kill("SIGTERM");
    assert.equal((await next.exited).code, 0);
  });

  it("survives kill -9 of the pool: the session runs on in its host and the next pool adopts it", async () => {
    const dir = setup();
    const pool = startPool(dir);
    const first = await waitFor("junior running", () => runningRecord(dir, "junior"));
    assert.ok(first.hostPid !== null && first.hostPid !== first.pid, "claude runs under a host");
    pool.child.kill("SIGKILL");
    await pool.exited;
    assert.ok(alive(first.pid!), "claude outlived the pool");

    const next = startPool(dir);
    await next.waitForLog(
      new RegExp(`adopted host ${first.hostPid} \\(claude pid ${first.pid}\\)`),
    );
    await next.ready();
    const adopted = await waitFor("junior running", () => runningRecord(dir, "junior"));
    assert.equal(adopted.pid, first.pid, "the same claude");
    assert.equal(adopted.restarts, 0);
    // The adopted claude still takes input through its host.
    const client = await connectUnix(next.socket);
    try {
      await client.call("session.send", { id: adopted.id, text: "/env CLAUDE_POOL_SESSION_ID\r" });
      await waitFor("its answer on the screen", async () => {
        const { lines } = await client.call<{ lines: string[] }>("session.logs", {
          id: adopted.id,
        });
        return lines.some((l) => l.includes(`CLAUDE_POOL_SESSION_ID=${adopted.id}`));
      });
    } finally {
      client.close();
    }
    next.child.kill("SIGTERM");
    assert.deepEqual(await next.exited, { code: 0, signal: null });
    assert.ok(!alive(first.pid!), "SIGTERM outside systemd stops the sessions");
  });

  it("keeps the turn a session was in across kill -9 of the pool: ended meanwhile, it is the adopted session's last turn, and stays so", async () => {
    const dir = setup({ FAKE_CLAUDE_REPLY_DELAY_MS: "4000" });
    const pool = startPool(dir);
    const first = await waitFor("junior running", () => runningRecord(dir, "junior"));
    const client = await connectUnix(pool.socket);
    const get = (c = client) => c.call<SessionInfo>("session.get", { id: first.id });
    let busy: SessionInfo;
    try {
      await waitFor("junior idle", async () => (await get()).activity === "idle");
      await client.call("session.send", { id: first.id, text: "slow one\r" });
      busy = await waitFor("the turn", async () => {
        const s = await get();
        return s.turn !== null && s.activity === "busy" && s;
      });
    } finally {
      client.close();
    }
    pool.child.kill("SIGKILL");
    await pool.exited;
    assert.equal(records(dir)[0].turn?.id, busy.turn?.id, "the pool died mid-turn");
    const transcript = join(
      dir,
      "claude",
      "projects",
      projectSlug(join(dir, "work")),
      `${first.claudeSessionId}.jsonl`,
    );
    await waitFor(
      "the reply in claude's transcript, with no pool running",
      () =>
        existsSync(transcript) && readFileSync(transcript, "utf8").includes("You said: slow one"),
    );

    const restartedAt = new Date().toISOString();
    const next = startPool(dir);
    await next.ready();
    const again = await connectUnix(next.socket);
    try {
      // Seen by the screen, the end comes first and the reply from claude's transcript after it.
      const adopted = await waitFor("the turn ended, with its reply", async () => {
        const s = await get(again);
        return s.lastTurn !== null && s.lastTurn.reply !== "" && s;
      });
      assert.equal(adopted.pid, first.pid, "the same claude");
      assert.equal(adopted.turn, null);
      assert.equal(adopted.activity, "idle");
      assert.equal(adopted.lastTurn?.id, busy.turn?.id, "the turn the last pool saw start");
      assert.equal(adopted.lastTurn?.prompt.trim(), "slow one");
      assert.equal(adopted.lastTurn?.outcome, "done");
      assert.match(adopted.lastTurn?.reply ?? "", /You said: slow one/);
      assert.ok(adopted.lastTurn!.endedAt < restartedAt, "it ended when claude replied");
    } finally {
      again.close();
    }
    next.child.kill("SIGTERM");
    await next.exited;
    const third = startPool(dir);
    await third.ready();
    const last = await connectUnix(third.socket);
    try {
      const resumed = await get(last);
      assert.equal(resumed.lastTurn?.id, busy.turn?.id, "a stop and a start keep the last turn");
      assert.match(resumed.lastTurn?.reply ?? "", /You said: slow one/);
    } finally {
      last.close();
    }
  });

  it("leaves a session under a host of the previous protocol alone until it is idle, then restarts it with --resume", async () => {
    const legacyBin = legacyBuild();
    const dir = setup();
    const old = new PoolProcess(dir, ["--config", join(dir, "pool.json")], {}, legacyBin);
    children.push(old);
    const first = await waitFor("junior running", () => runningRecord(dir, "junior"));
    old.child.kill("SIGKILL");
    await old.exited;

    const next = startPool(dir);
    await next.ready();
    await next.waitForLog(
      new RegExp(`speaks protocol ${protocolVersion - 1}, this pool ${protocolVersion}`),
    );
    const client = await connectUnix(next.socket);
    try {
      const adopted = await client.call<SessionInfo>("session.get", { id: first.id });
      assert.equal(adopted.pid, first.pid, "left alone: the same claude");
      assert.equal(adopted.status, "running");
      // Its channel still reaches it; the turn ends, and then it moves to a host of this version.
      const sent = await client.call<{ id: string }>("channel.send", {
        id: first.id,
        content: "before the upgrade",
      });
      const resumed = await waitFor("junior under a new host", () =>
        runningRecord(dir, "junior", first.pid!),
      );
      assert.notEqual(resumed.hostPid, first.hostPid);
      assert.deepEqual(processArgs(resumed.pid!).slice(0, 2), ["--resume", first.claudeSessionId]);
      const history = await client.call<{ id: string; state: string }[]>("channel.history", {
        id: first.id,
      });
      assert.equal(history.find((m) => m.id === sent.id)?.state, "replied", "after its turn ended");
      await waitFor("the old host gone", () => !alive(first.hostPid!));
    } finally {
      client.close();
    }
  });

  it("resumes a session whose host died with the pool, stopping a claude that outlived both", async () => {
    const dir = setup({ FAKE_CLAUDE_IGNORE_SIGHUP: "1", FAKE_CLAUDE_IGNORE_SIGTERM: "1" });
    const pool = startPool(dir);
    const first = await waitFor("junior running", () => runningRecord(dir, "junior"));
    giveTranscript(dir, first.claudeSessionId);
    pool.child.kill("SIGKILL");
    await pool.exited;
    process.kill(first.hostPid!, "SIGKILL");
    await waitFor("the host gone", () => !alive(first.hostPid!));
    assert.ok(alive(first.pid!), "this claude ignores the hangup");

    const next = startPool(dir);
    await next.waitForLog(new RegExp(`stopping pid ${first.pid} left from the last pool`));
    const resumed = await waitFor("junior running again", () =>
      runningRecord(dir, "junior", first.pid!),
    );
    assert.ok(!alive(first.pid!), "the leftover claude was killed (it ignores SIGTERM too)");
    assert.equal(resumed.id, first.id);
    assert.deepEqual(processArgs(resumed.pid!).slice(0, 2), ["--resume", first.claudeSessionId]);

    next.child.kill("SIGTERM");
    assert.deepEqual(await next.exited, { code: 0, signal: null });
    assert.ok(!alive(resumed.pid!), "the stopping pool killed claude after stopTimeoutSeconds");
  });

  /** Runs the pool with stderr in a file and JOURNAL_STREAM set as `journalStream(file)` says. */
  async function logLines(
    journalStream: (stat: { dev: number; ino: number }) => string,
  ): Promise<string[]> {
    const dir = setup();
    const logFile = join(dir, "stderr.log");
    const fd = openSync(logFile, "w");
    const child = spawn(
      process.execPath,
      [claudePoolBin, "start", "--config", join(dir, "pool.json")],
      {
        env: {
          ...process.env,
          XDG_STATE_HOME: join(dir, "state"),
          CLAUDE_CONFIG_DIR: join(dir, "claude"),
          CLAUDE_POOL_SOCKET: join(dir, "control.sock"),
          JOURNAL_STREAM: journalStream(fstatSync(fd)),
        },
        stdio: ["ignore", "ignore", fd],
      },
    );
    closeSync(fd);
    await waitFor("ready log", () => /\| max 5 sessions/.test(readFileSync(logFile, "utf8")));
    child.kill("SIGTERM");
    await new Promise((r) => child.on("exit", r));
    return readFileSync(logFile, "utf8").trim().split("\n");
  }

  it("logs with sd-daemon priority prefixes and no timestamps when stderr is the journal", async () => {
    const lines = await logLines(({ dev, ino }) => `${dev}:${ino}`);
    assert.ok(
      lines.every((l) => /^<[3-7]>/.test(l)),
      lines.join("\n"),
    );
    assert.ok(lines.some((l) => l.startsWith("<6>claude-pool v")));
    assert.ok(lines.some((l) => /^<6>session [0-9a-f]{8} \(junior\): started pid \d+/.test(l)));
  });

  it("logs with timestamps when JOURNAL_STREAM names another stream", async () => {
    const lines = await logLines(() => "8:1234");
    assert.ok(
      lines.every((l) => /^\d{4}-\d\d-\d\dT[\d:.]+Z (DEBUG|INFO |WARN |ERROR) /.test(l)),
      lines.join("\n"),
    );
  });
});
