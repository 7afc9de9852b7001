import type { Pool } from "../pool.js";
import type { Peer } from "./peer.js";

/** Fans the pool's events out to connected peers, whatever transport they came in on. */
export class SignalRouter {
  private readonly peers = new Set<Peer>();

  constructor(pool: Pool) {
    pool.on("session.changed", (session) => {
      for (const peer of this.peers) peer.signal("session.changed", { session });
    });
    pool.on("session.removed", (id) => {
      for (const peer of this.peers) {
        peer.forget(id);
        peer.signal("session.removed", { id });
      }
    });
    pool.on("session.output", (id, data) => {
      for (const peer of this.peers) peer.output(id, data);
    });
  }

  add(peer: Peer): void {
    this.peers.add(peer);
  }

  delete(peer: Peer): void {
    peer.close();
    this.peers.delete(peer);
  }
}
