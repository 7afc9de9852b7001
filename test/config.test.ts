import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ConfigError, findConfigFile, loadConfig, parseConfig } from "../src/config/load.js";
import { claudePoolBin, tempDir } from "./helpers.js";

function problems(text: string): string[] {
  try {
    parseConfig(text, "pool.config.json");
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  assert.fail(`expected ${text} to be refused`);
}

describe("config schema", () => {
  it("an empty file gets the seed's defaults", () => {
    const config = parseConfig("{}", "x");
    assert.equal(config.maxSessions, 5);
    assert.equal(config.idleTimeoutMinutes, 30);
    assert.equal(config.idleCheckSeconds, 60);
    assert.equal(config.apiPort, 3200);
    assert.equal(config.claudePath, "claude");
    assert.equal(config.logLevel, "info");
    assert.equal(config.bind, "127.0.0.1");
    assert.deepEqual(config.restart, {
      maxRestarts: 3,
      windowMinutes: 5,
      backoffSeconds: 1,
      maxBackoffSeconds: 30,
    });
    assert.equal(config.systemd, "auto");
    assert.equal(config.primarySession, undefined);
  });

  it("accepts the seed README's example config", () => {
    const config = parseConfig(
      JSON.stringify({
        maxSessions: 5,
        idleTimeoutMinutes: 30,
        apiPort: 3200,
        primarySession: {
          name: "junior",
          keepWarm: true,
          channels: ["plugin:discord@claude-plugins-official"],
          developmentChannels: ["plugin:web@my-plugin"],
          pluginDirs: [],
          workingDirectory: "/home/user",
          dangerouslySkipPermissions: true,
        },
        defaults: {
          channels: [],
          developmentChannels: [],
          pluginDirs: [],
          dangerouslySkipPermissions: false,
          workingDirectory: "/home/user",
        },
        claudePath: "claude",
        logLevel: "info",
      }),
      "seed",
    );
    assert.equal(config.primarySession?.name, "junior");
  });

  const cases: [string, string, RegExp][] = [
    [
      "wrong type",
      '{"defaults":{"pluginDirs":"a"}}',
      /^pool\.config\.json: \/defaults\/pluginDirs must be array$/,
    ],
    [
      "unknown key",
      '{"maxSesions":3}',
      /^pool\.config\.json: \/ has unknown key "maxSesions" \(did you mean "maxSessions"\?\)$/,
    ],
    [
      "unknown nested key",
      '{"primarySession":{"name":"a","keepwarm":true}}',
      /\/primarySession has unknown key "keepwarm" \(did you mean "keepWarm"\?\)/,
    ],
    ["unknown key without a near match", '{"frobnicate":1}', /\/ has unknown key "frobnicate"$/],
    ["out of range", '{"maxSessions":0}', /\/maxSessions must be >= 1/],
    ["negative idle", '{"idleTimeoutMinutes":-1}', /\/idleTimeoutMinutes must be >= 0/],
    [
      "bad enum",
      '{"logLevel":"loud"}',
      /\/logLevel must be one of "debug", "info", "warn", "error"/,
    ],
    ["bad systemd mode", '{"systemd":"yes"}', /\/systemd must be one of "auto", "required", "off"/],
    ["bad port", '{"apiPort":70000}', /\/apiPort must be <= 65535/],
    [
      "missing name",
      '{"primarySession":{"keepWarm":true}}',
      /\/primarySession must have required property 'name'/,
    ],
    ["bad name", '{"sessions":[{"name":"has space"}]}', /\/sessions\/0\/name must match pattern/],
    [
      "duplicate name",
      '{"primarySession":{"name":"a"},"sessions":[{"name":"a"}]}',
      /\/sessions\/0\/name duplicates the session name "a" of \/primarySession\/name/,
    ],
    [
      "bad memoryMax",
      '{"defaults":{"limits":{"memoryMax":"lots"}}}',
      /\/defaults\/limits\/memoryMax is invalid: .*"2G"/,
    ],
    [
      "bad cpuQuota",
      '{"defaults":{"limits":{"cpuQuota":"2 cores"}}}',
      /\/defaults\/limits\/cpuQuota must match pattern/,
    ],
    ["env values are strings", '{"defaults":{"env":{"A":1}}}', /\/defaults\/env\/A must be string/],
    ["restart policy", '{"restart":{"maxRestarts":-1}}', /\/restart\/maxRestarts must be >= 0/],
    [
      "a schedule with both targets",
      '{"schedules":[{"name":"s","cron":"@daily","message":"m","session":"a","spawn":{}}]}',
      /\/schedules\/0 is invalid: .*exactly one of the two/,
    ],
    [
      "a schedule's bad cron",
      '{"schedules":[{"name":"s","cron":"0 25 * * *","message":"m","session":"a"}]}',
      /\/schedules\/0 cron "0 25 \* \* \*" is invalid \(.*hour.*\); give five fields/,
    ],
    [
      "a schedule's unknown time zone",
      '{"schedules":[{"name":"s","cron":"@daily","timezone":"Berlin","message":"m","session":"a"}]}',
      /\/schedules\/0 timezone "Berlin" is no IANA time zone/,
    ],
    [
      "a duplicate schedule name",
      '{"schedules":[{"name":"s","cron":"@daily","message":"m","session":"a"},' +
        '{"name":"s","cron":"@hourly","message":"m","spawn":{"model":"x"}}]}',
      /\/schedules\/1\/name duplicates the schedule name "s" of \/schedules\/0/,
    ],
    [
      "a spawn schedule naming its session",
      '{"schedules":[{"name":"s","cron":"@daily","message":"m","spawn":{"name":"x"}}]}',
      /\/schedules\/0\/spawn has unknown key "name"/,
    ],
    ["not an object", "[]", /^pool\.config\.json: \/ must be object$/],
    ["invalid JSON", '{\n  "maxSessions": 5,\n}', /not valid JSON: .*\(line 3, column 1\)/],
  ];
  for (const [what, text, expected] of cases) {
    it(`refuses ${what} and names the JSON path`, () => {
      const lines = problems(text);
      assert.ok(
        lines.some((l) => expected.test(l)),
        `${JSON.stringify(lines)} should match ${expected}`,
      );
    });
  }

  it("reports every error, not just the first", () => {
    const lines = problems('{"maxSessions":"5","logLevel":"loud","defaults":{"pluginDirs":1}}');
    assert.equal(lines.length, 3, lines.join("\n"));
  });
});

describe("config lookup", () => {
  function layout(): { dir: string; env: NodeJS.ProcessEnv; xdg: string; local: string } {
    const dir = tempDir();
    const xdg = join(dir, "xdg", "claude-pool", "config.json");
    mkdirSync(join(dir, "xdg", "claude-pool"), { recursive: true });
    writeFileSync(xdg, '{"maxSessions":1}');
    const local = join(dir, "pool.config.json");
    return { dir, env: { XDG_CONFIG_HOME: join(dir, "xdg") }, xdg, local };
  }

  it("--config > $CLAUDE_POOL_CONFIG > ./pool.config.json > $XDG_CONFIG_HOME", () => {
    const { dir, env, xdg, local } = layout();
    assert.equal(findConfigFile({ env, cwd: dir }), xdg);
    writeFileSync(local, '{"maxSessions":2}');
    assert.equal(findConfigFile({ env, cwd: dir }), local);
    const fromEnv = join(dir, "env.json");
    assert.equal(
      findConfigFile({ env: { ...env, CLAUDE_POOL_CONFIG: fromEnv }, cwd: dir }),
      fromEnv,
    );
    assert.equal(
      findConfigFile({
        explicitPath: "x.json",
        env: { ...env, CLAUDE_POOL_CONFIG: fromEnv },
        cwd: dir,
      }),
      join(dir, "x.json"),
    );
    assert.equal(loadConfig({ env, cwd: dir }).config.maxSessions, 2);
  });

  it("no file at all means the defaults", () => {
    const dir = tempDir();
    const loaded = loadConfig({ env: { XDG_CONFIG_HOME: join(dir, "none") }, cwd: dir });
    assert.equal(loaded.file, null);
    assert.equal(loaded.config.maxSessions, 5);
  });

  it("a named file that does not exist is an error", () => {
    const dir = tempDir();
    assert.throws(
      () => loadConfig({ explicitPath: "missing.json", cwd: dir, env: {} }),
      /missing\.json: cannot read config file: ENOENT/,
    );
  });
});

describe("claude-pool config", () => {
  function run(args: string[], cwd: string) {
    return spawnSync(process.execPath, [claudePoolBin, ...args], {
      cwd,
      encoding: "utf8",
      env: { ...process.env, XDG_CONFIG_HOME: join(cwd, "xdg"), CLAUDE_POOL_CONFIG: "" },
    });
  }

  it("prints the resolved config as JSON", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "pool.config.json"), '{"maxSessions":7}');
    const result = run(["config"], dir);
    assert.equal(result.status, 0, result.stderr);
    const printed = JSON.parse(result.stdout);
    assert.equal(printed.maxSessions, 7);
    assert.equal(printed.apiPort, 3200);
  });

  it("redacts env values and other secrets unless --show-secrets", () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, "pool.config.json"),
      JSON.stringify({ defaults: { env: { ANTHROPIC_API_KEY: "sk-ant-cli" } } }),
    );
    const shown = run(["config"], dir);
    assert.equal(shown.status, 0, shown.stderr);
    assert.ok(!shown.stdout.includes("sk-ant-cli"), shown.stdout);
    assert.deepEqual(JSON.parse(shown.stdout).defaults.env, { ANTHROPIC_API_KEY: "<redacted>" });
    const full = run(["config", "--show-secrets"], dir);
    assert.equal(full.status, 0, full.stderr);
    assert.deepEqual(JSON.parse(full.stdout).defaults.env, { ANTHROPIC_API_KEY: "sk-ant-cli" });
  });

  it("refuses an invalid file with exit 78 and every error's path, for both config and start", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "pool.config.json"), '{"defaults":{"pluginDirs":"a"},"maxSesions":1}');
    for (const command of ["config", "start"]) {
      const result = run([command], dir);
      assert.equal(result.status, 78, result.stderr);
      assert.match(result.stderr, /pool\.config\.json: \/defaults\/pluginDirs must be array/);
      assert.match(result.stderr, /did you mean "maxSessions"/);
    }
  });

  it("start --port rejects a bad port with usage exit 2", () => {
    const result = run(["start", "--port", "99999"], tempDir());
    assert.equal(result.status, 2);
    assert.match(result.stderr, /--port must be an integer from 0 to 65535/);
  });
});
