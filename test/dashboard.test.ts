/**
 * The dashboard end to end in Debian's Chromium (playwright-core) against a real pool of fake
 * claudes: sign-in, spawning, the live terminal, chat, a permission prompt, scopes, a phone's
 * screen. Screenshots go to test-artifacts/dashboard/. Skipped, saying why, without chromium.
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { connectUnix, type RpcClient } from "../src/rpc/client.js";
import type { SessionInfo } from "../src/session/session.js";
import { artifacts, chromiumMissing, launchChromium } from "./chromium.js";
import { PoolProcess, startFakePool, tempDir, waitFor } from "./helpers.js";

// The page's globals, for the functions that run in it (the pool's tsconfig has no DOM types).
declare const document: {
  querySelector(selector: string): { textContent: string | null } | null;
  hasFocus(): boolean;
  documentElement: { scrollWidth: number };
};
declare const window: Record<string, unknown>;
declare const performance: { now(): number };
declare const sessionStorage: { getItem(key: string): string | null; length: number };

const missing = chromiumMissing();
if (missing) console.log(`# dashboard browser tests skipped: ${missing}`);

const phone = { width: 390, height: 844 };
const desktop = { width: 1280, height: 860 };
const timeout = 15_000;

describe("dashboard in Chromium", { skip: missing ?? false }, () => {
  let pool: PoolProcess;
  let http: string;
  let admin: string;
  let local: RpcClient;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  /** Console errors of every page (a CSP violation is one), checked after all tests. */
  const errors: string[] = [];

  before(async () => {
    mkdirSync(artifacts, { recursive: true });
    const dir = tempDir();
    pool = await startFakePool({ stopTimeoutSeconds: 2, maxSessions: 10 }, dir);
    http = /remote API: (ws:\/\/[^/\s]+)\/rpc/.exec(pool.stderr)![1].replace(/^ws/, "http");
    admin = readFileSync(join(dir, "state", "claude-pool", "token"), "utf8").trim();
    local = await connectUnix(pool.socket);
    browser = await launchChromium();
  });
  after(async () => {
    await Promise.all(contexts.map((c) => c.close()));
    await browser?.close();
    local?.close();
    await pool?.stop();
  });

  async function open(viewport = desktop, init?: () => void): Promise<Page> {
    const context = await browser.newContext({ viewport });
    contexts.push(context);
    const page = await context.newPage();
    if (init) await page.addInitScript(init);
    page.on("console", (m) => {
      // a refused sign-in is a 401, which Chromium logs as an error of the page
      if (m.type() === "error" && !/status of 401/.test(m.text())) {
        errors.push(`${page.url()}: ${m.text()}`);
      }
    });
    page.on("pageerror", (e) => errors.push(`${page.url()}: ${e.message}`));
    return page;
  }

  /** Opens a fresh login link, as `claude-poolctl dashboard` prints it. */
  async function signedIn(viewport = desktop, init?: () => void): Promise<Page> {
    const page = await open(viewport, init);
    const { url } = await local.call<{ url: string }>("dashboard.login");
    await page.goto(url);
    await page.locator(".connection[data-state=open]").waitFor({ timeout });
    return page;
  }

  async function signInWith(page: Page, token: string): Promise<void> {
    await page.goto(`${http}/`);
    await page.getByLabel("Token").fill(token);
    await page.getByRole("button", { name: "Sign in" }).click();
  }

  /** The terminal's text, rows joined, spaces as spaces. */
  const screenText = (page: Page) =>
    page.locator(".xterm-rows").evaluate((el) => (el.textContent ?? "").replace(/\u00a0/g, " "));

  async function untilScreenShows(page: Page, text: string): Promise<void> {
    await page.waitForFunction(
      (wanted) =>
        (document.querySelector(".xterm-rows")?.textContent ?? "")
          .replace(/\u00a0/g, " ")
          .includes(wanted),
      text,
      { timeout },
    );
  }

  async function spawned(name: string): Promise<SessionInfo> {
    const s = await local.call<SessionInfo>("session.spawn", { name });
    return waitFor(
      `${name}'s channel`,
      async () => {
        const info = await local.call<SessionInfo>("session.get", { id: s.id });
        return info.channel ? info : undefined;
      },
      timeout,
    );
  }

  const shot = (page: Page, name: string) =>
    page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });

  it("refuses a wrong token with the pool's reason", async () => {
    const page = await open();
    await signInWith(page, "cpt_not-a-token");
    await page.getByText("unknown or revoked token").waitFor({ timeout });
    assert.equal(await page.evaluate(() => sessionStorage.length), 0);
    await shot(page, "signin-refused");
  });

  it("signs in with a one-time login link, which leaves no code or token in the address", async () => {
    const page = await open();
    const { url } = await local.call<{ url: string }>("dashboard.login");
    await page.goto(url);
    await page.locator(".caller").getByText("admin").waitFor({ timeout });
    assert.equal(page.url(), `${http}/`, "the code is gone from the address bar");
    assert.equal(await page.evaluate(() => sessionStorage.getItem("claude-pool.token")), admin);
    await page.locator(".connection[data-state=open]").waitFor({ timeout });
    const again = await open();
    await again.goto(url);
    await again.getByText("used already or has expired").waitFor({ timeout });
  });

  it("spawns a session, whose terminal shows its screen and takes keys", async () => {
    const page = await signedIn();
    await page.getByPlaceholder("name (optional)").fill("web-spawned");
    await page.getByRole("button", { name: "Spawn" }).click();
    const row = page.locator(".row.session", { hasText: "web-spawned" });
    await row.locator(".cell.status", { hasText: "running" }).waitFor({ timeout });
    await row.locator("a.name").click();
    await untilScreenShows(page, "Claude Code (fake) v2.1.332 session");
    assert.equal(await page.getByLabel("Type").isChecked(), false, "read-only at first");
    await page.getByLabel("Type").check();
    await page.locator(".term-status", { hasText: "typing" }).waitFor({ timeout });
    await page.locator(".term-screen").click();
    await page.keyboard.type("typed in the browser");
    await page.keyboard.press("Enter");
    await untilScreenShows(page, "You said: typed in the browser");
    // typing fits the session to the page: claude's own idea of its size is the terminal's
    await page.keyboard.type("/size");
    await page.keyboard.press("Enter");
    const size = await page.locator(".xterm-rows > div").count();
    await page.waitForFunction(
      (rows) =>
        new RegExp(`\\d+x${rows}\\b`).test(document.querySelector(".xterm-rows")!.textContent!),
      size,
      { timeout },
    );
    await shot(page, "terminal");
    assert.match(await screenText(page), /You said: typed in the browser/);
  });

  it("shows a flood's end, also after the page fell behind, and never stalls", async () => {
    const s = await spawned("web-flood");
    const page = await signedIn();
    await page.goto(`${http}/#/s/${s.id}`);
    await untilScreenShows(page, "Claude Code (fake)");
    await local.call("session.send", { id: s.id, text: `/flood ${4 << 20}` });
    // the page busy elsewhere meanwhile (a slow phone, say): the output piles up in its socket
    // until the pool, seeing it behind, sends a redraw of the screen instead
    await page.evaluate(() => {
      const end = performance.now() + 2000;
      while (performance.now() < end);
      let last = performance.now();
      const gaps: number[] = [];
      window.gaps = gaps;
      setInterval(() => {
        gaps.push(performance.now() - last);
        last = performance.now();
      }, 10);
    });
    await page.waitForFunction(
      () => (document.querySelector(".xterm-rows")?.textContent ?? "").includes("flood done"),
      undefined,
      { timeout: 60_000 },
    );
    const gaps = (await page.evaluate(() => window.gaps)) as number[];
    // a deadline generous for a loaded machine: each stall is one slice of xterm.js parsing
    assert.ok(Math.max(...gaps) < 2000, `longest stall ${Math.max(...gaps).toFixed(0)} ms`);
    await local.call("session.send", { id: s.id, text: "after the flood" });
    await untilScreenShows(page, "You said: after the flood");
  });

  it("chat: a message gets its reply", async () => {
    const s = await spawned("web-chat");
    const page = await signedIn();
    await page.goto(`${http}/#/s/${s.id}`);
    await page.getByRole("tab", { name: "Chat" }).click();
    await page.getByPlaceholder("Message claude…").fill("hello from the dashboard");
    await page.getByRole("button", { name: "Send" }).click();
    await page
      .locator(".bubble.assistant", { hasText: "You said: hello from the dashboard" })
      .waitFor({ timeout });
    await shot(page, "chat");
    await page.getByRole("tab", { name: "Ledger" }).click();
    await page
      .locator('tr[data-state="replied"]', { hasText: "hello from the dashboard" })
      .waitFor({
        timeout,
      });
    await shot(page, "ledger");
  });

  it("shows a permission prompt with a notification, and Allow lets the tool run", async () => {
    const s = await spawned("web-perm");
    const page = await signedIn(desktop, () => {
      const shown: { title: string; body?: string }[] = [];
      Object.assign(window, { shownNotifications: shown });
      class RecordedNotification {
        static permission = "granted";
        static requestPermission = async () => "granted";
        onclick: (() => void) | null = null;
        constructor(title: string, options?: { body?: string }) {
          shown.push({ title, body: options?.body });
        }
        close() {}
      }
      Object.assign(window, { Notification: RecordedNotification });
      document.hasFocus = () => false;
    });
    await page.goto(`${http}/#/s/${s.id}`);
    await page.getByRole("tab", { name: "Chat" }).click();
    await page.getByPlaceholder("Message claude…").fill("perm Bash ls -la");
    await page.getByRole("button", { name: "Send" }).click();
    const card = page.locator(".prompts .prompt", { hasText: "Bash" });
    await card.waitFor({ timeout });
    assert.match(await card.locator("pre.input").innerText(), /"command": "ls -la"/);
    const notes = await page.evaluate(() => window.shownNotifications);
    assert.deepEqual(notes, [{ title: "web-perm needs you", body: "Bash: run Bash" }]);

    await page.getByRole("link", { name: /Needs you/ }).click();
    const need = page.locator(".need", { hasText: "web-perm" });
    await need.locator(".prompt", { hasText: "Bash" }).waitFor({ timeout });
    assert.equal(await page.locator(".badge").innerText(), "1");
    await shot(page, "needs-you");
    await need.getByRole("button", { name: "Allow" }).click();
    await page.getByText("Nobody is waiting for you.").waitFor({ timeout });

    await waitFor(
      "the reply after Allow",
      async () => {
        const [entry] = await local.call<{ replies: { text: string }[] }[]>("channel.history", {
          id: s.id,
        });
        return entry.replies.some((r) => /^permission \w+ allow$/.test(r.text));
      },
      timeout,
    );
  });

  it("a read token sees the sessions but cannot spawn, stop or type", async () => {
    const s = await spawned("web-read");
    const { token } = await local.call<{ token: string }>("token.create", {
      name: "dashboard-reader",
      scopes: ["read"],
    });
    const page = await open();
    await signInWith(page, token);
    await page.locator(".caller", { hasText: "dashboard-reader (read)" }).waitFor({ timeout });
    await page.locator(".row.session", { hasText: "web-read" }).waitFor({ timeout });
    assert.equal(await page.getByRole("button", { name: "Spawn" }).isDisabled(), true);
    assert.equal(await page.locator("button[data-action]").count(), 0, "no Stop or Resume");
    // the form sent anyway: the pool refuses, and its message is shown as it is
    await page
      .locator("form.spawn")
      .evaluate((form: { elements: ArrayLike<{ disabled: boolean }>; requestSubmit(): void }) => {
        for (const el of Array.from(form.elements)) el.disabled = false;
        form.requestSubmit();
      });
    await page
      .getByText('session.spawn needs a token with the "control" scope')
      .waitFor({ timeout });
    await page.goto(`${http}/#/s/${s.id}`);
    await untilScreenShows(page, "Claude Code (fake)");
    assert.equal(await page.getByLabel("Type").isDisabled(), true);
    await shot(page, "read-only");
  });

  it("fits a phone's 390×844 screen without sideways scrolling", async () => {
    const page = await signedIn(phone);
    await page.locator(".row.session").first().waitFor({ timeout });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(overflow <= phone.width, `page is ${overflow} px wide`);
    const stop = page.locator(".row.session button[data-action=kill]").first();
    const box = (await stop.boundingBox())!;
    assert.ok(box.height >= 44, `buttons are big enough to tap (${box.height} px)`);
    await page.screenshot({ path: join(artifacts, "phone-list.png") });
    const s = await spawned("web-phone");
    await page.goto(`${http}/#/s/${s.id}`);
    await page.getByRole("tab", { name: "Chat" }).click();
    await page.getByPlaceholder("Message claude…").fill("perm Write notes.txt");
    await page.getByRole("button", { name: "Send" }).click();
    const allow = page.locator(".prompts .prompt").getByRole("button", { name: "Allow" });
    await allow.waitFor({ timeout });
    assert.ok(await allow.isVisible());
    await page.screenshot({ path: join(artifacts, "phone-prompt.png") });
    await allow.click();
    await page
      .locator(".bubble.assistant", { hasText: /^permission \w+ allow/ })
      .waitFor({ timeout });
  });

  it("logged no error in any page (a CSP violation would be one)", () => {
    assert.deepEqual(errors, []);
  });
});
