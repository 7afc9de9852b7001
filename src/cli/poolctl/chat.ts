import { createInterface } from "node:readline";
import type { LedgerEntry } from "../../channel/ledger.js";
import type { SessionInfo } from "../../session/session.js";
import type { PoolClient } from "./client.js";

const signals = [
  "channel.message",
  "channel.reply",
  "channel.status",
  "permission.request",
  "permission.resolved",
];

interface Prompt {
  requestId: string;
  toolName: string;
  description: string;
  inputPreview: string;
}

type Params = Record<string, unknown>;

/** Subscribes to a session's channel signals; `on` gets those of this session only. */
async function follow(
  client: PoolClient,
  ref: string,
  on: (method: string, params: Params) => void,
): Promise<SessionInfo> {
  const session = await client.call<SessionInfo>("session.get", { id: ref });
  client.onNotification((method, params) => {
    if (params.id === session.id) on(method, params);
  });
  await client.call("pool.subscribe", { signals });
  return session;
}

/**
 * `chat ID --message TEXT`: sends one message and waits for the reply to it, whichever path it
 * took: through the channel, or typed into the terminal (the reply is then the turn's end).
 */
export async function chatOnce(
  client: PoolClient,
  ref: string,
  text: string,
  timeoutMs: number,
): Promise<{ message: LedgerEntry; reply: string | null }> {
  let messageId: string | null = null;
  let settle: (value: { message: LedgerEntry; reply: string | null }) => void = () => {};
  const done = new Promise<{ message: LedgerEntry; reply: string | null }>((r) => (settle = r));
  let message: LedgerEntry | null = null;
  const early: [string, Params][] = [];
  const handle = (method: string, params: Params) => {
    if (messageId === null) return void early.push([method, params]);
    if (method === "channel.message") {
      const entry = params.message as LedgerEntry;
      if (entry.messageId !== messageId) return;
      message = entry;
    } else if (method === "channel.reply" && (params.messageIds as string[]).includes(messageId)) {
      settle({ message: { ...message!, state: "replied" }, reply: params.text as string });
    } else if (method === "permission.request") {
      const p = params as unknown as Prompt;
      process.stderr.write(
        `claude asks to use ${p.toolName} (request ${p.requestId}); answer it with ` +
          `"claude-poolctl call permission.respond" or in "claude-poolctl chat ${ref}"\n`,
      );
    }
  };
  await follow(client, ref, handle);
  message = await client.call<LedgerEntry>("channel.send", { id: ref, content: text });
  messageId = message.messageId;
  for (const [method, params] of early.splice(0)) handle(method, params);
  const timer = setTimeout(() => settle({ message: message!, reply: null }), timeoutMs);
  const result = await done;
  clearTimeout(timer);
  return result;
}

/** `chat ID`: an interactive conversation through the session's channel. */
export async function chatInteractive(client: PoolClient, ref: string): Promise<void> {
  const prompts: Prompt[] = [];
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  const print = (line: string) => {
    process.stdout.write(`\r\x1b[K${line}\n`);
    rl.prompt(true);
  };
  const session = await follow(client, ref, (method, params) => {
    switch (method) {
      case "channel.reply":
        return print(`claude> ${String(params.text)}`);
      case "channel.status":
        return print(
          `  · ${String(params.status)}${params.detail ? `: ${String(params.detail)}` : ""}`,
        );
      case "channel.message": {
        const m = params.message as LedgerEntry;
        if (m.state === "delivered" && m.via === "pty") {
          print(
            `  · typed into the terminal${m.note ? ` (${m.note})` : ""}; no reply comes back here`,
          );
        }
        return;
      }
      case "permission.request": {
        const p = params as unknown as Prompt;
        prompts.push(p);
        return print(
          `claude wants to use ${p.toolName}: ${p.description}\n  ${p.inputPreview}\n  allow? [y/n]`,
        );
      }
      case "permission.resolved": {
        const i = prompts.findIndex((p) => p.requestId === params.requestId);
        if (i >= 0) prompts.splice(i, 1);
        return print(
          `  · ${String(params.requestId)}: ${String(params.behavior)} (${String(params.by)})`,
        );
      }
    }
  });
  process.stderr.write(
    `chatting with ${session.name} (${session.id})${session.channel ? "" : ", channel not connected yet"}; ` +
      "Ctrl-D to leave\n",
  );
  rl.setPrompt("you> ");
  rl.prompt();
  for await (const line of rl) {
    const text = line.trim();
    try {
      if (text === "") {
        // nothing to send
      } else if (prompts.length > 0 && /^(y|yes|allow|n|no|deny)$/i.test(text)) {
        const behavior = /^(y|yes|allow)$/i.test(text) ? "allow" : "deny";
        await client.call("permission.respond", {
          id: session.id,
          requestId: prompts[0].requestId,
          behavior,
        });
      } else {
        await client.call("channel.send", { id: session.id, content: line });
      }
    } catch (err) {
      print(`error: ${(err as Error).message}`);
    }
    rl.prompt();
  }
}
