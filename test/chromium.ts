/**
 * Debian's Chromium driven by playwright-core, as the dashboard's tests and benchmark use it:
 * headless, and none of Chromium's own traffic (this machine's network is closed; its background
 * requests would only fail). Each launch gets a new empty profile (--user-data-dir) from
 * Playwright itself, which refuses one in `args`.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { repoRoot } from "./helpers.js";

export const chromiumPath = "/usr/bin/chromium";
/** The browser tests' screenshots, of their last run (README: Development). */
export const artifacts = join(repoRoot, "test-artifacts", "dashboard");

/** Why the browser tests cannot run here, or null when they can. */
export function chromiumMissing(): string | null {
  return existsSync(chromiumPath)
    ? null
    : `${chromiumPath} is not installed (apt-get install chromium; .ci/run does)`;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--disable-sync",
    ],
  });
}
