import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "../log.js";
import type { HookInput } from "../session/evidence.js";

/** The header that carries a launch's secret; claude sends it as the settings file says. */
export const secretHeader = "x-claude-pool-hook";

/** A hook input is a few KB; a tool input can be a whole file being written. */
const maxBodyBytes = 4 * 1024 * 1024;

/** What a hook asks of the pool; `answer` sends claude the hook's output, once. */
export interface HookCall {
  sessionId: string;
  input: HookInput;
  answer(output: Record<string, unknown>): void;
  /** Called when claude gives up on the call before an answer (the person answered at the terminal). */
  onAbandoned(listener: () => void): void;
}

export type HookHandler = (call: HookCall) => void;

/**
 * The loopback endpoint Claude Code's `http` hooks post to: POST /hooks/<session id>, with that
 * launch's secret in a header. Each call is answered at once with `{}` unless the handler keeps
 * it (a permission request waits for a decision).
 */
export class HookServer {
  private readonly secrets = new Map<string, Buffer>();
  private server: Server | null = null;
  private port = 0;

  constructor(
    private readonly handler: HookHandler,
    private readonly log: Logger,
  ) {}

  /**
   * Listens on `preferredPort` when it is free (the last pool's, so that the claudes it leaves
   * running reach this one), else on any port.
   */
  async listen(preferredPort: number | null = null): Promise<void> {
    const server = createServer((req, res) => this.onRequest(req, res));
    server.requestTimeout = 0;
    server.headersTimeout = 10_000;
    const bind = (port: number) =>
      new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(port, "127.0.0.1", () => {
          server.off("error", reject);
          resolve();
        });
      });
    await (preferredPort === null ? bind(0) : bind(preferredPort).catch(() => bind(0)));
    server.on("error", (err) => this.log.error(`hook endpoint: ${err.message}`));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  /** A new secret for a launch of `sessionId`; the previous launch's stops working. */
  grant(sessionId: string): { url: string; secret: string } {
    const secret = randomBytes(24).toString("hex");
    this.secrets.set(sessionId, digest(secret));
    return { url: `http://127.0.0.1:${this.port}/hooks/${sessionId}`, secret };
  }

  restore(sessionId: string, url: string, secret: string): boolean {
    if (url !== `http://127.0.0.1:${this.port}/hooks/${sessionId}`) return false;
    this.secrets.set(sessionId, digest(secret));
    return true;
  }

  revoke(sessionId: string): void {
    this.secrets.delete(sessionId);
  }

  close(): void {
    this.server?.closeAllConnections();
    this.server?.close();
    this.server = null;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const match = /^\/hooks\/([0-9a-f]{8})$/.exec(req.url ?? "");
    if (req.method !== "POST" || !match) return reply(res, 404, { error: "no such hook endpoint" });
    const sessionId = match[1];
    const expected = this.secrets.get(sessionId);
    const presented = req.headers[secretHeader];
    if (
      !expected ||
      typeof presented !== "string" ||
      !timingSafeEqual(digest(presented), expected)
    ) {
      return reply(res, 403, { error: "unknown session or wrong secret" });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) {
        reply(res, 413, { error: `hook input over ${maxBodyBytes} bytes` });
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (res.headersSent) return;
      let input: unknown;
      try {
        input = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        return reply(res, 400, { error: "hook input is not JSON" });
      }
      if (input === null || typeof input !== "object" || Array.isArray(input)) {
        return reply(res, 400, { error: "hook input is not a JSON object" });
      }
      this.dispatch(sessionId, input as HookInput, res);
    });
  }

  private dispatch(sessionId: string, input: HookInput, res: ServerResponse): void {
    let answered = false;
    const abandoned: (() => void)[] = [];
    res.on("close", () => {
      if (answered) return;
      answered = true;
      for (const listener of abandoned) listener();
    });
    const call: HookCall = {
      sessionId,
      input,
      answer: (output) => {
        if (answered) return;
        answered = true;
        reply(res, 200, output);
      },
      onAbandoned: (listener) => abandoned.push(listener),
    };
    try {
      this.handler(call);
    } catch (err) {
      this.log.error(
        `session ${sessionId}: hook ${String(input.hook_event_name)}: ${(err as Error).message}`,
      );
      call.answer({});
    }
  }
}

function digest(secret: string): Buffer {
  return createHash("sha256").update(secret).digest();
}

function reply(res: ServerResponse, status: number, body: Record<string, unknown>): void {
  if (res.headersSent || res.destroyed) return;
  const json = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(json),
  });
  res.end(json);
}
