/**
 * Pools on hosts of their own for the Hosts tests: network namespaces joined to this one by veth
 * pairs on a bridge, addresses in 10.213.0.0/16 that exist only on those links, and a test CA whose
 * certificates name each host's address. Needs root and iproute2; netnsMissing() says why not.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { claudePoolBin, tempDir, waitFor, writeFakeConfig } from "./helpers.js";
import { issueCert } from "./test-ca.js";

const ip = (...args: string[]) => execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });

/** Why namespaces cannot be made here, or null when they can. */
export function netnsMissing(): string | null {
  if (process.getuid?.() !== 0) return "network namespaces need root";
  const probe = `cpprobe${process.pid}`;
  const made = spawnSync("ip", ["netns", "add", probe], { encoding: "utf8" });
  if (made.error) return `iproute2's ip is not installed (${made.error.message})`;
  if (made.status !== 0) return `ip netns add failed: ${made.stderr.trim()}`;
  spawnSync("ip", ["netns", "del", probe]);
  return null;
}

/** One namespace: `ns` reached at `address` over the veth `hostLink` (its peer is `nsLink`). */
export interface Netns {
  ns: string;
  hostLink: string;
  nsLink: string;
  address: string;
  /** The bridge in this namespace that joins every namespace's link. */
  bridge: string;
}

/**
 * Makes namespaces 1..count, each with a veth whose other end is on one bridge here: the bridge
 * has 10.213.S.1/24 and namespace i 10.213.S.(i+1), so this namespace and theirs reach one
 * another without any forwarding or route outside that subnet.
 */
export function makeNetns(count: number): Netns[] {
  // distinct per run, so a leftover of a killed run does not collide
  const tag = process.pid % 10000;
  const subnet = `10.213.${100 + (process.pid % 100)}`;
  const bridge = `cp${tag}br`;
  const made: Netns[] = [];
  try {
    ip("link", "add", bridge, "type", "bridge");
    made.push({ ns: "", hostLink: bridge, nsLink: "", address: "", bridge });
    ip("addr", "add", `${subnet}.1/24`, "dev", bridge);
    ip("link", "set", bridge, "up");
    for (let i = 1; i <= count; i++) {
      const n: Netns = {
        ns: `cpool${tag}h${i}`,
        hostLink: `cp${tag}h${i}`,
        nsLink: `cp${tag}p${i}`,
        address: `${subnet}.${i + 1}`,
        bridge,
      };
      ip("netns", "add", n.ns);
      made.push(n);
      ip("link", "add", n.hostLink, "type", "veth", "peer", "name", n.nsLink);
      ip("link", "set", n.nsLink, "netns", n.ns);
      ip("link", "set", n.hostLink, "master", bridge);
      ip("link", "set", n.hostLink, "up");
      ip("-n", n.ns, "addr", "add", `${n.address}/24`, "dev", n.nsLink);
      ip("-n", n.ns, "link", "set", n.nsLink, "up");
      ip("-n", n.ns, "link", "set", "lo", "up");
    }
  } catch (err) {
    removeNetns(made);
    throw err;
  }
  return made.slice(1);
}

/** Deletes the namespaces, their links and the bridge; safe to call twice. */
export function removeNetns(all: Netns[]): void {
  for (const n of all) {
    spawnSync("ip", ["link", "del", n.hostLink], { stdio: "ignore" });
    if (n.ns) spawnSync("ip", ["netns", "del", n.ns], { stdio: "ignore" });
  }
  const bridges = new Set(all.map((n) => n.bridge));
  for (const b of bridges) spawnSync("ip", ["link", "del", b], { stdio: "ignore" });
}

/** Takes the namespace's end of its link down or up: its packets go nowhere, nothing says so. */
export function setLink(n: Netns, state: "up" | "down"): void {
  ip("-n", n.ns, "link", "set", n.nsLink, state);
}

/** `claude-pool start` inside a namespace, bound to its address with TLS, fake claudes. */
export class NetnsPool {
  stderr = "";
  readonly dir = tempDir("claude-pool-host-");
  readonly child: ChildProcess;
  readonly exited: Promise<unknown>;
  readonly url: string;
  readonly tokenFile: string;

  constructor(
    readonly net: Netns,
    ca: { cert: string; key: string },
    config: Record<string, unknown> = {},
  ) {
    const tls = issueCert(ca, this.dir, net.address);
    writeFakeConfig(this.dir, {
      bind: net.address,
      apiPort: 3200,
      tls,
      stopTimeoutSeconds: 2,
      ...config,
    });
    this.url = `wss://${net.address}:3200`;
    this.tokenFile = join(this.dir, "state", "claude-pool", "token");
    this.child = spawn(
      "ip",
      [
        "netns",
        "exec",
        net.ns,
        process.execPath,
        claudePoolBin,
        "start",
        "--config",
        join(this.dir, "pool.json"),
      ],
      {
        env: {
          ...process.env,
          XDG_STATE_HOME: join(this.dir, "state"),
          CLAUDE_CONFIG_DIR: join(this.dir, "claude"),
          CLAUDE_POOL_SOCKET: join(this.dir, "control.sock"),
          JOURNAL_STREAM: "",
        },
        stdio: ["ignore", "ignore", "pipe"],
      },
    );
    this.child.stderr!.on("data", (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.child.on("exit", resolve));
  }

  ready(): Promise<true> {
    return waitFor(
      () => `the pool in ${this.net.ns} to serve ${this.url}:\n${this.stderr}`,
      () => this.stderr.includes(`remote API: ${this.url}/rpc`),
      20_000,
    );
  }

  token(): string {
    return readFileSync(this.tokenFile, "utf8").trim();
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGTERM");
    await this.exited;
  }
}
