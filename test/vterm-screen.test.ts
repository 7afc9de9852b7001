import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ScreenModel } from "./xterm-screen.js";
import { repoRoot, tempDir } from "./helpers.js";

/** The host's screen model alone (native/vterm-screen.c), compiled with a probe that drives it. */
const probe = join(tempDir(), "vterm-screen-probe");
execFileSync("gcc", [
  "-O2",
  "-o",
  probe,
  ...["vterm-screen.c", "buf.c", "utf8.c", "test/vterm-screen-probe.c"].map((f) =>
    join(repoRoot, "native", f),
  ),
  "-Wl,-Bstatic",
  "-lvterm",
  "-ljansson",
  "-Wl,-Bdynamic",
]);

interface Dump {
  lines: string[];
  all: string[];
  snapshot: string;
  bracketedPaste: boolean;
}

type Step = { feed: string } | { resize: [number, number] };

function record(op: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(op, 0);
  head.writeUInt32BE(payload.length, 1);
  return Buffer.concat([head, payload]);
}

/** What the model shows after `steps` (bytes as latin1 strings), at `cols` × `rows`. */
function model(cols: number, rows: number, steps: Step[]): Dump {
  const input = Buffer.concat([
    ...steps.map((step) =>
      "feed" in step
        ? record(1, Buffer.from(step.feed, "latin1"))
        : record(2, Buffer.from(`${step.resize[0]}x${step.resize[1]}`)),
    ),
    record(3, Buffer.alloc(0)),
  ]);
  const out = execFileSync(probe, [String(cols), String(rows), String(1 << 20)], { input });
  return JSON.parse(out.toString("utf8")) as Dump;
}

/** Bytes cut into feeds at `cuts`. */
function cut(bytes: string, cuts: number[]): Step[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const steps: Step[] = [];
  let from = 0;
  for (const to of [...at, bytes.length]) {
    steps.push({ feed: bytes.slice(from, to) });
    from = to;
  }
  return steps;
}

const utf8 = (text: string) => Buffer.from(text, "utf8").toString("latin1");

/** Every line xterm (the supervisor's model before the native host) keeps. */
async function xterm(cols: number, rows: number, bytes: string): Promise<string[]> {
  const screen = new ScreenModel(cols, rows, 1 << 22);
  screen.write(Buffer.from(bytes, "latin1"));
  await screen.flushed();
  const lines = screen.lines(true);
  screen.dispose();
  return lines;
}

/** Without the blank lines at the end, which only a taller buffer has. */
const trimmed = (lines: string[]) => {
  const out = [...lines];
  while (out.length > 0 && out[out.length - 1] === "") out.pop();
  return out;
};

const claudeLike = fc
  .array(
    fc.oneof(
      fc.constantFrom("hello", "Claude", "日本語", "✻ Thinking…", "e\u0301", "│ box │", "> "),
      fc.constantFrom(
        "\r\n",
        "\r",
        "\x1b[K",
        "\x1b[2K",
        "\x1b[J",
        "\x1b[1m",
        "\x1b[0m",
        "\x1b[38;5;208m",
        "\x1b[48;2;10;20;30m",
        "\x1b[31;1;4m",
        "\x1b[7m",
        "\x1b[s",
        "\x1b[u",
        "\x1b[A",
        "\x1b[2C",
        "\x1b[?25l",
        "\x1b[?2004h",
      ),
      fc
        .tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 40 }))
        .map(([r, c]) => `\x1b[${r};${c}H`),
    ),
    { maxLength: 60 },
  )
  .map((parts) => utf8(parts.join("")));

/** A flood of lines, some longer than the screen, with what changes how a line is written. */
const floodLike = fc
  .array(
    fc.oneof(
      { weight: 6, arbitrary: fc.string({ maxLength: 45 }).map((line) => `${line}\r\n`) },
      fc.constantFrom(
        "\x1b[31m",
        "\x1b[0m",
        "\x1b[44;1m",
        "\x1b[3;8r",
        "\x1b[r",
        "\x1b[4h",
        "\x1b[4l",
        "\x1b[20;4h",
        "\x1b%G",
        "\x1b]0;title\r\n",
        "\x07",
        "\x1bP1$r",
        "\x1b\\",
        "\x1b[?1048h",
        "\x1b[?1048l",
        "\x18",
        "\x1b\x18",
        "\x1b[4$l",
        "\x1b(B",
        "\x0f",
        "\x1bc",
        "\x1b[?7l",
        "\x1b[?7h",
        "\x1b[12;1H",
        "\x1b[12;5H",
        "\x1b[K",
        "\x1b#6",
        '\x1b[1"q',
        '\x1b[0"q',
        "日本語\r\n",
        "e\u0301",
      ),
    ),
    { maxLength: 80 },
  )
  .chain((parts) =>
    // On the alternate screen, from the start (libvterm and xterm differ at a second switch).
    fc.boolean().map((alt) => utf8((alt ? "\x1b[?1049h" : "") + parts.join(""))),
  );

describe("the host's screen model (native/vterm-screen.c)", () => {
  it("shows the same however the output is cut into reads", () => {
    fc.assert(
      fc.property(
        claudeLike,
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 40 }),
        (text, cuts, noise) => {
          const bytes = text + String.fromCharCode(...noise);
          assert.deepEqual(model(40, 12, [{ feed: bytes }]), model(40, 12, cut(bytes, cuts)));
        },
      ),
      { numRuns: 150 },
    );
  });

  it("reads claude-like output as xterm does, scrollback included", async () => {
    await fc.assert(
      fc.asyncProperty(claudeLike, async (bytes) => {
        const dump = model(40, 12, [{ feed: bytes }]);
        assert.deepEqual(trimmed(dump.all), trimmed(await xterm(40, 12, bytes)));
      }),
      { numRuns: 150 },
    );
  });

  it("reads a flood of lines as xterm does, however it is cut, colours included", async () => {
    await fc.assert(
      fc.asyncProperty(floodLike, fc.array(fc.nat(), { maxLength: 8 }), async (bytes, cuts) => {
        const dump = model(40, 12, [{ feed: bytes }]);
        assert.deepEqual(trimmed(dump.all), trimmed(await xterm(40, 12, bytes)));
        assert.deepEqual(trimmed(await xterm(40, 12, utf8(dump.snapshot))), trimmed(dump.all));
        assert.deepEqual(model(40, 12, cut(bytes, cuts)), dump);
      }),
      { numRuns: 150 },
    );
  });

  it("snapshots what xterm and the model itself redraw the same, scrollback included", async () => {
    await fc.assert(
      fc.asyncProperty(claudeLike, async (bytes) => {
        const dump = model(40, 12, [{ feed: bytes }]);
        assert.deepEqual(trimmed(await xterm(40, 12, utf8(dump.snapshot))), trimmed(dump.all));
        assert.deepEqual(model(40, 12, [{ feed: utf8(dump.snapshot) }]).all, dump.all);
      }),
      { numRuns: 150 },
    );
  });

  it("keeps an erased screen in the scrollback (ED 2) and clears the scrollback (ED 3, RIS)", () => {
    const erased = model(20, 3, [{ feed: "one\r\ntwo\x1b[2J\x1b[Hthree" }]);
    assert.deepEqual(erased.all, ["one", "two", "three", "", ""]);
    const cleared = model(20, 3, [{ feed: "a\r\nb\r\nc\r\nd\r\ne\x1b[3J" }]);
    assert.deepEqual(cleared.all, cleared.lines);
    const reset = model(20, 3, [{ feed: "a\r\nb\r\nc\r\nd\r\ne\x1bcx" }]);
    assert.deepEqual(reset.all, ["x", "", ""], "a reset (RIS) clears it too, as xterm.js's does");
    const back = model(20, 3, [{ feed: "ab\x1b[?1049hx" }, { feed: "\x1b[?1049l\x1b[2J" }]);
    assert.deepEqual(back.all, ["ab", "", "", ""], "the main screen's, once back on it");
  });

  it("bounds the scrollback by its bytes, blank lines too", () => {
    const { all } = model(20, 2, [{ feed: "\n".repeat(200_000) }]);
    assert.ok(all.length < 100_000, `${all.length} lines kept of 200,000`);
  });

  it("scrolls as xterm does: regions, reverse index, SU and SD, inserts and deletes, wide characters", async () => {
    const cases = [
      "1\r\n2\r\n3\r\n4\r\n5\x1b[2;4r\x1b[4;1H\n\nX\x1b[r\x1b[6;1Hend",
      "a\r\nb\r\nc\x1b[1;1H\x1bM\x1bMtop",
      "1\r\n2\r\n3\r\n4\r\n5\r\n6\r\n7\x1b[2S\x1b[1T",
      "abcdef\x1b[1;3H\x1b[2@\x1b[1;1H\x1b[1P\x1b[1;5H\x1b[2X",
      utf8("日本語\x1b[1;2Hx\x1b[1;5Hy"),
      utf8("   日本語\r\nClaude\x1bMhello"),
      utf8("日本語\x1b[1;1H\x1b[1X"),
      utf8("日本語\x1b[1;1H\x1b[1P"),
      Array.from({ length: 30 }, (_, i) => `line ${i}`).join("\r\n"),
      // Lines at the bottom in the line-drawing charset, and in insert mode.
      `${"\r\n".repeat(8)}\x1b(0qqq\r\nxq\r\n\x1b(Bqx\r\n`,
      `${"\r\n".repeat(8)}abc\x1b[A\r\x1b[4hXY\r\n\x1b[4l`,
      `${"\r\n".repeat(8)}abc\x1b[A\r\x1b[20;4hXY\r\n\x1b[4l`,
      // And lines inside an escape with an intermediate, and inside strings.
      `${"\r\n".repeat(8)}\x1b%Gabc\r\n\x1b]0;title\r\nmore\x07x\r\n\x1bP1$rab\r\nc\x1b\\y\r\n`,
      // An insertion moves a wide character whole.
      utf8("a中b\x1b[1;1H\x1b[2@"),
      utf8("あいう\x1b[1;2H\x1b[@"),
      // A string cut short ends where xterm.js ends it, and what follows is not in it.
      "\r\n\x1b]0;t\x1b\x18abc\r\ndef\r\nxyz\r\nuvw\r\n",
      "\x1bP1$q\x1b\x1axyz\x1b]0;t\x1b[3Jabc",
      // Modes in one sequence: each is set.
      `m\x1b[?25;7l${"A".repeat(24)}B\x1b[?7h`,
      // A mode with an intermediate is another mode.
      "\r\n\r\nQQQ\r\x1b[4h\x1b[4$lab\r\n",
    ];
    for (const bytes of cases) {
      assert.deepEqual(
        trimmed(model(20, 6, [{ feed: bytes }]).all),
        trimmed(await xterm(20, 6, bytes)),
        JSON.stringify(bytes),
      );
    }
  });

  it("erases as xterm does: nothing right of a line just filled, wide characters whole", async () => {
    const row2 = "\x1b[2;1Hbelow";
    const cases = [
      utf8("\x1b[1;20He\u0301\x1b[K"),
      `\x1b[1;19Hab\x1b[31m\x1b[0K${row2}`,
      `${row2}\x1b[1;1H${"x".repeat(20)}\x1b[J`,
      `${row2}\x1b[1;1H${"x".repeat(20)}\x1b[?25l\x1b[0J`,
      "\x1b[1;19Hab\x1b[s\x1b[K",
      // Once the cursor moves, even to where it was, the erase takes the last column.
      "\x1b[1;19Hab\x1b[s\x1b[1;1Hx\x1b[u\x1b[K",
      `\x1b[1;20Hx\x1b[1;20H\x1b[K`,
      `${row2}\x1b[1;1H${"x".repeat(20)}\r\x1b[19C\x1b[J`,
      `\x1b[1;20Hx\x1b[1K`,
      // A control moves the cursor back onto the line.
      `${"x".repeat(20)}\r\x1b[K`,
      `${"x".repeat(20)}\b\x1b[K`,
      `${"x".repeat(20)}\x07\x1b=\x1b]8;;http://x\x1b\\\x1b[K`,
      `abcdefghij\x1b[1;5H\x1b[?1048h\x1b[2;1H${"x".repeat(20)}\x1b[?1048l\x1b[K`,
      // A wide character erased in half is erased whole.
      utf8("日本語\x1b[1;2H\x1b[J"),
      utf8("日本語\x1b[1;3H\x1b[1K"),
      utf8('\x1b[1"q日本\x1b[0"q\x1b[1;2H\x1b[K'),
    ];
    for (const bytes of cases) {
      assert.deepEqual(
        trimmed(model(20, 4, [{ feed: bytes }]).all),
        trimmed(await xterm(20, 4, bytes)),
        JSON.stringify(bytes),
      );
    }
  });

  it("saves and restores the cursor with CSI s and CSI u, as xterm does", () => {
    const dump = model(20, 3, [{ feed: "\x1b[2;5Hab\x1b[s\x1b[1;1Hx\x1b[ucd" }]);
    assert.deepEqual(dump.lines, ["x", "    abcd", ""]);
  });

  it("puts back together a character cut between two reads", () => {
    assert.deepEqual(model(20, 2, cut(utf8("日本"), [1, 4])).lines, ["日本", ""]);
    // A combining mark in the next read joins a character that filled the line.
    const accent = utf8("\x1b[1;20He\u0301");
    for (const at of [accent.length - 2, accent.length - 1]) {
      assert.deepEqual(model(20, 2, cut(accent, [at])).lines, [`${" ".repeat(19)}e\u0301`, ""]);
    }
  });

  it("survives what crashes or hangs libvterm 0.1: 16+ parameters, REP, a region below a shrunk screen", () => {
    const many = `\x1b[${Array.from({ length: 40 }, (_, i) => i).join(";")}mafter`;
    assert.deepEqual(model(20, 2, [{ feed: many }]).lines, ["after", ""]);
    assert.equal(model(20, 2, [{ feed: utf8("\u0301\x1b[99999b.") }]).lines[0].at(-1), ".");
    const region = model(20, 10, [
      { feed: "\x1b[5;10r\x1b[10;1H" },
      { resize: [20, 4] },
      { feed: "\n\n\nend" },
    ]);
    assert.equal(region.lines.at(-1), "end");
  });

  it("tells bracketed paste on and off, and the snapshot keeps it", () => {
    const on = model(20, 2, [{ feed: "\x1b[?2004h" }]);
    assert.equal(on.bracketedPaste, true);
    assert.equal(model(20, 2, [{ feed: utf8(on.snapshot) }]).bracketedPaste, true);
    assert.equal(model(20, 2, [{ feed: "\x1b[?2004h\x1b[?2004l" }]).bracketedPaste, false);
  });
});
