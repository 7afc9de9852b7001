import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { ByteTail } from "../src/host/byte-tail.js";

describe("ByteTail", () => {
  it("keeps the whole characters of the last bytes, however the stream was cut", () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: "grapheme" }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 1, max: 17 }),
        (parts, capacity, cut) => {
          const whole = Buffer.from(parts.join(""));
          const tail = new ByteTail(capacity);
          for (let i = 0; i < whole.length; i += cut) tail.append(whole.subarray(i, i + cut));
          const text = tail.text();
          const bytes = Buffer.byteLength(text);
          assert.ok(whole.toString().endsWith(text), "a suffix of the stream");
          assert.ok(bytes <= capacity, "no more than its capacity");
          assert.ok(bytes >= Math.min(whole.length, capacity) - 3, "less only by a cut character");
        },
      ),
    );
  });
});
