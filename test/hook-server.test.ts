import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { request } from "node:http";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { HookServer, secretHeader, type HookCall } from "../src/hooks/hook-server.js";
import { HookSettingsFiles, hookEvents } from "../src/hooks/settings.js";
import { silentLogger } from "../src/log.js";
import { tempDir, waitFor } from "./helpers.js";

interface Answer {
  status: number;
  body: unknown;
}

/** POSTs `body` as claude's http hook does; `abort` drops the request after `abortMs`. */
function post(url: string, secret: string | null, body: string, abortMs?: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(secret ? { [secretHeader]: secret } : {}),
      },
    });
    req.on("response", (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on("error", reject);
    if (abortMs !== undefined) setTimeout(() => req.destroy(new Error("aborted")), abortMs);
    req.end(body);
  });
}

describe("hook endpoint", () => {
  const calls: HookCall[] = [];
  const server = new HookServer((call) => {
    calls.push(call);
    if (call.input.hook_event_name !== "PermissionRequest") call.answer({});
  }, silentLogger);
  after(() => server.close());

  it("takes a launch's hooks with its secret only, and answers each at once", async () => {
    await server.listen();
    const { url, secret } = server.grant("0123abcd");
    const input = JSON.stringify({ hook_event_name: "Stop", last_assistant_message: "hi" });
    assert.deepEqual(await post(url, secret, input), { status: 200, body: {} });
    assert.equal(calls.at(-1)?.sessionId, "0123abcd");
    assert.equal(calls.at(-1)?.input.last_assistant_message, "hi");
    assert.equal((await post(url, "wrong", input)).status, 403);
    assert.equal((await post(url, null, input)).status, 403);
    assert.equal((await post(url.replace("0123abcd", "ffffffff"), secret, input)).status, 403);
    assert.equal((await post(url, secret, "[1, 2")).status, 400);
    assert.equal((await post(url, secret, "[1]")).status, 400);
    const next = server.grant("0123abcd");
    assert.equal(
      (await post(url, secret, input)).status,
      403,
      "a new launch's secret replaces the old",
    );
    assert.equal((await post(next.url, next.secret, input)).status, 200);
    server.revoke("0123abcd");
    assert.equal((await post(next.url, next.secret, input)).status, 403);
  });

  it("holds a permission request until the pool decides, and tells when claude gives up on it", async () => {
    const { url, secret } = server.grant("feedbeef");
    const input = JSON.stringify({ hook_event_name: "PermissionRequest", tool_name: "Bash" });
    const answer = post(url, secret, input);
    const held = await waitFor("the permission request", () =>
      calls.find((c) => c.sessionId === "feedbeef"),
    );
    const decision = {
      hookSpecificOutput: { hookEventName: "PermissionRequest", decision: { behavior: "allow" } },
    };
    held.answer(decision);
    held.answer({ ignored: true });
    assert.deepEqual(await answer, { status: 200, body: decision });

    let abandoned = false;
    const dropped = post(url, secret, input, 300).catch(() => "dropped");
    const second = await waitFor(
      "the second request",
      () => calls.filter((c) => c.sessionId === "feedbeef")[1],
    );
    second.onAbandoned(() => (abandoned = true));
    assert.equal(await dropped, "dropped");
    await waitFor("the abandonment", () => abandoned);
  });

  it("writes a 0600 settings file whose http hooks reach the endpoint", async () => {
    const dir = tempDir();
    const files = new HookSettingsFiles(join(dir, "sessions"), server, () => 300);
    const file = files.settingsFor("abcdef01");
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const settings = JSON.parse(readFileSync(file, "utf8")) as {
      hooks: Record<
        string,
        { hooks: { url: string; headers: Record<string, string>; timeout: number }[] }[]
      >;
    };
    assert.deepEqual(Object.keys(settings.hooks), [...hookEvents]);
    const stop = settings.hooks.Stop[0].hooks[0];
    assert.equal(settings.hooks.PermissionRequest[0].hooks[0].timeout, 330);
    const input = JSON.stringify({ hook_event_name: "Stop" });
    assert.equal((await post(stop.url, stop.headers[secretHeader], input)).status, 200);
    files.remove("abcdef01");
    assert.equal((await post(stop.url, stop.headers[secretHeader], input)).status, 403);
  });

  it("merges a session's own settings: its keys, and its hooks before the pool's", () => {
    const dir = tempDir();
    const files = new HookSettingsFiles(join(dir, "sessions"), server, () => 300);
    const userHook = { hooks: [{ type: "command", command: "true" }] };
    const own = JSON.stringify({ model: "x", hooks: { Stop: [userHook], Custom: [userHook] } });
    const merged = JSON.parse(
      readFileSync(files.settingsFor("abcdef02", { value: own, cwd: dir }), "utf8"),
    ) as {
      model: string;
      hooks: Record<string, unknown[]>;
    };
    assert.equal(merged.model, "x");
    assert.deepEqual(merged.hooks.Custom, [userHook]);
    assert.equal(merged.hooks.Stop.length, 2);
    assert.deepEqual(merged.hooks.Stop[0], userHook);
    assert.throws(
      () => files.settingsFor("abcdef02", { value: "missing.json", cwd: dir }),
      /--settings .*missing/,
    );
    assert.throws(
      () => files.settingsFor("abcdef02", { value: "{not json", cwd: dir }),
      /not JSON/,
    );
  });
});
