import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  decodeOutput,
  encodeOutput,
  recordHeader,
  StreamReader,
} from "../src/rpc/output-frames.js";

type Item = { kind: "line"; text: string } | { kind: "record"; id: string; data: number[] };

const item: fc.Arbitrary<Item> = fc.oneof(
  fc.record({
    kind: fc.constant("line" as const),
    text: fc.json().map((text) => text.replace(/\n/g, " ")),
  }),
  fc.record({
    kind: fc.constant("record" as const),
    id: fc.string({ unit: "grapheme", maxLength: 40 }),
    data: fc.array(fc.constantFrom(0x00, 0x0a, 0x1b, 0x41, 0xc3, 0xff), { maxLength: 200 }),
  }),
);

/** The bytes the pool writes on the Unix socket for these items. */
function stream(items: Item[]): Buffer {
  return Buffer.concat(
    items.map((i) => {
      if (i.kind === "line") return Buffer.from(i.text + "\n");
      const message = encodeOutput(i.id, [Buffer.from(i.data)]);
      return Buffer.concat([recordHeader(message.length), message]);
    }),
  );
}

function read(bytes: Buffer, cuts: number[], maxBytes = 1 << 20) {
  const got: Item[] = [];
  let oversized = 0;
  const reader = new StreamReader(
    {
      line: (text) => got.push({ kind: "line", text }),
      record: (message) => {
        const out = decodeOutput(message);
        assert.ok(out, "a record holds an id");
        got.push({ kind: "record", id: out.id, data: [...out.data] });
      },
      oversized: () => oversized++,
    },
    maxBytes,
  );
  let at = 0;
  for (const cut of [...cuts.map((c) => c % (bytes.length + 1))].sort((a, b) => a - b)) {
    reader.push(bytes.subarray(at, cut));
    at = cut;
  }
  reader.push(bytes.subarray(at));
  return { got, oversized };
}

describe("binary output on the Unix socket", () => {
  it("lines and records come out as they went in, however the stream is cut into reads", () => {
    fc.assert(
      fc.property(
        fc.array(item, { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (items, cuts) => {
          const { got, oversized } = read(stream(items), cuts);
          assert.equal(oversized, 0);
          // a blank line is no message
          assert.deepEqual(
            got,
            items.filter((i) => i.kind === "record" || i.text.trim() !== "").map((i) => ({ ...i })),
          );
        },
      ),
    );
  });

  it("a record or a line over the cap ends the stream", () => {
    const big = stream([{ kind: "record", id: "s", data: new Array(100).fill(0x41) }]);
    assert.deepEqual(read(big, [3], 50), { got: [], oversized: 1 });
    assert.equal(read(big, [], 200).oversized, 0);
    const line = Buffer.from(`${"x".repeat(300)}\n{"a":1}\n`);
    assert.deepEqual(read(line, [150], 200), { got: [], oversized: 1 });
  });

  it("an id is at most 255 bytes, and a message too short for its id decodes to null", () => {
    assert.throws(() => encodeOutput("é".repeat(128), []), /too long/);
    assert.equal(decodeOutput(Buffer.of(5, 0x61)), null);
    assert.equal(decodeOutput(Buffer.alloc(0)), null);
    assert.deepEqual(decodeOutput(encodeOutput("", [])), { id: "", data: Buffer.alloc(0) });
  });
});
