import type { WebSocket } from "ws";
import type { Caller } from "../auth/tokens.js";
import type { Logger } from "../log.js";
import type { RequestContext } from "./methods.js";
import { Peer, pressBytes, type SnapshotSource } from "./peer.js";
import { RateLimiter } from "./rate-limit.js";
import { invalidRequestReply, type RpcServer } from "./server.js";
import type { SignalRouter } from "./signals.js";

export interface WsRpcOptions {
  rpc: RpcServer<RequestContext>;
  router: SignalRouter;
  snapshot: SnapshotSource;
  /** The limit in force (read per request, so a reload applies to open connections). */
  requestsPerSecond: () => number;
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
    if (ws.bufferedAmount < pressBytes / 2) for (const listener of drainListeners) listener();
  }, drainCheckMs);
  drainTimer.unref();
  const peer = new Peer(
    {
      label,
      send: (text) => {
        if (ws.readyState === ws.OPEN) ws.send(text);
      },
      sendOutput: (message) => {
        if (ws.readyState === ws.OPEN) ws.send(message, { binary: true });
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
    options.rpc.handle(text, { peer, caller }, limiter).then(
      (reply) => reply !== null && peer.transport.send(reply),
      (err: Error) => options.log.error(`${label}: ${err.message}`),
    );
  });
  ws.on("close", () => {
    clearInterval(drainTimer);
    options.router.delete(peer);
  });
}
