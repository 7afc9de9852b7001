/** What claude-poolctl prints of a session and of a conversation: pure formatting. */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { excerpt, sessionDetails } from "../src/cli/poolctl/format.js";
import { toolCall, transcriptText } from "../src/cli/poolctl/transcript.js";
import type { SessionInfo } from "../src/session/session.js";
import { parseTranscript } from "../src/session/transcript.js";
import { repoRoot } from "./helpers.js";

process.env.TZ = "UTC";

const session: SessionInfo = {
  id: "0a1b2c3d",
  name: "worker",
  status: "running",
  pid: 4242,
  hostPid: null,
  claudeSessionId: "99b5c610-df87-4f8e-9f0d-26d4998489cb",
  keepWarm: false,
  workingDirectory: "/srv/proj",
  createdAt: "2026-12-01T15:00:00.000Z",
  startedAt: "2026-12-01T15:00:01.000Z",
  lastActivityAt: "2026-12-01T15:40:00.000Z",
  idleSeconds: 0,
  restarts: 0,
  exitCode: null,
  signal: null,
  unit: null,
  memoryBytes: 50 * 1024 * 1024,
  cpuSeconds: 1.5,
  tasks: 3,
  channel: true,
  blockedOn: null,
  reason: null,
  activity: "waiting",
  waitingFor: {
    kind: "permission",
    requestId: "abcde",
    toolName: "Bash",
    inputPreview: "ls -la",
  },
  evidence: "hooks",
  turn: { id: "t2", startedAt: "2026-12-01T15:40:00.000Z", prompt: "list the files\nall of them" },
  lastTurn: {
    id: "t1",
    startedAt: "2026-12-01T15:30:00.000Z",
    prompt: "hello",
    endedAt: "2026-12-01T15:31:00.000Z",
    outcome: "done",
    reply: `${"word ".repeat(60)}\nsecond line`,
  },
};

/** The value of `field:` in `status ID`'s output. */
const field = (text: string, name: string) =>
  new RegExp(`^${name}: +(.*)$`, "m").exec(text)?.[1] ?? assert.fail(`no ${name} in\n${text}`);

describe("status ID", () => {
  it("says what the conversation does and waits for, its turn and how the last one ended", () => {
    const text = sessionDetails(session);
    assert.equal(field(text, "activity"), "waiting (permission: Bash)");
    assert.equal(field(text, "waitingFor"), "permission for Bash: ls -la");
    assert.equal(field(text, "evidence"), "hooks");
    assert.equal(field(text, "turn"), "since 2026-12-01 15:40:00: list the files …");
    assert.match(field(text, "lastTurn"), /^done at 2026-12-01 15:31:00: word word .*…$/);
    assert.equal(field(text, "memoryBytes"), "50MB");
    for (const line of text.split("\n")) assert.ok(line.length <= 100, line);
    const narrow = sessionDetails(session, 60);
    for (const line of narrow.split("\n")) {
      if (/^(turn|lastTurn|waitingFor):/.test(line)) assert.ok(line.length <= 60, line);
    }
  });

  it("names a dialog, a question, and a prompt left to the terminal", () => {
    const cases: [SessionInfo["waitingFor"], string][] = [
      [{ kind: "dialog", dialog: "trust-folder" }, "the trust-folder dialog"],
      [{ kind: "input", message: "Which file?" }, "a question: Which file?"],
      [
        {
          kind: "permission",
          requestId: null,
          toolName: "Write",
          inputPreview: "a.txt",
          answerAt: "terminal",
        },
        "permission for Write (no client answered: the terminal decides): a.txt",
      ],
    ];
    for (const [waitingFor, expected] of cases) {
      assert.equal(field(sessionDetails({ ...session, waitingFor }), "waitingFor"), expected);
    }
  });

  it("shows - for a stopped session's activity and its empty turns", () => {
    const stopped = { ...session, activity: null, waitingFor: null, turn: null, lastTurn: null };
    const text = sessionDetails(stopped);
    for (const name of ["activity", "waitingFor", "turn", "lastTurn"]) {
      assert.equal(field(text, name), "-", name);
    }
  });
});

describe("transcript", () => {
  it("prints claude 2.1.332's transcript as who, when, text and tool calls with their result", () => {
    const jsonl = readFileSync(join(repoRoot, "test/fixtures/transcript-2.1.332.jsonl"), "utf8");
    assert.equal(
      transcriptText(parseTranscript(jsonl), 100),
      [
        "you · 2026-12-01 15:40:00",
        "please RUNCMD:touch_/tmp/exp/proj/x",
        "",
        "claude · 2026-12-01 15:40:00",
        "echo: Complete a security review of the pending changes on the current branch",
        "",
        "Today's date is 2026-12-01.",
        "",
        "you · 2026-12-01 15:40:10",
        "please RUNCMD:touch_/tmp/exp/proj/x",
        "",
        "claude · 2026-12-01 15:40:10",
        "  ⏺ Bash(touch /tmp/exp/proj/x)",
        "    ⎿  (Bash completed with no output)",
        "",
        "claude · 2026-12-01 15:40:13",
        "tool done",
      ].join("\n"),
    );
  });

  it("keeps a long result to its first line and counts the rest", () => {
    const text = transcriptText(
      [
        {
          role: "assistant",
          text: "",
          time: null,
          tools: [
            { name: "Read", input: { file_path: "/a/b.ts", limit: 10 }, result: "1\n2\n3" },
            { name: "TodoWrite", input: { todos: [] } },
            { name: "Empty", input: {}, result: "" },
          ],
        },
      ],
      80,
    );
    assert.equal(
      text,
      [
        "claude",
        "  ⏺ Read(/a/b.ts)",
        "    ⎿  1 (+2 lines)",
        '  ⏺ TodoWrite({"todos":[]})',
        "  ⏺ Empty()",
        "    ⎿  (no output)",
      ].join("\n"),
    );
  });

  it("cuts a tool call to the width, keeping its closing parenthesis", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "binary" }),
        fc.integer({ min: 20, max: 200 }),
        (command, width) => {
          const call = toolCall("Bash", { command }, width);
          assert.ok(Array.from(call).length <= width, call);
          assert.ok(call.startsWith("Bash(") && call.endsWith(")"), call);
          assert.ok(!/[\r\n]/.test(call), call);
        },
      ),
    );
  });
});

it("excerpt: one line, at most the width, the text itself when it fits", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary" }), fc.integer({ min: 1, max: 120 }), (text, width) => {
      const cut = excerpt(text, width);
      assert.ok(!/[\r\n]/.test(cut), JSON.stringify(cut));
      assert.ok(Array.from(cut).length <= width, `${JSON.stringify(cut)} > ${width}`);
      const single = text.trim();
      if (!/[\r\n]/.test(single) && Array.from(single).length <= width) {
        assert.equal(cut, single.trimEnd());
      }
    }),
  );
});
