/** Which session may message which (agentMessaging), and the hop count of a message. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { hopsOf, mayMessage } from "../src/channel/agent-policy.js";

const a = { id: "aaaa0001", name: "a" };
const b = { id: "bbbb0002", name: "b" };
const c = { id: "cccc0003", name: "c" };

describe("mayMessage", () => {
  it("follows the rules by name or id, * for any, and nothing when off", () => {
    const rules = [
      { from: "a", to: ["b"] },
      { from: "cccc0003", to: ["*"] },
      { from: "*", to: ["a"] },
    ];
    const table: [typeof a, typeof a, boolean][] = [
      [a, b, true],
      [a, c, false],
      [b, a, true],
      [b, c, false],
      [c, a, true],
      [c, b, true],
    ];
    for (const [from, to, allowed] of table) {
      assert.equal(mayMessage(rules, from, to), allowed, `${from.name} → ${to.name}`);
      assert.equal(mayMessage("off", from, to), false);
    }
  });

  it("never lets a session message itself, whatever the rules", () => {
    const pattern = fc.constantFrom("*", "a", "b", "aaaa0001");
    const rule = fc.record({ from: pattern, to: fc.array(pattern, { minLength: 1 }) });
    fc.assert(
      fc.property(fc.array(rule), (rules) => {
        assert.equal(mayMessage(rules, a, a), false);
        assert.equal(mayMessage([...rules, { from: "*", to: ["*"] }], a, b), true);
      }),
    );
  });
});

describe("hopsOf", () => {
  it("reads meta.hops, 0 when absent or not a positive integer", () => {
    const metas: Record<string, string>[] = [
      { hops: "3" },
      {},
      { hops: "-1" },
      { hops: "x" },
      { hops: "1.5" },
    ];
    assert.deepEqual(metas.map(hopsOf), [3, 0, 0, 0, 0]);
  });
});
