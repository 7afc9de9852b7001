import type { WebSocket } from "ws";
import type { Pool } from "../pool.js";
import type { SessionInfo } from "../session/session.js";
import { highWaterBytes } from "./peer.js";

/**
 * The seed's `/ws` stream: `{"type":"sessions"}` on connect, then `session_update` and
 * `session_removed`. A client that falls behind gets a fresh `sessions` list once it catches up.
 */
export function serveSeedEvents(ws: WebSocket, pool: Pool): void {
  let behind = false;
  const send = (message: object) => {
    if (ws.readyState !== ws.OPEN) return;
    if (ws.bufferedAmount > highWaterBytes) {
      behind = true;
      return;
    }
    ws.send(JSON.stringify(message));
  };
  const onChanged = (session: SessionInfo) => send({ type: "session_update", session });
  const onRemoved = (id: string) => send({ type: "session_removed", id });
  const catchUp = setInterval(() => {
    if (!behind || ws.bufferedAmount > highWaterBytes / 2) return;
    behind = false;
    send({ type: "sessions", sessions: pool.list() });
  }, 100);
  catchUp.unref();
  pool.on("session.changed", onChanged);
  pool.on("session.removed", onRemoved);
  ws.on("close", () => {
    clearInterval(catchUp);
    pool.off("session.changed", onChanged);
    pool.off("session.removed", onRemoved);
  });
  ws.on("message", () => {}); // the stream is one-way; what clients send is ignored
  send({ type: "sessions", sessions: pool.list() });
}
