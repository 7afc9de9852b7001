import { WebSocket } from "ws";
import { maxMessageBytes } from "./line-reader.js";

/** Max bytes of one WebSocket message; a larger one closes the connection with 1009. */
export const maxFrameBytes = maxMessageBytes;

/** Close reasons for what ws closes a connection over, which it sends with a bare code. */
const reasons: Record<number, string> = {
  1002: "WebSocket protocol error; use a conforming WebSocket client",
  1007: "a text frame that is not valid UTF-8; send JSON-RPC as UTF-8 text",
  1009: `message larger than ${maxFrameBytes} bytes; send smaller messages`,
};

/** A server-side WebSocket that says why when ws closes it for a bad frame. */
export class ExplainedWebSocket extends WebSocket {
  override close(code?: number, data?: string | Buffer): void {
    super.close(code, data ?? (code === undefined ? undefined : reasons[code]));
  }
}
