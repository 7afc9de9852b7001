import { chmodSync, lstatSync, mkdirSync, unlinkSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { basename, dirname } from "node:path";
import { allScopes } from "../auth/scopes.js";
import type { Caller } from "../auth/tokens.js";
import type { Logger } from "../log.js";
import { connectUnix, UnreachableError } from "./client.js";
import { LineReader, maxMessageBytes } from "./line-reader.js";
import { recordHeader } from "./output-frames.js";
import type { RequestContext } from "./methods.js";
import { Peer, type SnapshotSource } from "./peer.js";
import { invalidRequestReply, type RpcServer } from "./server.js";
import type { SignalRouter } from "./signals.js";

/** Whoever can open the socket is the pool's own user: every scope. */
const localCaller: Caller = { name: "local", tokenId: "local", scopes: allScopes };

/** Another pool owns the socket. */
export class AlreadyRunningError extends Error {
  constructor(readonly pid: number | null) {
    super(`already running${pid ? `, pid ${pid}` : ""}`);
    this.name = "AlreadyRunningError";
  }
}

export interface UnixServerOptions {
  path: string;
  /** A listening socket handed over by systemd (socket activation). */
  fd?: number | null;
  rpc: RpcServer<RequestContext>;
  router: SignalRouter;
  snapshot: SnapshotSource;
  log: Logger;
}

/**
 * The control socket: newline-delimited JSON-RPC, one message per line, 1 MiB per message.
 * The directory is 0700 and the socket 0600: only the pool's user may connect.
 */
export async function listenUnix(options: UnixServerOptions): Promise<Server> {
  const server = createServer((socket) => serveConnection(socket, options));
  if (options.fd != null) {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ fd: options.fd! }, resolve);
    });
    return server;
  }
  await claimSocketPath(options.path, options.log);
  const umask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", (err: NodeJS.ErrnoException) =>
        reject(err.code === "EADDRINUSE" ? new AlreadyRunningError(null) : err),
      );
      server.listen(options.path, resolve);
    });
  } finally {
    process.umask(umask);
  }
  chmodSync(options.path, 0o600);
  return server;
}

/** Makes the directory private and clears a stale socket; refuses to take a live pool's. */
export async function claimSocketPath(path: string, log: Logger): Promise<void> {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (basename(dir).startsWith("claude-pool")) chmodSync(dir, 0o700);
  try {
    lstatSync(path);
  } catch {
    return;
  }
  try {
    const client = await connectUnix(path);
    const status = await client
      .call<{ pid?: number }>("pool.status")
      .catch(() => ({ pid: undefined }));
    client.close();
    throw new AlreadyRunningError(status.pid ?? null);
  } catch (err) {
    if (!(err instanceof UnreachableError)) throw err;
  }
  log.info(`removing stale socket ${path}`);
  unlinkSync(path);
}

function serveConnection(socket: Socket, options: UnixServerOptions): void {
  const peer = new Peer(
    {
      label: "unix",
      send: (text) => {
        if (!socket.destroyed) socket.write(text + "\n");
      },
      sendOutput: (message) => {
        if (socket.destroyed) return;
        socket.cork();
        socket.write(recordHeader(message.length));
        socket.write(message);
        socket.uncork();
      },
      bufferedBytes: () => socket.writableLength,
      onDrain: (listener) => socket.on("drain", listener),
    },
    options.snapshot,
    localCaller,
  );
  options.router.add(peer);
  const reader = new LineReader(
    {
      line: (text) => {
        options.rpc.handle(text, { peer, caller: localCaller }).then(
          (reply) => reply !== null && peer.transport.send(reply),
          (err: Error) => options.log.error(`control socket: ${err.message}`),
        );
      },
      oversized: () =>
        peer.transport.send(
          invalidRequestReply(
            `message larger than ${maxMessageBytes} bytes; send smaller messages, one JSON-RPC message per line`,
          ),
        ),
    },
    maxMessageBytes,
  );
  socket.on("data", (chunk: Buffer) => reader.push(chunk));
  socket.on("error", () => socket.destroy());
  socket.on("close", () => options.router.delete(peer));
}
