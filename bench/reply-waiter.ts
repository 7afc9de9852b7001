import type { RpcClient } from "../src/rpc/client.js";

/**
 * Resolves when the reply to a message arrives as a `channel.reply` signal. A reply can come in
 * the same turn as the answer to channel.send, before the caller knows the message's id, so
 * early ones are kept.
 */
export function replyWaiter(client: RpcClient): (messageId: string) => Promise<void> {
  const early = new Set<string>();
  const waiting = new Map<string, () => void>();
  client.on("notification", (method, params) => {
    if (method !== "channel.reply") return;
    for (const id of params.messageIds as string[]) {
      const done = waiting.get(id);
      if (done) {
        waiting.delete(id);
        done();
      } else early.add(id);
    }
  });
  return (messageId) =>
    early.delete(messageId)
      ? Promise.resolve()
      : new Promise<void>((done) => waiting.set(messageId, done));
}
