/** The JSON-RPC 2.0 layer on its own: every request answered, batches, the rate limit. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { allScopes } from "../src/auth/scopes.js";
import { silentLogger } from "../src/log.js";
import { RateLimiter } from "../src/rpc/rate-limit.js";
import { MethodRegistry, type CallerContext } from "../src/rpc/registry.js";
import { maxBatchRequests, RpcServer } from "../src/rpc/server.js";
import { assertReplyFits, message } from "./jsonrpc-fuzz.js";

const registry = new MethodRegistry<CallerContext>()
  .method("pool.status", {
    description: "",
    scope: "read",
    params: { type: "object", additionalProperties: false },
    result: {},
    handler: () => ({ status: "ok" }),
  })
  .method("pool.introspect", {
    description: "",
    scope: "read",
    params: {},
    result: {},
    handler: async () => ({ methods: [] }),
  });
const rpc = new RpcServer(registry, silentLogger);
const context: CallerContext = { caller: { name: "test", scopes: allScopes } };

async function call(value: unknown, limiter?: RateLimiter): Promise<unknown> {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  const reply = await rpc.handle(text, context, limiter);
  return reply === null ? null : JSON.parse(reply);
}

const status = (id: unknown) => ({ jsonrpc: "2.0", id, method: "pool.status" });
const codeOf = (reply: unknown) => (reply as { error?: { code: number } }).error?.code;

describe("RpcServer", () => {
  it("answers each invalid item of a batch with its own error, null included", async () => {
    const reply = (await call([status(1), null, 5, status(2)])) as Record<string, unknown>[];
    assert.equal(reply.length, 4);
    assert.deepEqual(
      reply.map((r) => [r.id, codeOf(r) ?? "ok"]),
      [
        [1, "ok"],
        [null, -32600],
        [null, -32600],
        [2, "ok"],
      ],
    );
    assert.match(
      (reply[1].error as { message: string }).message,
      /a request is a JSON object, not null; send \{"jsonrpc":"2.0"/,
    );
  });

  it("answers a batch with an array, even of one", async () => {
    assert.deepEqual(await call([status(7)]), [
      { jsonrpc: "2.0", id: 7, result: { status: "ok" } },
    ]);
  });

  it("answers valid JSON that is not a request with -32600, invalid JSON with -32700", async () => {
    for (const scalar of ["null", "1", '"x"', "true"]) {
      const reply = await call(scalar);
      assert.equal(codeOf(reply), -32600, scalar);
    }
    const parse = await call("{ not json");
    assert.equal(codeOf(parse), -32700);
    assert.equal((parse as { id: unknown }).id, null);
  });

  it("answers an id nested 100,000 deep with -32600 and id null", async () => {
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    const reply = await call(`{"jsonrpc":"2.0","method":"pool.status","id":${deep}}`);
    assert.equal(codeOf(reply), -32600);
    assert.equal((reply as { id: unknown }).id, null);
  });

  it("answers the empty batch with one -32600, and notifications with nothing", async () => {
    const empty = await call([]);
    assert.ok(!Array.isArray(empty));
    assert.equal(codeOf(empty), -32600);
    assert.match((empty as { error: { message: string } }).error.message, /the batch is empty/);
    assert.equal(await call({ jsonrpc: "2.0", method: "pool.status" }), null);
    assert.equal(await call({ jsonrpc: "2.0", method: "nope" }), null);
    assert.equal(await call([{ jsonrpc: "2.0", method: "pool.status" }]), null);
  });

  it(`refuses a batch of more than ${maxBatchRequests} requests whole, and says so`, async () => {
    const full = (await call(Array.from({ length: maxBatchRequests }, (_, i) => status(i)))) as [];
    assert.equal(full.length, maxBatchRequests);
    const over = await call(Array.from({ length: maxBatchRequests + 1 }, (_, i) => status(i)));
    assert.equal(codeOf(over), -32600);
    assert.match(
      (over as { error: { message: string } }).error.message,
      /a batch of 101 requests is over the limit of 100; split it into smaller batches/,
    );
  });

  it("counts each request of a batch against the rate limit", async () => {
    const limiter = new RateLimiter(() => 10);
    const reply = (await call(
      Array.from({ length: 30 }, (_, i) => status(i)),
      limiter,
    )) as Record<string, unknown>[];
    const limited = reply.filter((r) => codeOf(r) === -32000);
    assert.equal(reply.length, 30, "the refused ones are answered too");
    assert.ok(limited.length >= 9 && limited.length <= 10, `${limited.length} refused`);
    assert.match(
      (limited[0].error as { message: string }).message,
      /rate limit of 10 requests\/s exceeded/,
    );
    assert.deepEqual(
      reply.map((r) => r.id),
      Array.from({ length: 30 }, (_, i) => i),
    );
  });

  it("gives every message the reply JSON-RPC 2.0 says (property)", async () => {
    await fc.assert(
      fc.asyncProperty(message, async (text) => {
        assertReplyFits(text, await rpc.handle(text, context), maxBatchRequests);
      }),
      { numRuns: 1_000 },
    );
  });
});

describe("RateLimiter", () => {
  it("follows a changed rate at once, 0 meaning no limit", () => {
    let rate = 2;
    const limiter = new RateLimiter(() => rate);
    const burst = () => Array.from({ length: 50 }, () => limiter.take()).filter(Boolean).length;
    assert.equal(burst(), 4);
    rate = 0;
    assert.equal(burst(), 50);
    rate = 5;
    assert.equal(burst(), 10);
  });
});
