import type { ChannelHub } from "../channel/hub.js";
import { historyLimit, type LedgerEntry } from "../channel/ledger.js";
import {
  bridgeMethod,
  sendWait,
  type AgentListing,
  type AgentSendResult,
  type Behavior,
  type PermissionPrompt,
} from "../channel/protocol.js";
import type { RequestContext } from "./methods.js";
import type { Peer } from "./peer.js";
import type { JsonSchema, MethodRegistry } from "./registry.js";
import { noParams, sessionRef } from "./schemas.js";

const str = { type: "string" } as const;
const text = { type: "string", maxLength: 1 << 19 } as const;

const ledgerEntry: JsonSchema = {
  type: "object",
  properties: {
    messageId: str,
    sessionId: str,
    chatId: str,
    content: str,
    meta: { type: "object" },
    state: { enum: ["queued", "delivered", "replied", "failed"] },
    via: { enum: ["channel", "pty", null] },
    delivery: { enum: ["auto", "channel", "pty", null] },
    from: str,
    createdAt: str,
    deliveredAt: { type: ["string", "null"] },
    repliedAt: { type: ["string", "null"] },
    replies: { type: "array" },
    note: { type: ["string", "null"] },
  },
};

const prompt = {
  requestId: str,
  toolName: str,
  description: str,
  inputPreview: str,
} as const;

const object = (properties: Record<string, unknown>, required: string[] = []): JsonSchema => ({
  type: "object",
  additionalProperties: false,
  required,
  properties,
});

/** The channel bridge's methods and signals: channel.*, permission.* and the bridge's own. */
export function addChannelMethods(
  registry: MethodRegistry<RequestContext>,
  hub: ChannelHub<Peer>,
): void {
  registry
    .signal("channel.message", {
      description:
        "A channel.send message was queued, delivered (via channel or pty) or replied to.",
      params: object({ id: str, message: ledgerEntry }),
    })
    .signal("channel.reply", {
      description:
        "A message's turn ended (the reply tool, or the turn's last reply when claude did not " +
        "call it); messageIds are the ledger messages it answers.",
      params: object({ id: str, chatId: str, text: str, messageIds: { type: "array" } }),
    })
    .signal("channel.status", {
      description: "Claude reported progress through the channel's status tool.",
      params: object({ id: str, chatId: str, status: str, detail: str }),
    })
    .signal("permission.request", {
      description:
        "Claude asks to use a tool. Sent to the client whose message started the turn, else to " +
        'every subscriber with the "approve" scope; answer with permission.respond.',
      params: object({ id: str, ...prompt, source: { enum: ["hook", "channel"] } }),
    })
    .signal("permission.resolved", {
      description:
        "A permission request was answered or timed out (by: who answered; behavior " +
        '"terminal": the pool gave no answer and the dialog in claude\'s terminal decides).',
      params: object({
        id: str,
        requestId: str,
        behavior: { enum: ["allow", "deny", "terminal"] },
        by: str,
      }),
    });

  registry
    .method<{ id: string; content: string; meta?: Record<string, string> }, LedgerEntry>(
      "channel.send",
      {
        scope: "control",
        description:
          "Send a message into the conversation: through its channel, or typed into its terminal " +
          "when the channel is not usable (delivery). Queued until a path is open; a stopped " +
          "session is resumed. Returns the ledger entry once it is on disk; its messageId names " +
          "the message.",
        params: object(
          {
            id: sessionRef,
            content: { ...text, minLength: 1 },
            meta: {
              type: "object",
              description: "String attributes for claude's <channel> tag; chat_id groups replies.",
              propertyNames: { pattern: "^[A-Za-z0-9_]{1,64}$" },
              additionalProperties: { type: "string", maxLength: 4096 },
            },
          },
          ["id", "content"],
        ),
        result: ledgerEntry,
        handler: async ({ id, content, meta }, { peer, caller }) => {
          const entry = hub.send(id, content, meta ?? {}, { from: caller.name, client: peer });
          await hub.synced();
          return entry;
        },
      },
    )
    .method<{ id: string; limit: number }, LedgerEntry[]>("channel.history", {
      scope: "read",
      description: `The session's delivery ledger, oldest first (the last ${historyLimit} at most).`,
      params: object(
        {
          id: sessionRef,
          limit: { type: "integer", minimum: 1, maximum: historyLimit, default: 50 },
        },
        ["id"],
      ),
      result: { type: "array", items: ledgerEntry },
      handler: ({ id, limit }) => hub.history(id, limit),
    })
    .method<{ id: string; requestId: string; behavior: Behavior }, object>("permission.respond", {
      scope: "approve",
      description: "Answer a permission request: allow or deny the tool call.",
      params: object({ id: sessionRef, requestId: str, behavior: { enum: ["allow", "deny"] } }, [
        "id",
        "requestId",
        "behavior",
      ]),
      result: object({ requestId: str, behavior: str }),
      handler: ({ id, requestId, behavior }, { caller }) => {
        hub.respond(id, requestId, behavior, caller.name);
        return { requestId, behavior };
      },
    })
    .method("permission.pending", {
      scope: "approve",
      description: "Permission requests waiting for an answer, for clients that connect late.",
      params: noParams,
      result: { type: "array", items: object({ id: str, ...prompt }) },
      handler: () =>
        hub.pendingPrompts().map(({ sessionId, prompt: p, source }) => ({
          id: sessionId,
          ...p,
          source,
        })),
    });

  const internal = "Used by `claude-pool channel`, the session's channel server; not for clients.";
  registry
    .method<{ id: string }, { id: string; name: string }>(bridgeMethod.connect, {
      scope: "admin",
      description: `This connection becomes the session's channel. ${internal}`,
      params: object({ id: sessionRef, client: { type: "object" } }, ["id"]),
      result: object({ id: str, name: str }),
      handler: ({ id }, { peer }) => {
        const session = hub.connect(id, peer);
        return { id: session.id, name: session.name };
      },
    })
    .method<{ messageIds: string[] }, object>(bridgeMethod.delivered, {
      scope: "admin",
      description: `Messages that reached claude. ${internal}`,
      params: object({ messageIds: { type: "array", items: str, maxItems: 1000 } }, ["messageIds"]),
      result: object({}),
      handler: ({ messageIds }, { peer }) => {
        hub.delivered(peer, messageIds);
        return {};
      },
    })
    .method<{ chatId: string; text: string }, { messageIds: string[] }>(bridgeMethod.reply, {
      scope: "admin",
      description: `Claude's reply tool. ${internal}`,
      params: object({ chatId: str, text }, ["chatId", "text"]),
      result: object({ messageIds: { type: "array" } }),
      handler: ({ chatId, text: reply }, { peer }) => ({
        messageIds: hub.reply(peer, chatId, reply),
      }),
    })
    .method<{ chatId: string; status: string; detail?: string }, object>(bridgeMethod.status, {
      scope: "admin",
      description: `Claude's status tool. ${internal}`,
      params: object({ chatId: str, status: str, detail: str }, ["chatId", "status"]),
      result: object({}),
      handler: ({ chatId, status, detail }, { peer }) => {
        hub.status(peer, chatId, status, detail);
        return {};
      },
    })
    .method<PermissionPrompt, object>(bridgeMethod.permissionRequest, {
      scope: "admin",
      description: `Claude asks to use a tool. ${internal}`,
      params: object(prompt, Object.keys(prompt)),
      result: object({}),
      handler: (request, { peer }) => {
        hub.permissionRequest(peer, request);
        return {};
      },
    })
    .method<{ limit: number }, unknown>(bridgeMethod.messages, {
      scope: "admin",
      description: `Recent conversation for the fetch_messages tool. ${internal}`,
      params: object({
        limit: { type: "integer", minimum: 1, maximum: historyLimit, default: 50 },
      }),
      result: { type: "array" },
      handler: ({ limit }, { peer }) => hub.messages(peer, limit),
    })
    .method<object, AgentListing[]>(bridgeMethod.sessions, {
      scope: "admin",
      description: `The sessions this one may message (agentMessaging). ${internal}`,
      params: object({}),
      result: { type: "array" },
      handler: (_params, { peer }) => hub.agents.list(hub.linkedSession(peer)),
    })
    .method<{ to: string; text: string; waitSeconds: number }, AgentSendResult>(bridgeMethod.send, {
      scope: "admin",
      description: `A message to another session, its reply awaited up to waitSeconds (agentMessaging). ${internal}`,
      params: object(
        {
          to: sessionRef,
          text: { ...text, minLength: 1 },
          waitSeconds: {
            type: "integer",
            minimum: 0,
            maximum: sendWait.maxSeconds,
            default: sendWait.defaultSeconds,
          },
        },
        ["to", "text"],
      ),
      result: { type: "object" },
      handler: ({ to, text: message, waitSeconds }, { peer }) =>
        hub.agents.send(hub.linkedSession(peer), to, message, waitSeconds),
    });
}
