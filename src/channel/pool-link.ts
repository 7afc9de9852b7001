import { EventEmitter } from "node:events";
import { connectUnix, RpcError, type RpcClient } from "../rpc/client.js";
import {
  bridgeMethod,
  bridgeNotification,
  type Behavior,
  type ChannelDelivery,
} from "./protocol.js";

interface PoolLinkEvents {
  deliver: [messages: ChannelDelivery[]];
  verdict: [requestId: string, behavior: Behavior];
  disconnected: [reason: string];
}

interface Outgoing {
  method: string;
  params: Record<string, unknown>;
}

/** Calls kept while the pool is away; past this the oldest are dropped. */
const maxOutbox = 1000;
const minRetryMs = 100;
const maxRetryMs = 5000;

/**
 * The channel server's connection to the pool: registers as session `sessionId`'s channel,
 * reconnects with backoff whenever the pool goes away, and keeps calls made meanwhile until it
 * is back. Nothing here ever waits on the pool on claude's behalf.
 */
export class PoolLink extends EventEmitter<PoolLinkEvents> {
  private client: RpcClient | null = null;
  private outbox: Outgoing[] = [];
  private retryMs = minRetryMs;
  private retryTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly socketPath: string,
    private readonly sessionId: string,
    private readonly clientInfo: () => Record<string, unknown> | undefined,
  ) {
    super();
  }

  start(): void {
    void this.connect();
  }

  get isConnected(): boolean {
    return this.client !== null;
  }

  /** Sends now, or when the pool is back. */
  post(method: string, params: Record<string, unknown>): void {
    if (this.client) {
      // Kept for later only if the connection failed; the pool refusing a call is final.
      this.client.call(method, params).catch((err: Error) => {
        if (!(err instanceof RpcError)) this.keep({ method, params });
      });
      return;
    }
    this.keep({ method, params });
  }

  /** A call whose answer matters now; fails at once when the pool is away. */
  async call<T>(method: string, params: Record<string, unknown>): Promise<T> {
    if (!this.client) throw new Error("the pool is not reachable right now");
    return (await this.client.call(method, params)) as T;
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.client?.close();
  }

  private keep(call: Outgoing): void {
    this.outbox.push(call);
    if (this.outbox.length > maxOutbox) this.outbox.shift();
  }

  private async connect(): Promise<void> {
    let client: RpcClient | null = null;
    try {
      client = await connectUnix(this.socketPath);
      // Queued messages follow the pool's answer to connect at once: listen before asking.
      client.on("notification", (method, params) => this.onNotification(method, params));
      await client.call(bridgeMethod.connect, { id: this.sessionId, client: this.clientInfo() });
    } catch (err) {
      client?.close();
      this.retry((err as Error).message);
      return;
    }
    if (this.closed) return client.close();
    this.client = client;
    this.retryMs = minRetryMs;
    client.on("close", () => {
      this.client = null;
      this.retry("the pool closed the connection");
    });
    const outbox = this.outbox;
    this.outbox = [];
    for (const { method, params } of outbox) this.post(method, params);
  }

  private retry(reason: string): void {
    if (this.closed) return;
    this.emit("disconnected", reason);
    this.retryTimer = setTimeout(() => void this.connect(), this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, maxRetryMs);
  }

  private onNotification(method: string, params: Record<string, unknown>): void {
    if (method === bridgeNotification.deliver) {
      this.emit("deliver", params.messages as ChannelDelivery[]);
    } else if (method === bridgeNotification.verdict) {
      this.emit("verdict", params.requestId as string, params.behavior as Behavior);
    }
  }
}
