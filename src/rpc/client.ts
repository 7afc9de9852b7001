import { EventEmitter } from "node:events";
import { connect, type Socket } from "node:net";
import type { WebSocket } from "ws";
import { ErrorCode } from "../errors.js";
import { decodeOutput, StreamReader } from "./output-frames.js";

/** An error reply from the pool. */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly data?: unknown,
  ) {
    super(message);
    this.name = "RpcError";
  }
}

/** The pool could not be reached at all. */
export class UnreachableError extends Error {
  constructor(
    readonly target: string,
    readonly cause: Error,
  ) {
    super(`cannot reach the pool at ${target}: ${cause.message}`);
    this.name = "UnreachableError";
  }
}

interface ClientEvents {
  notification: [method: string, params: Record<string, unknown>];
  /** Live output of a session attached with `binary: true`. */
  output: [id: string, data: Buffer];
  close: [];
}

interface Reply {
  id?: number | string | null;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
  method?: string;
  params?: Record<string, unknown>;
}

/** What a client connection needs from its transport: send text, receive messages, close. */
export interface ClientTransport {
  send(text: string): void;
  close(): void;
  onMessage(listener: (text: string) => void): void;
  /** Binary output messages (see output-frames.ts). */
  onOutput(listener: (message: Buffer) => void): void;
  onClose(listener: (error?: Error) => void): void;
}

/** A JSON-RPC 2.0 client over any transport: calls by id, notifications as events. */
export class RpcClient extends EventEmitter<ClientEvents> {
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  private closedWith: Error | null = null;

  constructor(private readonly transport: ClientTransport) {
    super();
    transport.onMessage((text) => this.receive(text));
    transport.onOutput((message) => {
      const output = decodeOutput(message);
      if (output) this.emit("output", output.id, output.data);
    });
    transport.onClose((error) => {
      this.closedWith = error ?? new Error("the pool closed the connection");
      for (const { reject } of this.pending.values()) reject(this.closedWith);
      this.pending.clear();
      this.emit("close");
    });
  }

  call<T = unknown>(method: string, params?: object): Promise<T> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.transport.send(JSON.stringify({ jsonrpc: "2.0", id, method, params: params ?? {} }));
    });
  }

  close(): void {
    this.transport.close();
  }

  private receive(text: string): void {
    let message: Reply;
    try {
      message = JSON.parse(text) as Reply;
    } catch {
      return;
    }
    if (message.method !== undefined) {
      this.emit("notification", message.method, message.params ?? {});
      return;
    }
    const waiter = typeof message.id === "number" ? this.pending.get(message.id) : undefined;
    if (!waiter) return;
    this.pending.delete(message.id as number);
    if (message.error) {
      waiter.reject(new RpcError(message.error.code, message.error.message, message.error.data));
    } else {
      waiter.resolve(message.result);
    }
  }
}

/** Connects over the Unix socket; rejects with UnreachableError when nothing listens there. */
export function connectUnix(path: string): Promise<RpcClient> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(path);
    socket.once("error", (err) => reject(new UnreachableError(path, err)));
    socket.once("connect", () => {
      socket.removeAllListeners("error");
      resolve(new RpcClient(unixClientTransport(socket)));
    });
  });
}

function unixClientTransport(socket: Socket): ClientTransport {
  const messageListeners: ((text: string) => void)[] = [];
  const outputListeners: ((message: Buffer) => void)[] = [];
  const reader = new StreamReader(
    {
      line: (text) => messageListeners.forEach((l) => l(text)),
      record: (message) => outputListeners.forEach((l) => l(message)),
      oversized: () => socket.destroy(new Error("the pool sent an oversized message")),
    },
    64 << 20,
  );
  socket.on("data", (chunk: Buffer) => reader.push(chunk));
  return {
    send: (text) => socket.write(text + "\n"),
    close: () => socket.end(),
    onMessage: (listener) => messageListeners.push(listener),
    onOutput: (listener) => outputListeners.push(listener),
    onClose: (listener) => {
      let error: Error | undefined;
      socket.on("error", (err) => (error = err));
      socket.on("close", () => listener(error));
    },
  };
}

export interface WsConnectOptions {
  token?: string;
  /** Extra CA certificate, for a pool with a self-signed certificate. */
  ca?: Buffer;
  /** Give up on a handshake that takes longer (an unreachable host answers nothing). */
  handshakeTimeoutMs?: number;
}

/**
 * Connects to a pool's remote API: `ws://host:port` (or wss://), path /rpc unless given.
 * Rejects with UnreachableError when nothing answers, and with RpcError(-32004) on 401/403.
 */
export async function connectWs(url: string, options: WsConnectOptions = {}): Promise<RpcClient> {
  const target = new URL(url);
  if (target.pathname === "/" || target.pathname === "") target.pathname = "/rpc";
  // loaded here: the local CLI, whose start-up time counts, never needs it
  const { WebSocket } = await import("ws");
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(target, {
      headers: options.token ? { authorization: `Bearer ${options.token}` } : {},
      maxPayload: 64 << 20,
      ...(options.ca ? { ca: options.ca } : {}),
      ...(options.handshakeTimeoutMs ? { handshakeTimeout: options.handshakeTimeoutMs } : {}),
    });
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => {
        const message = (() => {
          try {
            return (JSON.parse(body) as { error: string }).error;
          } catch {
            return `HTTP ${res.statusCode}`;
          }
        })();
        reject(new RpcError(ErrorCode.Unauthorized, message));
      });
    });
    ws.once("error", (err) => reject(new UnreachableError(target.href, err)));
    ws.once("open", () => {
      ws.removeAllListeners("error");
      resolve(new RpcClient(wsClientTransport(ws)));
    });
  });
}

function wsClientTransport(ws: WebSocket): ClientTransport {
  return {
    send: (text) => ws.send(text),
    close: () => ws.close(),
    onMessage: (listener) =>
      ws.on("message", (data, isBinary) => {
        if (!isBinary) listener(data.toString());
      }),
    onOutput: (listener) =>
      ws.on("message", (data, isBinary) => {
        if (!isBinary) return;
        if (Array.isArray(data)) listener(Buffer.concat(data));
        else listener(Buffer.isBuffer(data) ? data : Buffer.from(data));
      }),
    onClose: (listener) => {
      let error: Error | undefined;
      ws.on("error", (err) => (error = err));
      ws.on("close", (code, reason) =>
        listener(
          error ??
            (code === 1000 || code === 1005
              ? undefined
              : new Error(`connection closed (${code} ${reason.toString()})`)),
        ),
      );
    },
  };
}
