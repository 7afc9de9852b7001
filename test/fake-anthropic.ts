/**
 * A stand-in for the Anthropic Messages API, so tests can run the real Claude Code CLI offline:
 * start claude with `ANTHROPIC_BASE_URL=<api.url>` and a dummy API key it has approved (see
 * real-claude-support.ts).
 *
 * `POST /v1/messages` answers as the real API does: with `stream: true` a server-sent event stream
 * (message_start, ping, content_block_start / content_block_delta / content_block_stop per block,
 * message_delta with the stop reason and usage, message_stop), else one JSON message; errors come in
 * the API's envelope (`{"type":"error","error":{...}}`) with their HTTP status. The conversation's
 * replies are scripted by the test (`script`, `respond`); an unscripted turn replies
 * `echo: <last user text>`, or `tool result: <output>` right after a tool ran (`SLEEP <s>`: a turn
 * that takes that long). claude's side
 * requests (the session title, the auto mode classifier) get answers of their own and never use
 * up the script. Every request is logged in `requests`, credentials left out.
 *
 * What claude 2.1.332 calls: `HEAD /api/hello` at start-up, then `POST /v1/messages?beta=true` for
 * each turn, for the title (claude-haiku model, `tools: []`, a system prompt about naming the
 * session, `output_config.format` a JSON schema with `title`), and in auto permission mode for
 * the Bash classifier (not streamed, a "security monitor" system prompt, `stop_sequences`
 * `["</block>"]`, answered `<block>no` = allow), and for `/compact` (the turn's tools, a last user
 * message asking for "a detailed summary of the conversation"). `/context` makes it call
 * `POST /v1/messages/count_tokens?beta=true` a few dozen times.
 *
 * Run directly (`node dist/test/fake-anthropic.js [port]`), it serves until killed and prints
 * each request as a JSON line; a typed message `bash: <command>` then makes claude run it.
 */
import { randomInt } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { fileURLToPath } from "node:url";

export interface ToolUse {
  name: string;
  input: Record<string, unknown>;
  /** Default: a fresh `toolu_01…` id. */
  id?: string;
}

/** What the model answers to one request. */
export type Reply =
  | {
      /** A plain reply, or the text before the tool uses. */
      text?: string;
      /** Tool uses after the text; the stop reason is then `tool_use`. */
      toolUses?: ToolUse[];
      /** Spreads the stream's events evenly over this long (default: all at once). */
      streamMs?: number;
    }
  | {
      /** An HTTP error in the API's envelope, e.g. `overloaded` (529). */
      error: { status: number; type: string; message: string };
    };

/** HTTP 529, which claude retries (up to 10 attempts, backing off from about 1 s). */
export const overloaded: Reply = {
  error: { status: 529, type: "overloaded_error", message: "Overloaded" },
};

/** Why claude sent a `POST /v1/messages`. */
export type RequestKind = "turn" | "title" | "classifier" | "compact" | "other";

export interface ContentBlock {
  type: string;
  text?: string;
  id?: string;
  name?: string;
  input?: unknown;
  tool_use_id?: string;
  content?: string | ContentBlock[];
  is_error?: boolean;
}

export interface Message {
  /** claude 2.1.332 also puts its environment description in a `system` message. */
  role: "user" | "assistant" | "system";
  content: string | ContentBlock[];
}

/** The parts of a Messages API request the stand-in reads. */
export interface MessagesRequest {
  model: string;
  messages: Message[];
  stream?: boolean;
  system?: string | { type: string; text: string }[];
  tools?: { name: string }[];
  stop_sequences?: string[];
  output_config?: { format?: { schema?: { properties?: Record<string, unknown> } } };
}

export interface LoggedRequest {
  method: string;
  /** With its query string, e.g. `/v1/messages?beta=true`. */
  path: string;
  /** Without x-api-key, authorization, cookie. */
  headers: Record<string, string | string[] | undefined>;
  /** The JSON body, parsed; undefined without one. */
  body: unknown;
  /** Set for `POST /v1/messages`. */
  kind?: RequestKind;
  /** Whether the stand-in knew the endpoint (else it answered 404). */
  served: boolean;
  at: number;
}

export interface MessagesLog extends LoggedRequest {
  body: MessagesRequest;
  kind: RequestKind;
}

export interface SseEvent {
  event: string;
  data: Record<string, unknown>;
}

const secretHeaders = new Set(["x-api-key", "authorization", "cookie", "proxy-authorization"]);
const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** An id like the API's: `msg_01` + 22 letters and digits. */
export function newId(prefix: "msg" | "toolu" | "req"): string {
  let id = `${prefix}_01`;
  for (let i = 0; i < 22; i++) id += idAlphabet[randomInt(idAlphabet.length)];
  return id;
}

function blocksOf(content: string | ContentBlock[]): ContentBlock[] {
  return typeof content === "string" ? [{ type: "text", text: content }] : content;
}

/** A message's (or tool result's) text blocks, joined. */
export function contentText(content: string | ContentBlock[] | undefined): string {
  if (content === undefined) return "";
  return blocksOf(content)
    .filter((b) => b.type === "text")
    .map((b) => b.text ?? "")
    .join("\n");
}

export function systemText(req: MessagesRequest): string {
  if (req.system === undefined) return "";
  return typeof req.system === "string" ? req.system : req.system.map((b) => b.text).join("\n");
}

/**
 * What the user typed last: the last text block of a user message that is not one of claude's
 * own annotations (`<system-reminder>` and the like).
 */
export function lastUserText(req: MessagesRequest): string {
  for (const m of [...req.messages].reverse()) {
    if (m.role !== "user") continue;
    for (const b of [...blocksOf(m.content)].reverse()) {
      const text = b.type === "text" ? b.text?.trim() : undefined;
      if (text && !text.startsWith("<")) return text;
    }
  }
  return "";
}

/** The tool results in the request's last message: what claude sends right after a tool ran. */
export function newToolResults(req: MessagesRequest): ContentBlock[] {
  // claude may append its environment description as a trailing `system` message.
  const last = req.messages.filter((m) => m.role !== "system").at(-1);
  if (last?.role !== "user") return [];
  return blocksOf(last.content).filter((b) => b.type === "tool_result");
}

/** Tells claude's side requests from the turns of the conversation. */
export function classify(req: MessagesRequest): RequestKind {
  const system = systemText(req);
  if (/security monitor/i.test(system)) return "classifier";
  const schema = req.output_config?.format?.schema?.properties;
  if (/naming a coding session/i.test(system) || (schema && "title" in schema)) return "title";
  const last = req.messages[req.messages.length - 1];
  if (
    last?.role === "user" &&
    /create a detailed summary of the conversation/.test(contentText(last.content))
  ) {
    return "compact";
  }
  return (req.tools?.length ?? 0) > 0 ? "turn" : "other";
}

/**
 * `echo: <text>`, or after a tool ran, `tool result: <its output>`; `SLEEP <seconds>` is a slow
 * turn, its reply `slept <seconds>` streamed over that long.
 */
export function defaultReply(req: MessagesRequest): Reply {
  const [result] = newToolResults(req);
  if (result) return { text: `tool result: ${contentText(result.content)}` };
  const sleep = /^SLEEP (\d+(?:\.\d+)?)$/.exec(lastUserText(req).trim());
  if (sleep) return { text: `slept ${sleep[1]}`, streamMs: Number(sleep[1]) * 1000 };
  return { text: `echo: ${lastUserText(req)}` };
}

/** Rough token count, for plausible usage. */
function tokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

function usage(input: number, output: number) {
  return {
    input_tokens: input,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: output,
    service_tier: "standard",
  };
}

type ReplyBlock =
  | { type: "text"; text: string }
  | { type: "tool_use"; id: string; name: string; input: Record<string, unknown> };

/** A reply as the API's message: content blocks, stop reason (a stop sequence cuts the text). */
export function replyMessage(
  reply: Extract<Reply, { text?: string }>,
  req: Pick<MessagesRequest, "model" | "messages" | "stop_sequences">,
) {
  let text = reply.text ?? "";
  let stop: { reason: string; sequence: string | null } = { reason: "end_turn", sequence: null };
  for (const sequence of req.stop_sequences ?? []) {
    const at = text.indexOf(sequence);
    if (at < 0) continue;
    text = text.slice(0, at);
    stop = { reason: "stop_sequence", sequence };
    break;
  }
  const content: ReplyBlock[] = [];
  if (text !== "" || !reply.toolUses?.length) content.push({ type: "text", text });
  if (stop.reason !== "stop_sequence") {
    for (const t of reply.toolUses ?? []) {
      content.push({ type: "tool_use", id: t.id ?? newId("toolu"), name: t.name, input: t.input });
      stop = { reason: "tool_use", sequence: null };
    }
  }
  const output = content.reduce(
    (n, b) => n + tokens(b.type === "text" ? b.text : JSON.stringify(b.input)),
    0,
  );
  return {
    id: newId("msg"),
    type: "message" as const,
    role: "assistant" as const,
    model: req.model,
    content,
    stop_reason: stop.reason,
    stop_sequence: stop.sequence,
    usage: usage(tokens(JSON.stringify(req.messages)), output),
  };
}

/** `text` in `n` pieces of about equal length. */
function pieces(text: string, n: number): string[] {
  if (text.length <= 1 || n <= 1) return [text];
  const size = Math.ceil(text.length / n);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** The event stream of a message, in the API's order, each block's text or JSON in `chunks` deltas. */
export function streamEvents(message: ReturnType<typeof replyMessage>, chunks = 1): SseEvent[] {
  const { content, stop_reason, stop_sequence, usage: total, ...head } = message;
  const events: SseEvent[] = [
    {
      event: "message_start",
      data: {
        type: "message_start",
        message: {
          ...head,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { ...total, output_tokens: 1 },
        },
      },
    },
    { event: "ping", data: { type: "ping" } },
  ];
  content.forEach((block, index) => {
    const start =
      block.type === "text" ? { type: "text", text: "" } : { ...block, input: {} as object };
    events.push({
      event: "content_block_start",
      data: { type: "content_block_start", index, content_block: start },
    });
    const deltas =
      block.type === "text"
        ? pieces(block.text, chunks).map((text) => ({ type: "text_delta", text }))
        : pieces(JSON.stringify(block.input), chunks).map((partial_json) => ({
            type: "input_json_delta",
            partial_json,
          }));
    for (const delta of deltas) {
      events.push({
        event: "content_block_delta",
        data: { type: "content_block_delta", index, delta },
      });
    }
    events.push({ event: "content_block_stop", data: { type: "content_block_stop", index } });
  });
  events.push(
    {
      event: "message_delta",
      data: {
        type: "message_delta",
        delta: { stop_reason, stop_sequence },
        usage: { output_tokens: total.output_tokens },
      },
    },
    { event: "message_stop", data: { type: "message_stop" } },
  );
  return events;
}

export function formatSse(e: SseEvent): string {
  return `event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`;
}

type Responder = (req: MessagesRequest) => Reply | undefined;

export class FakeAnthropic {
  /** Every request, in arrival order. */
  readonly requests: LoggedRequest[] = [];
  private readonly queue: Reply[] = [];
  private responder: Responder | null = null;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly onRequest: ((r: LoggedRequest) => void) | null,
  ) {
    server.on("connection", (s) => {
      this.sockets.add(s);
      s.on("close", () => this.sockets.delete(s));
    });
  }

  /** Listens on 127.0.0.1 (`port` 0, the default: any free port). */
  static async start(
    options: { port?: number; onRequest?: (r: LoggedRequest) => void } = {},
  ): Promise<FakeAnthropic> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, "127.0.0.1", resolve);
    });
    const { port } = server.address() as AddressInfo;
    const api = new FakeAnthropic(server, `http://127.0.0.1:${port}`, options.onRequest ?? null);
    server.on("request", (req, res) => void api.handle(req, res));
    return api;
  }

  /** Queues replies for the next turns, in order; once they are used up, turns echo again. */
  script(replies: Reply[]): void {
    this.queue.push(...replies);
  }

  /** Answers turns with `responder` before the script (its undefined: use the script); null: off. */
  respond(responder: Responder | null): void {
    this.responder = responder;
  }

  /** The `POST /v1/messages` requests of `kind` (default: the conversation's turns). */
  messages(kind: RequestKind = "turn"): MessagesLog[] {
    return this.requests.filter((r): r is MessagesLog => r.kind === kind);
  }

  /** The bodies of the conversation's turns, in order. */
  turns(): MessagesRequest[] {
    return this.messages("turn").map((r) => r.body);
  }

  /** Requests for endpoints the stand-in does not know (answered 404). */
  unserved(): LoggedRequest[] {
    return this.requests.filter((r) => !r.served);
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    let body: unknown;
    try {
      body = raw === "" ? undefined : JSON.parse(raw);
    } catch {
      body = raw;
    }
    const path = req.url ?? "/";
    const pathname = path.split("?")[0];
    const method = req.method ?? "GET";
    const logged: LoggedRequest = {
      method,
      path,
      headers: Object.fromEntries(
        Object.entries(req.headers).filter(([k]) => !secretHeaders.has(k)),
      ),
      body,
      served: true,
      at: Date.now(),
    };
    const isMessages = method === "POST" && pathname === "/v1/messages";
    if (isMessages && isMessagesRequest(body)) logged.kind = classify(body);
    const known =
      isMessages || pathname === "/api/hello" || pathname === "/v1/messages/count_tokens";
    logged.served = known;
    this.requests.push(logged);
    this.onRequest?.(logged);

    if (isMessages) {
      if (!isMessagesRequest(body)) {
        return json(res, 400, apiError("invalid_request_error", "model and messages are required"));
      }
      return this.answer(body, logged.kind!, res);
    }
    if (pathname === "/v1/messages/count_tokens") {
      return json(res, 200, { input_tokens: tokens(raw) });
    }
    if (pathname === "/api/hello") return json(res, 200, {});
    json(
      res,
      404,
      apiError("not_found_error", `the stand-in does not serve ${method} ${pathname}`),
    );
  }

  private async answer(body: MessagesRequest, kind: RequestKind, res: ServerResponse) {
    const reply = this.replyFor(body, kind);
    if ("error" in reply) {
      return json(res, reply.error.status, apiError(reply.error.type, reply.error.message));
    }
    const message = replyMessage(reply, body);
    if (!body.stream) return json(res, 200, message);
    const streamMs = reply.streamMs ?? 0;
    const events = streamEvents(message, streamMs > 0 ? Math.max(2, Math.ceil(streamMs / 100)) : 1);
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      "request-id": newId("req"),
    });
    const gapMs = streamMs / events.length;
    for (const e of events) {
      if (res.destroyed) return;
      res.write(formatSse(e));
      if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
    }
    res.end();
  }

  private replyFor(body: MessagesRequest, kind: RequestKind): Reply {
    switch (kind) {
      case "title":
        return { text: JSON.stringify({ title: "Stand-in session" }) };
      case "classifier":
        return { text: "<block>no</block>" };
      case "compact":
        return { text: "<analysis>None.</analysis>\n<summary>The stand-in's summary.</summary>" };
      case "other":
        return { text: "ok" };
      case "turn":
        return this.responder?.(body) ?? this.queue.shift() ?? defaultReply(body);
    }
  }
}

function isMessagesRequest(body: unknown): body is MessagesRequest {
  const b = body as Partial<MessagesRequest> | null;
  return (
    typeof b === "object" && b !== null && Array.isArray(b.messages) && typeof b.model === "string"
  );
}

function apiError(type: string, message: string) {
  return { type: "error", error: { type, message } };
}

function json(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    "request-id": newId("req"),
  });
  res.end(text);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const api = await FakeAnthropic.start({
    port: Number(process.argv[2] ?? 0),
    onRequest: (r) => console.log(JSON.stringify(r)),
  });
  api.respond((req) => {
    const command = /^bash: (.*)$/s.exec(lastUserText(req))?.[1];
    if (command === undefined || newToolResults(req).length > 0) return undefined;
    return { toolUses: [{ name: "Bash", input: { command, description: "Run the command" } }] };
  });
  console.error(`fake Anthropic API at ${api.url}`);
}
