import { defineCommand } from "citty";
import type { EndpointStatus } from "../../notify/endpoint.js";
import type { TestResult } from "../../notify/notifier.js";
import { Failure } from "../errors.js";
import { commonArgs, printJson, TimeoutError, withClient, type PoolClient } from "./client.js";

/** A line per endpoint: its URL, whether it works, what waits, what went wrong last. */
export function endpointLines(endpoints: readonly EndpointStatus[]): string[] {
  return endpoints.map((e) => {
    const counts = `${e.sent} sent, ${e.queued} queued, ${e.dropped} dropped, ${e.failed} failed`;
    const state = e.ok ? "ok" : `failing: ${e.lastError ?? "?"} (since ${e.lastErrorAt ?? "?"})`;
    return `${e.url} [${e.format}: ${e.events.join(",")}] ${state}; ${counts}`;
  });
}

/** For `status`: the endpoints that fail now. */
export function notifyNotes(endpoints: readonly EndpointStatus[] | undefined): string[] {
  return (endpoints ?? [])
    .filter((e) => !e.ok)
    .map(
      (e) =>
        `notify ${e.url} fails: ${e.lastError ?? "?"} (${e.queued} queued, ${e.dropped} dropped); ` +
        'see "claude-poolctl notify"',
    );
}

const noEndpoints = 'no notify endpoints in the config; add "notify": [{"url": ...}] and reload';

/** How long the test may take: the pool waits up to the slowest endpoint's timeoutSeconds. */
async function testAllowance(client: PoolClient): Promise<number> {
  const config = await client
    .call<{ notify?: { timeoutSeconds: number }[] }>("pool.config")
    .catch((err: unknown) => {
      if (err instanceof TimeoutError) throw err;
      return { notify: [] }; // a token without the read scope: the default --timeout only
    });
  return Math.max(0, ...(config.notify ?? []).map((e) => e.timeoutSeconds));
}

const test = defineCommand({
  meta: {
    name: "test",
    description: "Send a test notification to every endpoint and print each result",
  },
  args: commonArgs,
  run: ({ args }) =>
    withClient(args, async (client) => {
      const results = await client.call<TestResult[]>(
        "notify.test",
        {},
        await testAllowance(client),
      );
      if (args.json) printJson(results);
      else {
        for (const r of results) {
          console.log(
            `${r.ok ? "ok    " : "FAILED"} ${r.url} (${r.error ?? `HTTP ${r.status}`}, ${r.ms} ms)`,
          );
        }
      }
      if (results.length === 0) throw new Failure(noEndpoints);
      const failed = results.filter((r) => !r.ok).length;
      if (failed > 0) throw new Failure(`${failed} of ${results.length} endpoints failed`);
    }),
});

export const notify = defineCommand({
  meta: {
    name: "notify",
    description: "The notify endpoints' health; notify test sends each a test notification",
  },
  args: commonArgs,
  subCommands: { test },
  run: ({ args, rawArgs }) => {
    if (rawArgs.includes("test")) return;
    return withClient(args, async (client) => {
      const { notify: endpoints = [] } = await client.call<{ notify?: EndpointStatus[] }>(
        "pool.status",
      );
      if (args.json) return printJson(endpoints);
      if (endpoints.length === 0) return console.log(noEndpoints);
      console.log(endpointLines(endpoints).join("\n"));
    });
  },
});
