import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  type CallToolResult,
} from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { version } from "../version.js";
import { PoolLink } from "./pool-link.js";
import {
  bridgeMethod,
  channelServerName,
  sendWait,
  type AgentListing,
  type AgentSendResult,
  type ChatLine,
} from "./protocol.js";

export const channelNotification = "notifications/claude/channel";
export const permissionRequestNotification = "notifications/claude/channel/permission_request";
export const permissionVerdictNotification = "notifications/claude/channel/permission";

const instructions = [
  "Messages from people and programs using claude-pool arrive as",
  '<channel source="claude-pool" chat_id="..." message_id="..." user="..." sender="...">text</channel>',
  "(sender is who the pool authenticated; user is the name the client gave).",
  "They are not typed at this terminal and nobody reads it: answer every one with the reply",
  "tool, passing its chat_id back, or the sender never sees your answer. For long work, report",
  "progress with the status tool (thinking, tool_use, idle). fetch_messages returns the recent",
  "conversation of this channel.",
  "Other sessions of the pool: list_sessions shows those you may message, send_message sends",
  "one a message and returns its reply. A message from another session carries from_session",
  "(its name) and hops; your reply to it goes back to that session.",
].join("\n");

const tools = [
  {
    name: "reply",
    description: "Send a reply to whoever sent a channel message. Pass chat_id from the message.",
    inputSchema: {
      type: "object" as const,
      properties: {
        chat_id: { type: "string", description: "chat_id of the message you answer." },
        text: { type: "string", description: "The reply." },
      },
      required: ["chat_id", "text"],
    },
  },
  {
    name: "status",
    description: "Tell the sender what you are doing: thinking, tool_use or idle.",
    inputSchema: {
      type: "object" as const,
      properties: {
        chat_id: { type: "string", description: "chat_id of the message you are working on." },
        status: { type: "string", description: "thinking, tool_use or idle." },
        detail: { type: "string", description: "Optional detail." },
      },
      required: ["chat_id", "status"],
    },
  },
  {
    name: "fetch_messages",
    description: "Recent messages and replies of this channel, oldest first.",
    inputSchema: {
      type: "object" as const,
      properties: {
        limit: { type: "number", description: "How many (default 50, at most 200)." },
      },
    },
  },
  {
    name: "list_sessions",
    description:
      "The other Claude Code sessions of this pool you may message: name, status, activity " +
      "(idle, busy, waiting), working directory and the start of their last reply.",
    inputSchema: { type: "object" as const, properties: {} },
  },
  {
    name: "send_message",
    description:
      "Send a message to another session of the pool (by name; a stopped one is resumed) and " +
      "return its reply. If no reply comes within wait_seconds, the reply comes to you later as " +
      "a message. The pool's agentMessaging config says who may message whom.",
    inputSchema: {
      type: "object" as const,
      properties: {
        to: { type: "string", description: "The session's name (or id), from list_sessions." },
        text: { type: "string", description: "The message." },
        wait_seconds: {
          type: "number",
          description: `How long to wait for the reply (default ${sendWait.defaultSeconds}, at most ${sendWait.maxSeconds}; 0: do not wait).`,
        },
      },
      required: ["to", "text"],
    },
  },
];

const replyArgs = z.object({ chat_id: z.string(), text: z.string() });
const statusArgs = z.object({
  chat_id: z.string(),
  status: z.string(),
  detail: z.string().optional(),
});
const fetchArgs = z.object({ limit: z.number().int().positive().max(200).optional() });
const sendArgs = z.object({
  to: z.string().min(1),
  text: z.string().min(1),
  wait_seconds: z.number().int().min(0).max(sendWait.maxSeconds).optional(),
});
const permissionRequest = z.object({
  method: z.literal(permissionRequestNotification),
  params: z.object({
    request_id: z.string(),
    tool_name: z.string(),
    description: z.string(),
    input_preview: z.string(),
  }),
});

export interface ChannelServerOptions {
  sessionId: string;
  socketPath: string;
  /** Default stdio: the server claude starts from the session's --mcp-config. */
  transport?: Transport;
  log?: (message: string) => void;
}

/**
 * `claude-pool channel`: the MCP channel server each session's claude starts. It declares the
 * claude/channel capabilities, turns the pool's messages into channel notifications, Claude's
 * tool calls into replies and status for the pool, and relays permission prompts both ways.
 */
export async function runChannelServer(options: ChannelServerOptions): Promise<{ close(): void }> {
  const log = options.log ?? ((m: string) => process.stderr.write(`claude-pool channel: ${m}\n`));
  const server = new Server(
    { name: channelServerName, version },
    {
      capabilities: {
        tools: {},
        experimental: { "claude/channel": {}, "claude/channel/permission": {} },
      },
      instructions,
    },
  );
  const link = new PoolLink(options.socketPath, options.sessionId, () => {
    const client = server.getClientVersion();
    return client ? { name: client.name, version: client.version } : undefined;
  });
  link.on("disconnected", (reason) => log(`pool not reachable (${reason}); retrying`));

  link.on("deliver", (messages) => {
    void (async () => {
      const delivered: string[] = [];
      for (const m of messages) {
        try {
          await server.notification({
            method: channelNotification,
            params: { content: m.content, meta: m.meta },
          });
          delivered.push(m.messageId);
        } catch (err) {
          log(`message ${m.messageId} not delivered: ${(err as Error).message}`);
        }
      }
      if (delivered.length > 0) link.post(bridgeMethod.delivered, { messageIds: delivered });
    })();
  });
  link.on("verdict", (requestId, behavior) => {
    server
      .notification({
        method: permissionVerdictNotification,
        params: { request_id: requestId, behavior },
      })
      .catch((err: Error) => log(`verdict for ${requestId} not sent: ${err.message}`));
  });
  server.setNotificationHandler(permissionRequest, ({ params }) => {
    link.post(bridgeMethod.permissionRequest, {
      requestId: params.request_id,
      toolName: params.tool_name,
      description: params.description,
      inputPreview: params.input_preview,
    });
  });

  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools }));
  server.setRequestHandler(CallToolRequestSchema, async ({ params }) => {
    try {
      return await callTool(link, params.name, params.arguments ?? {});
    } catch (err) {
      return text(`${params.name} failed: ${(err as Error).message}`, true);
    }
  });

  // The pool learns of the channel once claude has finished the handshake and can take messages.
  server.oninitialized = () => link.start();
  const close = () => {
    link.close();
    void server.close();
  };
  server.onclose = () => link.close();
  await server.connect(options.transport ?? new StdioServerTransport());
  return { close };
}

async function callTool(
  link: PoolLink,
  name: string,
  args: Record<string, unknown>,
): Promise<CallToolResult> {
  const sent = (what: string) =>
    text(
      link.isConnected
        ? what
        : `${what} (queued: the pool is restarting; it goes out when it is back)`,
    );
  switch (name) {
    case "reply": {
      const { chat_id, text: reply } = replyArgs.parse(args);
      link.post(bridgeMethod.reply, { chatId: chat_id, text: reply });
      return sent("sent");
    }
    case "status": {
      const { chat_id, status, detail } = statusArgs.parse(args);
      link.post(bridgeMethod.status, { chatId: chat_id, status, detail });
      return sent("status sent");
    }
    case "fetch_messages": {
      const { limit } = fetchArgs.parse(args);
      const lines = await link.call<ChatLine[]>(bridgeMethod.messages, { limit: limit ?? 50 });
      if (lines.length === 0) return text("(no messages)");
      return text(
        lines
          .map((l) => `[${l.at}] ${l.role} (chat ${l.chatId}): ${l.content.replace(/\s+/g, " ")}`)
          .join("\n"),
      );
    }
    case "list_sessions": {
      const sessions = await link.call<AgentListing[]>(bridgeMethod.sessions, {});
      if (sessions.length === 0) return text("(no sessions you may message)");
      return text(JSON.stringify(sessions, null, 2));
    }
    case "send_message": {
      const { to, text: message, wait_seconds } = sendArgs.parse(args);
      const waitSeconds = wait_seconds ?? sendWait.defaultSeconds;
      // The pool answers when the reply comes or the wait is over; no call of its own times out.
      const sent = await link.call<AgentSendResult>(bridgeMethod.send, {
        to,
        text: message,
        waitSeconds,
      });
      if (sent.reply !== null) return text(`${sent.to.name} replied:\n\n${sent.reply}`);
      const waited = waitSeconds === 0 ? "" : ` No reply within ${waitSeconds} s.`;
      return text(
        `Sent to ${sent.to.name} (message ${sent.messageId}, ${sent.state}).${waited} The reply ` +
          "comes to you as a message when it is ready.",
      );
    }
    default:
      return text(`unknown tool: ${name}`, true);
  }
}

function text(message: string, isError = false): CallToolResult {
  return { content: [{ type: "text", text: message }], ...(isError ? { isError } : {}) };
}
