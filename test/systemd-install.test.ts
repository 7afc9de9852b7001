/**
 * `make install-user` as a user would run it: the pool installed under a prefix, its units in the
 * user manager's directory, then `systemctl --user enable --now claude-pool`. Only inside
 * test/systemd-sandbox, whose user manager it changes.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fakeClaude, repoRoot, tempDir, waitFor } from "./helpers.js";

const skip =
  process.env.SANDBOX_MANAGER_PID === undefined &&
  "not inside test/systemd-sandbox (run test/run-systemd-tests)";
const unitDir = join(process.env.XDG_CONFIG_HOME ?? "/nonexistent", "systemd", "user");
const systemctl = (...args: string[]) =>
  spawnSync("systemctl", ["--user", ...args], { encoding: "utf8" });

describe("make install-user", { skip }, () => {
  const home = tempDir();
  const prefix = join(home, ".local");
  const installed = ["claude-pool.service", "claude-pool.socket", "claude-pool-sessions.slice"];

  after(() => {
    systemctl("disable", "--now", "claude-pool.service", "claude-pool.socket");
    for (const unit of installed) rmSync(join(unitDir, unit), { force: true });
    rmSync(join(unitDir, "claude-pool.service.d"), { recursive: true, force: true });
    systemctl("daemon-reload");
  });

  it(
    "installs commands and units that systemctl --user enable --now starts",
    { timeout: 120_000 },
    async () => {
      execFileSync("make", ["--no-print-directory", "install-user"], {
        cwd: repoRoot,
        // the completions go to the user's data and config directories: here the test's own
        env: {
          ...process.env,
          PREFIX: prefix,
          USER_UNIT_DIR: unitDir,
          XDG_DATA_HOME: join(home, "share"),
          XDG_CONFIG_HOME: join(home, "config"),
        },
        stdio: "ignore",
      });
      for (const unit of installed) assert.ok(existsSync(join(unitDir, unit)), unit);
      const version = execFileSync(join(prefix, "bin", "claude-poolctl"), ["--version"], {
        encoding: "utf8",
      });
      assert.match(version, /^\d+\.\d+\.\d+$/m);
      assert.match(
        systemctl("cat", "claude-pool.service").stdout,
        new RegExp(`ExecStart=${prefix}/bin/claude-pool start`),
      );

      // the pool's state and its fake claude stay in this test's directories
      const config = join(home, "config.json");
      mkdirSync(join(home, "work"));
      writeFileSync(
        config,
        JSON.stringify({
          claudePath: fakeClaude,
          apiPort: 0,
          stopTimeoutSeconds: 2,
          primarySession: { name: "installed", workingDirectory: join(home, "work") },
        }),
      );
      mkdirSync(join(unitDir, "claude-pool.service.d"), { recursive: true });
      writeFileSync(
        join(unitDir, "claude-pool.service.d", "test.conf"),
        `[Service]\nEnvironment=CLAUDE_POOL_CONFIG=${config} XDG_STATE_HOME=${home}/state CLAUDE_CONFIG_DIR=${home}/claude PATH=${process.env.PATH}\n`,
      );
      assert.equal(systemctl("daemon-reload").status, 0);
      const enabled = systemctl("enable", "--now", "claude-pool");
      assert.equal(enabled.status, 0, enabled.stderr);
      await waitFor(
        "the service to be active",
        () => systemctl("is-active", "claude-pool").stdout.trim() === "active",
        30_000,
      );

      const poolctl = join(prefix, "bin", "claude-poolctl");
      const status = await waitFor(
        "the primary session running",
        () => {
          const out = spawnSync(poolctl, ["status"], { encoding: "utf8" }).stdout;
          return /installed\s+running/.test(out) && out;
        },
        30_000,
      );
      assert.match(status, /^claude-pool \| status: ok \| uptime: /);
      assert.equal(systemctl("stop", "claude-pool").status, 0);
    },
  );
});
