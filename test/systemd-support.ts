/** What the tests that run beside a systemd user manager share. */
import { execFileSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { processState } from "../src/proc.js";
import { connectUnix } from "../src/rpc/client.js";
import { repoRoot } from "./helpers.js";

export const inSandbox = process.env.SANDBOX_MANAGER_PID !== undefined;

/** A skip reason where cgroup limits cannot be observed, false where they can. */
export const notEnforced =
  process.env.SANDBOX_LIMITS_ENFORCED === "1"
    ? false
    : process.env.SANDBOX_LIMITS_ENFORCED === "0"
      ? "cgroup limits are not enforced here (SANDBOX_LIMITS_ENFORCED=0: cgroup2 without controllers)"
      : "SANDBOX_LIMITS_ENFORCED is unset: run under test/run-systemd-tests to check enforcement";

export function systemctl(...args: string[]): string {
  return execFileSync("systemctl", ["--user", ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** `systemctl --user show` of some properties, as a map. */
export function show(unit: string, ...props: string[]): Record<string, string> {
  const out = systemctl("show", unit, ...props.map((p) => `--property=${p}`));
  return Object.fromEntries(
    out
      .trim()
      .split("\n")
      .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
}

/** Every loaded claude-pool-*.scope, in any state. */
export function scopeUnits(): string[] {
  return systemctl("list-units", "--all", "--plain", "--no-legend", "claude-pool-*.scope")
    .split("\n")
    .map((line) => line.trim().split(/\s+/)[0])
    .filter((name) => name !== undefined && name !== "");
}

/** Gone, or a zombie nobody has reaped yet: it runs no more either way. */
export function gone(pid: number): boolean {
  const state = processState(pid);
  return state === null || state === "Z" || state === "X";
}

/** A file of a unit's cgroup: the v1 controller hierarchy's, else the cgroup2 one. */
export function cgroupFile(controlGroup: string, v1: [string, string], v2: string): string {
  const [controller, file] = v1;
  const v1Path = `/sys/fs/cgroup/${controller}${controlGroup}/${file}`;
  return readFileSync(existsSync(v1Path) ? v1Path : `/sys/fs/cgroup${controlGroup}/${v2}`, "utf8")
    .trim()
    .replace(/\s+/g, " ");
}

export const SERVICE = "claude-pool.service";
export const SOCKET = "claude-pool.socket";
/** The shipped service's control socket, under the sandbox's runtime directory. */
export const controlSocket = join(
  process.env.XDG_RUNTIME_DIR ?? "/nonexistent",
  "claude-pool",
  "control.sock",
);
const unitDir = join(process.env.XDG_CONFIG_HOME ?? "/nonexistent", "systemd", "user");

/** One call over a fresh connection to the control socket (which activates the service). */
export async function call<T>(method: string, params?: object): Promise<T> {
  const client = await connectUnix(controlSocket);
  try {
    return await client.call<T>(method, params);
  } finally {
    client.close();
  }
}

/**
 * Installs the shipped units into the user manager's config, with a drop-in that adds `lines` to
 * the service's [Service] section; returns what stops them and takes them out again. The socket
 * is stopped too: starting the service starts it (Wants=), and a socket left listening with its
 * unit file gone would take the next test's connections for a service it no longer knows.
 */
export function installUnits(lines: string[]): () => void {
  const files = readdirSync(join(repoRoot, "units"));
  const dropIn = join(unitDir, `${SERVICE}.d`);
  for (const file of files) copyFileSync(join(repoRoot, "units", file), join(unitDir, file));
  mkdirSync(dropIn, { recursive: true });
  writeFileSync(join(dropIn, "50-test.conf"), ["[Service]", ...lines, ""].join("\n"));
  systemctl("daemon-reload");
  return () => {
    try {
      systemctl("stop", SOCKET, SERVICE);
    } finally {
      rmSync(dropIn, { recursive: true, force: true });
      for (const file of files) rmSync(join(unitDir, file), { force: true });
      systemctl("daemon-reload");
    }
  };
}
