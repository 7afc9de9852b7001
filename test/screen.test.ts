import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ScreenModel, scrollbackLines } from "../src/pty/screen.js";
import { waitFor } from "./helpers.js";

const MiB = 1 << 20;
/** The estimate scrollbackLines documents: 12 bytes a cell and 420 a line. */
const lineBytes = (cols: number) => cols * 12 + 420;

/** Writes `bytes` of full-width numbered lines. */
async function fill(screen: ScreenModel, bytes: number): Promise<void> {
  const cols = screen.cols;
  for (let n = 0, written = 0; written < bytes; n++) {
    const line = `line ${n} `.padEnd(cols - 2, "x") + "\r\n";
    screen.write(line);
    written += line.length;
  }
  await screen.flushed();
}

describe("screen model", () => {
  it("reports a write xterm refuses instead of throwing, and still acknowledges it", async () => {
    const errors: Error[] = [];
    const screen = new ScreenModel(120, 40, MiB, (err) => errors.push(err));
    let parsed = 0;
    const chunk = "a".repeat(MiB);
    // xterm refuses writes while more than 50 MB wait to be parsed
    for (let i = 0; i < 50; i++) screen.write(chunk, () => parsed++);
    assert.ok(errors.length > 0);
    assert.match(errors[0].message, /write data discarded/);
    await waitFor("every write acknowledged", () => parsed === 50);
    screen.dispose();
  });

  it("keeps no more lines than scrollbackBytes pays for", async () => {
    const screen = new ScreenModel(120, 40, MiB);
    await fill(screen, 10 * MiB);
    const kept = screen.lines(true);
    assert.equal(kept.length, 40 + scrollbackLines(MiB, 120, 40));
    assert.ok(kept.length * lineBytes(120) <= MiB);
    assert.match(kept.at(-2)!, /^line \d+ x+$/);
    screen.dispose();
  });

  it("bounds the history again at a new width", async () => {
    const screen = new ScreenModel(120, 40, MiB);
    await fill(screen, 2 * MiB);
    screen.resize(300, 40);
    assert.ok(screen.lines(true).length <= 40 + scrollbackLines(MiB, 300, 40));
    screen.resize(40, 20);
    await fill(screen, 2 * MiB);
    assert.equal(screen.lines(true).length, 20 + scrollbackLines(MiB, 40, 20));
    screen.dispose();
  });

  it("property: the lines kept fit in scrollbackBytes, and one more would not", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1024, max: 64 * MiB }),
        fc.integer({ min: 2, max: 1000 }),
        fc.integer({ min: 2, max: 1000 }),
        (bytes, cols, rows) => {
          const lines = scrollbackLines(bytes, cols, rows);
          assert.ok(Number.isInteger(lines) && lines >= 0);
          if (lines > 0) assert.ok((rows + lines) * lineBytes(cols) <= bytes);
          assert.ok((rows + lines + 1) * lineBytes(cols) > bytes);
        },
      ),
    );
  });
});
