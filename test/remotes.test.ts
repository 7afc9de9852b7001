/** The remotes file and session references (src/cli/poolctl/remotes.ts), and --all's exit status. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { UsageError } from "../src/cli/errors.js";
import { fleetExit, type HostResult } from "../src/cli/poolctl/fleet.js";
import { fleetTable } from "../src/cli/poolctl/format.js";
import {
  loadRemotes,
  parseReference,
  parseRemotes,
  parseSpawnName,
  remoteCredentials,
  remotesFile,
  saveRemotes,
  tokenSource,
  withRemote,
  type Remote,
} from "../src/cli/poolctl/remotes.js";
import type { SessionInfo } from "../src/session/session.js";
import { repoRoot, tempDir } from "./helpers.js";

const usage = (f: () => unknown, message: RegExp) =>
  assert.throws(f, (err: unknown) => err instanceof UsageError && message.test(err.message));

const name = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,20}$/);

describe("session references", () => {
  it("HOST/ID names the host; a plain id or name names none", () => {
    fc.assert(
      fc.property(name, name, (host, id) => {
        assert.deepEqual(parseReference(`${host}/${id}`), { host, id });
        assert.deepEqual(parseReference(id), { host: null, id });
      }),
    );
  });

  it("refuses what is not one, and says what is", () => {
    for (const bad of ["/abc", "h1/", "h1/a/b", "-x/abc", "a b/c"]) {
      usage(() => parseReference(bad), /give ID, NAME, HOST\/ID or HOST\/NAME/);
    }
  });

  it("spawn --name takes HOST/NAME and HOST/", () => {
    assert.deepEqual(parseSpawnName("h2/"), { host: "h2", name: undefined });
    assert.deepEqual(parseSpawnName("h2/worker"), { host: "h2", name: "worker" });
    assert.deepEqual(parseSpawnName("worker"), { host: null, name: "worker" });
    assert.deepEqual(parseSpawnName(undefined), { host: null, name: undefined });
    usage(() => parseSpawnName("/"), /not a session reference/);
  });
});

describe("the remotes file", () => {
  it("is missing: no remotes", () => {
    assert.deepEqual(loadRemotes(join(tempDir(), "none.json")), []);
  });

  it("is $XDG_CONFIG_HOME/claude-pool/remotes.json", () => {
    assert.equal(remotesFile({ XDG_CONFIG_HOME: "/c" }), "/c/claude-pool/remotes.json");
  });

  it("round-trips through save and load at mode 0600 in a 0700 directory", () => {
    const dir = tempDir();
    const path = join(dir, "cfg", "claude-pool", "remotes.json");
    const remotes = withRemote(
      withRemote([], { name: "h1", url: "wss://10.1.0.2:3200", token: "s3cret" }),
      { name: "h2", url: "ws://h2:3200", tokenFile: "tok", ca: "ca.pem" },
      "/home/u",
    );
    saveRemotes(remotes, path);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, "cfg", "claude-pool")).mode & 0o777, 0o700);
    assert.deepEqual(loadRemotes(path), [
      { name: "h1", url: "wss://10.1.0.2:3200", token: "s3cret" },
      { name: "h2", url: "ws://h2:3200", tokenFile: "/home/u/tok", ca: "/home/u/ca.pem" },
    ]);
  });

  it("shows where a token is, never the token", () => {
    assert.equal(tokenSource({ name: "a", url: "ws://a", token: "s3cret" }), "(stored)");
    assert.equal(tokenSource({ name: "a", url: "ws://a", tokenFile: "/t" }), "/t");
    assert.equal(tokenSource({ name: "a", url: "ws://a" }), "-");
  });

  it("reads a token file at use, without its newline", () => {
    const file = join(tempDir(), "token");
    writeFileSync(file, "abc\n");
    assert.deepEqual(remoteCredentials({ name: "a", url: "ws://a", tokenFile: file }), {
      token: "abc",
    });
    usage(
      () => remoteCredentials({ name: "a", url: "ws://a", tokenFile: file + ".gone" }),
      /cannot read the token file of remote "a"/,
    );
  });

  it("refuses a bad remote with what to do", () => {
    const cases: [Remote, RegExp][] = [
      [{ name: "local", url: "ws://a" }, /names the local pool/],
      [{ name: "a/b", url: "ws://a" }, /must be letters/],
      [{ name: "a", url: "http://a" }, /must start with ws:\/\/ or wss:\/\//],
      [{ name: "a", url: "nope" }, /is not a URL/],
      [{ name: "a", url: "ws://a", token: "t", tokenFile: "f" }, /not both/],
    ];
    for (const [remote, message] of cases) usage(() => withRemote([], remote), message);
    usage(
      () => withRemote([{ name: "a", url: "ws://a" }], { name: "a", url: "ws://b" }),
      /remote rm a/,
    );
  });

  it("refuses a file it did not write, naming it", () => {
    for (const text of [
      "{",
      "{}",
      '{"remotes":[{"name":"a"}]}',
      '{"remotes":[{"name":"a","url":"ws://a","token":1}]}',
    ]) {
      usage(() => parseRemotes(text, "/x/remotes.json"), /\/x\/remotes\.json.*fix or remove it/);
    }
    usage(
      () =>
        parseRemotes('{"remotes":[{"name":"a","url":"ws://a"},{"name":"a","url":"ws://b"}]}', "/f"),
      /names "a" again/,
    );
  });
});

describe("claude-poolctl's choice of pool", () => {
  const home = tempDir();
  saveRemotes([{ name: "h1", url: "ws://127.0.0.1:1" }], remotesFile({ XDG_CONFIG_HOME: home }));
  const poolctl = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(
      process.execPath,
      [join(repoRoot, "dist", "src", "bin", "claude-poolctl.js"), ...args],
      {
        env: {
          ...process.env,
          XDG_CONFIG_HOME: home,
          CLAUDE_POOL_SOCKET: join(home, "none.sock"),
          ...env,
        },
        encoding: "utf8",
      },
    );
  const refused = (args: string[], message: RegExp, env?: Record<string, string>) => {
    const r = poolctl(args, env);
    assert.equal(r.status, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message);
  };

  it("refuses two pools named at once, and names an unknown remote's remedy", () => {
    refused(["list", "--remote", "h1", "--url", "ws://x:1"], /--remote names a pool/);
    refused(["status", "h1/abc", "--socket", "/x"], /names its host: leave out --url and --socket/);
    refused(["kill", "h1/abc", "--remote", "h2"], /is on h1, but --remote says h2/);
    refused(["list", "--remote", "h1", "--token", "t"], /remote "h1" has its own/);
    refused(["logs", "h9/abc"], /no remote named "h9" \(known: h1\); add it with/);
    refused(["status", "--all", "h1/abc"], /--all asks every pool/);
    refused(["remote", "add", "local", "ws://x:1"], /names the local pool/);
  });

  it("reaches the remote that --remote, HOST/ID or $CLAUDE_POOL_REMOTE names", () => {
    for (const [args, env] of [
      [["list", "--remote", "h1"], {}],
      [["status", "h1/abc"], {}],
      [["list"], { CLAUDE_POOL_REMOTE: "h1" }],
    ] as [string[], Record<string, string>][]) {
      const r = poolctl(args, env);
      assert.equal(r.status, 3, r.stderr);
      assert.match(r.stderr, /cannot reach the pool at ws:\/\/127\.0\.0\.1:1\/rpc/);
    }
    const local = poolctl(["list", "--remote", "local"], { CLAUDE_POOL_REMOTE: "h1" });
    assert.equal(local.status, 3);
    assert.match(local.stderr, /none\.sock/);
  });

  it("--all with nothing to ask is a usage error; with no host answering, exit 3", () => {
    const empty = tempDir();
    refused(["list", "--all"], /no pools to ask/, { XDG_CONFIG_HOME: empty });
    const r = poolctl(["list", "--all", "--json"]);
    assert.equal(r.status, 3, r.stderr);
    const { hosts } = JSON.parse(r.stdout) as { hosts: HostResult[] };
    assert.deepEqual(
      hosts.map((h) => [h.host, h.sessions]),
      [["h1", []]],
    );
    assert.match(hosts[0].error!, /ECONNREFUSED/);
  });
});

describe("--all", () => {
  const host = (name: string, error: string | null, sessions: Partial<SessionInfo>[] = []) =>
    ({ host: name, url: `ws://${name}`, error, sessions }) as HostResult;

  it("exits 0 when every host answered, 1 when some did, 3 when none did", () => {
    assert.equal(fleetExit([host("a", null), host("b", null)]), 0);
    assert.equal(fleetExit([host("a", null), host("b", "down")]), 1);
    assert.equal(fleetExit([host("a", "down"), host("b", "down")]), 3);
  });

  it("puts each session's host in a HOST column, and HOST/ID in the notes", () => {
    const s = (id: string, extra: Partial<SessionInfo> = {}): Partial<SessionInfo> => ({
      id,
      name: `n-${id}`,
      status: "running" as const,
      pid: 1,
      idleSeconds: 0,
      keepWarm: false,
      activity: null,
      ...extra,
    });
    const lines = fleetTable([
      host("local", null, [s("aaaaaaaa")]),
      host("h2", null, [s("bbbbbbbb", { status: "failed", reason: "no claude" })]),
    ]).join("\n");
    assert.match(lines, /^HOST {3}ID/);
    assert.match(lines, /\nlocal {2}aaaaaaaa/);
    assert.match(lines, /\nh2 {5}bbbbbbbb/);
    assert.match(lines, /h2\/bbbbbbbb \(n-bbbbbbbb\) failed: no claude/);
  });
});
