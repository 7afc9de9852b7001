/**
 * The fake claude's MCP side, after Claude Code 2.1.332: it starts every stdio server of its
 * --mcp-config files, performs the initialize handshake, and listens for channel notifications
 * from the servers its --channels / --dangerously-load-development-channels entries name
 * (`server:<name>`) when they declare `claude/channel`. Each channel message is shown on the
 * screen and answered through the server's `reply` tool; a message `perm <tool> <input>` first
 * raises a permission request (when the server declares `claude/channel/permission`) and replies
 * with the verdict. FAKE_CLAUDE_CHANNELS=off plays a claude without a claude.ai login: servers
 * start, but channel notifications are ignored, as the real one does.
 */
import { readFileSync } from "node:fs";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { z } from "zod";

interface StdioServerConfig {
  type?: string;
  command: string;
  args?: string[];
  env?: Record<string, string>;
}

const channelMessage = z.object({
  method: z.literal("notifications/claude/channel"),
  params: z.object({ content: z.string(), meta: z.record(z.string(), z.string()).optional() }),
});
const permissionVerdict = z.object({
  method: z.literal("notifications/claude/channel/permission"),
  params: z.object({ request_id: z.string(), behavior: z.enum(["allow", "deny"]) }),
});

/** Five letters a-z without "l", like Claude Code's request ids. */
function requestId(): string {
  const letters = "abcdefghijkmnopqrstuvwxyz";
  return Array.from({ length: 5 }, () => letters[Math.floor(Math.random() * letters.length)]).join(
    "",
  );
}

/** An MCP config is a file path or inline JSON, as `--mcp-config` takes both. */
function readServers(config: string): Record<string, StdioServerConfig> {
  const text = config.trimStart().startsWith("{") ? config : readFileSync(config, "utf8");
  return (JSON.parse(text) as { mcpServers?: Record<string, StdioServerConfig> }).mcpServers ?? {};
}

/** The server names `server:<name>` entries of the channel flags enable. */
export function channelServers(entries: readonly string[]): Set<string> {
  return new Set(entries.filter((e) => e.startsWith("server:")).map((e) => e.slice(7)));
}

export class FakeMcpHost {
  private readonly clients: Client[] = [];
  private readonly verdicts = new Map<string, (behavior: string) => void>();

  constructor(
    private readonly configs: readonly string[],
    private readonly channels: Set<string>,
    private readonly show: (line: string) => void,
  ) {}

  /** Starts the servers in the background; a server that fails is reported, as claude does. */
  start(): void {
    for (const config of this.configs) {
      for (const [name, server] of Object.entries(readServers(config))) {
        this.connect(name, server).catch((err: Error) =>
          this.show(`MCP server "${name}" failed: ${err.message}`),
        );
      }
    }
  }

  private async connect(name: string, server: StdioServerConfig): Promise<void> {
    const client = new Client({ name: "claude-code", version: "2.1.332" }, { capabilities: {} });
    const transport = new StdioClientTransport({
      command: server.command,
      args: server.args ?? [],
      env: { ...(process.env as Record<string, string>), ...server.env },
      stderr: "ignore",
    });
    await client.connect(transport);
    this.clients.push(client);
    const experimental = client.getServerCapabilities()?.experimental ?? {};
    if (process.env.FAKE_CLAUDE_CHANNELS === "off") return;
    if (!this.channels.has(name) || !("claude/channel" in experimental)) return;
    const relaysPermissions = "claude/channel/permission" in experimental;
    client.setNotificationHandler(permissionVerdict, ({ params }) => {
      this.verdicts.get(params.request_id)?.(params.behavior);
      this.verdicts.delete(params.request_id);
    });
    client.setNotificationHandler(channelMessage, ({ params }) => {
      this.show(`← ${name}: ${params.content}`);
      void this.answer(client, params.content, params.meta ?? {}, relaysPermissions);
    });
  }

  private async answer(
    client: Client,
    content: string,
    meta: Record<string, string>,
    relaysPermissions: boolean,
  ): Promise<void> {
    const chatId = meta.chat_id ?? "";
    await client.callTool({ name: "status", arguments: { chat_id: chatId, status: "thinking" } });
    const perm = /^perm (\S+) ?(.*)$/s.exec(content);
    let text = `You said: ${content}`;
    if (perm && relaysPermissions) {
      const id = requestId();
      const verdict = new Promise<string>((resolve) => this.verdicts.set(id, resolve));
      await client.notification({
        method: "notifications/claude/channel/permission_request",
        params: {
          request_id: id,
          tool_name: perm[1],
          description: `run ${perm[1]}`,
          input_preview: JSON.stringify({ command: perm[2] }).slice(0, 200),
        },
      });
      this.show(`permission ${id} for ${perm[1]}: waiting`);
      const behavior = await verdict;
      this.show(`permission ${id} for ${perm[1]}: ${behavior}`);
      text = `permission ${id} ${behavior}`;
    }
    await client.callTool({ name: "reply", arguments: { chat_id: chatId, text } });
  }
}
