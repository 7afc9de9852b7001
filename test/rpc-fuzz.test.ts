/**
 * Malformed messages against a real pool, over the control socket and the WebSocket: each one
 * gets its reply (or, past the size limit, a defined refusal), and the connection keeps working.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import fc from "fast-check";
import { WebSocket } from "ws";
import { maxBatchRequests } from "../src/rpc/server.js";
import { PoolProcess, startFakePool, tempDir } from "./helpers.js";
import { assertReplyFits, expectedReply, message } from "./jsonrpc-fuzz.js";

const count = 2_000;
const oneMiB = 1 << 20;

/** What the fuzzed messages start with: the cases that once went unanswered. */
const known = [
  "[null]",
  `[${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "pool.status" })},null,3]`,
  "null",
  "1",
  '"x"',
  "[]",
  `{"jsonrpc":"2.0","method":"pool.status","id":${"[".repeat(100_000)}${"]".repeat(100_000)}}`,
  `{"jsonrpc":"2.0","method":"pool.status","id":1,"params":${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}}`,
];

let pool: PoolProcess;
let url: string;
let token: string;

before(async () => {
  const dir = tempDir();
  pool = await startFakePool({ requestsPerSecond: 0 }, dir);
  url = /remote API: (ws:\/\/[^/\s]+)\/rpc/.exec(pool.stderr)![1];
  token = readFileSync(join(dir, "state", "claude-pool", "token"), "utf8").trim();
});

after(() => pool.stop());

/** One connection as a queue of incoming messages, whatever the transport. */
class Inbox {
  private readonly queue: string[] = [];
  private waiter: (() => void) | null = null;
  received = 0;
  push(text: string): void {
    this.queue.push(text);
    this.received++;
    this.waiter?.();
  }
  /** The next message; fails after 5 s without one. */
  async next(what: string): Promise<string> {
    if (this.queue.length === 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => (this.waiter = resolve)),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no reply in 5 s to ${JSON.stringify(what.slice(0, 200))}`)),
            5_000,
          );
        }),
      ]).finally(() => {
        clearTimeout(timer);
        this.waiter = null;
      });
    }
    return this.queue.shift()!;
  }
}

/**
 * Sends each message and waits for its reply (when one is due); ends with a status request,
 * whose reply must be the only one left: a notification answered would show as one too many.
 */
async function exchange(messages: string[], send: (text: string) => void, inbox: Inbox) {
  let due = 0;
  for (const text of messages) {
    send(text);
    if (expectedReply(text, maxBatchRequests).kind === "none") {
      assertReplyFits(text, null, maxBatchRequests);
      continue;
    }
    due++;
    assertReplyFits(text, await inbox.next(text), maxBatchRequests);
  }
  send(JSON.stringify({ jsonrpc: "2.0", id: "end", method: "pool.status" }));
  const last = JSON.parse(await inbox.next("the final status request")) as { id: unknown };
  assert.equal(last.id, "end", "no reply to a notification came in between");
  assert.equal(inbox.received, due + 1);
}

function openUnix(): Promise<{ socket: Socket; inbox: Inbox }> {
  const inbox = new Inbox();
  return new Promise((resolve, reject) => {
    const socket = connect(pool.socket, () => resolve({ socket, inbox }));
    socket.once("error", reject);
    let buffer = "";
    socket.on("data", (d: Buffer) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf("\n")) !== -1) {
        inbox.push(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
      }
    });
  });
}

async function openWs(): Promise<{ ws: WebSocket; inbox: Inbox }> {
  const inbox = new Inbox();
  const ws = new WebSocket(`${url}/rpc`, { headers: { authorization: `Bearer ${token}` } });
  ws.on("message", (d) => inbox.push(d.toString()));
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  return { ws, inbox };
}

function closeOf(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) =>
    ws.once("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
}

describe("malformed messages get a reply", () => {
  it(`over the control socket: ${count} fuzzed lines, then one over 1 MiB`, async () => {
    const { socket, inbox } = await openUnix();
    // One message per line: a newline inside would make two; a blank line is no message.
    const lines = [...known, ...fc.sample(message, count)]
      .map((m) => m.replace(/\n/g, " "))
      .filter((m) => m.trim() !== "");
    await exchange(lines, (text) => socket.write(text + "\n"), inbox);

    socket.write("x".repeat(1.5 * oneMiB) + "\n");
    const big = JSON.parse(await inbox.next("the oversized line")) as {
      id: unknown;
      error: { code: number; message: string };
    };
    assert.equal(big.id, null);
    assert.equal(big.error.code, -32600);
    assert.match(big.error.message, /larger than 1048576 bytes; send smaller messages/);
    inbox.received = 0;
    await exchange(known.slice(0, 2), (text) => socket.write(text + "\n"), inbox);
    socket.end();
  });

  it(`over the WebSocket: ${count} fuzzed frames`, async () => {
    const { ws, inbox } = await openWs();
    await exchange([...known, ...fc.sample(message, count)], (text) => ws.send(text), inbox);
    ws.close();
  });

  it("closes the WebSocket with 1009 and a reason for each frame over 1 MiB", async () => {
    const sizes = fc.sample(fc.integer({ min: oneMiB + 1, max: 2 * oneMiB }), 8);
    for (const size of sizes) {
      const { ws } = await openWs();
      const closed = closeOf(ws);
      ws.send("[".repeat(size));
      assert.deepEqual(await closed, {
        code: 1009,
        reason: "message larger than 1048576 bytes; send smaller messages",
      });
    }
  });

  it("closes the WebSocket with 1007 and a reason for a text frame that is not UTF-8", async () => {
    const { ws } = await openWs();
    const closed = closeOf(ws);
    ws.send(Buffer.from([0x22, 0xff, 0xfe, 0x22]), { binary: false });
    const { code, reason } = await closed;
    assert.equal(code, 1007);
    assert.match(reason, /not valid UTF-8/);
  });
});
