/**
 * Dashboard benchmark (issue 15), in Debian's Chromium on loopback against a pool of fake
 * claudes:
 * - first load: JS + CSS bytes on the wire (gzip), goal ≤ 250 KB; beside them the same files
 *   uncompressed, and the terminal's chunk that a session page loads later;
 * - navigation → the list rendered with 100 sessions, goal ≤ 500 ms; baseline in the same run:
 *   a Node client's connect + session.list of the same pool;
 * - a 10 MiB flood into an open terminal: the page's longest main-thread stall (the largest gap
 *   between 10 ms timer ticks) and the time until the screen shows the flood's end; baseline:
 *   the same flood to a Node client attached with session.attach.
 * BENCH_DASHBOARD_SESSIONS (100), BENCH_DASHBOARD_RUNS (10), BENCH_DASHBOARD_FLOOD_BYTES (10 MiB).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { connectUnix, connectWs } from "../src/rpc/client.js";
import type { SessionInfo } from "../src/session/session.js";
import { chromiumMissing, launchChromium } from "../test/chromium.js";
import { startFakePool, tempDir, waitFor } from "../test/helpers.js";
import { loadAverage, percentile } from "./stats.js";

// The page's globals, for the functions that run in it.
declare const document: {
  querySelectorAll(selector: string): { length: number };
  querySelector(selector: string): { textContent: string | null } | null;
};
declare const window: Record<string, unknown>;
declare const sessionStorage: { setItem(key: string, value: string): void };
declare const performance: { now(): number };
declare const MutationObserver: new (callback: () => void) => {
  observe(target: unknown, options: object): void;
  disconnect(): void;
};

const sessionCount = Number(process.env.BENCH_DASHBOARD_SESSIONS ?? 100);
const runs = Number(process.env.BENCH_DASHBOARD_RUNS ?? 10);
const floodBytes = Number(process.env.BENCH_DASHBOARD_FLOOD_BYTES ?? 10 << 20);

const missing = chromiumMissing();
if (missing) {
  console.log(`dashboard benchmark skipped: ${missing}`);
  process.exit(0);
}

const kb = (bytes: number) => `${(bytes / 1000).toFixed(1)} KB`;
const ms = (values: number[]) =>
  `p50 ${percentile(values, 50).toFixed(0).padStart(5)} ms   p90 ${percentile(values, 90)
    .toFixed(0)
    .padStart(5)} ms   (n=${values.length})`;

const dir = tempDir("claude-pool-bench-");
const pool = await startFakePool({ maxSessions: sessionCount + 1, stopTimeoutSeconds: 2 }, dir);
const browser = await launchChromium();
try {
  const ws = /remote API: (ws:\/\/[^/\s]+)\/rpc/.exec(pool.stderr)![1];
  const http = ws.replace(/^ws/, "http");
  const token = readFileSync(join(dir, "state", "claude-pool", "token"), "utf8").trim();
  const local = await connectUnix(pool.socket);

  /** A page of a new browser context (an empty cache) in a tab signed in already. */
  const signedInPage = async (): Promise<Page> => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await context.newPage();
    const caller = JSON.stringify({ token, name: "admin", scopes: ["admin"] });
    await page.addInitScript(
      ([t, c]) => {
        sessionStorage.setItem("claude-pool.token", t);
        sessionStorage.setItem("claude-pool.caller", c);
      },
      [token, caller],
    );
    return page;
  };

  // First load: every JS and CSS response of the list page, as transferred.
  {
    const page = await signedInPage();
    const responses: Promise<{ url: string; wire: number; raw: number }>[] = [];
    page.on("response", (res) => {
      if (!/\.(js|css)$/.test(new URL(res.url()).pathname)) return;
      responses.push(
        (async () => ({
          url: new URL(res.url()).pathname,
          wire: (await res.request().sizes()).responseBodySize,
          raw: (await res.body()).length,
        }))(),
      );
    });
    await page.goto(`${http}/`);
    await page.locator(".connection[data-state=open]").waitFor();
    const first = await Promise.all(responses.splice(0));
    const s = await local.call<SessionInfo>("session.spawn", { name: "bench-terminal" });
    await page.goto(`${http}/#/s/${s.id}`);
    await page.locator(".xterm-rows").waitFor();
    const later = await Promise.all(responses.splice(0));
    const sum = (list: typeof first, key: "wire" | "raw") => list.reduce((a, r) => a + r[key], 0);
    console.log(
      `first load JS+CSS          ${kb(sum(first, "wire")).padStart(9)} gzip (goal ≤ 250 KB)` +
        `   ${kb(sum(first, "raw"))} uncompressed   ${(sum(first, "wire") / sum(first, "raw")).toFixed(2)}×` +
        `   (${first.map((r) => r.url.replace(/^.*\//, "")).join(", ")})`,
    );
    console.log(
      `+ a session page's terminal ${kb(sum(later, "wire")).padStart(8)} gzip` +
        `   ${kb(sum(later, "raw"))} uncompressed`,
    );
    await page.context().close();
    await local.call("session.kill", { id: s.id });
    await local.call("session.remove", { id: s.id });
  }

  // The list with `sessionCount` sessions, spawned ten at a time.
  for (let i = 0; i < sessionCount; i += 10) {
    const batch = Array.from({ length: Math.min(10, sessionCount - i) }, (_, j) =>
      local.call<SessionInfo>("session.spawn", { name: `bench-${String(i + j).padStart(3, "0")}` }),
    );
    await Promise.all(batch);
  }
  await waitFor(
    `${sessionCount} sessions running`,
    async () =>
      (await local.call<SessionInfo[]>("session.list")).filter((s) => s.status === "running")
        .length === sessionCount,
    120_000,
  );
  const listMs: number[] = [];
  const baselineMs: number[] = [];
  for (let run = 0; run < runs; run++) {
    const t0 = performance.now();
    const client = await connectWs(ws, { token });
    await client.call("session.list");
    baselineMs.push(performance.now() - t0);
    client.close();

    const page = await signedInPage();
    await page.addInitScript((count: number) => {
      const observer = new MutationObserver(() => {
        if (document.querySelectorAll(".row.session").length >= count) {
          window.listRenderedAt = performance.now();
          observer.disconnect();
        }
      });
      observer.observe(document, { childList: true, subtree: true });
    }, sessionCount);
    await page.goto(`${http}/`);
    await page.waitForFunction(() => window.listRenderedAt !== undefined, undefined, {
      timeout: 30_000,
    });
    // performance.now() counts from the navigation's start
    listMs.push((await page.evaluate(() => window.listRenderedAt)) as number);
    await page.context().close();
  }
  const ratio = percentile(listMs, 50) / percentile(baselineMs, 50);
  console.log(`list of ${sessionCount} rendered          ${ms(listMs)}   (goal p50 ≤ 500 ms)`);
  console.log(
    `baseline: connect + list   ${ms(baselineMs)}   dashboard ${ratio.toFixed(1)}× baseline p50`,
  );

  // A flood into an open terminal; the page's timer ticks show how long its main thread stalls.
  const sessions = await local.call<SessionInfo[]>("session.list");
  const target = sessions[0];
  const page = await signedInPage();
  await page.goto(`${http}/#/s/${target.id}`);
  await page.locator(".xterm-rows").waitFor();
  await page.evaluate(() => {
    let last = performance.now();
    const gaps: number[] = [];
    window.gaps = gaps;
    setInterval(() => {
      const now = performance.now();
      gaps.push(now - last);
      last = now;
    }, 10);
  });
  const floodStart = performance.now();
  await local.call("session.send", { id: target.id, text: `/flood ${floodBytes}` });
  await page.waitForFunction(
    () => (document.querySelector(".xterm-rows")?.textContent ?? "").includes("flood done"),
    undefined,
    { timeout: 120_000 },
  );
  const browserFloodMs = performance.now() - floodStart;
  const gaps = (await page.evaluate(() => (window.gaps as number[]).splice(0))) as number[];

  const attached = await connectWs(ws, { token });
  let received = 0;
  const done = new Promise<void>((resolve) =>
    attached.on("notification", (method, params) => {
      if (method !== "session.output") return;
      received += String(params.data).length;
      if (String(params.data).includes("flood done")) resolve();
    }),
  );
  await attached.call("session.attach", { id: target.id, readOnly: true });
  const nodeStart = performance.now();
  await local.call("session.send", { id: target.id, text: `/flood ${floodBytes}` });
  await done;
  const nodeFloodMs = performance.now() - nodeStart;
  attached.close();
  console.log(
    `${(floodBytes / (1 << 20)).toFixed(0)} MiB flood in the terminal    screen shows its end after ` +
      `${browserFloodMs.toFixed(0)} ms; longest main-thread stall ${Math.max(...gaps).toFixed(0)} ms, ` +
      `p99 timer gap ${percentile(gaps, 99).toFixed(0)} ms (10 ms ticks, n=${gaps.length})`,
  );
  console.log(
    `baseline: Node client       ${nodeFloodMs.toFixed(0)} ms for the same flood (${kb(received)} ` +
      `received)   browser ${(browserFloodMs / nodeFloodMs).toFixed(1)}× baseline`,
  );
  console.log(loadAverage());
  local.close();
} finally {
  await browser.close();
  await pool.stop();
}
