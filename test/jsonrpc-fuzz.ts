/** Malformed (and some well-formed) JSON-RPC messages for property tests, and what each must get. */
import assert from "node:assert/strict";
import fc from "fast-check";

/** Methods a fuzzed request may name: harmless ones and ones that do not exist. */
const methods = ["pool.status", "pool.introspect", "nope", "", "session.", "pool.status "];

const id = fc.oneof(fc.string(), fc.integer(), fc.double({ noNaN: true }), fc.constant(null));

/** Objects that look more or less like requests: each field right, wrong or missing. */
const requestLike = fc.record(
  {
    jsonrpc: fc.oneof(fc.constant("2.0"), fc.constant("1.0"), fc.jsonValue()),
    id: fc.oneof(id, fc.jsonValue()),
    method: fc.oneof(fc.constantFrom(...methods), fc.jsonValue()),
    params: fc.oneof(fc.constant({}), fc.constant([]), fc.jsonValue()),
  },
  { requiredKeys: [] },
);

const item = fc.oneof(requestLike, fc.jsonValue(), fc.constant(null));

/** An id or params nested `depth` deep: too deep to walk recursively. */
const deep = fc.record({
  depth: fc.integer({ min: 1_000, max: 20_000 }),
  where: fc.constantFrom("id", "params"),
  open: fc.constantFrom("[", '{"a":'),
});

/** Text of one message: garbage, any JSON, request-like objects, batches, deep nesting. */
export const message: fc.Arbitrary<string> = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  requestLike.map((v) => JSON.stringify(v)),
  fc.array(item, { maxLength: 8 }).map((v) => JSON.stringify(v)),
  fc.array(item, { minLength: 99, maxLength: 102 }).map((v) => JSON.stringify(v)),
  deep.map(({ depth, where, open }) => {
    const close = open === "[" ? "]" : "}";
    const value = open.repeat(depth) + (open === "[" ? "" : "1") + close.repeat(depth);
    const rest = where === "id" ? '"method":"pool.status"' : '"method":"pool.status","id":1';
    return `{"jsonrpc":"2.0",${rest},"${where}":${value}}`;
  }),
);

/** JSON-RPC 2.0's notification: a valid request without an id (the one thing with no reply). */
function isNotification(value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return (
    !("id" in v) &&
    v.jsonrpc === "2.0" &&
    typeof v.method === "string" &&
    (v.params === undefined || (typeof v.params === "object" && v.params !== null))
  );
}

/**
 * How many responses `text` must get: null for none; 1 for a single response object; for a
 * batch an array of that many responses (as the spec says, one per item but notifications).
 */
export function expectedReply(
  text: string,
  maxBatch: number,
): { kind: "none" } | { kind: "single" } | { kind: "batch"; count: number } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: "single" };
  }
  if (!Array.isArray(value)) return isNotification(value) ? { kind: "none" } : { kind: "single" };
  if (value.length === 0 || value.length > maxBatch) return { kind: "single" };
  const count = value.filter((v) => !isNotification(v)).length;
  return count === 0 ? { kind: "none" } : { kind: "batch", count };
}

/** Asserts that `reply` is a JSON-RPC 2.0 response: a result, or an error with code and message. */
export function assertResponse(reply: unknown, context: string): void {
  assert.ok(typeof reply === "object" && reply !== null && !Array.isArray(reply), context);
  const r = reply as Record<string, unknown>;
  assert.equal(r.jsonrpc, "2.0", context);
  assert.ok("id" in r, context);
  if ("error" in r) {
    const error = r.error as { code: unknown; message: unknown };
    assert.equal(typeof error.code, "number", context);
    assert.equal(typeof error.message, "string", context);
  } else assert.ok("result" in r, context);
}

/** Asserts that `replyText` is what `text` must get. */
export function assertReplyFits(text: string, replyText: string | null, maxBatch: number): void {
  const context = `message ${JSON.stringify(text.slice(0, 200))} got ${replyText?.slice(0, 200)}`;
  const expected = expectedReply(text, maxBatch);
  if (expected.kind === "none") {
    assert.equal(replyText, null, context);
    return;
  }
  assert.notEqual(replyText, null, context);
  const reply: unknown = JSON.parse(replyText!);
  if (expected.kind === "single") {
    assertResponse(reply, context);
    return;
  }
  assert.ok(Array.isArray(reply), context);
  assert.equal(reply.length, expected.count, context);
  for (const r of reply) assertResponse(r, context);
}
