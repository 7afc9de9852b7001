import { controlSocket } from "../../paths.js";
import { readFileSync } from "node:fs";
import { connectUnix, connectWs, type RpcClient } from "../../rpc/client.js";

/** A mistake in how the command was called: exit status 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Options every claude-poolctl command takes. */
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
export function openClient(args: CommonArgs): Promise<RpcClient> {
  const url = args.url ?? process.env.CLAUDE_POOL_URL;
  if (url && !args.socket) {
    const token = args.token ?? process.env.CLAUDE_POOL_TOKEN;
    const ca = process.env.CLAUDE_POOL_CA ? readFileSync(process.env.CLAUDE_POOL_CA) : undefined;
    return connectWs(url, { token, ca });
  }
  return connectUnix(args.socket ?? controlSocket().path);
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
