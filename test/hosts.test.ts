/**
 * Several hosts (issue 18): three pools, each in a network namespace of its own bound to its
 * address there with TLS from a test CA, and claude-poolctl in this namespace reaching them by
 * name (remote add, --remote, HOST/ID, status --all, list --all).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { join } from "node:path";
import { TimeoutError, openRemote } from "../src/cli/poolctl/client.js";
import { connectUnix } from "../src/rpc/client.js";
import { remoteSeconds, type RemoteSessions } from "../src/rpc/remote-methods.js";
import type { SessionInfo } from "../src/session/session.js";
import { endProcessesUnder, repoRoot, tempDir } from "./helpers.js";
import {
  makeNetns,
  netnsMissing,
  NetnsPool,
  removeNetns,
  setLink,
  type Netns,
} from "./netns-support.js";
import { makeCa } from "./test-ca.js";

const poolctl = join(repoRoot, "dist", "src", "bin", "claude-poolctl.js");
const missing = netnsMissing();
if (missing) console.log(`hosts tests skipped: ${missing}`);

let nets: Netns[] = [];
const pools: NetnsPool[] = [];
const config = tempDir("claude-pool-remotes-");
let caCert: string;
let otherCa: string;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** claude-poolctl with the remotes file under `config` and no local pool. */
function run(args: string[]): Promise<Run> {
  const started = Date.now();
  const child = spawn(process.execPath, [poolctl, ...args], {
    env: {
      ...process.env,
      XDG_CONFIG_HOME: config,
      CLAUDE_POOL_SOCKET: join(config, "no-local-pool.sock"),
      CLAUDE_POOL_REMOTE: "",
      CLAUDE_POOL_URL: "",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) =>
    child.on("close", (status) =>
      resolve({ status, stdout, stderr, seconds: (Date.now() - started) / 1000 }),
    ),
  );
}

async function ok(args: string[]): Promise<string> {
  const r = await run(args);
  assert.equal(r.status, 0, `${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** remote.list on h1, over its control socket. */
async function remoteList(): Promise<RemoteSessions[]> {
  const client = await connectUnix(join(pools[0].dir, "control.sock"));
  try {
    return await client.call<RemoteSessions[]>("remote.list");
  } finally {
    client.close();
  }
}

// Every namespace goes even when the run is cut short.
process.on("exit", () => removeNetns(nets));
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void Promise.all(pools.map((p) => p.stop())).finally(() => {
      removeNetns(nets);
      process.kill(process.pid, signal);
    });
  });
}

describe("pools on three hosts", { skip: missing ?? false, timeout: 120_000 }, () => {
  before(async () => {
    nets = makeNetns(3);
    const ca = makeCa(tempDir(), "claude-pool test CA");
    caCert = ca.cert;
    otherCa = makeCa(tempDir(), "another CA").cert;
    const [h2, h3] = [new NetnsPool(nets[1], ca), new NetnsPool(nets[2], ca)];
    // h1's dashboard shows h2 and h3 (and h2 once more, with a token h2 does not know)
    const remotes = [
      { name: "h2", url: h2.url, tokenFile: h2.tokenFile, ca: ca.cert },
      { name: "h3", url: h3.url, tokenFile: h3.tokenFile, ca: ca.cert },
      { name: "h2-wrong-token", url: h2.url, tokenFile: h3.tokenFile, ca: ca.cert },
    ];
    pools.push(new NetnsPool(nets[0], ca, { remotes }), h2, h3);
    await Promise.all(pools.map((p) => p.ready()));
    for (const [i, p] of pools.entries()) {
      await ok(["remote", "add", `h${i + 1}`, p.url, "--token-file", p.tokenFile, "--ca", ca.cert]);
    }
  });

  after(async () => {
    await Promise.all(pools.map((p) => p.stop()));
    await Promise.all(pools.map((p) => endProcessesUnder(p.dir)));
    removeNetns(nets);
  });

  it("spawns on h2/ and on h3 by --remote, and names its sessions HOST/ID", async () => {
    const onH2 = JSON.parse(await ok(["spawn", "--name", "h2/", "--json"])) as SessionInfo;
    assert.equal(onH2.name, onH2.id);
    const onH3 = JSON.parse(
      await ok(["spawn", "--remote", "h3", "--name", "w3", "--json"]),
    ) as SessionInfo;
    assert.equal(onH3.name, "w3");
    assert.deepEqual(
      (JSON.parse(await ok(["list", "--remote", "h2", "--json"])) as SessionInfo[]).map(
        (s) => s.id,
      ),
      [onH2.id],
    );
    const got = JSON.parse(await ok(["status", `h3/w3`, "--json"])) as SessionInfo;
    assert.equal(got.id, onH3.id);
    const refused = await run(["status", "h2/w3"]);
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, /w3/);
  });

  it("status --all shows every host's sessions in a HOST column", async () => {
    await ok(["spawn", "--name", "h1/w1"]);
    const r = await run(["status", "--all"]);
    assert.equal(r.status, 0, r.stderr);
    for (const h of ["h1", "h2", "h3"]) {
      assert.match(r.stdout, new RegExp(`^${h} +claude-pool \\| status: ok`, "m"));
    }
    assert.match(r.stdout, /^HOST +ID +Name/m);
    assert.match(r.stdout, /^h1 +[0-9a-f]{8} +w1 /m);
    assert.match(r.stdout, /^h3 +[0-9a-f]{8} +w3 /m);
    const all = JSON.parse(await ok(["list", "--all", "--json"])) as {
      hosts: { host: string; error: string | null; sessions: SessionInfo[] }[];
    };
    assert.deepEqual(
      all.hosts.map((h) => [h.host, h.error, h.sessions.length]),
      [
        ["h1", null, 1],
        ["h2", null, 1],
        ["h3", null, 1],
      ],
    );
  });

  it("a host whose link goes down times out within --timeout; the others answer", async () => {
    const [, , h3] = nets;
    setLink(h3, "down");
    try {
      const r = await run(["status", "--all", "--timeout", "2"]);
      assert.equal(r.status, 1, `partial: ${r.stderr}`);
      assert.ok(r.seconds < 2 + 3, `took ${r.seconds} s`);
      assert.match(r.stdout, /^h3 +unreachable: did not answer within 2 s/m);
      assert.match(r.stdout, /^h1 +claude-pool \| status: ok/m);
      assert.match(r.stdout, /^h2 +claude-pool \| status: ok/m);
      // h1 asks h3 across the bridge: no ARP answer (EHOSTUNREACH) or no TCP answer, in time
      const asked = Date.now();
      const proxied = await remoteList();
      assert.ok(Date.now() - asked < (remoteSeconds + 2) * 1000);
      assert.deepEqual(
        proxied.map((r) => [r.name, r.error === null]),
        [
          ["h2", true],
          ["h3", false],
          ["h2-wrong-token", false],
        ],
      );
      assert.match(
        proxied[1].error!,
        new RegExp(`did not answer within ${remoteSeconds} s|EHOSTUNREACH`),
      );
      const json = JSON.parse(
        (await run(["list", "--all", "--json", "--timeout", "2"])).stdout,
      ) as {
        hosts: { host: string; error: string | null }[];
      };
      assert.deepEqual(
        json.hosts.map((h) => h.error === null),
        [true, true, false],
      );
    } finally {
      setLink(h3, "up");
    }
  });

  it("a call already under way when the link goes down fails at the timeout", async () => {
    const [h1] = nets;
    const client = await openRemote(
      { name: "h1", url: pools[0].url, tokenFile: pools[0].tokenFile, ca: caCert },
      2,
    );
    try {
      assert.ok(Array.isArray(await client.call("session.list")));
      setLink(h1, "down");
      const started = Date.now();
      await assert.rejects(client.call("session.list"), TimeoutError);
      const seconds = (Date.now() - started) / 1000;
      assert.ok(seconds >= 1.9 && seconds < 4, `failed after ${seconds} s`);
    } finally {
      setLink(h1, "up");
      client.close();
    }
  });

  it("remote.list on h1 gives h2's and h3's sessions, fetched with their tokens", async () => {
    const proxied = await remoteList();
    assert.deepEqual(
      proxied.map((r) => [r.name, r.error, r.sessions.map((s) => s.name).sort()]),
      [
        [
          "h2",
          null,
          (JSON.parse(await ok(["list", "--remote", "h2", "--json"])) as SessionInfo[])
            .map((s) => s.name)
            .sort(),
        ],
        ["h3", null, ["w3"]],
        ["h2-wrong-token", "unknown or revoked token", []],
      ],
    );
  });

  it("h2 refuses h1's token", async () => {
    await ok([
      "remote",
      "add",
      "h2-as-h1",
      pools[1].url,
      "--token-file",
      pools[0].tokenFile,
      "--ca",
      caCert,
    ]);
    const r = await run(["list", "--remote", "h2-as-h1"]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /unknown or revoked token/);
    assert.doesNotMatch(r.stderr + r.stdout, new RegExp(pools[0].token()));
  });

  it("refuses a certificate from a CA it was not told to trust", async () => {
    await ok([
      "remote",
      "add",
      "h1-other-ca",
      pools[0].url,
      "--token-file",
      pools[0].tokenFile,
      "--ca",
      otherCa,
    ]);
    const r = await run(["list", "--remote", "h1-other-ca"]);
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /certificate/);
    const all = await run(["list", "--all", "--timeout", "5"]);
    assert.equal(all.status, 1);
    assert.match(all.stdout, /^h1-other-ca +unreachable: .*certificate/m);
  });
});
