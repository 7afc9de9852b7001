/**
 * `make install-user` (packaging/install-user.sh) for a user whose home is a temporary directory:
 * commands, man pages and completions land where the user's tools look for them.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { repoRoot, tempDir } from "./helpers.js";

const hasMan = spawnSync("man", ["--version"]).status === 0;
const home = tempDir();
const local = join(home, ".local");
let env: NodeJS.ProcessEnv;
let said: string;

describe("make install-user", () => {
  before(() => {
    env = { ...process.env, HOME: home, PATH: `${join(local, "bin")}:${process.env.PATH}` };
    for (const name of ["PREFIX", "USER_UNIT_DIR", "XDG_DATA_HOME", "XDG_CONFIG_HOME"]) {
      delete env[name];
    }
    delete env.BASH_COMPLETION_USER_DIR;
    delete env.MANPATH;
    // npm's own settings and package cache stay the real user's, so node-pty builds offline
    env.npm_config_userconfig ??= join(homedir(), ".npmrc");
    env.npm_config_cache ??= join(homedir(), ".npm");
    said = execFileSync(join(repoRoot, "packaging", "install-user.sh"), {
      env,
      encoding: "utf8",
      timeout: 170_000,
    });
  });

  it("installs the commands", () => {
    const version = execFileSync("claude-poolctl", ["--version"], { env, encoding: "utf8" });
    assert.match(version, /^\d+\.\d+\.\d+\n$/);
    assert.ok(existsSync(join(local, "bin", "claude-pool")));
  });

  it("installs the man pages under ~/.local/share/man, and says so", () => {
    const man = join(local, "share", "man");
    for (const page of [
      "man1/claude-pool.1",
      "man1/claude-poolctl.1",
      "man5/claude-pool.config.5",
    ]) {
      assert.ok(existsSync(join(man, page)), page);
    }
    assert.match(said, new RegExp(`man pages in ${man}`));
  });

  it("man finds them from PATH", { skip: !hasMan && "man is not installed" }, () => {
    const found = execFileSync("man", ["-w", "claude-poolctl", "claude-pool.config"], {
      env,
      encoding: "utf8",
    });
    assert.equal(
      found,
      `${local}/share/man/man1/claude-poolctl.1\n${local}/share/man/man5/claude-pool.config.5\n`,
    );
  });

  it("installs completions in the bash, zsh and fish user directories, and says so", () => {
    const dirs = {
      bash: join(local, "share", "bash-completion", "completions"),
      zsh: join(local, "share", "zsh", "site-functions"),
      fish: join(home, ".config", "fish", "completions"),
    };
    for (const file of [
      join(dirs.bash, "claude-poolctl"),
      join(dirs.bash, "claude-pool"),
      join(dirs.zsh, "_claude-poolctl"),
      join(dirs.fish, "claude-poolctl.fish"),
    ]) {
      assert.ok(existsSync(file), file);
    }
    for (const [shell, dir] of Object.entries(dirs)) {
      assert.ok(said.includes(`${shell} in ${dir}`), `${shell}: ${said}`);
    }
    const registered = spawnSync(
      "bash",
      ["-c", `source ${join(dirs.bash, "claude-poolctl")}; complete -p claude-poolctl`],
      { env, encoding: "utf8" },
    );
    assert.match(registered.stdout, /-F _claude_poolctl claude-poolctl/);
  });
});
