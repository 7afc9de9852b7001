import type { WebSocket } from "ws";
import type { Caller } from "../auth/tokens.js";
import type { Logger } from "../log.js";
import { maxMessageBytes } from "./line-reader.js";
import type { RequestContext } from "./methods.js";
import { highWaterBytes, Peer, type SnapshotSource } from "./peer.js";
import { RateLimiter } from "./rate-limit.js";
import { invalidRequestReply, type RpcServer } from "./server.js";
import type { SignalRouter } from "./signals.js";

export interface WsRpcOptions {
  rpc: RpcServer<RequestContext>;
  router: SignalRouter;
  snapshot: SnapshotSource;
  requestsPerSecond: number;
  log: Logger;
}

/** How often a peer that fell behind is checked for having caught up (ws has no drain event). */
const drainCheckMs = 50;

/** One JSON-RPC message per text frame; the same registry, peers and signals as the socket. */
export function serveWsRpc(
  ws: WebSocket,
  caller: Caller,
  label: string,
  options: WsRpcOptions,
): void {
  const drainListeners: (() => void)[] = [];
  const drainTimer = setInterval(() => {
    if (ws.bufferedAmount < highWaterBytes / 2) for (const listener of drainListeners) listener();
  }, drainCheckMs);
  drainTimer.unref();
  const peer = new Peer(
    {
      label,
      send: (text) => {
        if (ws.readyState === ws.OPEN) ws.send(text);
      },
      bufferedBytes: () => ws.bufferedAmount,
      onDrain: (listener) => drainListeners.push(listener),
    },
    options.snapshot,
    caller,
  );
  options.router.add(peer);
  const limiter = new RateLimiter(options.requestsPerSecond);
  ws.on("message", (data, isBinary) => {
    if (isBinary) {
      peer.transport.send(invalidRequestReply("send JSON-RPC as text frames, not binary ones"));
      return;
    }
    const text = Array.isArray(data) ? Buffer.concat(data).toString("utf8") : data.toString("utf8");
    if (!limiter.take()) {
      const reply = rateLimitedReply(text, options.requestsPerSecond);
      if (reply !== null) peer.transport.send(reply);
      return;
    }
    options.rpc.handle(text, { peer, caller }).then(
      (reply) => reply !== null && peer.transport.send(reply),
      (err: Error) => options.log.error(`${label}: ${err.message}`),
    );
  });
  ws.on("close", () => {
    clearInterval(drainTimer);
    options.router.delete(peer);
  });
  ws.on("error", () => ws.terminate());
}

export const maxFrameBytes = maxMessageBytes;

/** The error for each request in a message refused by the rate limit (none for notifications). */
function rateLimitedReply(text: string, perSecond: number): string | null {
  const error = {
    code: -32000,
    message: `rate limit of ${perSecond} requests/s exceeded; slow down and retry`,
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return JSON.stringify({ jsonrpc: "2.0", id: null, error });
  }
  const requests = (Array.isArray(parsed) ? parsed : [parsed]) as { id?: unknown }[];
  const replies = requests
    .filter((r) => typeof r === "object" && r !== null && r.id !== undefined)
    .map((r) => ({ jsonrpc: "2.0", id: r.id, error }));
  if (replies.length === 0) return null;
  return JSON.stringify(Array.isArray(parsed) ? replies : replies[0]);
}
