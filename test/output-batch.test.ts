import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { OutputBatch } from "../src/host/output-batch.js";

/** A batch on a clock the test moves; its deliveries, in order. */
function batchAt(start = 1000) {
  let clock = start;
  const delivered: Buffer[] = [];
  const batch = new OutputBatch(
    (data) => delivered.push(data),
    () => clock,
  );
  return { batch, delivered, advance: (ms: number) => (clock += ms) };
}

describe("OutputBatch", () => {
  it("delivers every byte once, in order, and never an empty batch", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 70_000 }), fc.nat({ max: 5 })), {
          maxLength: 30,
        }),
        (reads) => {
          const { batch, delivered, advance } = batchAt();
          const sent: Buffer[] = [];
          reads.forEach(([size, ms], i) => {
            advance(ms);
            const data = Buffer.alloc(size, i % 251);
            sent.push(data);
            batch.push(data);
          });
          batch.flush();
          assert.deepEqual(Buffer.concat(delivered), Buffer.concat(sent));
          assert.ok(delivered.every((d) => d.length > 0));
        },
      ),
    );
  });

  it("delivers output after a quiet moment at once, and a burst's next reads together", () => {
    const { batch, delivered, advance } = batchAt();
    batch.push(Buffer.from("a"));
    assert.deepEqual(delivered.map(String), ["a"]);
    advance(0.5);
    batch.push(Buffer.from("b"));
    batch.push(Buffer.from("c"));
    assert.deepEqual(delivered.map(String), ["a"], "within the window: held");
    batch.flush();
    assert.deepEqual(delivered.map(String), ["a", "bc"]);
    advance(5);
    batch.push(Buffer.from("d"));
    assert.deepEqual(delivered.map(String), ["a", "bc", "d"]);
    batch.dispose();
  });

  it("delivers held reads by itself within the window", async () => {
    const deliveries: string[] = [];
    let got: () => void = () => {};
    const second = new Promise<void>((resolve) => (got = resolve));
    const batch = new OutputBatch((data) => {
      deliveries.push(String(data));
      if (deliveries.length === 2) got();
    });
    batch.push(Buffer.from("first"));
    batch.push(Buffer.from("second"));
    const deadline = setTimeout(() => assert.fail(`only ${JSON.stringify(deliveries)}`), 2000);
    await second;
    clearTimeout(deadline);
    assert.deepEqual(deliveries, ["first", "second"]);
  });

  it("delivers a large burst at once, so flow control sees it", () => {
    const { batch, delivered, advance } = batchAt();
    batch.push(Buffer.alloc(10));
    advance(0.1);
    batch.push(Buffer.alloc(200 * 1024));
    assert.equal(delivered.length, 1);
    batch.push(Buffer.alloc(100 * 1024));
    assert.equal(delivered.length, 2);
    assert.equal(delivered[1].length, 300 * 1024);
  });
});
