import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  idleMs,
  initialEvidence,
  reduce,
  view,
  type EvidenceEffect,
  type EvidenceEvent,
  type EvidenceState,
  type HookInput,
} from "../src/session/evidence.js";
import { repoRoot } from "./helpers.js";

/** Hook inputs claude 2.1.332 sent for a plain turn and a Bash call allowed through the hook. */
const recorded: HookInput[] = readFileSync(
  join(repoRoot, "test", "fixtures", "hooks-2.1.332.jsonl"),
  "utf8",
)
  .trim()
  .split("\n")
  .map((line) => JSON.parse(line) as HookInput);

function run(events: EvidenceEvent[], from = initialEvidence()) {
  let state: EvidenceState = from;
  const effects: EvidenceEffect[] = [];
  const activities: (string | null)[] = [];
  for (const event of events) {
    const next = reduce(state, event);
    state = next.state;
    effects.push(...next.effects);
    activities.push(view(state).activity);
  }
  return { state, effects, activities };
}

const up: EvidenceEvent[] = [
  { type: "launched", at: 1000 },
  { type: "ready", at: 1500 },
];

function hooks(inputs: HookInput[], at = 2000): EvidenceEvent[] {
  return inputs.map((input, i) => ({
    type: "hook",
    at: at + i * 10,
    input,
    requestId: input.hook_event_name === "PermissionRequest" ? "perm-1" : undefined,
  }));
}

describe("evidence model", () => {
  it("goes on with the turn a pool before saw start, and ends it with its id and prompt", () => {
    const turn = { id: "prompt-7", startedAt: "2026-12-03T10:00:00.000Z", prompt: "build it" };
    const { state, effects, activities } = run([
      ...up,
      { type: "adopted", at: 1600, turn },
      ...hooks([{ hook_event_name: "Stop", last_assistant_message: "built" }]),
    ]);
    assert.deepEqual(activities, ["starting", "idle", "busy", "idle"]);
    assert.deepEqual(effects, [
      {
        type: "turn.ended",
        turn: { ...turn, endedAt: new Date(2000).toISOString(), outcome: "done", reply: "built" },
      },
    ]);
    assert.equal(state.lastTurn?.id, "prompt-7");
    // Adopted when down, or while a turn of its own runs, it changes nothing.
    for (const before of [
      initialEvidence(),
      run([...up, ...hooks([{ hook_event_name: "UserPromptSubmit", prompt: "x" }])]).state,
    ]) {
      assert.deepEqual(reduce(before, { type: "adopted", at: 3000, turn }), {
        state: before,
        effects: [],
      });
    }
  });

  it("follows a recorded plain turn: idle, busy, idle with the reply", () => {
    const turn = recorded.slice(0, 4);
    const { state, effects, activities } = run([...up, ...hooks(turn)]);
    assert.deepEqual(activities, ["starting", "idle", "busy", "busy", "busy", "idle"]);
    assert.deepEqual(
      effects.map((e) => e.type),
      ["turn.started", "turn.delta", "turn.delta", "turn.ended"],
    );
    const ended = effects.at(-1);
    assert.equal(ended?.type, "turn.ended");
    if (ended?.type !== "turn.ended") return;
    assert.equal(ended.turn.id, turn[0].prompt_id);
    assert.equal(ended.turn.prompt, "hello world");
    assert.equal(ended.turn.outcome, "done");
    assert.equal(ended.turn.reply, turn[3].last_assistant_message);
    assert.equal(view(state).evidence, "hooks");
    assert.equal(view(state).lastTurn?.reply, ended.turn.reply);
  });

  it("waits at a permission request until the tool runs", () => {
    const turn = recorded.slice(4);
    const { activities, state } = run([...up, ...hooks(turn)]);
    // UserPromptSubmit, PreToolUse, PermissionRequest, PostToolUse, MessageDisplay, Stop, SessionEnd
    assert.deepEqual(activities.slice(2), [
      "busy",
      "busy",
      "waiting",
      "busy",
      "busy",
      "idle",
      "idle",
    ]);
    assert.equal(state.lastTurn?.reply, "tool done");
    const waiting = run([...up, ...hooks(turn.slice(0, 3))]).state;
    assert.deepEqual(view(waiting).waitingFor, {
      kind: "permission",
      requestId: "perm-1",
      toolName: "Bash",
      inputPreview: "touch /tmp/exp/proj/z",
    });
    const answered = reduce(waiting, {
      type: "permission.resolved",
      at: 3000,
      requestId: "perm-1",
    });
    assert.equal(view(answered.state).activity, "busy");
  });

  it("sees a hook's permission dialog answered at the terminal when it leaves the screen", () => {
    const waiting = run([...up, ...hooks(recorded.slice(4, 7))]).state;
    const screen = (permissionPrompt: boolean): EvidenceEvent => ({
      type: "screen",
      at: 4000,
      reading: { dialog: null, permissionPrompt, busy: true },
    });
    // Not drawn yet: a reading without the dialog changes nothing.
    assert.equal(view(reduce(waiting, screen(false)).state).activity, "waiting");
    const drawn = reduce(waiting, screen(true)).state;
    const closed = reduce(drawn, screen(false));
    assert.deepEqual(closed.effects, [{ type: "permission.closed", requestId: "perm-1" }]);
    assert.equal(view(closed.state).activity, "busy");
  });

  it("ends an open turn as interrupted when claude exits or the person interrupts", () => {
    const open = run([...up, ...hooks(recorded.slice(4, 6))]).state;
    const exited = reduce(open, { type: "exited", at: 5000 });
    assert.equal(view(exited.state).activity, null);
    assert.equal(exited.state.lastTurn?.outcome, "interrupted");
    const interrupted = reduce(open, { type: "interrupted", at: 5000 });
    assert.equal(view(interrupted.state).activity, "idle");
    assert.equal(interrupted.state.lastTurn?.outcome, "interrupted");
  });

  it("counts idle time only while idle", () => {
    const idle = run(up).state;
    assert.equal(idleMs(idle, 11_500), 10_000);
    const busy = run(hooks(recorded.slice(0, 1)), idle).state;
    assert.equal(idleMs(busy, 60_000), 0);
    const waiting = run(
      [
        {
          type: "screen",
          at: 2000,
          reading: { dialog: "trust-folder", permissionPrompt: false, busy: false },
        },
      ],
      idle,
    ).state;
    assert.equal(view(waiting).activity, "waiting");
    assert.equal(idleMs(waiting, 60_000), 0);
  });

  it("falls back to the screen for a claude without hooks", () => {
    const reading = (busy: boolean, permissionPrompt = false) => ({
      type: "screen" as const,
      at: 3000,
      reading: { dialog: null, permissionPrompt, busy },
    });
    const { activities, state } = run([...up, reading(true), reading(true, true), reading(false)]);
    assert.deepEqual(activities, ["starting", "idle", "busy", "waiting", "idle"]);
    assert.equal(view(state).evidence, "screen");
    assert.equal(state.lastTurn?.outcome, "done");
  });

  it("never throws and keeps its invariants, whatever comes in whatever order", () => {
    const hookNames = [
      "UserPromptSubmit",
      "MessageDisplay",
      "PreToolUse",
      "PermissionRequest",
      "PostToolUse",
      "Notification",
      "Stop",
      "StopFailure",
      "SessionEnd",
      "Unknown",
    ];
    const event = fc.oneof(
      fc
        .constantFrom<EvidenceEvent["type"]>("launched", "ready", "exited", "interrupted")
        .map((type) => ({ type, at: 0 }) as EvidenceEvent),
      fc
        .record({
          hook_event_name: fc.constantFrom(...hookNames),
          prompt: fc.option(fc.string(), { nil: undefined }),
          prompt_id: fc.option(fc.uuid(), { nil: undefined }),
          delta: fc.option(fc.anything(), { nil: undefined }),
          tool_name: fc.option(fc.constantFrom("Bash", "AskUserQuestion", 3), { nil: undefined }),
          tool_input: fc.option(fc.anything(), { nil: undefined }),
          notification_type: fc.option(fc.constantFrom("permission_prompt", "idle_prompt", "x"), {
            nil: undefined,
          }),
          message: fc.option(fc.string(), { nil: undefined }),
          last_assistant_message: fc.option(fc.anything(), { nil: undefined }),
        })
        .map((input) => ({ type: "hook", at: 0, input, requestId: "r" }) as EvidenceEvent),
      fc
        .record({
          dialog: fc.constantFrom(null, "trust-folder" as const),
          permissionPrompt: fc.boolean(),
          busy: fc.boolean(),
        })
        .map((reading) => ({ type: "screen", at: 0, reading }) as EvidenceEvent),
      fc
        .constantFrom<EvidenceEvent["type"]>("permission.resolved", "permission.deferred")
        .map((type) => ({ type, at: 0, requestId: "r" }) as EvidenceEvent),
      fc
        .option(
          fc.constant({ id: "adopted-turn", startedAt: "2026-12-03T10:00:00.000Z", prompt: "p" }),
        )
        .map((turn) => ({ type: "adopted", at: 0, turn }) as EvidenceEvent),
    );
    fc.assert(
      fc.property(fc.array(event, { maxLength: 40 }), (events) => {
        let state = initialEvidence();
        let open: string | null = null;
        events.forEach((e, i) => {
          const next = reduce(state, { ...e, at: i * 1000 });
          // An adopted turn goes on without a start: the pool before announced it.
          if (e.type === "adopted" && state.turn === null && next.state.turn !== null) {
            open = next.state.turn.id;
          }
          state = next.state;
          for (const effect of next.effects) {
            if (effect.type === "turn.started") {
              assert.equal(open, null, "a turn starts only when none is open");
              open = effect.turn.id;
            } else if (effect.type === "turn.ended") {
              assert.equal(effect.turn.id, open, "the open turn ends");
              open = null;
            } else if (effect.type === "turn.delta") {
              assert.equal(effect.turnId, open, "deltas belong to the open turn");
            }
          }
          assert.equal(state.turn?.id ?? null, open);
          const v = view(state);
          assert.ok([null, "starting", "idle", "busy", "waiting"].includes(v.activity));
          assert.equal(v.activity === "waiting", v.waitingFor !== null);
          if (v.activity === null) assert.equal(state.turn, null);
          if (v.activity !== "idle") assert.equal(idleMs(state, 1e9) ?? 0, 0);
          assert.ok((state.lastTurn?.reply.length ?? 0) <= 2000);
        });
      }),
      { numRuns: 500 },
    );
  });
});
