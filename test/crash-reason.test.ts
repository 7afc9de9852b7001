import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { crashLine } from "../src/session/crash-reason.js";

describe("crash reasons", () => {
  const frame = (...lines: string[]) => `\x1b[2K\x1b[1A\x1b[2K\x1b[G${lines.join("\r\n")}`;
  const cases: [string, string, string | null][] = [
    [
      "a footer after the last redraw is no reason",
      frame("╭──╮", "│ > │", "╰──╯", "  channels aren't available right now"),
      null,
    ],
    [
      "an error written after the last frame",
      frame("│ > │", "  ? for shortcuts") +
        "\r\nError: boom\r\n    at main (cli.js:1:1)\r\nNode.js v20.19.0\r\n",
      "Error: boom",
    ],
    [
      "an error the screen was cleared after belongs to the old screen",
      "Error: earlier trouble\r\n\x1b[2J\x1b[HClaude Code v2\r\n> ",
      null,
    ],
    [
      "claude's own refusal",
      "No conversation found with session ID: 1234\r\n",
      "No conversation found with session ID: 1234",
    ],
    [
      "colours are stripped",
      "\x1b[31mTypeError: x is not a function\x1b[0m\r\n",
      "TypeError: x is not a function",
    ],
    ["a prompt line that mentions an error is claude's drawing", "> fix this error\r\n", null],
    ["a variable name is not an error", "POOL_NOT_AN_ERROR is unset\r\n> ", null],
    ["no output", "", null],
  ];
  for (const [what, output, expected] of cases) {
    it(what, () => assert.equal(crashLine(output), expected));
  }

  it("never throws, and gives a trimmed line of the output's text or null", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (output) => {
        const line = crashLine(output);
        if (line === null) return;
        assert.ok(line.length > 0);
        assert.equal(line, line.trim());
      }),
    );
  });
});
