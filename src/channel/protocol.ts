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

/** A line of the conversation as the channel saw it, oldest first. */
export interface ChatLine {
  role: "user" | "assistant";
  chatId: string;
  content: string;
  at: string;
}
