/**
 * doctor: the pure judgement over facts (a table of worlds, and properties over random ones),
 * then `claude-pool doctor` and `claude-poolctl doctor` as processes against worlds made of real
 * files, ports and pools: fine, missing claude, an untrusted folder, a bad config, a busy port.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, realpathSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import fc from "fast-check";
import { exitStatus, formatChecks, runChecks } from "../src/doctor/checks.js";
import type { Check, DoctorFacts } from "../src/doctor/types.js";
import { connectUnix } from "../src/rpc/client.js";
import type { SessionInfo } from "../src/session/session.js";
import { claudePoolBin, fakeClaude, repoRoot, startFakePool, tempDir, waitFor } from "./helpers.js";

const poolctlBin = join(repoRoot, "dist", "src", "bin", "claude-poolctl.js");
const keySuffix = "pooltest0123456789AA";

/** A world where everything is fine: the base every case below changes one thing of. */
function fine(): DoctorFacts {
  return {
    config: { file: "/home/ann/.config/claude-pool/config.json", problems: null },
    state: { dir: "/home/ann/.local/state/claude-pool", state: "writable", error: null },
    pool: {
      claude: { command: "claude", path: "/usr/bin/claude", version: "2.1.332", error: null },
      claudeDirs: [
        {
          dir: "/home/ann/.claude",
          globalFile: "/home/ann/.claude.json",
          global: "ok",
          globalError: null,
          onboarded: true,
          trusted: ["/srv/work"],
          approvedKeys: [keySuffix],
          rejectedKeys: [],
          claudeAi: false,
          primaryApiKey: false,
          apiKeyHelper: false,
          bypassAccepted: false,
        },
      ],
      sessions: [
        {
          name: "main",
          configured: true,
          workingDirectory: "/srv/work/app",
          exists: true,
          isDirectory: true,
          trustChain: ["/srv/work/app", "/srv/work", "/srv", "/"],
          claudeDir: "/home/ann/.claude",
          globalFile: "/home/ann/.claude.json",
          apiKeySuffix: keySuffix,
          authEnv: ["ANTHROPIC_API_KEY"],
          dangerouslySkipPermissions: false,
          sandbox: false,
          developmentChannels: 0,
          poolChannel: true,
        },
      ],
      root: false,
      trustWorkingDirectories: false,
      confirmDevelopmentChannels: false,
      systemd: {
        mode: "auto",
        manager: "252.38-1~deb12u1",
        reason: null,
        linger: true,
        user: "ann",
      },
      port: {
        bind: "127.0.0.1",
        port: 3200,
        loopback: true,
        tls: false,
        allowInsecureRemote: false,
        state: "free",
        detail: null,
      },
      tls: null,
    },
  };
}

type Pool = NonNullable<DoctorFacts["pool"]>;

/** `fine()` with `change` applied to its pool facts. */
function world(change: (pool: Pool, facts: DoctorFacts) => void): DoctorFacts {
  const facts = fine();
  change(facts.pool!, facts);
  return facts;
}

const only = (checks: Check[], name: string): Check[] => checks.filter((c) => c.check === name);
const one = (checks: Check[], name: string): Check => {
  const found = only(checks, name);
  assert.equal(found.length, 1, `one ${name} check in ${formatChecks(checks)}`);
  return found[0];
};

describe("doctor's checks", () => {
  it("a fine world: every check ok, exit status 0", () => {
    const checks = runChecks(fine());
    assert.deepEqual(
      checks.map((c) => c.check),
      ["config", "claude", "login", "folder", "dialogs", "systemd", "linger", "port", "state"],
    );
    assert.deepEqual(
      checks.filter((c) => c.status !== "ok"),
      [],
    );
    assert.equal(exitStatus(checks), 0);
    assert.match(one(checks, "folder").message, /claude trusts it \(through \/srv\/work\)/);
    assert.match(formatChecks(checks), /\n9 checks ok, 0 warnings, 0 failures$/);
  });

  const cases: { name: string; facts: DoctorFacts; check: string; status: string; says: RegExp }[] =
    [
      {
        name: "missing claude",
        facts: world((p) => (p.claude = { ...p.claude, path: null, version: null })),
        check: "claude",
        status: "fail",
        says: /not an executable file in PATH.*install Claude Code/,
      },
      {
        name: "an untested claude",
        facts: world((p) => (p.claude.version = "2.2.0")),
        check: "claude",
        status: "warn",
        says: /tested with 2\.1\.332/,
      },
      {
        name: "an untrusted folder",
        facts: world((p) => (p.claudeDirs[0].trusted = ["/elsewhere"])),
        check: "folder",
        status: "warn",
        says: /not trusted.*"trustWorkingDirectories": true/,
      },
      {
        name: "an untrusted folder the pool will trust",
        facts: world((p) => {
          p.claudeDirs[0].trusted = [];
          p.trustWorkingDirectories = true;
        }),
        check: "folder",
        status: "ok",
        says: /records it as trusted/,
      },
      {
        name: "a missing folder",
        facts: world((p) => (p.sessions[0].exists = p.sessions[0].isDirectory = false)),
        check: "folder",
        status: "fail",
        says: /does not exist; fix: create it/,
      },
      {
        name: "no login",
        facts: world((p) => (p.sessions[0].authEnv = [])),
        check: "login",
        status: "fail",
        says: /not logged in for main.*\/login/,
      },
      {
        name: "a key refused at claude's dialog once",
        facts: world((p) => (p.claudeDirs[0].rejectedKeys = [keySuffix])),
        check: "login",
        status: "fail",
        says: /once refused.*customApiKeyResponses\.rejected/,
      },
      {
        name: "a key never approved",
        facts: world((p) => (p.claudeDirs[0].approvedKeys = [])),
        check: "dialogs",
        status: "warn",
        says: /api-key/,
      },
      {
        name: "bypass permissions never accepted",
        facts: world((p) => (p.sessions[0].dangerouslySkipPermissions = true)),
        check: "dialogs",
        status: "warn",
        says: /bypass-permissions.*skipDangerousModePermissionPrompt/,
      },
      {
        name: "skipped permissions as root",
        facts: world((p) => {
          p.root = true;
          p.sessions[0].dangerouslySkipPermissions = true;
        }),
        check: "dialogs",
        status: "fail",
        says: /as root/,
      },
      {
        name: "no onboarding",
        facts: world((p) => (p.claudeDirs[0].onboarded = false)),
        check: "dialogs",
        status: "warn",
        says: /onboarding.*hasCompletedOnboarding/,
      },
      {
        name: "the pool's channel under a claude.ai login",
        facts: world((p) => (p.claudeDirs[0].claudeAi = true)),
        check: "dialogs",
        status: "warn",
        says: /development-channels.*confirmDevelopmentChannels/,
      },
      {
        name: "a busy port",
        facts: world((p) => (p.port.state = "busy")),
        check: "port",
        status: "fail",
        says: /in use by another program.*apiPort/,
      },
      {
        name: "the port of the running pool",
        facts: world((p) => (p.port.state = "ours")),
        check: "port",
        status: "ok",
        says: /running claude-pool/,
      },
      {
        name: "a remote bind without TLS",
        facts: world((p) => Object.assign(p.port, { bind: "0.0.0.0", loopback: false })),
        check: "port",
        status: "fail",
        says: /without tls/,
      },
      {
        name: "no user manager, systemd required",
        facts: world(
          (p) =>
            (p.systemd = { ...p.systemd, mode: "required", manager: null, reason: "no user bus" }),
        ),
        check: "systemd",
        status: "fail",
        says: /no user bus: the pool will not start/,
      },
      {
        name: "no user manager, systemd auto",
        facts: world((p) => (p.systemd = { ...p.systemd, manager: null, reason: "no user bus" })),
        check: "systemd",
        status: "warn",
        says: /plain children.*"systemd": "off"/,
      },
      {
        name: "no lingering",
        facts: world((p) => (p.systemd.linger = false)),
        check: "linger",
        status: "warn",
        says: /loginctl enable-linger ann/,
      },
      {
        name: "an expired certificate",
        facts: world(
          (p) =>
            (p.tls = {
              cert: "/etc/pool/cert.pem",
              key: "/etc/pool/key.pem",
              certError: null,
              keyError: null,
              notAfter: "2020-01-01T00:00:00.000Z",
              keyMatches: true,
            }),
        ),
        check: "tls",
        status: "fail",
        says: /expired/,
      },
      {
        name: "a key of another certificate",
        facts: world(
          (p) =>
            (p.tls = {
              cert: "/etc/pool/cert.pem",
              key: "/etc/pool/key.pem",
              certError: null,
              keyError: null,
              notAfter: "2999-01-01T00:00:00.000Z",
              keyMatches: false,
            }),
        ),
        check: "tls",
        status: "fail",
        says: /is not the key of/,
      },
      {
        name: "an unwritable state dir",
        facts: world((_, f) => (f.state = { ...f.state, state: "unwritable", error: "EACCES" })),
        check: "state",
        status: "fail",
        says: /not writable \(EACCES\)/,
      },
      {
        name: "a running pool with a session at a dialog",
        facts: world(
          (_, f) =>
            (f.running = {
              socket: "/run/user/1000/claude-pool/control.sock",
              status: { pid: 42, version: "0.1.0", active: 1, maxSessions: 5 },
              sessions: [
                { name: "main", status: "running", blockedOn: "trust-folder", reason: null },
              ],
            }),
        ),
        check: "session",
        status: "warn",
        says: /waits at claude's trust-folder dialog.*claude-poolctl attach main/,
      },
    ];
  for (const c of cases) {
    it(`${c.name}: ${c.check} ${c.status}`, () => {
      const checks = runChecks(c.facts);
      const found = one(checks, c.check);
      assert.equal(found.status, c.status, formatChecks(checks));
      assert.match(`${found.message}; fix: ${found.fix}`, c.says);
      assert.equal(exitStatus(checks), { ok: 0, warn: 1, fail: 2 }[c.status]);
    });
  }

  it("a bad config: its problems, and only the checks that need no config", () => {
    const checks = runChecks({
      ...fine(),
      config: { file: null, problems: ['pool.json: / has unknown key "maxSesions"'] },
      pool: null,
    });
    assert.deepEqual(
      checks.map((c) => `${c.check} ${c.status}`),
      ["config fail", "state ok"],
    );
    assert.match(checks[0].message, /unknown key "maxSesions"/);
    assert.equal(exitStatus(checks), 2);
  });

  it("whatever the world: every problem has a fix, no secret is printed, the exit status is the worst", () => {
    const worlds = fc.record({
      authEnv: fc.subarray(["ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN"]),
      approved: fc.boolean(),
      rejected: fc.boolean(),
      trusted: fc.boolean(),
      trustAll: fc.boolean(),
      onboarded: fc.boolean(),
      claudeAi: fc.boolean(),
      skip: fc.boolean(),
      root: fc.boolean(),
      claude: fc.constantFrom(null, "2.1.332", "3.0.0"),
      port: fc.constantFrom("free", "ours", "busy", "denied", "unusable" as const),
      manager: fc.boolean(),
      linger: fc.constantFrom(true, false, null),
    });
    fc.assert(
      fc.property(worlds, (w) => {
        const facts = world((p) => {
          Object.assign(p.claudeDirs[0], {
            approvedKeys: w.approved ? [keySuffix] : [],
            rejectedKeys: w.rejected ? [keySuffix] : [],
            trusted: w.trusted ? ["/srv/work"] : [],
            onboarded: w.onboarded,
            claudeAi: w.claudeAi,
          });
          Object.assign(p.sessions[0], { authEnv: w.authEnv, dangerouslySkipPermissions: w.skip });
          Object.assign(p, { trustWorkingDirectories: w.trustAll, root: w.root });
          p.claude = { ...p.claude, path: w.claude && "/usr/bin/claude", version: w.claude };
          Object.assign(p.port, { state: w.port, detail: w.port === "free" ? null : "E" });
          Object.assign(p.systemd, { manager: w.manager ? "252" : null, linger: w.linger });
        });
        const checks = runChecks(facts);
        for (const c of checks) if (c.status !== "ok") assert.ok(c.fix, JSON.stringify(c));
        assert.ok(!formatChecks(checks).includes(keySuffix), "no part of a key is printed");
        const worst = checks.some((c) => c.status === "fail")
          ? 2
          : checks.some((c) => c.status === "warn")
            ? 1
            : 0;
        assert.equal(exitStatus(checks), worst);
      }),
    );
  });
});

/** A world on disk: a config, a claude config dir and a working directory under one temp dir. */
function diskWorld(config: Record<string, unknown> = {}, claudeJson?: Record<string, unknown>) {
  const dir = tempDir();
  const work = join(dir, "work");
  const claudeDir = join(dir, "claude");
  mkdirSync(work);
  mkdirSync(claudeDir);
  const key = `sk-ant-api03-${"y".repeat(60)}${keySuffix}`;
  writeFileSync(
    join(claudeDir, ".claude.json"),
    JSON.stringify(
      claudeJson ?? {
        hasCompletedOnboarding: true,
        customApiKeyResponses: { approved: [keySuffix], rejected: [] },
        projects: { [realpathSync(work)]: { hasTrustDialogAccepted: true } },
      },
    ),
  );
  const file = join(dir, "pool.json");
  writeFileSync(
    file,
    JSON.stringify({
      claudePath: fakeClaude,
      apiPort: 0,
      systemd: "off",
      sessions: [{ name: "main", workingDirectory: work }],
      defaults: { env: { ANTHROPIC_API_KEY: key } },
      ...config,
    }),
  );
  const env = {
    ...process.env,
    HOME: join(dir, "home"),
    XDG_STATE_HOME: join(dir, "state"),
    CLAUDE_CONFIG_DIR: claudeDir,
    CLAUDE_POOL_SOCKET: join(dir, "control.sock"),
  };
  return { dir, work, claudeDir, file, env, key };
}

/** Runs a doctor command; returns its exit status, its output, and with --json its checks. */
function doctor(
  bin: string,
  file: string,
  env: NodeJS.ProcessEnv,
  options: { json?: boolean } = {},
) {
  const run = spawnSync(
    process.execPath,
    [bin, "doctor", "--config", file, ...(options.json ? ["--json"] : [])],
    { env, encoding: "utf8", timeout: 30_000 },
  );
  const parsed = options.json
    ? (JSON.parse(run.stdout) as { status: string; checks: Check[] })
    : { status: null, checks: [] };
  return { status: run.status, out: run.stdout, checks: parsed.checks, worst: parsed.status };
}

const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
});

describe("claude-pool doctor against worlds on disk", () => {
  it("fine: every check ok, exit 0, and no secret in the output", () => {
    const w = diskWorld();
    const r = doctor(claudePoolBin, w.file, w.env);
    assert.equal(r.status, 0, r.out);
    const json = doctor(claudePoolBin, w.file, w.env, { json: true });
    assert.equal(json.status, 0);
    assert.equal(json.worst, "ok");
    assert.deepEqual(
      json.checks.map((c) => `${c.check} ${c.status}`),
      [
        "config ok",
        "claude ok",
        "login ok",
        "folder ok",
        "dialogs ok",
        "systemd ok",
        "port ok",
        "state ok",
      ],
    );
    assert.match(r.out, /claude: .*fake-claude\.js, Claude Code 2\.1\.332 \(tested\)/);
    assert.match(r.out, /login \(.*\/claude\): logged in with ANTHROPIC_API_KEY/);
    assert.ok(!r.out.includes(w.key.slice(-20)) && !r.out.includes(w.key.slice(0, 20)));
  });

  it("missing claude: exit 2 with how to install it", () => {
    const w = diskWorld({ claudePath: "/nonexistent/claude" });
    const r = doctor(claudePoolBin, w.file, w.env);
    assert.equal(r.status, 2, r.out);
    assert.match(
      r.out,
      /^fail {2}claude: "\/nonexistent\/claude" is not an executable file: .*fix: install Claude Code/m,
    );
  });

  it("an untrusted folder: exit 1, the trust dialog named with its fix", () => {
    const w = diskWorld(
      {},
      {
        hasCompletedOnboarding: true,
        customApiKeyResponses: { approved: [keySuffix], rejected: [] },
      },
    );
    const r = doctor(claudePoolBin, w.file, w.env);
    assert.equal(r.status, 1, r.out);
    assert.match(
      r.out,
      /^warn {2}folder \(main\): .*work is not trusted in .*\.claude\.json: claude's trust dialog would stop the session; fix: set "trustWorkingDirectories": true/m,
    );
    const trusting = diskWorld(
      { trustWorkingDirectories: true },
      { hasCompletedOnboarding: true, customApiKeyResponses: { approved: [keySuffix] } },
    );
    assert.equal(doctor(claudePoolBin, trusting.file, trusting.env).status, 0);
  });

  it("a bad config: exit 2, each problem with its JSON path", () => {
    const w = diskWorld({ maxSesions: 3, apiPort: "x" });
    const r = doctor(claudePoolBin, w.file, w.env, { json: true });
    assert.equal(r.status, 2, r.out);
    const config = r.checks.find((c) => c.check === "config")!;
    assert.equal(config.status, "fail");
    assert.match(config.message, /unknown key "maxSesions" \(did you mean "maxSessions"\?\)/);
    assert.match(config.message, /\/apiPort must be integer/);
  });

  it("a busy port: exit 2; the port of a running claude-pool is fine", async () => {
    const busy = createServer();
    servers.push(busy);
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const port = (busy.address() as { port: number }).port;
    const w = diskWorld({ apiPort: port });
    const r = doctor(claudePoolBin, w.file, w.env);
    assert.equal(r.status, 2, r.out);
    assert.match(
      r.out,
      new RegExp(`^fail {2}port: 127\\.0\\.0\\.1:${port} is in use by another program`, "m"),
    );

    const running = await startFakePool({ systemd: "off" });
    try {
      const poolPort = Number(/\| port (\d+) \|/.exec(running.stderr)![1]);
      const w2 = diskWorld({ apiPort: poolPort });
      const r2 = doctor(claudePoolBin, w2.file, w2.env);
      assert.match(r2.out, /^ok {4}port: .* is served by a running claude-pool$/m);
    } finally {
      await running.stop();
    }
  });
});

describe("claude-poolctl doctor", () => {
  it("also asks the running pool: a session waiting at a dialog is a warning; no pool is fine", async () => {
    const w = diskWorld();
    const alone = doctor(poolctlBin, w.file, w.env);
    assert.equal(alone.status, 0, alone.out);
    assert.match(alone.out, /^ok {4}pool: no pool answers at /m);

    const dir = tempDir();
    const running = await startFakePool(
      { systemd: "off", defaults: { env: { FAKE_CLAUDE_DIALOG: "trust-folder" } } },
      dir,
    );
    const client = await connectUnix(running.socket);
    try {
      const s = await client.call<SessionInfo>("session.spawn", { name: "stuck" });
      await waitFor("the session at the trust dialog", async () => {
        const info = await client.call<SessionInfo>("session.get", { id: s.id });
        return info.blockedOn === "trust-folder";
      });
      const r = doctor(poolctlBin, w.file, { ...w.env, CLAUDE_POOL_SOCKET: running.socket });
      assert.equal(r.status, 1, r.out);
      assert.match(r.out, /^ok {4}pool: running: pid \d+/m);
      assert.match(
        r.out,
        /^warn {2}session \(stuck\): waits at claude's trust-folder dialog; fix: claude-poolctl attach stuck/m,
      );
    } finally {
      client.close();
      await running.stop();
    }
  });
});
