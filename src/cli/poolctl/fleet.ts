/**
 * `status --all` and `list --all`: the local pool and every remote asked in parallel, each within
 * its own timeout; a host that does not answer is a line of the output, not a failure of it.
 */
import { existsSync } from "node:fs";
import { controlSocket } from "../../paths.js";
import { connectUnix } from "../../rpc/client.js";
import type { SessionInfo } from "../../session/session.js";
import { UsageError } from "../errors.js";
import { PoolClient, TimeoutError, timeoutSeconds, openRemote, type CommonArgs } from "./client.js";
import type { PoolStatusResult } from "./format.js";
import { loadRemotes, localHostName } from "./remotes.js";

/** Seconds each host has to answer `--all` unless --timeout says otherwise. */
export const defaultHostSeconds = 5;

/** Exit statuses of `--all`: every host answered, some did, none did. */
export const FleetExit = { all: 0, partial: 1, none: 3 } as const;

export interface HostResult {
  host: string;
  url: string;
  /** Why the host gave no answer; null when it did. */
  error: string | null;
  pool?: PoolStatusResult;
  sessions: SessionInfo[];
}

interface Host {
  name: string;
  url: string;
  open: (seconds: number) => Promise<PoolClient>;
}

/** The local pool when its socket is there, then the remotes file's pools in its order. */
function hosts(): Host[] {
  const socket = controlSocket().path;
  const local: Host[] = existsSync(socket)
    ? [
        {
          name: localHostName,
          url: `unix:${socket}`,
          open: async (seconds) => new PoolClient(await connectUnix(socket), seconds),
        },
      ]
    : [];
  return [
    ...local,
    ...loadRemotes().map((r) => ({
      name: r.name,
      url: r.url,
      open: (seconds: number) => openRemote(r, seconds),
    })),
  ];
}

export function checkAllArgs(args: CommonArgs & { id?: string }): void {
  const other = args.id ?? args.url ?? args.socket ?? args.remote;
  if (other !== undefined) {
    throw new UsageError("--all asks every pool: leave out the session, --remote, --url, --socket");
  }
}

async function ask(host: Host, seconds: number, withStatus: boolean): Promise<HostResult> {
  let client: PoolClient | undefined;
  let timer: NodeJS.Timeout | undefined;
  const work = (async () => {
    client = await host.open(seconds);
    const [pool, sessions] = await Promise.all([
      withStatus ? client.call<PoolStatusResult>("pool.status") : undefined,
      client.call<SessionInfo[]>("session.list"),
    ]);
    return { host: host.name, url: host.url, error: null, ...(pool ? { pool } : {}), sessions };
  })();
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(host.name, seconds)), seconds * 1000);
  });
  try {
    return await Promise.race([work, expired]);
  } catch (err) {
    const message =
      err instanceof TimeoutError ? `did not answer within ${seconds} s` : (err as Error).message;
    return { host: host.name, url: host.url, error: message, sessions: [] };
  } finally {
    clearTimeout(timer);
    work.catch(() => {});
    client?.close();
  }
}

/** Every host's answer, in the order of hosts(); waits at most the per-host timeout. */
export async function askAll(args: CommonArgs, withStatus: boolean): Promise<HostResult[]> {
  const seconds = timeoutSeconds(args.timeout, defaultHostSeconds);
  const all = hosts();
  if (all.length === 0) {
    throw new UsageError(
      "no pools to ask: no local pool runs and no remote is configured (claude-poolctl remote add NAME URL)",
    );
  }
  return Promise.all(all.map((h) => ask(h, seconds, withStatus)));
}

export function fleetExit(results: HostResult[]): number {
  const failed = results.filter((r) => r.error !== null).length;
  return failed === 0
    ? FleetExit.all
    : failed < results.length
      ? FleetExit.partial
      : FleetExit.none;
}
