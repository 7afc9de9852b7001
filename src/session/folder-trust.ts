import { randomBytes } from "node:crypto";
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmdirSync,
  statSync,
  unlinkSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import type { Logger } from "../log.js";
import { globalConfigFile, trustKey } from "./claude-config.js";

export interface TrustOptions {
  /** How long to wait for another writer's lock before writing without it. */
  lockWaitMs?: number;
  /** A lock older than this was left by a writer that died (claude's own limit). */
  staleLockMs?: number;
}

/** claude 2.1.332 takes `<file>.lock` (a directory, proper-lockfile's) while it saves the file. */
const claudeStaleLockMs = 30_000;
/** Rounds of re-reading when the file changed between the read and the rename. */
const attempts = 5;

const sleeper = new Int32Array(new SharedArrayBuffer(4));
const sleep = (ms: number) => Atomics.wait(sleeper, 0, 0, ms);

/**
 * Records `folder` as trusted in claude's global config `file` (`projects[<real path>]
 * .hasTrustDialogAccepted`, what accepting the trust dialog records), changing nothing else in
 * it. claude rewrites that file while it runs, under the lock `<file>.lock`: this takes the same
 * lock, and since claude writes without it when it cannot get it, reads the file again right
 * before the rename and starts over from what it finds if it changed. Throws when the file is no
 * JSON object (it is left as it is).
 */
export function recordTrust(
  file: string,
  folder: string,
  options: TrustOptions = {},
): "recorded" | "already" {
  const key = trustKey(folder);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const locked = lock(`${file}.lock`, options);
  try {
    for (let attempt = 0; attempt < attempts; attempt++) {
      const before = readText(file);
      const data = parse(before, file);
      const projects = (data.projects ?? {}) as Record<string, Record<string, unknown> | undefined>;
      if (typeof projects !== "object" || Array.isArray(projects)) {
        throw new Error(`${file}: "projects" is not an object; the pool leaves the file alone`);
      }
      const entry = projects[key];
      if (entry?.hasTrustDialogAccepted === true) return "already";
      const own = typeof entry === "object" && !Array.isArray(entry) ? entry : {};
      const next = {
        ...data,
        projects: { ...projects, [key]: { ...own, hasTrustDialogAccepted: true } },
      };
      const temp = `${file}.claude-pool-${process.pid}-${randomBytes(4).toString("hex")}`;
      writeDurably(temp, JSON.stringify(next, null, 2), modeOf(file));
      if (readText(file) !== before) {
        unlinkSync(temp);
        continue;
      }
      renameSync(temp, file);
      return "recorded";
    }
    throw new Error(`${file} kept changing while the pool wrote it; try again`);
  } finally {
    if (locked) rmdirSync(`${file}.lock`);
  }
}

/** Takes the lock directory; false when another writer kept it past the wait. */
function lock(path: string, options: TrustOptions): boolean {
  const deadline = Date.now() + (options.lockWaitMs ?? 500);
  const staleMs = options.staleLockMs ?? claudeStaleLockMs;
  for (;;) {
    try {
      mkdirSync(path);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    try {
      if (Date.now() - statSync(path).mtimeMs > staleMs) {
        rmdirSync(path);
        continue;
      }
    } catch {
      continue; // released meanwhile
    }
    if (Date.now() > deadline) return false;
    sleep(5);
  }
}

function readText(file: string): string | null {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

function parse(text: string | null, file: string): Record<string, unknown> {
  if (text === null) return {};
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(
      `${file} is not valid JSON (${(err as Error).message}); the pool leaves it alone`,
    );
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new Error(`${file} is not a JSON object; the pool leaves it alone`);
  }
  return data as Record<string, unknown>;
}

function modeOf(file: string): number {
  try {
    return statSync(file).mode & 0o777;
  } catch {
    return 0o600;
  }
}

function writeDurably(file: string, text: string, mode: number): void {
  const fd = openSync(file, "wx", mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * trustWorkingDirectories, before a session starts in `folder`: records it in the global config
 * of the session's claude (`env`), logging when it did; a failure is logged and the session
 * starts anyway (claude's trust dialog then shows as blockedOn).
 */
export function trustBeforeLaunch(
  env: Record<string, string | undefined>,
  folder: string,
  log: Logger,
  who: string,
): void {
  const file = globalConfigFile(env);
  try {
    if (recordTrust(file, folder) === "recorded") {
      log.info(`${who}: recorded ${folder} as trusted in ${file} (trustWorkingDirectories)`);
    }
  } catch (err) {
    log.warn(
      `${who}: cannot record ${folder} as trusted in ${file}: ${(err as Error).message}; ` +
        "claude may wait at its trust dialog",
    );
  }
}
