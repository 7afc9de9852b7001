/**
 * The fake claude's MCP side, after Claude Code 2.1.332: it starts every stdio server of its
 * --mcp-config files, performs the initialize handshake, and listens for channel notifications
 * from the servers its --channels / --dangerously-load-development-channels entries name
 * (`server:<name>`) when they declare `claude/channel`. Each channel message is shown on the
 * screen and becomes a turn of the conversation that answers it through the server's `reply`
 * tool; a message `perm <tool> <input>` first raises a permission request (when the server
 * declares `claude/channel/permission`) and replies with the verdict. A message (typed or through
 * the channel) `TOOL <name> <json arguments>` calls that tool of whichever server has it, and the
 * turn's reply is the tool's result text ("error: " before it when the tool failed).
 *
 * FAKE_CLAUDE_CHANNELS=off plays a claude that connects its channel servers and silently takes no
 * notice of what they send. FAKE_CLAUDE_CHANNELS=refused plays the real one logged in with an API
 * key rather than claude.ai: its welcome says "Channels are not currently available" (hidden
 * behind "1 more notice hidden" with FAKE_CLAUDE_NOTICES_HIDDEN=1, as when another notice comes
 * first), about 10 s after a channel server connects (FAKE_CLAUDE_CHANNELS_TOAST_MS) its footer
 * says "channels aren't available right now" (once), and channel notifications are dropped
 * without a word: no text when one arrives, no turn.
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

/** The welcome's line under "<flag> ignored (<entries>)" when claude cannot hear channels. */
export const refusalNotice = "Channels are not currently available";
/** claude's footer notice, once its channel server is connected. */
const refusalToast = "channels aren't available right now";
/** Measured with claude 2.1.332: the notice came 10.5 s after its channel server connected. */
const refusalToastMs = 10_000;

export function channelMode(): "on" | "off" | "refused" {
  const mode = process.env.FAKE_CLAUDE_CHANNELS;
  return mode === "off" || mode === "refused" ? mode : "on";
}

/** Runs an MCP tool call of a turn, reported to claude's hooks around it. */
export type ToolCall = (
  name: string,
  input: Record<string, unknown>,
  call: () => Promise<unknown>,
) => Promise<unknown>;

/** What the host needs of the conversation it belongs to. */
export interface McpHostSide {
  show(line: string): void;
  /** How the conversation runs a tool call of `server`'s (its hooks around it). */
  toolCall(server: string): ToolCall;
  /** Runs a channel message of `server` as a turn, after the turns before it; `work` returns its last text. */
  turn(server: string, work: (tool: ToolCall) => Promise<string>): void;
}

/** The server names `server:<name>` entries of the channel flags enable. */
export function channelServers(entries: readonly string[]): Set<string> {
  return new Set(entries.filter((e) => e.startsWith("server:")).map((e) => e.slice(7)));
}

const toolLine = /^TOOL (\S+)\s*(.*)$/s;

export class FakeMcpHost {
  private readonly clients: { server: string; client: Client; tools: Promise<string[]> }[] = [];
  private readonly verdicts = new Map<string, (behavior: string) => void>();
  private refusalShown = false;

  constructor(
    private readonly configs: readonly string[],
    private readonly channels: Set<string>,
    private readonly side: McpHostSide,
  ) {}

  private show(line: string): void {
    this.side.show(line);
  }

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
    const tools = client.listTools().then(
      (r) => r.tools.map((t) => t.name),
      () => [],
    );
    this.clients.push({ server: name, client, tools });
    const experimental = client.getServerCapabilities()?.experimental ?? {};
    if (!this.channels.has(name) || !("claude/channel" in experimental)) return;
    if (channelMode() === "refused") return this.refuseChannels();
    if (channelMode() === "off") return;
    const relaysPermissions = "claude/channel/permission" in experimental;
    client.setNotificationHandler(permissionVerdict, ({ params }) => {
      this.verdicts.get(params.request_id)?.(params.behavior);
      this.verdicts.delete(params.request_id);
    });
    client.setNotificationHandler(channelMessage, ({ params }) => {
      this.show(`← ${name}: ${params.content}`);
      this.side.turn(name, (tool) =>
        this.answer(client, tool, params.content, params.meta ?? {}, relaysPermissions),
      );
    });
  }

  /** Runs a `TOOL <name> <json>` line; its result's text, or null when `line` is no such line. */
  async runTool(line: string): Promise<string | null> {
    const m = toolLine.exec(line.trim());
    if (!m) return null;
    const [, name, json] = m;
    let args: Record<string, unknown>;
    try {
      args = JSON.parse(json === "" ? "{}" : json) as Record<string, unknown>;
    } catch (err) {
      return `error: the arguments of ${name} are not JSON: ${(err as Error).message}`;
    }
    for (const { server, client, tools } of this.clients) {
      if (!(await tools).includes(name)) continue;
      const result = (await this.side.toolCall(server)(name, args, () =>
        client.callTool({ name, arguments: args }),
      )) as { content?: { type: string; text?: string }[]; isError?: boolean };
      const text = (result.content ?? []).map((c) => c.text ?? "").join("\n");
      return result.isError ? `error: ${text}` : text;
    }
    return `error: no MCP server has a tool ${name}`;
  }

  private refuseChannels(): void {
    const delayMs = Number(process.env.FAKE_CLAUDE_CHANNELS_TOAST_MS ?? refusalToastMs);
    setTimeout(() => {
      if (this.refusalShown) return;
      this.refusalShown = true;
      this.show(`  ${refusalToast}`);
    }, delayMs);
  }

  /** The turn's work: a status, the permission asked for, the reply; returns its last text. */
  private async answer(
    client: Client,
    tool: ToolCall,
    content: string,
    meta: Record<string, string>,
    relaysPermissions: boolean,
  ): Promise<string> {
    const chatId = meta.chat_id ?? "";
    const call = (name: string, args: Record<string, unknown>) =>
      tool(name, args, () => client.callTool({ name, arguments: args }));
    await call("status", { chat_id: chatId, status: "thinking" });
    const perm = /^perm (\S+) ?(.*)$/s.exec(content);
    let text = (await this.runTool(content)) ?? `You said: ${content}`;
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
    await call("reply", { chat_id: chatId, text });
    return "Sent the reply through the channel.";
  }
}
