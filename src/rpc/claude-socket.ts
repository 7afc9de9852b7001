import { randomUUID } from "node:crypto";
import type { WebSocket } from "ws";
import type { Caller } from "../auth/tokens.js";
import { chatLines, type LedgerEntry } from "../channel/ledger.js";
import { PoolError } from "../errors.js";
import type { Logger } from "../log.js";
import type { RequestContext } from "./methods.js";
import { Peer, type SnapshotSource } from "./peer.js";
import { RateLimiter } from "./rate-limit.js";
import type { MethodRegistry } from "./registry.js";
import type { SignalRouter } from "./signals.js";

export interface ClaudeSocketOptions {
  registry: MethodRegistry<RequestContext>;
  router: SignalRouter;
  snapshot: SnapshotSource;
  /** The limit in force (read per message, so a reload applies to open connections). */
  requestsPerSecond: () => number;
  log: Logger;
}

/** What claude-socket clients send. */
type Inbound =
  | { type: "message"; session_id?: string; content: string; user?: string; ts?: string }
  | { type: "fetch_history"; session_id?: string; limit?: number }
  | { type: "permission_response"; request_id: string; allowed: boolean };

type Signal = { method?: string; params?: Record<string, unknown> };

/** Chats one socket follows, and the length of a chat id, at most. */
const maxChats = 100;
const maxChatIdLength = 256;

/**
 * `/sessions/:id/socket`: the client protocol of the claude-socket plugin over one pool session,
 * so its clients work unchanged. Each frame becomes a call of the method registry (same scopes
 * as JSON-RPC) and the channel's signals become claude-socket messages. claude-socket's
 * `session_id` is the chat within the conversation: `?session=` or "default", as its client sends.
 */
export function serveClaudeSocket(
  ws: WebSocket,
  caller: Caller,
  target: { sessionId: string; chat: string; label: string },
  options: ClaudeSocketOptions,
): void {
  const chats = new Set([target.chat]);
  const send = (message: Record<string, unknown>) => {
    if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(message));
  };
  const error = (chat: string, message: string) =>
    send({ type: "error", session_id: chat, message });

  const peer = new Peer(
    {
      label: target.label,
      send: (text) => {
        const out = translate(JSON.parse(text) as Signal, target, chats);
        if (out) send(out);
      },
      sendOutput: () => {},
      bufferedBytes: () => ws.bufferedAmount,
      onDrain: () => {},
    },
    options.snapshot,
    caller,
  );
  options.router.add(peer);
  peer.subscribe(["channel.reply", "channel.status", "permission.request"]);
  const call = (method: string, params: Record<string, unknown>) =>
    options.registry.call(method, params, { peer, caller });
  const limiter = new RateLimiter(options.requestsPerSecond);

  ws.on("message", (data) => {
    let frame: Inbound;
    try {
      frame = JSON.parse(String(data)) as Inbound;
    } catch {
      return error(target.chat, "invalid JSON");
    }
    if (typeof frame !== "object" || frame === null || Array.isArray(frame)) {
      return error(target.chat, 'send a JSON object with a "type"');
    }
    if (!limiter.take()) {
      return error(target.chat, `rate limit of ${limiter.perSecond()} messages/s exceeded`);
    }
    const given = "session_id" in frame ? (frame.session_id as unknown) : undefined;
    if (given !== undefined && (typeof given !== "string" || given.length > maxChatIdLength)) {
      return error(
        target.chat,
        `session_id must be a string of at most ${maxChatIdLength} characters`,
      );
    }
    const chat = given || target.chat;
    handle(frame, chat).catch((err: Error) => {
      if (!(err instanceof PoolError)) options.log.error(`${target.label}: ${err.message}`);
      error(chat, err.message);
    });
  });
  ws.on("close", () => options.router.delete(peer));

  async function handle(frame: Inbound, chat: string): Promise<void> {
    switch (frame.type) {
      case "message": {
        const meta: Record<string, string> = { chat_id: chat };
        if (frame.user !== undefined) meta.user = frame.user;
        if (frame.ts !== undefined) meta.ts = frame.ts;
        await call("channel.send", { id: target.sessionId, content: frame.content, meta });
        if (chats.size < maxChats) chats.add(chat);
        return;
      }
      case "fetch_history": {
        const entries = (await call("channel.history", {
          id: target.sessionId,
          limit: 200,
        })) as LedgerEntry[];
        const limit = Math.min(Math.max(frame.limit ?? 50, 1), 100);
        const lines = chatLines(entries.filter((e) => e.chatId === chat)).slice(-limit);
        const messages = lines.map(({ role, content, at }) => ({ role, content, ts: at }));
        send({ type: "history", session_id: chat, messages });
        return;
      }
      case "permission_response":
        if (typeof frame.allowed !== "boolean") {
          return error(chat, "permission_response needs allowed: true or false");
        }
        await call("permission.respond", {
          id: target.sessionId,
          requestId: frame.request_id,
          behavior: frame.allowed ? "allow" : "deny",
        });
        return;
      default:
        error(chat, `unknown message type: ${String((frame as { type?: unknown }).type)}`);
    }
  }
}

/** A channel signal as claude-socket's server would have sent it, or null if not for this socket. */
function translate(
  signal: Signal,
  target: { sessionId: string; chat: string },
  chats: Set<string>,
): Record<string, unknown> | null {
  const p = signal.params ?? {};
  if (p.id !== target.sessionId) return null;
  switch (signal.method) {
    case "channel.reply": {
      if (!chats.has(p.chatId as string)) return null;
      const ids = p.messageIds as string[];
      return {
        type: "reply",
        session_id: p.chatId,
        message_id: ids[0] ?? randomUUID(),
        content: p.text,
        ts: new Date().toISOString(),
      };
    }
    case "channel.status":
      if (!chats.has(p.chatId as string)) return null;
      return { type: "status", session_id: p.chatId, status: p.status, detail: p.detail };
    case "permission.request":
      return {
        type: "permission_request",
        session_id: target.chat,
        request_id: p.requestId,
        tool_name: p.toolName,
        description: p.description,
        input_preview: p.inputPreview,
      };
    default:
      return null;
  }
}
