import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join, resolve } from "node:path";
import type { SessionSpec } from "./spec.js";

export type Preflight = { ok: true; executable: string } | { ok: false; reason: string };

/**
 * Checks what would make claude fail at once, so such a session fails with a clear reason
 * instead of crash-looping.
 */
export function preflight(
  claudePath: string,
  spec: SessionSpec,
  env: Record<string, string | undefined>,
  uid: number | undefined = process.getuid?.(),
): Preflight {
  const executable = findExecutable(claudePath, env.PATH ?? "");
  if (!executable) {
    return {
      ok: false,
      reason:
        `claude binary not found: "${claudePath}" is not an executable file` +
        (claudePath.includes("/") ? "" : " in PATH") +
        "; install Claude Code or set claudePath in the config",
    };
  }
  if (!isDirectory(spec.workingDirectory)) {
    return {
      ok: false,
      reason: `working directory ${spec.workingDirectory} does not exist; create it or change workingDirectory`,
    };
  }
  if (uid === 0 && spec.dangerouslySkipPermissions && env.IS_SANDBOX !== "1") {
    return {
      ok: false,
      reason:
        "dangerouslySkipPermissions is refused while the pool runs as root (claude refuses " +
        "--dangerously-skip-permissions with root privileges); run the pool as a normal user",
    };
  }
  return { ok: true, executable };
}

/** Resolves `command` like execvp: a path if it has a slash, else the first match in PATH. */
export function findExecutable(command: string, path: string): string | null {
  const candidates = command.includes("/")
    ? [resolve(command)]
    : path
        .split(delimiter)
        .filter((dir) => isAbsolute(dir))
        .map((dir) => join(dir, command));
  return candidates.find((file) => isExecutableFile(file)) ?? null;
}

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function isDirectory(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
