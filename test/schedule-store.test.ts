/** What schedules keep across restarts: schedules added at run time, cursors, bounded runs. */
import assert from "node:assert/strict";
import { appendFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { runsLimit, ScheduleStore, type ScheduleRun } from "../src/schedule/store.js";
import { tempDir } from "./helpers.js";

const dir = tempDir();
after(() => rmSync(dir, { recursive: true, force: true }));

function run(name: string, n: number, status: ScheduleRun["status"] = "queued"): ScheduleRun {
  return {
    name,
    run: n,
    trigger: "cron",
    scheduledFor: new Date(n * 1000).toISOString(),
    firedAt: new Date(n * 1000).toISOString(),
    status,
    sessionId: "aaaaaaaa",
    sessionName: "target",
    spawned: false,
    messageId: `m${n}`,
    reply: null,
    repliedAt: null,
    note: null,
  };
}

describe("schedule store", () => {
  it("reads back schedules, cursors and runs; keeps the last runs only", () => {
    const file = join(dir, "schedules.jsonl");
    const { store } = ScheduleStore.open(file);
    const settings = {
      name: "nightly",
      cron: "@daily",
      session: "target",
      message: "m",
      catchUp: true,
      overlap: "skip" as const,
      keepRuns: 5,
    };
    store.define(settings);
    store.define({ ...settings, name: "gone" });
    store.undefine("gone");
    store.setCursor("nightly", { at: 1000, timing: "@daily\0" });
    for (let n = 1; n <= runsLimit + 5; n++) store.saveRun(run("nightly", n));
    store.saveRun({ ...run("nightly", runsLimit + 5), status: "replied", reply: "done" });
    store.setCursor("other", { at: 5, timing: "x" });
    store.forget("other");
    store.close();
    appendFileSync(file, '{"op":"run","run":{"na'); // a kill in the middle of a write

    const { store: again, warning } = ScheduleStore.open(file);
    assert.match(warning ?? "", /torn last line/);
    assert.deepEqual(again.definitions(), [settings]);
    assert.deepEqual(again.cursor("nightly"), { at: 1000, timing: "@daily\0" });
    assert.equal(again.cursor("other"), null);
    const runs = again.history("nightly");
    assert.equal(runs.length, runsLimit);
    assert.deepEqual(
      [runs[0].run, runs.at(-1)?.run, runs.at(-1)?.status, runs.at(-1)?.reply],
      [6, runsLimit + 5, "replied", "done"],
    );
    assert.deepEqual(again.names(), ["nightly"]);
    again.close();
  });
});
