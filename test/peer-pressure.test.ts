import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { allScopes } from "../src/auth/scopes.js";
import { decodeOutput } from "../src/rpc/output-frames.js";
import { Peer, pressBytes, pressMs } from "../src/rpc/peer.js";
import { waitFor } from "./helpers.js";

/** Output of session s1, as the pool gives it: text and the same bytes. */
const output = (peer: Peer, text: string, offset: number) =>
  peer.output("s1", text, offset, Buffer.from(text));

/** A peer over a transport whose backlog the test sets, with the pressure it reports. */
async function attachedPeer(binary = false) {
  let buffered = 0;
  const drains: (() => void)[] = [];
  const pressure: boolean[] = [];
  const outputs: string[] = [];
  const peer = new Peer(
    {
      label: "test",
      send: (text) => {
        const message = JSON.parse(text) as {
          method: string;
          params: { data: string; resync?: boolean };
        };
        if (message.method !== "session.output") return;
        assert.ok(!binary || message.params.resync, "a binary attach got text output");
        outputs.push(message.params.data);
      },
      sendOutput: (message) => {
        assert.ok(binary, "a text attach got binary output");
        const out = decodeOutput(message);
        assert.ok(out && out.id === "s1", "binary output of s1");
        outputs.push(out.data.toString());
      },
      bufferedBytes: () => buffered,
      onDrain: (listener) => drains.push(listener),
    },
    () => Promise.resolve({ data: "", cols: 80, rows: 24, offset: 0 }),
    { name: "local", tokenId: "local", scopes: allScopes },
  );
  peer.onPressure = (id, on) => {
    assert.equal(id, "s1");
    pressure.push(on);
  };
  await peer.attach("s1", false, binary);
  await new Promise((resolve) => setImmediate(resolve));
  return {
    peer,
    pressure,
    outputs,
    backlog: (bytes: number) => (buffered = bytes),
    drain: () => drains.forEach((listener) => listener()),
  };
}

for (const binary of [false, true]) {
  describe(`an attached client that reads slowly (${binary ? "binary" : "text"} output)`, () => {
    it("holds its session's output back until it drains, and misses nothing", async () => {
      const t = await attachedPeer(binary);
      output(t.peer, "a", 1);
      assert.deepEqual(t.pressure, [], "under the mark, nothing is held");
      t.backlog(pressBytes + 1);
      output(t.peer, "b", 2);
      output(t.peer, "c", 3);
      assert.deepEqual(t.pressure, [true], "held once over the mark");
      t.backlog(0);
      t.drain();
      assert.deepEqual(t.pressure, [true, false], "let go once drained");
      await waitFor("the output sent", () => t.outputs.join("") === "abc");
    });

    it("is behind once it has not drained in time: let go, its output dropped until it catches up", async () => {
      const t = await attachedPeer(binary);
      t.backlog(pressBytes + 1);
      output(t.peer, "a", 1);
      await waitFor("the deadline", () => t.pressure.length === 2, pressMs * 4);
      assert.deepEqual(t.pressure, [true, false]);
      output(t.peer, "lost", 2);
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(t.outputs, ["a"], "behind: dropped");
      // Caught up, it is redrawn and live again; its time to hold the session back is spent.
      t.backlog(0);
      t.drain();
      await waitFor("the redraw", () => t.outputs.length === 2);
      t.backlog(pressBytes + 1);
      output(t.peer, "b", 3);
      assert.deepEqual(t.pressure, [true, false], "no second press at once");
    });

    it("lets go when it detaches or closes", async () => {
      const t = await attachedPeer(binary);
      t.backlog(pressBytes + 1);
      output(t.peer, "a", 1);
      t.peer.detach("s1");
      assert.deepEqual(t.pressure, [true, false]);
      const u = await attachedPeer(binary);
      u.backlog(pressBytes + 1);
      output(u.peer, "a", 1);
      u.peer.close();
      assert.deepEqual(u.pressure, [true, false]);
    });
  });
}
