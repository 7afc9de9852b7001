import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { channelServerName } from "./protocol.js";

/** What a session's launch needs to connect claude to the pool's channel. */
export interface ChannelWiring {
  /** Writes the session's MCP config (on every launch, so it follows the socket) and returns its path. */
  configFor(sessionId: string): string;
  remove(sessionId: string): void;
}

/** `claude-pool channel`, run by the same node as the pool. */
const channelCommand = {
  command: process.execPath,
  args: [fileURLToPath(new URL("../bin/claude-pool.js", import.meta.url)), "channel"],
};

/**
 * One `--mcp-config` file per session in the pool's runtime dir, naming the `claude-pool` stdio
 * server with the session id and control socket it reports to.
 */
export class McpConfigFiles implements ChannelWiring {
  constructor(
    private readonly dir: string,
    private readonly socketPath: string,
  ) {}

  configFor(sessionId: string): string {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const file = this.fileOf(sessionId);
    const server = {
      type: "stdio",
      ...channelCommand,
      env: { CLAUDE_POOL_SESSION_ID: sessionId, CLAUDE_POOL_SOCKET: this.socketPath },
    };
    writeFileSync(file, JSON.stringify({ mcpServers: { [channelServerName]: server } }, null, 2), {
      mode: 0o600,
    });
    return file;
  }

  remove(sessionId: string): void {
    rmSync(this.fileOf(sessionId), { force: true });
  }

  private fileOf(sessionId: string): string {
    return join(this.dir, `${sessionId}.mcp.json`);
  }
}
