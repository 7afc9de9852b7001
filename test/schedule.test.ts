/**
 * Schedules end to end, in real time: a pool of fake claudes runs six-field cron schedules that
 * fire every few seconds. A stopped session is resumed for its run and the reply recorded; a run
 * due while the last one is busy is skipped; after the pool was down across a run's time, catchUp
 * runs it once at start. Spawned sessions, keepRuns and the CLI run in-process or against it.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, describe, it } from "node:test";
import { silentLogger } from "../src/log.js";
import { connectUnix, type RpcClient } from "../src/rpc/client.js";
import { Scheduler } from "../src/schedule/scheduler.js";
import { ScheduleStore, type ScheduleRun } from "../src/schedule/store.js";
import type { ScheduleInfo } from "../src/schedule/scheduler.js";
import type { SessionInfo } from "../src/session/session.js";
import {
  endProcessesUnder,
  makeHookedPool,
  PoolProcess,
  rejectsWithRpc,
  repoRoot,
  startFakePool,
  tempDir,
  waitFor,
  waitForStatus,
  type HookedPool,
} from "./helpers.js";

const poolctl = join(repoRoot, "dist", "src", "bin", "claude-poolctl.js");
const pools: PoolProcess[] = [];
const clients: RpcClient[] = [];
const inProcess: HookedPool[] = [];
after(async () => {
  for (const c of clients) c.close();
  await Promise.all(pools.map((p) => p.stop()));
  await Promise.all(pools.map((p) => endProcessesUnder(p.dir)));
  await Promise.all(inProcess.map((t) => t.close()));
});

async function connect(pool: PoolProcess): Promise<RpcClient> {
  const client = await connectUnix(pool.socket);
  clients.push(client);
  return client;
}

function history(local: RpcClient, name: string): Promise<ScheduleRun[]> {
  return local.call<ScheduleRun[]>("schedule.history", { name, limit: 100 });
}

async function poolctlJson<T>(socket: string, ...args: string[]): Promise<T> {
  const { stdout } = await promisify(execFile)(process.execPath, [
    poolctl,
    "--socket",
    socket,
    ...args,
    "--json",
  ]);
  return JSON.parse(stdout) as T;
}

describe("schedules", () => {
  it("resumes a stopped session for its run, records the reply, skips a run while the last is busy", async () => {
    const dir = tempDir();
    const pool = await startFakePool(
      {
        stopTimeoutSeconds: 1,
        // each reply takes 4 s: a run every 3 s finds the last one busy
        sessions: [{ name: "target", channel: false, env: { FAKE_CLAUDE_REPLY_DELAY_MS: "4000" } }],
      },
      dir,
    );
    pools.push(pool);
    const local = await connect(pool);
    const fired: Record<string, unknown>[] = [];
    local.on("notification", (method, params) => {
      if (method === "schedule.fired") fired.push(params);
    });
    await local.call("pool.subscribe", { signals: ["schedule.fired"] });
    const target = await waitFor("target running", async () => {
      const s = await local.call<SessionInfo>("session.get", { id: "target" });
      return s.status === "running" && s;
    });
    await local.call("session.kill", { id: target.id });

    const added = await poolctlJson<ScheduleInfo>(
      pool.socket,
      "schedule",
      "add",
      "tick",
      "--cron",
      "*/3 * * * * *",
      "--session",
      "target",
      "--message",
      "tick tock",
    );
    assert.deepEqual(
      [added.source, added.overlap, added.catchUp, added.session],
      ["runtime", "skip", false, "target"],
    );
    const runs = await waitFor(
      "a reply, a skipped run, and a run after the reply",
      async () => {
        const h = await history(local, "tick");
        const replied = h.findIndex((r) => r.status === "replied");
        const skipped = h.findIndex((r) => r.status === "skipped");
        const later = h.findIndex((r, i) => i > replied && r.messageId !== null);
        return replied >= 0 && skipped >= 0 && later > replied && h;
      },
      40_000,
    );
    const first = runs.find((r) => r.messageId !== null)!;
    assert.equal(first.sessionId, target.id);
    assert.equal(first.trigger, "cron");
    assert.equal(first.reply, "You said: tick tock");
    const skipped = runs.find((r) => r.status === "skipped")!;
    assert.match(skipped.note ?? "", /run \d+ has no reply yet \(overlap: skip\)/);
    assert.deepEqual([fired[0].name, fired[0].messageId], ["tick", first.messageId]);
    const [message] = await local.call<{ messageId: string; from: string; meta: object }[]>(
      "channel.history",
      { id: target.id, limit: 1 },
    );
    assert.equal(message.from, "schedule:tick");
    // the session was resumed for the run, the same conversation
    const resumed = await local.call<SessionInfo>("session.get", { id: target.id });
    assert.equal(resumed.claudeSessionId, target.claudeSessionId);

    const removed = await poolctlJson<{ removed: string }>(pool.socket, "schedule", "rm", "tick");
    assert.equal(removed.removed, "tick");
    assert.deepEqual(await local.call("schedule.list"), []);
  });

  it("after the pool was down across a run's time, runs it once at start with catchUp, else records it missed", async () => {
    const dir = tempDir();
    const every = 4;
    const config = {
      stopTimeoutSeconds: 1,
      sessions: [{ name: "target", channel: false }],
      schedules: [
        // a run the kill cut short is sent again after the restart: with "skip" the catch-up
        // would be skipped behind it
        {
          name: "caught",
          cron: `*/${every} * * * * *`,
          session: "target",
          message: "m1",
          catchUp: true,
          overlap: "queue",
        },
        { name: "dropped", cron: `*/${every} * * * * *`, session: "target", message: "m2" },
      ],
    };
    const first = await startFakePool(config, dir);
    pools.push(first);
    let local = await connect(first);
    await waitFor(
      "a run of each",
      async () =>
        (await history(local, "caught")).length > 0 && (await history(local, "dropped")).length > 0,
      20_000,
    );
    first.child.kill("SIGKILL");
    await first.exited;
    await endProcessesUnder(dir);
    // down across the next run's time
    const killedAt = Date.now();
    const nextRun = Math.ceil(killedAt / (every * 1000)) * every * 1000;
    await waitFor("the clock past the next run's time", () => Date.now() > nextRun + 500, 10_000);

    const second = new PoolProcess(dir, ["--config", join(dir, "pool.json")]);
    pools.push(second);
    await second.ready();
    local = await connect(second);
    const caught = await waitFor(
      "the catch-up run",
      async () => (await history(local, "caught")).find((r) => r.trigger === "catchUp"),
      20_000,
    );
    assert.ok(Date.parse(caught.scheduledFor!) >= nextRun, "it ran for the time the pool missed");
    assert.ok(Date.parse(caught.scheduledFor!) < Date.parse(caught.firedAt));
    assert.match(caught.note ?? "", /fell due while the pool was down .*; ran once \(catchUp\)/);
    const dropped = await history(local, "dropped");
    const missed = dropped.find((r) => r.status === "missed");
    assert.ok(missed, JSON.stringify(dropped));
    assert.match(missed.note ?? "", /not run \(catchUp is off\)/);
    assert.equal(dropped.filter((r) => r.trigger === "catchUp").length, 0);
    let seen: unknown = null;
    await waitFor(
      () => `the catch-up run's reply: ${JSON.stringify(seen, null, 1)}\n${second.stderr}`,
      async () => {
        const h = await history(local, "caught");
        seen = [h, await local.call("channel.history", { id: "target", limit: 10 })];
        return h.find((r) => r.run === caught.run)?.status === "replied";
      },
      20_000,
    );
  });

  it("counts the runs a downtime missed by the clock it is given: one catch-up run, or one record", async () => {
    const t = await makeHookedPool({ sessions: [{ name: "target", channel: false }] });
    inProcess.push(t);
    await t.pool.start();
    const store = ScheduleStore.memory();
    let now = Date.parse("2025-10-25T20:10:00Z");
    const schedules = [
      { name: "hourly", cron: "0 * * * *", catchUp: true },
      { name: "quiet", cron: "0 * * * *", catchUp: false },
    ].map((s) => ({
      ...s,
      session: "target",
      message: s.name,
      overlap: "skip" as const,
      keepRuns: 5,
    }));
    const open = () =>
      new Scheduler(t.pool, t.hub, {
        config: () => ({ ...t.pool.currentConfig(), schedules }),
        store,
        log: silentLogger,
        now: () => now,
      });
    const earlier = open();
    earlier.start();
    earlier.close();
    // Down from 20:10 to 23:30 (UTC), across the Berlin shift back of that night: 3 runs missed.
    now = Date.parse("2025-10-25T23:30:00Z");
    const later = open();
    later.start();
    later.close();
    const [caught] = later.history("hourly", 10);
    assert.deepEqual(
      [caught.trigger, caught.scheduledFor, caught.status, caught.sessionName],
      ["catchUp", "2025-10-25T23:00:00.000Z", "queued", "target"],
    );
    assert.match(caught.note ?? "", /^3 runs fell due while the pool was down/);
    const [quiet] = later.history("quiet", 10);
    assert.deepEqual([quiet.status, quiet.messageId], ["missed", null]);
    assert.deepEqual(store.cursor("quiet")?.at, Date.parse("2025-10-25T23:00:00Z"));
    await waitFor("the catch-up run's reply", () =>
      later.history("hourly", 10).find((r) => r.status === "replied"),
    );
  });

  it("spawns a fresh session per run, stops it after its reply, keeps keepRuns of them", async () => {
    const t = await makeHookedPool({ maxSessions: 4 });
    inProcess.push(t);
    const scheduler = new Scheduler(t.pool, t.hub, {
      config: () => t.pool.currentConfig(),
      store: ScheduleStore.memory(),
      log: silentLogger,
    });
    scheduler.start();
    scheduler.add({
      name: "fresh",
      cron: "0 0 1 1 *",
      spawn: { channel: false },
      message: "hello fresh",
      catchUp: false,
      overlap: "queue",
      keepRuns: 1,
    });
    const finished = async (run: ScheduleRun) => {
      await waitFor(`run ${run.run} answered`, () =>
        scheduler.history("fresh", 10).find((r) => r.run === run.run && r.status === "replied"),
      );
      return waitForStatus(t.pool, run.sessionId!, "stopped");
    };
    const one = scheduler.run("fresh");
    assert.equal(one.sessionName, "fresh-1");
    const first = await finished(one);
    assert.equal(scheduler.history("fresh", 10)[0].reply, "You said: hello fresh");
    const two = scheduler.run("fresh");
    assert.equal(two.sessionName, "fresh-2");
    await finished(two);
    await waitFor("the first run's session removed (keepRuns 1)", () =>
      t.pool.list().every((s) => s.id !== first.id),
    );
    assert.deepEqual(
      t.pool.list().map((s) => s.name),
      ["fresh-2"],
    );
    scheduler.close();
  });

  it("refuses bad schedules with what to do", async () => {
    const dir = tempDir();
    const pool = await startFakePool({ sessions: [{ name: "here", channel: false }] }, dir);
    pools.push(pool);
    const local = await connect(pool);
    const base = { name: "bad", cron: "@daily", message: "x", session: "here" };
    await rejectsWithRpc(
      local.call("schedule.add", { ...base, cron: "61 * * * *" }),
      -32602,
      /cron "61 \* \* \* \*" is invalid .*five fields/,
    );
    await rejectsWithRpc(
      local.call("schedule.add", { ...base, timezone: "Mars/Olympus" }),
      -32602,
      /no IANA time zone/,
    );
    await rejectsWithRpc(
      local.call("schedule.add", { ...base, session: "nowhere" }),
      -32001,
      /no session "nowhere"/,
    );
    await rejectsWithRpc(
      local.call("schedule.add", { ...base, spawn: {} }),
      -32602,
      /must match exactly one schema in oneOf/,
    );
    await local.call("schedule.add", base);
    await rejectsWithRpc(local.call("schedule.add", base), -32602, /exists already/);
    await rejectsWithRpc(local.call("schedule.run", { name: "other" }), -32602, /no schedule/);
  });
});
