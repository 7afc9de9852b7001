/**
 * The remotes file, `$XDG_CONFIG_HOME/claude-pool/remotes.json`: named pools the CLI reaches with
 * `--remote NAME`, `HOST/ID` references and `--all`, like kubectl contexts. A token is either a
 * reference to a file (`tokenFile`) or stored in this file, which is then kept at mode 0600.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { UsageError } from "../errors.js";

export interface Remote {
  name: string;
  url: string;
  /** A file holding the token, read at each connection. */
  tokenFile?: string;
  /** The token itself, when it was given with --token. */
  token?: string;
  /** A CA certificate (PEM) to trust for wss://. */
  ca?: string;
}

/** Names a remote may have: a session name's characters; "local" is the local pool's. */
export const remoteNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const localHostName = "local";

export function remotesFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(base, "claude-pool", "remotes.json");
}

/** Checks one remote as `remote add` would take it; returns a message saying what is wrong. */
export function remoteProblem(remote: Remote): string | null {
  if (!remoteNamePattern.test(remote.name)) {
    return `remote name "${remote.name}" must be letters, digits, ".", "_" or "-" (up to 64), starting with a letter or digit`;
  }
  if (remote.name === localHostName) return `"${localHostName}" names the local pool`;
  let url: URL;
  try {
    url = new URL(remote.url);
  } catch {
    return `"${remote.url}" is not a URL: give ws://host:port or wss://host:port`;
  }
  if (url.protocol !== "ws:" && url.protocol !== "wss:") {
    return `"${remote.url}" must start with ws:// or wss://`;
  }
  if (remote.token !== undefined && remote.tokenFile !== undefined) {
    return "give the token (--token) or a file holding it (--token-file), not both";
  }
  return null;
}

/** The remotes in the file's text; a file that is not what `remote add` writes is an error. */
export function parseRemotes(text: string, path: string): Remote[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${path} is not valid JSON (${(err as Error).message}): fix or remove it`);
  }
  const list = (data as { remotes?: unknown } | null)?.remotes;
  if (!Array.isArray(list)) throw new UsageError(`${path} has no "remotes" list: fix or remove it`);
  const seen = new Set<string>();
  return list.map((entry: unknown, i) => {
    const e = (entry ?? {}) as Record<string, unknown>;
    const strings = ["name", "url", "tokenFile", "token", "ca"].every(
      (k) => e[k] === undefined || typeof e[k] === "string",
    );
    const remote = pick(e as unknown as Remote);
    const problem =
      !strings || typeof e.name !== "string" || typeof e.url !== "string"
        ? "needs a name and a url, and every field is a string"
        : seen.has(remote.name)
          ? `names "${remote.name}" again`
          : remoteProblem(remote);
    if (problem) throw new UsageError(`${path}: remote ${i + 1} ${problem}: fix or remove it`);
    seen.add(remote.name);
    return remote;
  });
}

function pick(r: Remote): Remote {
  return Object.fromEntries(
    (["name", "url", "tokenFile", "token", "ca"] as const)
      .filter((k) => r[k] !== undefined)
      .map((k) => [k, r[k]]),
  ) as unknown as Remote;
}

export function loadRemotes(path = remotesFile()): Remote[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
  return parseRemotes(text, path);
}

/** Writes the file whole (a new file renamed over the old), mode 0600 in a directory of 0700. */
export function saveRemotes(remotes: Remote[], path = remotesFile()): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const next = `${path}.${process.pid}.tmp`;
  writeFileSync(next, JSON.stringify({ remotes: remotes.map(pick) }, null, 2) + "\n", {
    mode: 0o600,
  });
  chmodSync(next, 0o600);
  renameSync(next, path);
}

/** `remote add`: the list with `remote` added; file paths made absolute. */
export function withRemote(remotes: Remote[], remote: Remote, cwd = process.cwd()): Remote[] {
  const problem = remoteProblem(remote);
  if (problem) throw new UsageError(problem);
  if (remotes.some((r) => r.name === remote.name)) {
    throw new UsageError(
      `a remote named "${remote.name}" exists: remove it first with "claude-poolctl remote rm ${remote.name}"`,
    );
  }
  const absolute = (p: string | undefined) => (p === undefined ? undefined : resolve(cwd, p));
  return [
    ...remotes,
    pick({ ...remote, tokenFile: absolute(remote.tokenFile), ca: absolute(remote.ca) }),
  ];
}

export function findRemote(remotes: Remote[], name: string): Remote {
  const remote = remotes.find((r) => r.name === name);
  if (remote) return remote;
  const known = remotes.map((r) => r.name).join(", ");
  throw new UsageError(
    `no remote named "${name}" (${known ? `known: ${known}` : "none configured"}); add it with "claude-poolctl remote add ${name} URL"`,
  );
}

/** What `remote list` shows of the token: where it is, never what it is. */
export function tokenSource(remote: Remote): string {
  if (remote.tokenFile !== undefined) return remote.tokenFile;
  return remote.token !== undefined ? "(stored)" : "-";
}

/** The token and CA of a remote, read from their files now. */
export function remoteCredentials(remote: Remote): { token?: string; ca?: Buffer } {
  const read = (path: string, what: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new UsageError(
        `cannot read the ${what} of remote "${remote.name}" at ${path}: ${(err as Error).message}`,
      );
    }
  };
  const token =
    remote.tokenFile !== undefined
      ? read(remote.tokenFile, "token file").toString("utf8").trim()
      : remote.token;
  return {
    ...(token !== undefined ? { token } : {}),
    ...(remote.ca !== undefined ? { ca: read(remote.ca, "CA certificate") } : {}),
  };
}

/** A session reference: `HOST/ID`, `HOST/NAME`, or an id or name on the pool chosen otherwise. */
export interface SessionReference {
  host: string | null;
  id: string;
}

export function parseReference(text: string): SessionReference {
  const slash = text.indexOf("/");
  if (slash < 0) return { host: null, id: text };
  const host = text.slice(0, slash);
  const id = text.slice(slash + 1);
  if (!remoteNamePattern.test(host) || id === "" || id.includes("/")) {
    throw new UsageError(
      `"${text}" is not a session reference: give ID, NAME, HOST/ID or HOST/NAME`,
    );
  }
  return { host, id };
}

/** `spawn --name`: `HOST/NAME`, or `HOST/` for a session named by its id on HOST. */
export function parseSpawnName(text: string | undefined): {
  host: string | null;
  name: string | undefined;
} {
  if (text === undefined || !text.includes("/")) return { host: null, name: text };
  const host = text.slice(0, -1);
  if (text.indexOf("/") === host.length && remoteNamePattern.test(host)) {
    return { host, name: undefined };
  }
  const ref = parseReference(text);
  return { host: ref.host, name: ref.id };
}
