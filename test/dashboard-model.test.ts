/** The dashboard's pure parts: what it shows of a session, and its terminal's flow control. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { SessionInfo } from "../src/session/session.js";
import { OutputFlow } from "../web/src/flow.js";
import {
  actionsFor,
  activityLabel,
  excerpt,
  formatBytes,
  formatDuration,
  idleNow,
  needingYou,
  startsWaiting,
} from "../web/src/model.js";

const session = (fields: Partial<SessionInfo>): SessionInfo =>
  ({
    id: "0000000a",
    name: "a",
    status: "running",
    activity: "idle",
    waitingFor: null,
    blockedOn: null,
    idleSeconds: 0,
    ...fields,
  }) as SessionInfo;

describe("dashboard model", () => {
  it("formats sizes and durations as a person reads them", () => {
    const sizes: [number | null, string][] = [
      [null, "—"],
      [0, "0 B"],
      [1023, "1023 B"],
      [1536, "1.5 KiB"],
      [50 * 1024 * 1024, "50 MiB"],
      [3.25 * 1024 ** 3, "3.3 GiB"],
    ];
    for (const [bytes, text] of sizes) assert.equal(formatBytes(bytes), text);
    const durations: [number | null, string][] = [
      [null, "—"],
      [0, "0s"],
      [59.9, "59s"],
      [60, "1m"],
      [3599, "59m"],
      [3600 + 5 * 60, "1h 5m"],
      [2 * 86400 + 4 * 3600, "2d 4h"],
    ];
    for (const [seconds, text] of durations) assert.equal(formatDuration(seconds), text);
  });

  it("says what a session waits for", () => {
    const cases: [Partial<SessionInfo>, string][] = [
      [{ activity: null }, "—"],
      [{ activity: "busy" }, "busy"],
      [
        {
          activity: "waiting",
          waitingFor: { kind: "permission", requestId: "r", toolName: "Bash", inputPreview: "" },
        },
        "waiting for permission for Bash",
      ],
      [
        {
          activity: "waiting",
          waitingFor: {
            kind: "permission",
            requestId: "r",
            toolName: "Bash",
            inputPreview: "",
            answerAt: "terminal",
          },
        },
        "waiting for permission for Bash (answer in the terminal)",
      ],
      [
        { activity: "waiting", waitingFor: { kind: "dialog", dialog: "trust-folder" } },
        "waiting for the trust-folder dialog",
      ],
      [
        { activity: "waiting", waitingFor: { kind: "input", message: "Which file?" } },
        "waiting for an answer: Which file?",
      ],
    ];
    for (const [fields, text] of cases) assert.equal(activityLabel(session(fields)), text);
  });

  it("folds a reply into a short excerpt", () => {
    assert.equal(excerpt("  one\n\ntwo  "), "one two");
    assert.equal(excerpt(null), "");
    const long = excerpt("word ".repeat(100), 20);
    assert.ok(long.length <= 20 && long.endsWith("…"), long);
  });

  it("counts idle time on only while idle", () => {
    assert.equal(idleNow(session({ idleSeconds: 10 }), 5000), 15);
    assert.equal(idleNow(session({ idleSeconds: 0, activity: "busy" }), 5000), 0);
    assert.equal(idleNow(session({ idleSeconds: null, activity: null }), 5000), null);
  });

  it("offers the lifecycle actions each status allows", () => {
    assert.deepEqual(actionsFor("running"), ["kill"]);
    assert.deepEqual(actionsFor("stopped"), ["resume", "remove"]);
    assert.deepEqual(actionsFor("crashed"), ["kill", "resume"]);
    assert.deepEqual(actionsFor("stopping"), []);
  });

  it("finds who needs a person, and when a wait starts", () => {
    const waiting = session({ id: "1", name: "w", activity: "waiting" });
    const dialog = session({ id: "2", name: "d", blockedOn: "trust-folder" });
    const prompted = session({ id: "3", name: "p", activity: "busy" });
    const idle = session({ id: "4", name: "i" });
    const prompt = {
      id: "3",
      requestId: "r",
      toolName: "Bash",
      description: "",
      inputPreview: "",
    };
    const found = needingYou([waiting, dialog, prompted, idle], [prompt]).map((s) => s.name);
    assert.deepEqual(found, ["d", "p", "w"]);
    assert.equal(startsWaiting(idle, waiting), true);
    assert.equal(startsWaiting(waiting, waiting), false);
    assert.equal(startsWaiting(waiting, idle), false);
  });
});

describe("terminal flow control", () => {
  /** Output chunks arrive and xterm.js finishes writes in any order; the page's side of it. */
  const step = fc.oneof(
    fc.record({ kind: fc.constant("output" as const), bytes: fc.integer({ min: 1, max: 900 }) }),
    fc.record({ kind: fc.constant("parsed" as const) }),
  );

  it("never holds more than the high water mark, and redraws after it dropped", () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 200 }), (steps) => {
        const flow = new OutputFlow(2000, 500);
        const writes: number[] = [];
        let redraws = 0;
        let droppedSinceRedraw = false;
        const redraw = () => {
          redraws++;
          assert.equal(flow.state, "resyncing");
          flow.redrawn(100);
          writes.push(100);
          droppedSinceRedraw = false;
        };
        for (const s of steps) {
          if (s.kind === "output") {
            const decision = flow.accept(s.bytes);
            if (decision === "write") writes.push(s.bytes);
            else droppedSinceRedraw = true;
            if (decision === "redraw") redraw();
          } else if (writes.length > 0 && flow.written(writes.shift()!)) {
            redraw();
          }
          assert.ok(flow.pending >= 0 && flow.pending <= 2000, `pending ${flow.pending}`);
          assert.equal(
            flow.pending,
            writes.reduce((a, b) => a + b, 0),
          );
        }
        // xterm.js catches up: whatever was dropped is redrawn
        while (writes.length > 0) if (flow.written(writes.shift()!)) redraw();
        assert.equal(droppedSinceRedraw, false, "dropped output was redrawn");
        assert.equal(flow.state, "live");
        assert.ok(!flow.dropped || redraws > 0);
      }),
    );
  });

  it("writes nothing while it waits for the redraw", () => {
    const flow = new OutputFlow(1000, 100);
    assert.equal(flow.accept(900), "write");
    assert.equal(flow.accept(200), "drop");
    assert.equal(flow.state, "behind");
    assert.equal(flow.written(900), true, "caught up: redraw");
    assert.equal(flow.accept(10), "drop", "output before the snapshot is in the snapshot");
    flow.redrawn(50);
    assert.equal(flow.accept(10), "write");
    assert.equal(flow.dropped, 0);
  });

  it("redraws at once when a chunk alone is past the mark", () => {
    const flow = new OutputFlow(1000, 100);
    assert.equal(flow.accept(5000), "redraw");
  });
});
