import { controlSocket } from "../../paths.js";
import { connectUnix, type RpcClient } from "../../rpc/client.js";

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
} as const;

export interface CommonArgs {
  json: boolean;
  socket?: string;
}

export function openClient(args: CommonArgs): Promise<RpcClient> {
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
