/**
 * The private protocol between the pool and each session's `claude-pool channel` process, spoken
 * as JSON-RPC over the control socket. The bridge calls the methods; the pool pushes the
 * notifications.
 */
export const bridgeMethod = {
  /** {id, client?}: this connection is session id's channel. */
  connect: "bridge.connect",
  /** {messageIds}: the messages reached claude as channel notifications. */
  delivered: "bridge.delivered",
  /** {chatId, text}: claude called the reply tool. */
  reply: "bridge.reply",
  /** {chatId, status, detail?}: claude called the status tool. */
  status: "bridge.status",
  /** {requestId, toolName, description, inputPreview}: claude asks to use a tool. */
  permissionRequest: "bridge.permissionRequest",
  /** {limit?}: recent messages and replies, for the fetch_messages tool. */
  messages: "bridge.messages",
  /** {}: the sessions this one may message, for the list_sessions tool. */
  sessions: "bridge.sessions",
  /** {to, text, waitSeconds}: a message to another session, for the send_message tool. */
  send: "bridge.send",
} as const;

export const bridgeNotification = {
  /** {messages: ChannelDelivery[]} */
  deliver: "bridge.deliver",
  /** {requestId, behavior} */
  verdict: "bridge.verdict",
} as const;

/** The MCP server's name in the generated config, so its channel entry is `server:claude-pool`. */
export const channelServerName = "claude-pool";

export type Behavior = "allow" | "deny";

/** One message as claude receives it: `notifications/claude/channel` params. */
export interface ChannelDelivery {
  messageId: string;
  content: string;
  /** claude accepts string values only; keys become attributes of its <channel> tag. */
  meta: Record<string, string>;
}

export interface PermissionPrompt {
  requestId: string;
  toolName: string;
  description: string;
  inputPreview: string;
}

/** How long send_message waits for the reply, unless its wait_seconds says otherwise. */
export const sendWait = { defaultSeconds: 60, maxSeconds: 600 } as const;

/** A session another may message, as list_sessions shows it. */
export interface AgentListing {
  id: string;
  name: string;
  status: string;
  activity: string | null;
  workingDirectory: string;
  /** The start of its last reply, or null. */
  lastReply: string | null;
}

/** What send_message learns: the reply, when it came in time. */
export interface AgentSendResult {
  messageId: string;
  to: { id: string; name: string };
  state: string;
  waitSeconds: number;
  reply: string | null;
}

/** A line of the conversation as the channel saw it, oldest first. */
export interface ChatLine {
  role: "user" | "assistant";
  chatId: string;
  content: string;
  at: string;
}
