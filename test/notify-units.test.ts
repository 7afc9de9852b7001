/** The pure parts of notifications: signing, formats, backoff, the queue, which changes notify. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { parseConfig } from "../src/config/load.js";
import type { NotifyEndpointConfig } from "../src/config/types.js";
import { backoffMs, maxBackoffMs, retryableStatus, retryAfterMs } from "../src/notify/backoff.js";
import { defaultNotifyEvents, notifyEvents } from "../src/notify/events.js";
import { header, renderRequest, signature, verifySignature } from "../src/notify/format.js";
import { dashboardUrl, sessionPage } from "../src/notify/links.js";
import {
  excerpt,
  lifecycleNotification,
  testNotification,
  turnNotification,
  waitingNotification,
} from "../src/notify/notification.js";
import { BoundedQueue } from "../src/notify/queue.js";
import { markOf, sessionEvents } from "../src/notify/transitions.js";
import type { SessionInfo } from "../src/session/session.js";

function endpoint(entry: Record<string, unknown>): NotifyEndpointConfig {
  return parseConfig(JSON.stringify({ notify: [entry] }), "test").notify[0];
}

const session: SessionInfo = {
  id: "0123abcd",
  name: "builder",
  status: "running",
  pid: 42,
  hostPid: 41,
  claudeSessionId: "c",
  keepWarm: false,
  workingDirectory: "/srv/app",
  createdAt: "",
  startedAt: null,
  lastActivityAt: null,
  idleSeconds: 0,
  restarts: 0,
  exitCode: null,
  signal: null,
  unit: null,
  memoryBytes: null,
  cpuSeconds: null,
  tasks: null,
  channel: true,
  blockedOn: null,
  reason: null,
  activity: "idle",
  waitingFor: null,
  evidence: "hooks",
  turn: null,
  lastTurn: null,
};
const link = (id: string) => `https://pool.example/#/sessions/${id}`;

describe("notify config", () => {
  it("defaults format json, the events but turn.ended, and bounded retries and queue", () => {
    const e = endpoint({ url: "https://hooks.example/x" });
    assert.deepEqual(e.events, defaultNotifyEvents);
    assert.equal(e.format, "json");
    assert.deepEqual([e.timeoutSeconds, e.retries, e.backoffSeconds, e.queueSize], [10, 5, 2, 100]);
    assert.ok(!e.events.includes("turn.ended"));
  });

  it("refuses an unknown event, naming the entry", () => {
    assert.throws(
      () => endpoint({ url: "https://hooks.example/x", events: ["waiting", "replied"] }),
      /\/notify\/0\/events\/1/,
    );
  });

  it("refuses a URL that is not http(s)", () => {
    assert.throws(() => endpoint({ url: "ftp://x/y" }), /\/notify\/0\/url/);
  });

  it("agentMessaging is off by default, or rules", () => {
    assert.equal(parseConfig("{}", "t").agentMessaging, "off");
    const rules = [{ from: "a", to: ["b", "*"] }];
    assert.deepEqual(
      parseConfig(JSON.stringify({ agentMessaging: rules }), "t").agentMessaging,
      rules,
    );
    assert.throws(() => parseConfig('{"agentMessaging": "on"}', "t"), /agentMessaging/);
  });

  it("the events are the typed enum the schema takes", () => {
    for (const event of notifyEvents) endpoint({ url: "http://h/x", events: [event] });
  });
});

describe("signature", () => {
  it("is GitHub's: sha256= and the hex HMAC-SHA256 of the body", () => {
    // GitHub's documented example (docs.github.com, "Validating webhook deliveries").
    assert.equal(
      signature("It's a Secret to Everybody", "Hello, World!"),
      "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    );
  });

  it("verifies its own signature, and no other body's", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string(), fc.string(), (secret, body, other) => {
        assert.ok(verifySignature(secret, body, signature(secret, body)));
        if (other !== body) assert.ok(!verifySignature(secret, other, signature(secret, body)));
        assert.ok(!verifySignature(secret, body, "sha256=00"));
      }),
    );
  });
});

describe("renderRequest", () => {
  const n = waitingNotification(
    { ...session, activity: "waiting" },
    { kind: "permission", requestId: "abcde", toolName: "Bash", inputPreview: '{"command":"ls"}' },
    link,
  );

  it("json: the notification as the body, its event and delivery id in headers, signed", () => {
    const e = endpoint({
      url: "https://hooks.example/pool",
      secret: "s3",
      headers: { "X-A": "1" },
    });
    const r = renderRequest(n, e);
    assert.equal(r.url, "https://hooks.example/pool");
    assert.deepEqual(JSON.parse(r.body), JSON.parse(JSON.stringify(n)));
    assert.equal(r.headers[header.event], "waiting");
    assert.equal(r.headers[header.delivery], n.id);
    assert.equal(r.headers["X-A"], "1");
    assert.equal(r.headers["Content-Type"], "application/json");
    assert.ok(verifySignature("s3", r.body, r.headers[header.signature]));
  });

  it("json without a secret: no signature header", () => {
    const r = renderRequest(n, endpoint({ url: "https://hooks.example/pool" }));
    assert.equal(r.headers[header.signature], undefined);
  });

  it("ntfy: a JSON publish to the server above the topic, with title, priority, tags, click", () => {
    const r = renderRequest(
      n,
      endpoint({ url: "https://ntfy.example/sub/alerts?x=1", format: "ntfy" }),
    );
    assert.equal(r.url, "https://ntfy.example/sub/?x=1");
    assert.deepEqual(JSON.parse(r.body), {
      topic: "alerts",
      title: "builder asks to use Bash",
      message: '{"command":"ls"}',
      priority: 4,
      tags: ["raising_hand", "builder"],
      click: "https://pool.example/#/sessions/0123abcd",
    });
  });

  it("a user and password in the URL become Basic authentication, not part of the URL", () => {
    const r = renderRequest(
      n,
      endpoint({ url: "https://ann:p%40ss@ntfy.example/t", format: "ntfy" }),
    );
    assert.equal(r.url, "https://ntfy.example/");
    assert.equal(r.headers.Authorization, `Basic ${Buffer.from("ann:p@ss").toString("base64")}`);
  });
});

describe("notifications", () => {
  it("say what waits, what ended, what crashed, in the title and a short message", () => {
    const dialog = waitingNotification(session, { kind: "dialog", dialog: "trust-folder" }, link);
    assert.equal(dialog.title, "builder waits at the trust-folder dialog");
    assert.equal(dialog.urgent, true);
    const question = waitingNotification(session, { kind: "input", message: "Which DB?" }, link);
    assert.equal(question.message, "Which DB?");
    const turn = turnNotification(
      session,
      {
        id: "t",
        startedAt: "",
        endedAt: "",
        prompt: "p",
        outcome: "done",
        reply: "x".repeat(3000),
      },
      link,
    );
    assert.equal(turn.title, "builder replied");
    assert.equal(turn.message.length, 500);
    const crashed = lifecycleNotification("crashed", { ...session, reason: "exit code 3" }, link);
    assert.match(crashed.message, /exit code 3\. The pool restarts it/);
    assert.equal(crashed.url, "https://pool.example/#/sessions/0123abcd");
    assert.equal(testNotification().session, null);
  });

  it("excerpt keeps short text and cuts long text to the limit", () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 2, max: 50 }), (text, chars) => {
        const cut = excerpt(text, chars);
        assert.ok(cut.length <= chars);
        if (text.trim().length <= chars) assert.equal(cut, text.trim());
      }),
    );
  });
});

describe("backoff", () => {
  it("doubles from the base and stops at the cap", () => {
    assert.deepEqual(
      [1, 2, 3, 4].map((r) => backoffMs(r, 1000)),
      [1000, 2000, 4000, 8000],
    );
    assert.equal(backoffMs(40, 1000), maxBackoffMs);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 1, max: 60_000 }),
        (r, base) => {
          const ms = backoffMs(r, base);
          assert.ok(ms >= Math.min(base, maxBackoffMs) && ms <= maxBackoffMs);
          assert.ok(backoffMs(r + 1, base) >= ms);
        },
      ),
    );
  });

  it("retries timeouts, rate limits and server errors, not other refusals", () => {
    assert.deepEqual([200, 400, 401, 404, 408, 429, 500, 503].map(retryableStatus), [
      false,
      false,
      false,
      false,
      true,
      true,
      true,
      true,
    ]);
  });

  it("reads Retry-After in seconds or as a date", () => {
    const now = Date.parse("2025-01-01T00:00:00Z");
    assert.equal(retryAfterMs("3", now), 3000);
    assert.equal(retryAfterMs("Wed, 01 Jan 2025 00:00:10 GMT", now), 10_000);
    assert.equal(retryAfterMs("soon", now), null);
    assert.equal(retryAfterMs(null, now), null);
    assert.equal(retryAfterMs("99999", now), maxBackoffMs);
  });
});

describe("BoundedQueue", () => {
  it("keeps the newest `capacity` items in order and counts what it dropped", () => {
    fc.assert(
      fc.property(fc.array(fc.integer()), fc.integer({ min: 1, max: 10 }), (items, capacity) => {
        const q = new BoundedQueue<number>(capacity);
        for (const item of items) q.push(item);
        assert.equal(q.dropped, Math.max(0, items.length - capacity));
        const kept: number[] = [];
        for (let x = q.shift(); x !== undefined; x = q.shift()) kept.push(x);
        assert.deepEqual(kept, items.slice(-capacity || items.length));
      }),
    );
  });
});

describe("sessionEvents", () => {
  const mark = markOf(session);
  it("a session that begins to wait, crashes or fails makes its event once", () => {
    const waiting: SessionInfo = {
      ...session,
      activity: "waiting",
      waitingFor: { kind: "permission", requestId: "r1", toolName: "Bash", inputPreview: "" },
    };
    assert.deepEqual(sessionEvents(mark, waiting), ["waiting"]);
    assert.deepEqual(sessionEvents(markOf(waiting), waiting), []);
    const deferred: SessionInfo = {
      ...waiting,
      waitingFor: { ...waiting.waitingFor!, answerAt: "terminal" } as SessionInfo["waitingFor"],
    };
    assert.deepEqual(sessionEvents(markOf(waiting), deferred), [], "the same request again");
    const next: SessionInfo = {
      ...waiting,
      waitingFor: { kind: "permission", requestId: "r2", toolName: "Bash", inputPreview: "" },
    };
    assert.deepEqual(sessionEvents(markOf(waiting), next), ["waiting"], "a new request");
    const crashed: SessionInfo = { ...session, status: "crashed", activity: null };
    assert.deepEqual(sessionEvents(mark, crashed), ["crashed"]);
    assert.deepEqual(sessionEvents(markOf(crashed), crashed), []);
    assert.deepEqual(sessionEvents(markOf(crashed), { ...crashed, status: "failed" }), ["failed"]);
    assert.deepEqual(sessionEvents(undefined, { ...session, status: "failed" }), ["failed"]);
    assert.deepEqual(sessionEvents(undefined, session), []);
  });
});

describe("dashboardUrl", () => {
  it("is publicUrl, else the API's address as http(s), a wildcard bind by host name", () => {
    assert.equal(
      dashboardUrl("https://pool.example/", "ws://127.0.0.1:3200", "h"),
      "https://pool.example",
    );
    assert.equal(dashboardUrl(undefined, "ws://127.0.0.1:3200", "h"), "http://127.0.0.1:3200");
    assert.equal(dashboardUrl(undefined, "wss://0.0.0.0:3200", "box"), "https://box:3200");
    assert.equal(dashboardUrl(undefined, "ws://[::]:3200", "box"), "http://box:3200");
    assert.equal(dashboardUrl(undefined, null, "h"), null);
    assert.equal(sessionPage("http://h:1", "0123abcd"), "http://h:1/#/sessions/0123abcd");
  });
});
