/**
 * JSON-RPC 2.0 over the pool's /rpc WebSocket. The token goes in the `bearer.` subprotocol
 * (browsers cannot set Authorization, and a URL would put it in logs). The connection comes back
 * by itself after a drop; `onOpen` handlers run on every (re)connection to subscribe and reload.
 */
export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export type ConnectionState = "connecting" | "open" | "closed";
type Notification = (method: string, params: Record<string, unknown>) => void;

const callTimeoutMs = 30_000;
const maxBackoffMs = 10_000;

/** A string as a WebSocket subprotocol may carry it: base64url of its UTF-8. */
export function base64url(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export class Rpc {
  private ws: WebSocket | null = null;
  private nextId = 1;
  private readonly waiting = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: number }
  >();
  private readonly notificationHandlers: Notification[] = [];
  private readonly openHandlers: (() => void)[] = [];
  private readonly stateHandlers: ((state: ConnectionState, failures: number) => void)[] = [];
  private failures = 0;
  private stopped = false;
  state: ConnectionState = "connecting";

  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {}

  start(): void {
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    this.ws?.close(1000, "signed out");
  }

  call<T = unknown>(method: string, params: object = {}): Promise<T> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      return Promise.reject(new Error("not connected to the pool; reconnecting…"));
    }
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = window.setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`${method}: no answer from the pool within ${callTimeoutMs / 1000} s`));
      }, callTimeoutMs);
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      ws.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
    });
  }

  /** Calls `handler` with every signal; returns its removal. */
  onNotification(handler: Notification): () => void {
    return listen(this.notificationHandlers, handler);
  }

  /** Calls `handler` on every (re)connection, now too when connected; returns its removal. */
  onOpen(handler: () => void): () => void {
    if (this.state === "open") handler();
    return listen(this.openHandlers, handler);
  }

  onState(handler: (state: ConnectionState, failures: number) => void): void {
    this.stateHandlers.push(handler);
  }

  private setState(state: ConnectionState): void {
    this.state = state;
    for (const handler of this.stateHandlers) handler(state, this.failures);
  }

  private open(): void {
    this.setState("connecting");
    const ws = new WebSocket(this.url, ["claude-pool", `bearer.${base64url(this.token)}`]);
    this.ws = ws;
    ws.onopen = () => {
      this.failures = 0;
      this.setState("open");
      for (const handler of [...this.openHandlers]) handler();
    };
    ws.onmessage = (event) => this.receive(String(event.data));
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      for (const [id, call] of this.waiting) {
        window.clearTimeout(call.timer);
        call.reject(new Error("the connection to the pool closed; reconnecting…"));
        this.waiting.delete(id);
      }
      this.failures++;
      this.setState("closed");
      if (this.stopped) return;
      const delay = Math.min(maxBackoffMs, 250 * 2 ** Math.min(this.failures, 6));
      window.setTimeout(() => !this.stopped && this.open(), delay);
    };
  }

  private receive(text: string): void {
    let message: {
      id?: number;
      method?: string;
      params?: Record<string, unknown>;
      result?: unknown;
      error?: { code: number; message: string };
    };
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (message.method !== undefined) {
      for (const handler of [...this.notificationHandlers]) {
        handler(message.method, message.params ?? {});
      }
      return;
    }
    const call = message.id === undefined ? undefined : this.waiting.get(message.id);
    if (!call) return;
    this.waiting.delete(message.id!);
    window.clearTimeout(call.timer);
    if (message.error) call.reject(new RpcError(message.error.code, message.error.message));
    else call.resolve(message.result);
  }
}

function listen<T>(handlers: T[], handler: T): () => void {
  handlers.push(handler);
  return () => {
    const at = handlers.indexOf(handler);
    if (at >= 0) handlers.splice(at, 1);
  };
}

/** The /rpc address beside the page (http → ws, https → wss), under a reverse proxy's path too. */
export function rpcUrl(page: Location): string {
  const url = new URL("rpc", page.href);
  url.protocol = page.protocol === "https:" ? "wss:" : "ws:";
  url.hash = "";
  url.search = "";
  return url.href;
}
