/**
 * The dashboard in Chromium against a pool of real claudes (the API stand-in answers "echo: …",
 * and runs a "bash: CMD" message's CMD with the Bash tool): the chat's reply streams in, the
 * terminal shows claude's screen, and Allow on the hook's permission prompt runs the tool.
 * Skipped, saying why, without chromium or the real claude.
 */
import assert from "node:assert/strict";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { connectUnix, type RpcClient } from "../src/rpc/client.js";
import type { SessionInfo } from "../src/session/session.js";
import { artifacts, chromiumMissing, launchChromium } from "./chromium.js";
import { FakeAnthropic, lastUserText, newToolResults } from "./fake-anthropic.js";
import { PoolProcess, tempDir, waitFor } from "./helpers.js";
import {
  claudeEnv,
  realClaude,
  seedClaudeDir,
  skipReason,
  startupMs,
} from "./real-claude-support.js";

// The page's globals, for the functions that run in it.
declare const document: { querySelector(selector: string): { textContent: string | null } | null };

const missing = chromiumMissing();
if (missing) console.log(`# dashboard with the real claude skipped: ${missing}`);
const skip = missing ?? skipReason("the dashboard with the real claude");
const timeout = 20_000;

describe("dashboard with the real claude", { skip }, () => {
  let api: FakeAnthropic;
  let pool: PoolProcess;
  let local: RpcClient;
  let browser: Browser;
  let work: string;

  before(async () => {
    api = await FakeAnthropic.start();
    api.respond((req) => {
      const command = /^bash: (.*)$/s.exec(lastUserText(req))?.[1];
      if (command === undefined || newToolResults(req).length > 0) return undefined;
      return { toolUses: [{ name: "Bash", input: { command, description: "Run the command" } }] };
    });
    const dir = tempDir();
    work = join(dir, "work");
    mkdirSync(work, { recursive: true });
    const claudeDir = join(dir, "claude");
    seedClaudeDir(claudeDir, [work]);
    writeFileSync(
      join(dir, "pool.json"),
      JSON.stringify({
        claudePath: realClaude,
        apiPort: 0,
        systemd: "off",
        stopTimeoutSeconds: 5,
        defaults: {
          workingDirectory: work,
          args: ["--permission-mode", "default"],
          env: claudeEnv(api, claudeDir, join(dir, "home")),
        },
      }),
    );
    pool = new PoolProcess(dir, ["--config", join(dir, "pool.json")]);
    await pool.ready();
    local = await connectUnix(pool.socket);
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    local?.close();
    await pool?.stop();
    await api?.close();
  });

  it("spawns claude, streams its reply into the chat, and Allow runs its tool", async () => {
    const page = await (
      await browser.newContext({ viewport: { width: 1280, height: 860 } })
    ).newPage();
    const { url } = await local.call<{ url: string }>("dashboard.login");
    await page.goto(url);
    await page.getByPlaceholder("name (optional)").fill("web-real");
    await page.getByRole("button", { name: "Spawn" }).click();
    const row = page.locator(".row.session", { hasText: "web-real" });
    await row.locator(".cell.activity", { hasText: "idle" }).waitFor({ timeout: startupMs });
    await row.locator("a.name").click();

    await page.getByRole("tab", { name: "Chat" }).click();
    await page.getByPlaceholder("Message claude…").fill("hello from the browser");
    await page.getByRole("button", { name: "Send" }).click();
    await page
      .locator(".bubble.assistant", { hasText: "echo: hello from the browser" })
      .first()
      .waitFor({ timeout });

    const ran = join(work, "ran-from-the-dashboard");
    await page.getByPlaceholder("Message claude…").fill(`bash: touch ${ran}`);
    await page.getByRole("button", { name: "Send" }).click();
    const card = page.locator(".prompts .prompt", { hasText: "Bash" });
    await card.waitFor({ timeout });
    assert.match(await card.locator("pre.input").innerText(), /touch .*ran-from-the-dashboard/);
    assert.equal(existsSync(ran), false, "not before Allow");
    await card.getByRole("button", { name: "Allow" }).click();
    await waitFor("the allowed command ran", () => existsSync(ran), timeout);

    await page.getByRole("tab", { name: "Terminal" }).click();
    await page.waitForFunction(
      () =>
        (document.querySelector(".xterm-rows")?.textContent ?? "")
          .replace(/\u00a0/g, " ")
          .includes("ran-from-the-dashboard"),
      undefined,
      { timeout },
    );
    mkdirSync(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, "real-claude-terminal.png") });
    const [session] = await local.call<SessionInfo[]>("session.list");
    assert.equal(session.lastTurn?.outcome, "done");
    await page.context().close();
  });
});
