import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { newRecord } from "../src/pool.js";
import type { SessionRecord } from "../src/session/session.js";
import { StateStore } from "../src/store/state-store.js";
import {
  OutputRecorder,
  poolFactory,
  processArgs,
  tempDir,
  waitFor,
  waitForStatus,
} from "./helpers.js";

const newPool = poolFactory();

describe("state store", () => {
  it("writes state.json atomically with mode 0600 in a 0700 directory", () => {
    const dir = `${tempDir()}/state`;
    const store = new StateStore(dir);
    store.save([]);
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(store.file).mode & 0o777, 0o600);
    assert.deepEqual(JSON.parse(readFileSync(store.file, "utf8")), { version: 1, sessions: [] });
    assert.deepEqual(readdirSync(dir), ["state.json"], "no temp file is left behind");
  });

  for (const [what, content] of [
    ["truncated JSON", '{"version":1,"sessions":[{"id":"abc'],
    ["a foreign file", '{"hello":"world"}'],
  ]) {
    it(`moves a corrupt file aside and starts empty: ${what}`, () => {
      const dir = tempDir();
      mkdirSync(dir, { recursive: true });
      writeFileSync(`${dir}/state.json`, content);
      const store = new StateStore(dir);
      const loaded = store.load();
      assert.deepEqual(loaded.records, []);
      assert.match(loaded.warning ?? "", /unreadable .* moved it to .*state\.json\.corrupt-/);
      const backups = readdirSync(dir).filter((f) => f.startsWith("state.json.corrupt-"));
      assert.equal(backups.length, 1);
      assert.equal(
        readFileSync(`${dir}/${backups[0]}`, "utf8"),
        content,
        "the backup keeps the bytes",
      );
      assert.ok(!existsSync(`${dir}/state.json`));
    });
  }
});

describe("pool restart", () => {
  it("a corrupt registry does not stop the pool from starting", async () => {
    const t = newPool({ primarySession: { name: "main" } });
    mkdirSync(t.store.dir, { recursive: true });
    writeFileSync(t.store.file, "{ nope");
    await t.pool.start();
    const main = t.pool.get("main");
    await waitForStatus(t.pool, main.id, "running");
    assert.equal(t.store.load().records.length, 1);
  });

  it("resumes what was running, keeps stopped and failed sessions as they were", async () => {
    const t = newPool();
    await t.pool.start();
    const talk = t.pool.spawn({ name: "talk" });
    const rec = new OutputRecorder(t.pool, () => talk.id);
    const quiet = t.pool.spawn({ name: "quiet" });
    const broken = t.pool.spawn({ name: "broken", workingDirectory: "/nonexistent" });
    await waitForStatus(t.pool, talk.id, "running");
    await waitForStatus(t.pool, quiet.id, "running");
    await t.pool.send(talk.id, "hello");
    await rec.waitFor(/You said: hello/);
    await t.pool.kill(quiet.id);
    await t.pool.shutdown();

    const saved = t.store.load().records;
    assert.deepEqual(
      saved.map((r) => [r.settings.name, r.status, r.desired]),
      [
        ["talk", "stopped", "running"],
        ["quiet", "stopped", "stopped"],
        ["broken", "failed", "running"],
      ],
    );

    const again = t.reopen();
    await again.start();
    const resumed = await waitForStatus(again, talk.id, "running");
    assert.deepEqual(processArgs(resumed.pid!).slice(0, 2), ["--resume", talk.claudeSessionId]);
    assert.equal(resumed.createdAt, talk.createdAt);
    assert.equal(again.get(quiet.id).status, "stopped");
    assert.equal(again.get(broken.id).status, "failed");
    assert.match(again.get(broken.id).reason ?? "", /does not exist/);
  });

  it("resumeOnStart: false leaves ordinary sessions stopped but still resumes keepWarm ones", async () => {
    const t = newPool();
    await t.pool.start();
    const plain = t.pool.spawn({ name: "plain" });
    const warm = t.pool.spawn({ name: "warm", keepWarm: true });
    await waitForStatus(t.pool, plain.id, "running");
    await waitForStatus(t.pool, warm.id, "running");
    await t.pool.shutdown();
    const again = t.reopen({ resumeOnStart: false });
    await again.start();
    await waitForStatus(again, warm.id, "running");
    assert.equal(again.get(plain.id).status, "stopped");
    assert.equal(again.get(plain.id).reason, "not resumed: resumeOnStart is false");
  });

  it("starts primarySession and sessions, once each, and keeps their ids across restarts", async () => {
    const config = {
      primarySession: { name: "junior", keepWarm: true },
      sessions: [{ name: "ops" }],
    };
    const t = newPool(config);
    await t.pool.start();
    const [junior, ops] = ["junior", "ops"].map((n) => t.pool.get(n));
    assert.equal(junior.keepWarm, true);
    await waitForStatus(t.pool, junior.id, "running");
    await waitForStatus(t.pool, ops.id, "running");
    await t.pool.kill("ops");
    await t.pool.shutdown();
    const again = t.reopen(config);
    await again.start();
    assert.equal(again.list().length, 2);
    await waitForStatus(again, junior.id, "running");
    await waitForStatus(again, ops.id, "running");
  });

  it("does not start more than maxSessions at start", async () => {
    const t = newPool({ maxSessions: 3 });
    await t.pool.start();
    const ids = ["a", "b", "c"].map((name) => t.pool.spawn({ name }).id);
    for (const id of ids) await waitForStatus(t.pool, id, "running");
    await t.pool.shutdown();
    const again = t.reopen({ maxSessions: 2 });
    await again.start();
    assert.equal(again.status().active, 2);
    const left = again.list().filter((s) => s.status === "stopped");
    assert.equal(left.length, 1);
    assert.match(left[0].reason ?? "", /pool was full \(maxSessions 2\)/);
  });

  it("loads a registry written when records held a resolved spec", async () => {
    const t = newPool();
    const legacy = {
      ...newRecord("0000abcd", { name: "old", workingDirectory: t.workDir }),
      settings: undefined,
      spec: {
        name: "old",
        keepWarm: false,
        channels: [],
        developmentChannels: [],
        pluginDirs: [],
        workingDirectory: t.workDir,
        dangerouslySkipPermissions: false,
        model: "sonnet",
        args: [],
        env: { OWN: "x" },
        limits: {},
        channel: true,
      },
    };
    mkdirSync(t.store.dir, { recursive: true });
    writeFileSync(t.store.file, JSON.stringify({ version: 1, sessions: [legacy] }));
    await t.pool.start();
    const running = await waitForStatus(t.pool, "0000abcd", "running");
    assert.equal(running.name, "old");
    assert.deepEqual(processArgs(running.pid!).slice(4), ["--model", "sonnet"]);
    assert.deepEqual(t.store.load().records[0].settings, {
      name: "old",
      workingDirectory: t.workDir,
      model: "sonnet",
      env: { OWN: "x" },
    });
  });
});

describe("turns in the registry", () => {
  const turn = { id: "t-1", startedAt: "2026-12-03T10:00:00.000Z", prompt: "build it" };
  const ended = {
    ...turn,
    id: "t-0",
    endedAt: "2026-12-03T09:59:00.000Z",
    outcome: "done" as const,
    reply: "built",
  };

  it("keeps a session's turns as the session JSON has them; a record without them, or with damaged ones, loads with none", () => {
    const store = new StateStore(join(tempDir(), "state"));
    const kept = {
      ...newRecord("0000aaaa", { name: "a", workingDirectory: "/" }),
      turn,
      lastTurn: ended,
    };
    // As a pool before this one wrote it.
    const older: Partial<SessionRecord> = newRecord("0000bbbb", {
      name: "b",
      workingDirectory: "/",
    });
    delete older.turn;
    delete older.lastTurn;
    const damaged = {
      ...newRecord("0000cccc", { name: "c", workingDirectory: "/" }),
      turn: { id: 7 },
      lastTurn: { ...ended, outcome: "exploded" },
    };
    const untimed = {
      ...newRecord("0000dddd", { name: "d", workingDirectory: "/" }),
      turn: { ...turn, startedAt: "" },
      lastTurn: { ...ended, endedAt: "yesterday" },
    };
    const padded = {
      ...newRecord("0000eeee", { name: "e", workingDirectory: "/" }),
      turn: { ...turn, prompt: "p".repeat(5000), token: "secret" },
      lastTurn: { ...ended, reply: "r".repeat(50_000) },
    };
    mkdirSync(store.dir, { recursive: true });
    writeFileSync(
      store.file,
      JSON.stringify({ version: 1, sessions: [kept, older, damaged, untimed, padded] }),
    );
    const { records, warning } = store.load();
    assert.equal(warning, null);
    assert.deepEqual(
      records.map((r) => [r.turn, r.lastTurn]),
      [
        [turn, ended],
        [null, null],
        [null, null],
        [null, null],
        [
          { ...turn, prompt: "p".repeat(200) },
          { ...ended, reply: "r".repeat(2000) },
        ],
      ],
    );
  });

  it("a session whose host died with the pool mid-turn comes back with that turn interrupted", async () => {
    const t = newPool();
    const rec = {
      ...newRecord("0000dddd", { name: "cut", workingDirectory: t.workDir }),
      status: "running" as const,
      turn,
      lastTurn: ended,
    };
    mkdirSync(t.store.dir, { recursive: true });
    writeFileSync(t.store.file, JSON.stringify({ version: 1, sessions: [rec] }));
    await t.pool.start();
    const resumed = await waitForStatus(t.pool, rec.id, "running");
    assert.equal(resumed.turn, null);
    // Nothing says when it stopped but its start and the session's last output.
    assert.deepEqual(resumed.lastTurn, {
      ...turn,
      endedAt: turn.startedAt,
      outcome: "interrupted",
      reply: "",
    });
  });
});

describe("sessions that cannot start, across pool starts", () => {
  it("the pool starts again and again with a configured session that cannot start", async () => {
    const config = { primarySession: { name: "homeless", workingDirectory: "/nonexistent/dir" } };
    const t = newPool(config);
    await t.pool.start();
    assert.equal(t.pool.get("homeless").status, "failed");
    await t.pool.shutdown();
    const again = t.reopen(config);
    await again.start();
    const homeless = again.get("homeless");
    assert.equal(homeless.status, "failed");
    assert.match(homeless.reason ?? "", /does not exist.*will retry at the next start or reload/);
    assert.equal(again.resume("homeless").status, "failed");
  });

  it("a start with the wrong config leaves the sessions to resume at the next start", async () => {
    const t = newPool();
    await t.pool.start();
    const s = t.pool.spawn({ name: "kept" });
    await waitForStatus(t.pool, s.id, "running");
    await t.pool.shutdown();
    const wrong = t.reopen({ claudePath: "/nonexistent/claude" });
    await wrong.start();
    assert.equal(wrong.get(s.id).status, "failed");
    assert.match(
      wrong.get(s.id).reason ?? "",
      /claude binary not found.*will retry at the next start or reload/,
    );
    await wrong.shutdown();
    const right = t.reopen();
    await right.start();
    await waitForStatus(right, s.id, "running");
  });

  it("a configured session that cannot start takes no start slot", async () => {
    const t = newPool({
      maxSessions: 2,
      primarySession: { name: "broken", workingDirectory: "/nonexistent" },
      sessions: [{ name: "a" }, { name: "b" }],
    });
    await t.pool.start();
    await waitForStatus(t.pool, t.pool.get("a").id, "running");
    await waitForStatus(t.pool, t.pool.get("b").id, "running");
    assert.equal(t.pool.get("broken").status, "failed");
    assert.equal(t.pool.status().active, 2);
  });
});

describe("registry hygiene at start", () => {
  it("loads every valid record and sets the bad ones aside in a backup, naming them", () => {
    const dir = tempDir();
    const good = (id: string, name: string) => newRecord(id, { name, workingDirectory: dir });
    const content = JSON.stringify({
      version: 1,
      sessions: [
        good("0000000a", "one"),
        { ...good("0000000b", "bad"), id: "not-hex" },
        good("0000000c", "two"),
        good("0000000a", "again"),
        "junk",
      ],
    });
    writeFileSync(`${dir}/state.json`, content);
    const loaded = new StateStore(dir).load();
    assert.deepEqual(
      loaded.records.map((r) => [r.id, r.settings.name]),
      [
        ["0000000a", "one"],
        ["0000000c", "two"],
      ],
    );
    assert.match(
      loaded.warning ?? "",
      /set aside 3 of 5 sessions: #2 \(id "not-hex"\): not a valid session record; #4 \(id "0000000a"\): a second session with this id; #5: not a valid session record.* kept the file as .*state\.json\.corrupt-/,
    );
    const backups = readdirSync(dir).filter((f) => f.startsWith("state.json.corrupt-"));
    assert.equal(backups.length, 1);
    assert.equal(readFileSync(`${dir}/${backups[0]}`, "utf8"), content);
  });

  it("removes temp files a killed pool left in the state dir", async () => {
    const t = newPool();
    mkdirSync(t.store.dir, { recursive: true });
    const dead = spawnSync("true").pid!;
    for (const pid of [dead, process.pid]) writeFileSync(`${t.store.file}.tmp-${pid}`, "{");
    await t.pool.start();
    assert.deepEqual(
      readdirSync(t.store.dir).filter((f) => f.includes(".tmp-")),
      [],
    );
  });

  it("stops a claude that a killed pool forked but never recorded, then resumes the session", async () => {
    const t = newPool();
    const id = randomBytes(4).toString("hex");
    t.store.save([
      { ...newRecord(id, { name: "unrecorded", workingDirectory: t.workDir }), status: "starting" },
    ]);
    const orphan = spawn(
      process.execPath,
      ["-e", 'process.on("SIGHUP", () => {}); setInterval(() => {}, 1 << 30);'],
      { env: { ...process.env, CLAUDE_POOL_SESSION_ID: id }, detached: true, stdio: "ignore" },
    );
    try {
      await t.pool.start();
      await waitFor(
        "the orphan to be stopped",
        () => orphan.exitCode !== null || orphan.signalCode !== null,
      );
      await waitForStatus(t.pool, id, "running");
    } finally {
      orphan.kill("SIGKILL");
    }
  });
});
