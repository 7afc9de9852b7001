import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import {
  encodeMessage,
  encodeOutput,
  FrameDecoder,
  FrameKind,
  type Frame,
} from "../src/host/protocol.js";

type Sent =
  | { kind: "message"; value: { t: "input"; data: string } }
  | { kind: "output"; offset: number; data: Buffer };

const sent: fc.Arbitrary<Sent> = fc.oneof(
  fc.record({
    kind: fc.constant("message" as const),
    value: fc.record({ t: fc.constant("input" as const), data: fc.string({ unit: "grapheme" }) }),
  }),
  fc.record({
    kind: fc.constant("output" as const),
    offset: fc.nat({ max: 2 ** 40 }),
    data: fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
  }),
);

function encode(item: Sent): Buffer {
  return item.kind === "message" ? encodeMessage(item.value) : encodeOutput(item.offset, item.data);
}

function plain(frame: Frame): unknown {
  return frame.kind === FrameKind.Message
    ? { kind: "message", value: frame.message }
    : { kind: "output", offset: frame.offset, data: [...frame.data] };
}

describe("host protocol frames", () => {
  it("decode to what was encoded, however the stream is cut into reads", () => {
    fc.assert(
      fc.property(
        fc.array(sent, { maxLength: 20 }),
        fc.array(fc.nat({ max: 64 })),
        (items, cuts) => {
          const stream = Buffer.concat(items.map(encode));
          const decoder = new FrameDecoder();
          const frames: Frame[] = [];
          let at = 0;
          for (const cut of cuts) {
            const end = Math.min(stream.length, at + cut);
            frames.push(...decoder.push(stream.subarray(at, end)));
            at = end;
          }
          frames.push(...decoder.push(stream.subarray(at)));
          const expected = items.map((i) =>
            i.kind === "message"
              ? { kind: "message", value: { t: i.value.t, data: i.value.data } }
              : { kind: "output", offset: i.offset, data: [...i.data] },
          );
          assert.deepEqual(frames.map(plain), expected);
        },
      ),
    );
  });

  it("refuses a frame over the limit before it arrives, an unknown kind, and a message that is not JSON", () => {
    const big = Buffer.alloc(5);
    big.writeUInt8(FrameKind.Output, 0);
    big.writeUInt32BE(1000, 1);
    assert.throws(() => new FrameDecoder(999).push(big), /1000 bytes is over the limit/);
    assert.throws(
      () => new FrameDecoder().push(Buffer.from([9, 0, 0, 0, 0])),
      /unknown frame kind 9/,
    );
    const notJson = Buffer.from([FrameKind.Message, 0, 0, 0, 2, 0x7b, 0x7b]);
    assert.throws(() => new FrameDecoder().push(notJson), /not JSON/);
    const noOffset = Buffer.from([FrameKind.Output, 0, 0, 0, 2, 1, 2]);
    assert.throws(() => new FrameDecoder().push(noOffset), /no offset/);
  });
});
