import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { allScopes } from "../src/auth/scopes.js";
import { Peer, pressBytes, pressMs } from "../src/rpc/peer.js";
import { waitFor } from "./helpers.js";

/** A peer over a transport whose backlog the test sets, with the pressure it reports. */
async function attachedPeer() {
  let buffered = 0;
  const drains: (() => void)[] = [];
  const pressure: boolean[] = [];
  const outputs: string[] = [];
  const peer = new Peer(
    {
      label: "test",
      send: (text) => {
        const message = JSON.parse(text) as { method: string; params: { data: string } };
        if (message.method === "session.output") outputs.push(message.params.data);
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
  await peer.attach("s1", false);
  await new Promise((resolve) => setImmediate(resolve));
  return {
    peer,
    pressure,
    outputs,
    backlog: (bytes: number) => (buffered = bytes),
    drain: () => drains.forEach((listener) => listener()),
  };
}

describe("an attached client that reads slowly", () => {
  it("holds its session's output back until it drains, and misses nothing", async () => {
    const t = await attachedPeer();
    t.peer.output("s1", "a", 1);
    assert.deepEqual(t.pressure, [], "under the mark, nothing is held");
    t.backlog(pressBytes + 1);
    t.peer.output("s1", "b", 2);
    t.peer.output("s1", "c", 3);
    assert.deepEqual(t.pressure, [true], "held once over the mark");
    t.backlog(0);
    t.drain();
    assert.deepEqual(t.pressure, [true, false], "let go once drained");
    await waitFor("the output sent", () => t.outputs.join("") === "abc");
  });

  it("is behind once it has not drained in time: let go, its output dropped until it catches up", async () => {
    const t = await attachedPeer();
    t.backlog(pressBytes + 1);
    t.peer.output("s1", "a", 1);
    await waitFor("the deadline", () => t.pressure.length === 2, pressMs * 4);
    assert.deepEqual(t.pressure, [true, false]);
    t.peer.output("s1", "lost", 2);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(t.outputs, ["a"], "behind: dropped");
    // Caught up, it is redrawn and live again; its time to hold the session back is spent.
    t.backlog(0);
    t.drain();
    await waitFor("the redraw", () => t.outputs.length === 2);
    t.backlog(pressBytes + 1);
    t.peer.output("s1", "b", 3);
    assert.deepEqual(t.pressure, [true, false], "no second press at once");
  });

  it("lets go when it detaches or closes", async () => {
    const t = await attachedPeer();
    t.backlog(pressBytes + 1);
    t.peer.output("s1", "a", 1);
    t.peer.detach("s1");
    assert.deepEqual(t.pressure, [true, false]);
    const u = await attachedPeer();
    u.backlog(pressBytes + 1);
    u.peer.output("s1", "a", 1);
    u.peer.close();
    assert.deepEqual(u.pressure, [true, false]);
  });
});
