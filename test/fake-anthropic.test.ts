/** The Anthropic API stand-in speaks the Messages API's wire format: SSE framing, shapes, errors. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { FakeAnthropic, overloaded, type MessagesRequest } from "./fake-anthropic.js";

interface Event {
  event: string;
  data: Record<string, unknown>;
}

/** A minimal server-sent events parser: `event:` and `data:` lines, events split by a blank line. */
function parseSse(text: string): Event[] {
  assert.ok(text.endsWith("\n\n"), "the stream ends with a complete event");
  return text
    .split("\n\n")
    .filter((chunk) => chunk !== "")
    .map((chunk) => {
      let event = "message";
      const data: string[] = [];
      for (const line of chunk.split("\n")) {
        const [, field, value] = /^([a-z]+): ?(.*)$/.exec(line) ?? [];
        assert.ok(field, `a field line, not ${JSON.stringify(line)}`);
        if (field === "event") event = value;
        else if (field === "data") data.push(value);
      }
      return { event, data: JSON.parse(data.join("\n")) as Record<string, unknown> };
    });
}

const model = "claude-opus-5-5";
const tools = [{ name: "Bash" }];

function turn(text: string, extra: Partial<MessagesRequest> = {}): MessagesRequest {
  return { model, tools, stream: true, messages: [{ role: "user", content: text }], ...extra };
}

let api: FakeAnthropic;
before(async () => {
  api = await FakeAnthropic.start();
});
after(() => api.close());

async function post(body: unknown, path = "/v1/messages?beta=true"): Promise<Response> {
  return fetch(api.url + path, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      "x-api-key": "sk-ant-secret",
      "anthropic-version": "2023-06-01",
    },
    body: JSON.stringify(body),
  });
}

async function stream(body: MessagesRequest): Promise<Event[]> {
  const res = await post(body);
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
  return parseSse(await res.text());
}

/** Checks the order and the envelope of a stream's events; returns its blocks reassembled. */
function reassemble(events: Event[], expectedModel = model) {
  for (const e of events) assert.equal(e.data.type, e.event, "each event's data names its type");
  const names = events.map((e) => e.event);
  assert.deepEqual(names.slice(0, 2), ["message_start", "ping"]);
  assert.deepEqual(names.slice(-2), ["message_delta", "message_stop"]);
  const start = events[0].data.message as Record<string, unknown>;
  assert.match(String(start.id), /^msg_01[A-Za-z0-9]{22}$/);
  assert.equal(start.type, "message");
  assert.equal(start.role, "assistant");
  assert.equal(start.model, expectedModel);
  assert.deepEqual(start.content, []);
  assert.equal(start.stop_reason, null);
  assert.equal(start.stop_sequence, null);
  const usage = start.usage as Record<string, unknown>;
  for (const field of [
    "input_tokens",
    "output_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
  ]) {
    assert.equal(typeof usage[field], "number", `usage.${field}`);
  }
  const blocks: Record<string, unknown>[] = [];
  let open: number | null = null;
  for (const { event, data } of events.slice(2, -2)) {
    if (event === "content_block_start") {
      assert.equal(open, null, "blocks do not overlap");
      assert.equal(data.index, blocks.length, "blocks are numbered from 0");
      open = data.index as number;
      blocks.push({ ...(data.content_block as object), json: "" });
    } else if (event === "content_block_delta") {
      assert.equal(data.index, open);
      const delta = data.delta as { type: string; text?: string; partial_json?: string };
      const block: Record<string, unknown> = blocks[open!];
      if (delta.type === "text_delta") {
        assert.equal(block.type, "text");
        block.text = String(block.text) + delta.text;
      } else {
        assert.equal(delta.type, "input_json_delta");
        assert.equal(block.type, "tool_use");
        block.json = String(block.json) + delta.partial_json;
      }
    } else {
      assert.equal(event, "content_block_stop");
      assert.equal(data.index, open);
      open = null;
    }
  }
  assert.equal(open, null, "every block is closed");
  for (const b of blocks) {
    if (b.type === "tool_use") b.input = JSON.parse(String(b.json));
    delete b.json;
  }
  const delta = events[events.length - 2].data;
  assert.equal(typeof (delta.usage as Record<string, unknown>).output_tokens, "number");
  return { blocks, ...(delta.delta as { stop_reason: string; stop_sequence: string | null }) };
}

describe("fake Anthropic API", () => {
  it("streams an echo of the user's text, in the API's event order and shapes", async () => {
    const events = await stream(turn("hello there"));
    const { blocks, stop_reason, stop_sequence } = reassemble(events);
    assert.deepEqual(blocks, [{ type: "text", text: "echo: hello there" }]);
    assert.equal(stop_reason, "end_turn");
    assert.equal(stop_sequence, null);
  });

  it("echoes the last typed text, not claude's system reminders", async () => {
    const body = turn("", {
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "<system-reminder>\nsome context\n</system-reminder>" },
            { type: "text", text: "what I typed" },
          ],
        },
        { role: "system", content: "# Environment" },
      ],
    });
    const { blocks } = reassemble(await stream(body));
    assert.deepEqual(blocks, [{ type: "text", text: "echo: what I typed" }]);
  });

  it("streams a scripted tool use as partial JSON, and the reply after its result", async () => {
    const input = { command: "echo 'a \"quoted\" word'", description: "Say a word" };
    api.script([{ text: "Running it.", toolUses: [{ name: "Bash", input }] }, { text: "Done." }]);
    const first = reassemble(await stream(turn("run it")));
    assert.equal(first.stop_reason, "tool_use");
    assert.equal(first.blocks.length, 2);
    assert.deepEqual(first.blocks[0], { type: "text", text: "Running it." });
    const tool = first.blocks[1];
    assert.match(String(tool.id), /^toolu_01[A-Za-z0-9]{22}$/);
    assert.deepEqual(
      { ...tool, id: undefined },
      { type: "tool_use", id: undefined, name: "Bash", input },
    );

    const withResult = turn("", {
      messages: [
        { role: "user", content: "run it" },
        { role: "assistant", content: first.blocks as never },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: String(tool.id), content: 'a "quoted" word' },
          ],
        },
      ],
    });
    assert.deepEqual(reassemble(await stream(withResult)).blocks, [
      { type: "text", text: "Done." },
    ]);
    // The script is used up: the default reply reports the tool's output.
    assert.deepEqual(reassemble(await stream(withResult)).blocks, [
      { type: "text", text: 'tool result: a "quoted" word' },
    ]);
  });

  it("answers without stream as one JSON message", async () => {
    const res = await post(turn("plain", { stream: false }));
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^application\/json/);
    const message = (await res.json()) as Record<string, unknown>;
    assert.match(String(message.id), /^msg_01/);
    assert.equal(message.type, "message");
    assert.equal(message.role, "assistant");
    assert.equal(message.model, model);
    assert.deepEqual(message.content, [{ type: "text", text: "echo: plain" }]);
    assert.equal(message.stop_reason, "end_turn");
    assert.equal(message.stop_sequence, null);
    assert.equal(typeof (message.usage as Record<string, unknown>).output_tokens, "number");
  });

  it("spreads a slow reply's deltas over the time asked for", async () => {
    api.script([{ text: "slowly ".repeat(10), streamMs: 600 }]);
    const res = await post(turn("slow"));
    const arrivals: number[] = [];
    const started = Date.now();
    let text = "";
    const decoder = new TextDecoder();
    for await (const chunk of res.body!) {
      arrivals.push(Date.now() - started);
      text += decoder.decode(chunk as Uint8Array, { stream: true });
    }
    const { blocks } = reassemble(parseSse(text));
    assert.deepEqual(blocks, [{ type: "text", text: "slowly ".repeat(10) }]);
    assert.ok(arrivals.length >= 4, `arrived in pieces (${arrivals.length})`);
    assert.ok(arrivals[arrivals.length - 1] >= 400, `took ${arrivals[arrivals.length - 1]} ms`);
  });

  it("answers a scripted 529 in the API's error envelope", async () => {
    api.script([overloaded]);
    const res = await post(turn("busy?"));
    assert.equal(res.status, 529);
    assert.deepEqual(await res.json(), {
      type: "error",
      error: { type: "overloaded_error", message: "Overloaded" },
    });
  });

  it("answers claude's title, classifier and compaction requests without using up the script", async () => {
    api.script([{ text: "scripted" }]);
    const title = await stream({
      model: "claude-haiku-5-5",
      tools: [],
      stream: true,
      system: [{ type: "text", text: "You are naming a coding session so the user can pick it" }],
      messages: [{ role: "user", content: "<session>\nhello\n</session>" }],
      output_config: { format: { schema: { properties: { title: { type: "string" } } } } },
    });
    const titleText = String(reassemble(title, "claude-haiku-5-5").blocks[0].text);
    assert.equal(typeof (JSON.parse(titleText) as { title: string }).title, "string");

    const res = await post({
      model: "claude-sonnet-5",
      system: [
        { type: "text", text: "You are a security monitor for autonomous AI coding agents." },
      ],
      messages: [{ role: "user", content: "<transcript>...</transcript>" }],
      stop_sequences: ["</block>"],
    });
    const verdict = (await res.json()) as Record<string, unknown>;
    assert.deepEqual(verdict.content, [{ type: "text", text: "<block>no" }]);
    assert.equal(verdict.stop_reason, "stop_sequence");
    assert.equal(verdict.stop_sequence, "</block>");

    const compact = turn("", {
      messages: [
        { role: "user", content: "hello" },
        {
          role: "user",
          content: "Your task is to create a detailed summary of the conversation so far",
        },
      ],
    });
    assert.match(String(reassemble(await stream(compact)).blocks[0].text), /<summary>/);

    assert.deepEqual(reassemble(await stream(turn("next"))).blocks, [
      { type: "text", text: "scripted" },
    ]);
    assert.equal(api.messages("title").length, 1);
    assert.equal(api.messages("classifier").length, 1);
    assert.equal(api.messages("compact").length, 1);
  });

  it("logs every request without its credentials, and 404s what it does not serve", async () => {
    const hello = await fetch(`${api.url}/api/hello`, { method: "HEAD" });
    assert.equal(hello.status, 200);
    const count = await post({ model, messages: [] }, "/v1/messages/count_tokens");
    assert.equal(typeof ((await count.json()) as { input_tokens: number }).input_tokens, "number");
    const unknown = await fetch(`${api.url}/v1/unknown`);
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { type: string }).type, "error");

    assert.deepEqual(
      api.unserved().map((r) => `${r.method} ${r.path}`),
      ["GET /v1/unknown"],
    );
    const logged = api.messages("turn").at(-1)!;
    assert.equal(logged.path, "/v1/messages?beta=true");
    assert.equal(logged.headers["anthropic-version"], "2023-06-01");
    assert.equal(logged.headers["x-api-key"], undefined, "the key is not logged");
    assert.equal(api.turns().at(-1), logged.body);
    assert.ok(!JSON.stringify(api.requests).includes("sk-ant-secret"));
  });

  it("rejects a messages request without model or messages", async () => {
    const res = await post({ stream: true });
    assert.equal(res.status, 400);
    assert.equal(
      ((await res.json()) as { error: { type: string } }).error.type,
      "invalid_request_error",
    );
  });
});
