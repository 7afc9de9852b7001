/**
 * `remote.list`: the sessions of the pools in config `remotes`, fetched by this pool with each
 * remote's own token, so a browser signed in here sees them without holding their tokens and
 * without those pools allowing its origin. Read-only: it calls nothing but session.list there.
 */
import { readFile } from "node:fs/promises";
import type { PoolConfig, RemoteConfig } from "../config/types.js";
import type { SessionInfo } from "../session/session.js";
import { connectWs } from "./client.js";
import type { RequestContext } from "./methods.js";
import type { MethodRegistry } from "./registry.js";
import { noParams } from "./schemas.js";

/** How long each remote has to answer. */
export const remoteSeconds = 5;

export interface RemoteSessions {
  name: string;
  url: string;
  /** Why it gave no answer; null when it did. */
  error: string | null;
  sessions: SessionInfo[];
}

async function fetchRemote(remote: RemoteConfig, seconds: number): Promise<RemoteSessions> {
  const answer = { name: remote.name, url: remote.url };
  let timer: NodeJS.Timeout | undefined;
  let close = () => {};
  const work = (async () => {
    const token = remote.tokenFile ? (await readFile(remote.tokenFile, "utf8")).trim() : undefined;
    const ca = remote.ca ? await readFile(remote.ca) : undefined;
    const client = await connectWs(remote.url, {
      token,
      ca,
      handshakeTimeoutMs: seconds * 1000,
    });
    close = () => client.close();
    return client.call<SessionInfo[]>("session.list");
  })();
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`did not answer within ${seconds} s`)),
      seconds * 1000,
    );
  });
  try {
    return { ...answer, error: null, sessions: await Promise.race([work, expired]) };
  } catch (err) {
    return { ...answer, error: (err as Error).message, sessions: [] };
  } finally {
    clearTimeout(timer);
    work.then(close, () => {});
  }
}

export function addRemoteMethods(
  registry: MethodRegistry<RequestContext>,
  config: () => PoolConfig,
  seconds = remoteSeconds,
): void {
  registry.method<object, RemoteSessions[]>("remote.list", {
    scope: "read",
    description:
      "The pools of config remotes and their sessions, asked in parallel with each one's token " +
      `(within ${seconds} s each); one that does not answer has an error and no sessions.`,
    params: noParams,
    result: {
      type: "array",
      items: {
        type: "object",
        properties: {
          name: { type: "string" },
          url: { type: "string" },
          error: { type: ["string", "null"] },
          sessions: { type: "array", items: { type: "object" } },
        },
      },
    },
    handler: () => Promise.all(config().remotes.map((r) => fetchRemote(r, seconds))),
  });
}
