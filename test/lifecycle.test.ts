import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { accepts, lifecycleEvents, reduce, type LifecycleEvent } from "../src/session/lifecycle.js";
import { isResumable, type SessionStatus } from "../src/session/status.js";

const statuses: SessionStatus[] = [
  "starting",
  "running",
  "stopping",
  "stopped",
  "crashed",
  "failed",
];
const status = fc.constantFrom(...statuses);
const events = fc.array(fc.constantFrom(...lifecycleEvents), { maxLength: 60 });

/** DESIGN.md's edges, and the ones its words imply (kill while starting, a clean exit, …). */
const edges = new Set([
  "starting→running",
  "running→stopping",
  "stopping→stopped",
  "starting→crashed",
  "running→crashed",
  "crashed→starting",
  "crashed→failed",
  "stopped→starting",
  "failed→starting",
  "starting→stopping",
  "starting→stopped",
  "running→stopped",
  "crashed→stopped",
  "starting→failed",
  "running→failed",
  "stopped→failed",
]);

function run(from: SessionStatus, sequence: LifecycleEvent[]): SessionStatus[] {
  const seen = [from];
  for (const event of sequence) seen.push(reduce(seen[seen.length - 1], event).status);
  return seen;
}

describe("the lifecycle reducer", () => {
  it("never throws, and every status it yields is one of DESIGN's", () => {
    fc.assert(
      fc.property(status, events, (from, sequence) => {
        for (const s of run(from, sequence)) assert.ok(statuses.includes(s), s);
      }),
    );
  });

  it("moves only along DESIGN's edges; an event that does not apply changes nothing", () => {
    fc.assert(
      fc.property(status, fc.constantFrom(...lifecycleEvents), (from, event) => {
        const next = reduce(from, event);
        if (next.refused !== null) {
          assert.equal(next.status, from);
          assert.match(next.refused, new RegExp(`"${event}" does not apply to a ${from} session`));
        } else if (next.status !== from) {
          assert.ok(edges.has(`${from}→${next.status}`), `${from} -${event}-> ${next.status}`);
        }
      }),
    );
  });

  it("a launch starts exactly the sessions that resume: stopped, failed, crashed", () => {
    for (const from of statuses) {
      assert.equal(accepts(from, "launch"), isResumable(from), from);
      if (isResumable(from)) assert.equal(reduce(from, "launch").status, "starting");
    }
  });

  it("once a stop was asked for, however the process ends, the session is stopped", () => {
    for (const event of ["exit", "crash", "fail"] as const) {
      assert.equal(reduce("stopping", event).status, "stopped", event);
    }
  });

  it("a session that cannot start can fail again and again, and still resume", () => {
    assert.equal(reduce("failed", "fail").status, "failed");
    assert.equal(reduce("failed", "launch").status, "starting");
  });

  it("has no dead end: from any state some events reach stopped", () => {
    fc.assert(
      fc.property(status, events, (from, sequence) => {
        const end = run(from, sequence).pop()!;
        const out = run(end, ["stop", "exit", "launch", "stop", "exit"]);
        assert.ok(out.includes("stopped"), out.join(" → "));
      }),
    );
  });
});
