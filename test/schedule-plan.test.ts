/**
 * When schedules fire, with the clock as the test moves it: DST in zones that shift, a clock
 * that jumps back or forward, and (property) any clock: no occurrence fires twice, and every one
 * the clock passed either fired or is counted in the run that stood in for it.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { compile, nextAfter, plan, timingProblem, type Timing } from "../src/schedule/plan.js";

const minute = 60_000;
const hour = 60 * minute;

interface Fired {
  occurrence: number;
  missed: number;
  at: number;
}

/** Plans at each time of `clock` in turn, as the scheduler does; what fired, and the cursor. */
function run(timing: Timing, clock: number[]): { fired: Fired[]; cursor: number } {
  const cron = compile(timing);
  let cursor: number | null = null;
  const fired: Fired[] = [];
  for (const now of clock) {
    const p = plan(cron, cursor, now);
    if (p.due) fired.push({ ...p.due, at: now });
    cursor = p.cursor;
  }
  return { fired, cursor: cursor! };
}

/** Every `step` ms from `from` to `to`. */
function ticking(from: string, to: string, step = minute): number[] {
  const times: number[] = [];
  for (let t = Date.parse(from); t <= Date.parse(to); t += step) times.push(t);
  return times;
}

function local(ms: number, timeZone: string): string {
  return new Date(ms).toLocaleString("sv", { timeZone });
}

describe("schedule timing", () => {
  it("accepts five or six fields and @names, and says what is wrong with the rest", () => {
    for (const cron of ["0 7 * * 1-5", "*/5 * * * * *", "@daily", "@hourly", "0 0 1 JAN *"]) {
      assert.equal(timingProblem({ cron }), null, cron);
    }
    assert.match(timingProblem({ cron: "61 * * * *" }) ?? "", /invalid value for minute: 61/i);
    assert.match(timingProblem({ cron: "* * * *" }) ?? "", /five fields .* six with seconds/);
    assert.match(timingProblem({ cron: "1 2 3 4 5 6 7" }) ?? "", /is invalid/);
    assert.match(timingProblem({ cron: "2030-01-01T00:00:00" }) ?? "", /is a date/);
    assert.match(timingProblem({ cron: "@reboot" }) ?? "", /is invalid/);
    assert.match(
      timingProblem({ cron: "@daily", timezone: "Europe/Atlantis" }) ?? "",
      /timezone "Europe\/Atlantis" is no IANA time zone/,
    );
    assert.equal(timingProblem({ cron: "@daily", timezone: "America/New_York" }), null);
  });

  it("a new schedule starts now: nothing before it fires", () => {
    const { fired } = run({ cron: "0 * * * *" }, [Date.parse("2025-05-01T10:59:00Z")]);
    assert.deepEqual(fired, []);
  });

  it("Europe/Berlin, autumn: 02:30 occurs twice and runs once, at the first", () => {
    const zone = "Europe/Berlin";
    const { fired } = run(
      { cron: "30 2 * * *", timezone: zone },
      ticking("2025-10-24T12:00:00Z", "2025-10-28T12:00:00Z"),
    );
    assert.deepEqual(
      fired.map((f) => [new Date(f.occurrence).toISOString(), local(f.occurrence, zone)]),
      [
        ["2025-10-25T00:30:00.000Z", "2025-10-25 02:30:00"],
        ["2025-10-26T00:30:00.000Z", "2025-10-26 02:30:00"],
        ["2025-10-27T01:30:00.000Z", "2025-10-27 02:30:00"],
        ["2025-10-28T01:30:00.000Z", "2025-10-28 02:30:00"],
      ],
    );
    assert.ok(fired.every((f) => f.missed === 0));
  });

  it("Europe/Berlin, spring: 02:30 does not occur and runs after the gap, at 03:00", () => {
    const zone = "Europe/Berlin";
    const { fired } = run(
      { cron: "30 2 * * *", timezone: zone },
      ticking("2025-03-28T12:00:00Z", "2025-03-31T12:00:00Z"),
    );
    assert.deepEqual(
      fired.map((f) => local(f.occurrence, zone)),
      ["2025-03-29 02:30:00", "2025-03-30 03:00:00", "2025-03-31 02:30:00"],
    );
  });

  it("America/New_York with seconds: the skipped 02:30:00 runs at 03:00:00, once", () => {
    const zone = "America/New_York";
    const { fired } = run(
      { cron: "0 30 2 * * *", timezone: zone },
      ticking("2025-03-08T12:00:00Z", "2025-03-10T12:00:00Z", 15_000),
    );
    assert.deepEqual(
      fired.map((f) => local(f.occurrence, zone)),
      ["2025-03-09 03:00:00", "2025-03-10 02:30:00"],
    );
  });

  it("America/New_York, autumn: every 30 minutes stays every 30 real minutes through the repeated hour", () => {
    const { fired } = run(
      { cron: "*/30 * * * *", timezone: "America/New_York" },
      ticking("2025-11-02T03:00:00Z", "2025-11-02T09:00:00Z"),
    );
    const gaps = fired.slice(1).map((f, i) => f.occurrence - fired[i].occurrence);
    assert.equal(fired.length, 12);
    assert.ok(
      gaps.every((g) => g === 30 * minute),
      JSON.stringify(gaps),
    );
  });

  it("a clock set back does not run an occurrence again", () => {
    const t = (hhmm: string) => Date.parse(`2025-05-01T${hhmm}:00Z`);
    const clock = [t("09:55"), t("10:00"), t("10:05"), t("09:10"), t("09:59"), t("10:00")];
    clock.push(...ticking("2025-05-01T10:01:00Z", "2025-05-01T11:00:00Z"));
    const { fired } = run({ cron: "0 * * * *" }, clock);
    assert.deepEqual(
      fired.map((f) => [new Date(f.occurrence).toISOString().slice(11, 16), f.missed]),
      [
        ["10:00", 0],
        ["11:00", 0],
      ],
    );
  });

  it("a clock that jumps forward runs the latest occurrence once and counts those it passed", () => {
    const t = (hhmm: string) => Date.parse(`2025-05-01T${hhmm}:00Z`);
    const { fired } = run({ cron: "0 * * * *" }, [t("09:55"), t("10:00"), t("13:30"), t("13:31")]);
    assert.deepEqual(
      fired.map((f) => [new Date(f.occurrence).toISOString().slice(11, 16), f.missed]),
      [
        ["10:00", 0],
        ["13:00", 2],
      ],
    );
  });

  it("for any clock, fires no occurrence twice and accounts for every one it passed (property)", () => {
    const patterns = ["* * * * *", "*/7 * * * *", "30 2 * * *", "0 */3 * * *", "15 1,2,3 * * *"];
    const zones = [undefined, "UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"];
    // around the 2025 shifts of those zones
    const starts = ["2025-03-09T05:00:00Z", "2025-03-30T00:00:00Z", "2025-10-26T00:00:00Z"];
    const step = fc.oneof(
      { weight: 8, arbitrary: fc.integer({ min: 1_000, max: 20 * minute }) },
      { weight: 1, arbitrary: fc.integer({ min: -3 * hour, max: 6 * hour }) },
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...patterns),
        fc.constantFrom(...zones),
        fc.constantFrom(...starts),
        fc.integer({ min: -6 * hour, max: 6 * hour }),
        fc.array(step, { minLength: 1, maxLength: 120 }),
        (cron, timezone, start, shift, steps) => {
          const timing = { cron, ...(timezone && { timezone }) };
          const clock = [Date.parse(start) + shift];
          for (const s of steps) clock.push(clock[clock.length - 1] + s);
          const { fired, cursor } = run(timing, clock);
          for (let i = 1; i < fired.length; i++) {
            assert.ok(fired[i].occurrence > fired[i - 1].occurrence, "an occurrence fired twice");
          }
          for (const f of fired) assert.ok(f.occurrence <= f.at, "fired before its time");
          // Every occurrence after the start up to the cursor fired or was counted as missed.
          const cron_ = compile(timing);
          let passed = 0;
          for (let at = nextAfter(cron_, clock[0]); at !== null && at <= cursor;) {
            passed++;
            at = nextAfter(cron_, at);
          }
          assert.equal(
            fired.reduce((n, f) => n + 1 + f.missed, 0),
            passed,
          );
          // Nothing due is left at the last time the clock showed.
          assert.equal(plan(cron_, cursor, clock[clock.length - 1]).due, null);
        },
      ),
      { numRuns: 200 },
    );
  });
});
