/**
 * The dashboard across hosts (issue 18) in Debian's Chromium: pool A's config `remotes` names
 * pool B (with a read-scoped token of B) and a pool that is not there; A's list page shows B's
 * sessions beside its own and the missing one as unreachable. Skipped, saying why, without chromium.
 */
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { connectUnix, type RpcClient } from "../src/rpc/client.js";
import { artifacts, chromiumMissing, launchChromium } from "./chromium.js";
import { PoolProcess, startFakePool, tempDir } from "./helpers.js";

const missing = chromiumMissing();
if (missing) console.log(`# dashboard remotes tests skipped: ${missing}`);
const timeout = 15_000;

describe("dashboard with remotes, in Chromium", { skip: missing ?? false }, () => {
  let a: PoolProcess;
  let b: PoolProcess;
  let local: RpcClient;
  let browser: Browser;

  before(async () => {
    mkdirSync(artifacts, { recursive: true });
    b = await startFakePool({ stopTimeoutSeconds: 2 });
    const onB = await connectUnix(b.socket);
    const { token } = await onB.call<{ token: string }>("token.create", {
      name: "dashboard-of-a",
      scopes: ["read"],
    });
    await onB.call("session.spawn", { name: "far-away" });
    onB.close();
    const dir = tempDir();
    writeFileSync(join(dir, "b.token"), `${token}\n`, { mode: 0o600 });
    const bUrl = /remote API: (ws:\/\/[^/\s]+)\/rpc/.exec(b.stderr)![1];
    a = await startFakePool(
      {
        stopTimeoutSeconds: 2,
        remotes: [
          { name: "b", url: bUrl, tokenFile: join(dir, "b.token") },
          { name: "gone", url: "ws://127.0.0.1:1" },
        ],
      },
      dir,
    );
    local = await connectUnix(a.socket);
    await local.call("session.spawn", { name: "near-by" });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    local?.close();
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it("lists the remotes' sessions beside its own, and one that does not answer", async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    try {
      const page = await context.newPage();
      const { url } = await local.call<{ url: string }>("dashboard.login");
      await page.goto(url);
      await page.locator(".row.session", { hasText: "near-by" }).waitFor({ timeout });
      const onB = page.getByRole("table", { name: "Sessions on b" });
      await onB.getByText("far-away").waitFor({ timeout });
      await page.locator(".remote", { hasText: "Unreachable" }).waitFor({ timeout });
      assert.match(
        (await page.locator("[data-remote=gone]").locator("..").textContent()) ?? "",
        /Unreachable: cannot reach the pool at ws:\/\/127\.0\.0\.1:1/,
      );
      await page.screenshot({ path: join(artifacts, "remotes.png"), fullPage: true });
    } finally {
      await context.close();
    }
  });
});
