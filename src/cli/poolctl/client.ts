import { controlSocket } from "../../paths.js";
import { readFileSync } from "node:fs";
import { connectUnix, connectWs, type RpcClient } from "../../rpc/client.js";
import { UsageError } from "../errors.js";

/** Options every claude-poolctl command takes, before or after the command's name. */
export const commonArgs = {
  json: { type: "boolean", description: "Print the result as JSON", default: false },
  socket: {
    type: "string",
    description:
      "Control socket (default: $CLAUDE_POOL_SOCKET or $XDG_RUNTIME_DIR/claude-pool/control.sock)",
    valueHint: "PATH",
  },
  url: {
    type: "string",
    description: "A remote pool, ws://host:3200 or wss://… (default: $CLAUDE_POOL_URL)",
    valueHint: "URL",
  },
  token: {
    type: "string",
    description: "Token for --url (default: $CLAUDE_POOL_TOKEN)",
    valueHint: "TOKEN",
  },
} as const;

export interface CommonArgs {
  json: boolean;
  socket?: string;
  url?: string;
  token?: string;
}

/**
 * The pool named by --url (or $CLAUDE_POOL_URL) over WebSocket, else the local control socket.
 * $CLAUDE_POOL_CA names a CA certificate to trust for wss://.
 */
export async function openClient(args: CommonArgs): Promise<RpcClient> {
  if (args.url !== undefined && args.socket !== undefined) {
    throw new UsageError("--socket and --url name two pools: give one of them");
  }
  const url = args.socket === undefined ? args.url || process.env.CLAUDE_POOL_URL : undefined;
  if (!url && args.token !== undefined) {
    throw new UsageError(
      "--token is for a remote pool: give --url too (the local socket needs no token)",
    );
  }
  return url
    ? connectWs(url, {
        token: args.token ?? process.env.CLAUDE_POOL_TOKEN,
        ca: process.env.CLAUDE_POOL_CA ? readFileSync(process.env.CLAUDE_POOL_CA) : undefined,
      })
    : connectUnix(args.socket || controlSocket().path);
}

/** Runs `action` with a connection to the pool, closing it afterwards. */
export async function withClient<T>(
  args: CommonArgs,
  action: (client: RpcClient) => Promise<T>,
): Promise<T> {
  const client = await openClient(args);
  try {
    return await action(client);
  } finally {
    client.close();
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}
