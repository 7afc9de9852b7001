import { readFileSync } from "node:fs";
import { controlSocket } from "../../paths.js";
import { connectUnix, connectWs, type RpcClient } from "../../rpc/client.js";
import { UsageError } from "../errors.js";
import {
  findRemote,
  loadRemotes,
  localHostName,
  parseReference,
  remoteCredentials,
  type Remote,
} from "./remotes.js";

/** Seconds a call waits for the pool's answer unless --timeout says otherwise. */
export const defaultTimeoutSeconds = 10;

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
  timeout: {
    type: "string",
    description: `Seconds to wait for the pool to answer (default ${defaultTimeoutSeconds}); output that attach, monitor and logs -f follow has no time limit`,
    valueHint: "SECONDS",
  },
  remote: {
    type: "string",
    description:
      'A pool named by "claude-poolctl remote add", or local (default: $CLAUDE_POOL_REMOTE)',
    valueHint: "NAME",
  },
} as const;

export interface CommonArgs {
  json: boolean;
  socket?: string;
  url?: string;
  token?: string;
  timeout?: string;
  remote?: string;
}

/** The pool did not answer in time: exit status 3, like a pool that is not there. */
export class TimeoutError extends Error {
  constructor(what: string, seconds: number) {
    super(`the pool did not answer ${what} within ${seconds} s`);
    this.name = "TimeoutError";
  }
}

/** `--timeout SECONDS` as a number of seconds. */
export function timeoutSeconds(
  value: string | undefined,
  fallback = defaultTimeoutSeconds,
): number {
  if (value === undefined) return fallback;
  const seconds = Number(value);
  if (!(seconds > 0) || !Number.isFinite(seconds)) {
    throw new UsageError(`--timeout must be a positive number of seconds, not "${value}"`);
  }
  return seconds;
}

function within<T>(promise: Promise<T>, seconds: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(what, seconds)), seconds * 1000);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** A connection to the pool whose calls fail with TimeoutError when it does not answer. */
export class PoolClient {
  constructor(
    private readonly rpc: RpcClient,
    readonly timeoutSeconds: number,
  ) {}

  /** `extraSeconds`: on top of the timeout, for a call the pool itself lets take that long. */
  call<T = unknown>(method: string, params?: object, extraSeconds = 0): Promise<T> {
    return within(this.rpc.call<T>(method, params), this.timeoutSeconds + extraSeconds, method);
  }

  onNotification(listener: (method: string, params: Record<string, unknown>) => void): void {
    this.rpc.on("notification", listener);
  }

  /** Live output of sessions attached with `binary: true`. */
  onOutput(listener: (id: string, data: Buffer) => void): void {
    this.rpc.on("output", listener);
  }

  onClose(listener: () => void): void {
    this.rpc.on("close", listener);
  }

  close(): void {
    this.rpc.close();
  }
}

/**
 * The pool named by --url (or $CLAUDE_POOL_URL) over WebSocket, else the local control socket.
 * $CLAUDE_POOL_CA names a CA certificate to trust for wss://.
 */
export async function openClient(args: CommonArgs): Promise<PoolClient> {
  if (args.url !== undefined && args.socket !== undefined) {
    throw new UsageError("--socket and --url name two pools: give one of them");
  }
  if (args.remote !== undefined && (args.url !== undefined || args.socket !== undefined)) {
    throw new UsageError("--remote names a pool, and so do --url and --socket: give one of them");
  }
  const remote =
    args.remote ??
    (args.url === undefined && args.socket === undefined
      ? process.env.CLAUDE_POOL_REMOTE || undefined
      : undefined);
  if (remote !== undefined && remote !== localHostName) {
    if (args.token !== undefined) {
      throw new UsageError(
        `--token is for --url: remote "${remote}" has its own (claude-poolctl remote list)`,
      );
    }
    return openRemote(findRemote(loadRemotes(), remote), timeoutSeconds(args.timeout));
  }
  if (remote === localHostName) args = { ...args, socket: controlSocket().path };
  const url = args.socket === undefined ? args.url || process.env.CLAUDE_POOL_URL : undefined;
  if (!url && args.token !== undefined) {
    throw new UsageError(
      "--token is for a remote pool: give --url too (the local socket needs no token)",
    );
  }
  const seconds = timeoutSeconds(args.timeout);
  const connecting = url
    ? connectWs(url, {
        token: args.token ?? process.env.CLAUDE_POOL_TOKEN,
        ca: process.env.CLAUDE_POOL_CA ? readFileSync(process.env.CLAUDE_POOL_CA) : undefined,
      })
    : connectUnix(args.socket || controlSocket().path);
  return new PoolClient(await within(connecting, seconds, "the connection"), seconds);
}

/** A connection to a named remote with its token and CA. */
export async function openRemote(remote: Remote, seconds: number): Promise<PoolClient> {
  const connecting = connectWs(remote.url, {
    ...remoteCredentials(remote),
    handshakeTimeoutMs: seconds * 1000,
  });
  return new PoolClient(
    await within(connecting, seconds, `the connection to ${remote.name}`),
    seconds,
  );
}

/** Runs `action` with a connection to the pool, closing it afterwards. */
export async function withClient<T>(
  args: CommonArgs,
  action: (client: PoolClient) => Promise<T>,
): Promise<T> {
  const client = await openClient(args);
  try {
    return await action(client);
  } finally {
    client.close();
  }
}

/**
 * Runs `action` on the pool that holds session `ref`: `HOST/ID` names the remote (or local), a
 * plain id or name is on the pool the options choose.
 */
export function withSession<T>(
  args: CommonArgs,
  ref: string,
  action: (client: PoolClient, id: string) => Promise<T>,
): Promise<T> {
  const { host, id } = parseReference(ref);
  return withHost(args, host, ref, (client) => action(client, id));
}

/** Runs `action` on `host` when a reference named one (`what`), else on the options' pool. */
export function withHost<T>(
  args: CommonArgs,
  host: string | null,
  what: string,
  action: (client: PoolClient) => Promise<T>,
): Promise<T> {
  if (host === null) return withClient(args, action);
  if (args.url !== undefined || args.socket !== undefined) {
    throw new UsageError(`"${what}" names its host: leave out --url and --socket`);
  }
  if (args.remote !== undefined && args.remote !== host) {
    throw new UsageError(`"${what}" is on ${host}, but --remote says ${args.remote}`);
  }
  return withClient({ ...args, remote: host }, action);
}

/**
 * How long stopping a session may take: the pool gives claude stopTimeoutSeconds between SIGTERM
 * and SIGKILL. A token without the read scope cannot see the config; then the default (10).
 */
export async function stopAllowance(client: PoolClient): Promise<number> {
  const config = await client
    .call<{ stopTimeoutSeconds: number }>("pool.config")
    .catch((err: unknown) => {
      if (err instanceof TimeoutError) throw err;
      return { stopTimeoutSeconds: 10 };
    });
  return config.stopTimeoutSeconds;
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + "\n");
}

/** A message read from standard input, without the newline that `echo` or a file ends it with. */
export function readMessage(): string {
  return readFileSync(0, "utf8").replace(/\r?\n$/, "");
}
