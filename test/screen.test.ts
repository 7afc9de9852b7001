import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ScreenModel } from "../src/pty/screen.js";
import { waitFor } from "./helpers.js";

const MiB = 1 << 20;

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
});
