import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { FlowControl, highWatermarkChars, lowWatermarkChars } from "../src/pty/flow-control.js";

/** A PTY stand-in that records the calls it gets. */
function recorder() {
  const calls: ("pause" | "resume")[] = [];
  return { calls, pause: () => calls.push("pause"), resume: () => calls.push("resume") };
}

describe("flow control", () => {
  it("pauses above the high watermark and resumes below the low one", () => {
    const pty = recorder();
    const flow = new FlowControl(pty);
    flow.written(highWatermarkChars);
    assert.deepEqual(pty.calls, []);
    flow.written(1);
    flow.written(50_000);
    assert.deepEqual(pty.calls, ["pause"]);
    flow.parsed(highWatermarkChars + 50_001 - lowWatermarkChars);
    assert.deepEqual(pty.calls, ["pause"], "at the low watermark it stays paused");
    flow.parsed(1);
    assert.deepEqual(pty.calls, ["pause", "resume"]);
  });

  it("property: paused exactly while the backlog crossed high and has not fallen below low", () => {
    // Chunks are written, then parsed in order (as xterm acknowledges them), interleaved at random.
    const step = fc.oneof(
      fc.record({ write: fc.integer({ min: 1, max: 70_000 }) }),
      fc.constant({ parse: true as const }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 200 }), (steps) => {
        const pty = recorder();
        const flow = new FlowControl(pty);
        const queue: number[] = [];
        let backlog = 0;
        let paused = false;
        for (const s of steps) {
          if ("write" in s) {
            queue.push(s.write);
            backlog += s.write;
            flow.written(s.write);
          } else if (queue.length > 0) {
            const chars = queue.shift()!;
            backlog -= chars;
            flow.parsed(chars);
          }
          if (backlog > highWatermarkChars) paused = true;
          if (backlog < lowWatermarkChars) paused = false;
          const expected = pty.calls.length % 2 === 1;
          assert.equal(expected, paused, `backlog ${backlog}, calls ${pty.calls.join(",")}`);
        }
        pty.calls.forEach((call, i) => assert.equal(call, i % 2 === 0 ? "pause" : "resume"));
      }),
    );
  });
});
