import { readFileSync } from "node:fs";
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { isIP } from "node:net";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import type { TokenStore } from "../auth/tokens.js";
import type { PoolConfig } from "../config/types.js";
import { DashboardAssets } from "../dashboard/assets.js";
import type { LoginCodes } from "../dashboard/login-codes.js";
import { isDashboardPath, serveDashboard } from "../dashboard/routes.js";
import type { Logger } from "../log.js";
import { serveMetrics, type MetricsSource } from "../metrics/endpoint.js";
import type { Pool } from "../pool.js";
import { serveClaudeSocket } from "./claude-socket.js";
import { authenticate, browserProtocol, pathOf } from "./http-auth.js";
import type { RequestContext } from "./methods.js";
import { Peer, type SnapshotSource } from "./peer.js";
import type { MethodRegistry } from "./registry.js";
import { isRestPath, sendError, sendJson, serveRest } from "./rest.js";
import { serveSeedEvents } from "./seed-events.js";
import type { RpcServer } from "./server.js";
import type { SignalRouter } from "./signals.js";
import { ExplainedWebSocket, maxFrameBytes } from "./ws-close.js";
import { serveWsRpc } from "./ws-connection.js";

/** claude-socket's endpoint for one session. */
const claudeSocketPath = /^\/sessions\/([^/]+)\/socket\/?$/;

/** The pool refuses to serve the remote API this way; its message says why and what to do. */
export class RemoteApiRefused extends Error {}

export interface RemoteApiOptions {
  /** The config in force, read per request and connection: a reload applies to them. */
  config: () => PoolConfig;
  pool: Pool;
  registry: MethodRegistry<RequestContext>;
  rpc: RpcServer<RequestContext>;
  router: SignalRouter;
  snapshot: SnapshotSource;
  tokens: TokenStore;
  /** The one-time codes of the dashboard's login links. */
  logins: LoginCodes;
  log: Logger;
  /** What GET /metrics serves; without it there is no /metrics. */
  metrics?: MetricsSource;
}

export interface RemoteApi {
  /** ws:// or wss:// base address, with the port actually bound. */
  readonly url: string;
  /**
   * Applies a reloaded config: listens anew when `apiPort`, `bind` or `tls` changed, closing the
   * old listener's connections (1012); pings at the new `pingSeconds`. When the new address
   * cannot be served it rejects and the old listener stays.
   */
  reconfigure(config: PoolConfig): Promise<void>;
  close(): void;
}

/** The keys of the config that decide where and how the remote API listens. */
type ListenKeys = Pick<PoolConfig, "apiPort" | "bind" | "tls" | "allowInsecureRemote">;

export function isLoopback(address: string): boolean {
  return address === "localhost" || address === "::1" || /^127\.\d+\.\d+\.\d+$/.test(address);
}

/** Whether going from `a` to `b` needs a new listener. */
function listensElsewhere(a: ListenKeys, b: ListenKeys): boolean {
  return (
    a.apiPort !== b.apiPort ||
    a.bind !== b.bind ||
    a.tls?.cert !== b.tls?.cert ||
    a.tls?.key !== b.tls?.key ||
    a.allowInsecureRemote !== b.allowInsecureRemote
  );
}

interface Listener {
  server: Server;
  wss: WebSocketServer;
  url: string;
  keys: ListenKeys;
}

/** The WebSocket endpoints; a plain HTTP request to one gets 426. */
function isWebSocketPath(path: string): boolean {
  return path === "/rpc" || path === "/ws" || claudeSocketPath.test(path);
}

/**
 * The TCP side: JSON-RPC over WebSocket at /rpc, the seed's REST routes and /ws event stream,
 * the dashboard's files and sign-in, and an unauthenticated /health. Every other request needs
 * a token.
 */
export async function listenRemote(options: RemoteApiOptions): Promise<RemoteApi> {
  const { log } = options;
  const alive = new WeakMap<WebSocket, boolean>();
  const dashboard = {
    tokens: options.tokens,
    logins: options.logins,
    allowedOrigins: () => options.config().allowedOrigins,
    assets: DashboardAssets.load(),
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const path = pathOf(req);
    if (path === null) {
      sendError(res, 400, `malformed request target ${JSON.stringify(req.url)}`);
      return;
    }
    if (path === "/health") {
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.setHeader("allow", "GET, HEAD");
        sendError(res, 405, `${req.method} is not allowed on /health; use GET`);
        return;
      }
      const { uptimeSeconds, active, maxSessions } = options.pool.status();
      sendJson(res, 200, { status: "ok", uptime: uptimeSeconds, active, max: maxSessions });
      return;
    }
    if (isDashboardPath(path, dashboard.assets)) {
      serveDashboard(req, res, path, dashboard).catch((err: Error) => {
        log.error(`${req.method} ${path}: ${err.message}`);
        if (!res.headersSent) sendError(res, 500, "internal error; see the pool's log");
      });
      return;
    }
    if (path === "/metrics" && options.metrics) {
      const auth = authenticate(req, options.tokens, options.config().allowedOrigins);
      return serveMetrics(req, res, options.metrics, auth, (err) =>
        log.error(`GET /metrics: ${err.message}`),
      );
    }
    if (isWebSocketPath(path)) {
      res.setHeader("upgrade", "websocket");
      res.setHeader("connection", "Upgrade");
      sendError(
        res,
        426,
        `${path} is a WebSocket endpoint: connect with a WebSocket client (Upgrade: websocket), ` +
          "e.g. claude-poolctl --url ws://HOST:PORT; the REST API is /sessions",
      );
      return;
    }
    if (!isRestPath(path)) {
      sendError(
        res,
        404,
        `no route ${path}; the API is /health, /sessions, /rpc, /ws and /metrics, the dashboard /`,
      );
      return;
    }
    const auth = authenticate(req, options.tokens, options.config().allowedOrigins);
    if (!auth.ok) {
      sendError(res, auth.status, auth.message);
      return;
    }
    const peer = new Peer(
      {
        label: "rest",
        send: () => {},
        sendOutput: () => {},
        bufferedBytes: () => 0,
        onDrain: () => {},
      },
      options.snapshot,
      auth.caller,
    );
    serveRest(req, res, path, { registry: options.registry, caller: auth.caller, peer }).catch(
      (err: Error) => {
        log.error(`REST ${req.method} ${path}: ${err.message}`);
        if (!res.headersSent) sendError(res, 500, "internal error; see the pool's log");
      },
    );
  };

  const onUpgrade = (
    wss: WebSocketServer,
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
  ): void => {
    const path = pathOf(req);
    if (path === null) {
      return refuseUpgrade(socket, 400, `malformed request target ${JSON.stringify(req.url)}`);
    }
    if (!isWebSocketPath(path)) {
      return refuseUpgrade(
        socket,
        404,
        `no WebSocket at ${path}; use /rpc, /ws or /sessions/ID/socket`,
      );
    }
    const auth = authenticate(req, options.tokens, options.config().allowedOrigins);
    if (!auth.ok) return refuseUpgrade(socket, auth.status, auth.message);
    const socketOf = claudeSocketPath.exec(path);
    let sessionId = "";
    if (socketOf) {
      try {
        sessionId = options.pool.find(decodeURIComponent(socketOf[1])).id;
      } catch (err) {
        if (err instanceof URIError) {
          return refuseUpgrade(socket, 400, `malformed percent-encoding in ${path}`);
        }
        return refuseUpgrade(socket, 404, (err as Error).message);
      }
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      alive.set(ws, true);
      ws.on("pong", () => alive.set(ws, true));
      const label = `ws ${req.socket.remoteAddress}:${req.socket.remotePort} (${auth.caller.name})`;
      // ws closes the connection itself on a bad frame (with a reason, ExplainedWebSocket).
      ws.on("error", (err) => log.debug(`${label}: ${err.message}`));
      log.debug(`${label}: connected to ${path}`);
      const limits = {
        ...options,
        requestsPerSecond: () => options.config().requestsPerSecond,
      };
      if (path === "/ws") serveSeedEvents(ws, options.pool);
      else if (socketOf) {
        const chat = new URL(req.url ?? "/", "http://localhost").searchParams.get("session");
        serveClaudeSocket(ws, auth.caller, { sessionId, chat: chat || "default", label }, limits);
      } else serveWsRpc(ws, auth.caller, label, limits);
    });
  };

  const open = async (config: PoolConfig): Promise<Listener> => {
    const tls = config.tls;
    if (!isLoopback(config.bind) && !tls && !config.allowInsecureRemote) {
      throw new RemoteApiRefused(
        `refusing to serve the remote API on ${config.bind} without TLS: tokens would cross the ` +
          'network in clear text; set tls.cert and tls.key, bind to 127.0.0.1, or set "allowInsecureRemote": true',
      );
    }
    const server = tls
      ? createHttpsServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) })
      : createHttpServer();
    const wss = new WebSocketServer({
      noServer: true,
      maxPayload: maxFrameBytes,
      WebSocket: ExplainedWebSocket,
      // the dashboard's; its other offer carries the token (see presentedToken)
      handleProtocols: (offered) => (offered.has(browserProtocol) ? browserProtocol : false),
    });
    server.on("request", onRequest);
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      onUpgrade(wss, req, socket, head),
    );
    await new Promise<void>((resolve, reject) => {
      server.once("error", (err: NodeJS.ErrnoException) =>
        reject(
          err.code === "EADDRINUSE"
            ? new RemoteApiRefused(
                `${config.bind}:${config.apiPort} is in use; set apiPort in the config or pass --port`,
              )
            : err,
        ),
      );
      server.listen(config.apiPort, config.bind, resolve);
    });
    server.removeAllListeners("error");
    server.on("error", (err) => log.error(`remote API: ${err.message}`));
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : config.apiPort;
    const host = isIP(config.bind) === 6 ? `[${config.bind}]` : config.bind;
    const keys = {
      apiPort: config.apiPort,
      bind: config.bind,
      tls: config.tls,
      allowInsecureRemote: config.allowInsecureRemote,
    };
    return { server, wss, url: `${tls ? "wss" : "ws"}://${host}:${port}`, keys };
  };

  const shut = (listener: Listener, code: number, reason: string): void => {
    for (const ws of listener.wss.clients) ws.close(code, reason);
    listener.server.close();
  };

  let current = await open(options.config());

  let pingSeconds = options.config().pingSeconds;
  const pingAll = () => {
    for (const ws of current.wss.clients) {
      if (alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  };
  let ping = setInterval(pingAll, pingSeconds * 1000);
  ping.unref();

  return {
    get url() {
      return current.url;
    },
    async reconfigure(config) {
      if (config.pingSeconds !== pingSeconds) {
        pingSeconds = config.pingSeconds;
        clearInterval(ping);
        ping = setInterval(pingAll, pingSeconds * 1000);
        ping.unref();
      }
      if (!listensElsewhere(current.keys, config)) return;
      const old = current;
      // The same port on another address would collide with the old listener: free it first.
      const samePort = config.apiPort !== 0 && config.apiPort === old.keys.apiPort;
      if (samePort) old.server.close();
      try {
        current = await open(config);
      } catch (err) {
        if (samePort) current = await open({ ...config, ...old.keys });
        throw err;
      }
      shut(old, 1012, `the remote API moved to ${current.url}; reconnect there`);
      log.info(`remote API: now at ${current.url}`);
    },
    close: () => {
      clearInterval(ping);
      for (const ws of current.wss.clients) ws.terminate();
      current.server.close();
    },
  };
}

function refuseUpgrade(socket: Duplex, status: number, message: string): void {
  const reason =
    { 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found" }[status] ??
    "Error";
  const body = JSON.stringify({ error: message });
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
