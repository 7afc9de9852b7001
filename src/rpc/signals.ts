import { hasScope } from "../auth/scopes.js";
import type { ChannelHub } from "../channel/hub.js";
import type { Pool } from "../pool.js";
import type { Scheduler } from "../schedule/scheduler.js";
import type { Peer } from "./peer.js";

/** Fans the pool's and the channel bridge's events out to connected peers, whatever their transport. */
export class SignalRouter {
  private readonly peers = new Set<Peer>();
  /** For each session, the peers holding its output back while they catch up. */
  private readonly pressing = new Map<string, Set<Peer>>();

  constructor(
    private readonly pool: Pool,
    private readonly hub: ChannelHub<Peer> | null = null,
    scheduler: Scheduler<Peer> | null = null,
  ) {
    pool.on("session.changed", (session) => this.broadcast("session.changed", { session }));
    pool.on("session.removed", (id) => {
      for (const peer of this.peers) {
        peer.forget(id);
        peer.signal("session.removed", { id });
      }
    });
    pool.on("session.output", (id, data, offset, bytes) => {
      for (const peer of this.peers) peer.output(id, data, offset, bytes);
    });
    pool.on("turn.started", (id, turn) => this.broadcast("turn.started", { id, turn }));
    pool.on("turn.delta", (id, turnId, text) => this.broadcast("turn.delta", { id, turnId, text }));
    pool.on("turn.ended", (id, turn) => this.broadcast("turn.ended", { id, turn }));
    scheduler?.on("fired", (name, messageId) =>
      this.broadcast("schedule.fired", { name, messageId }),
    );
    if (!hub) return;
    hub.on("message", (message) =>
      this.broadcast("channel.message", { id: message.sessionId, message }),
    );
    hub.on("reply", (id, chatId, text, messageIds) =>
      this.broadcast("channel.reply", { id, chatId, text, messageIds }),
    );
    hub.on("status", (id, chatId, status, detail) =>
      this.broadcast("channel.status", { id, chatId, status, detail }),
    );
    hub.on("permission.request", (id, prompt, source, origin) => {
      const params = { id, ...prompt, source };
      if (origin && this.peers.has(origin) && this.approves(origin, "permission.request")) {
        origin.signal("permission.request", params);
        return;
      }
      this.toApprovers("permission.request", params);
    });
    hub.on("permission.resolved", (id, requestId, behavior, by) =>
      this.toApprovers("permission.resolved", { id, requestId, behavior, by }),
    );
  }

  add(peer: Peer): void {
    peer.onPressure = (id, on) => this.pressure(id, peer, on);
    this.peers.add(peer);
  }

  /** The clients connected now, whatever their transport. */
  connected(): Peer[] {
    return [...this.peers];
  }

  delete(peer: Peer): void {
    this.hub?.disconnect(peer);
    peer.close();
    this.peers.delete(peer);
  }

  /** A session's output is held back while any attached peer catches up. */
  private pressure(id: string, peer: Peer, on: boolean): void {
    const peers = this.pressing.get(id) ?? new Set<Peer>();
    const was = peers.size > 0;
    if (on) peers.add(peer);
    else peers.delete(peer);
    if (peers.size > 0) this.pressing.set(id, peers);
    else this.pressing.delete(id);
    if (was !== peers.size > 0) this.pool.holdOutput(id, peers.size > 0);
  }

  private broadcast(signal: string, params: Record<string, unknown>): void {
    for (const peer of this.peers) peer.signal(signal, params);
  }

  /** Permission prompts go only to clients allowed to answer them. */
  private toApprovers(signal: string, params: Record<string, unknown>): void {
    for (const peer of this.peers) if (this.approves(peer, signal)) peer.signal(signal, params);
  }

  private approves(peer: Peer, signal: string): boolean {
    return peer.wants(signal) && hasScope(peer.caller.scopes, "approve");
  }
}
