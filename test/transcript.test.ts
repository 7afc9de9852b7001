import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseTranscript, readTranscript } from "../src/session/transcript.js";
import { repoRoot } from "./helpers.js";

const recorded = join(repoRoot, "test", "fixtures", "transcript-2.1.332.jsonl");

describe("transcript", () => {
  it("reads claude 2.1.332's transcript: prompts, replies, a tool call with its result", () => {
    const entries = readTranscript(recorded);
    assert.deepEqual(
      entries.map((e) => [e.role, e.text.slice(0, 20), e.tools.map((t) => t.name)]),
      [
        ["user", "please RUNCMD:touch_", []],
        ["assistant", "echo: Complete a sec", []],
        ["user", "please RUNCMD:touch_", []],
        ["assistant", "", ["Bash"]],
        ["assistant", "tool done", []],
      ],
    );
    const bash = entries[3].tools[0];
    assert.deepEqual(bash.input, { command: "touch /tmp/exp/proj/x", description: "run it" });
    assert.equal(bash.result, "(Bash completed with no output)");
    assert.match(entries[0].time ?? "", /^2026-12-01T15:40:00/);
    assert.equal(readTranscript(recorded, 2).length, 2);
  });

  it("merges the lines of one assistant message and skips what it cannot read", () => {
    const jsonl = [
      '{"type":"user","message":{"content":"hi"},"timestamp":"t1"}',
      '{"type":"assistant","message":{"id":"m1","content":[{"type":"text","text":"one"}]}}',
      '{"type":"assistant","message":{"id":"m1","content":[{"type":"tool_use","id":"u1","name":"Read","input":{}}]}}',
      "not json",
      '{"type":"user","isSidechain":true,"message":{"content":"sub-agent"}}',
      '{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"u1","content":[{"type":"text","text":"file"}]}]}}',
      '{"type":"assistant","message":{"id":"m2","content":[{"type":"text","text":"two"}]}}',
      '{"type":"assistant","message":{"id":"m2","content":"',
    ].join("\n");
    const entries = parseTranscript(jsonl);
    assert.deepEqual(
      entries.map((e) => [e.role, e.text, e.tools]),
      [
        ["user", "hi", []],
        ["assistant", "one", [{ name: "Read", input: {}, result: "file" }]],
        ["assistant", "two", []],
      ],
    );
  });
});
