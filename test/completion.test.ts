/** The shell completions, run by real bash and zsh against a running pool. */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connectUnix } from "../src/rpc/client.js";
import { PoolProcess, repoRoot, startFakePool, tempDir } from "./helpers.js";

const poolctl = join(repoRoot, "dist", "src", "bin", "claude-poolctl.js");
const hasZsh = spawnSync("zsh", ["--version"]).status === 0;
const hasFish = spawnSync("fish", ["--version"]).status === 0;
let pool: PoolProcess;
let env: NodeJS.ProcessEnv;
let scripts: string;

function script(shell: string): string {
  const file = join(scripts, `claude-poolctl.${shell}`);
  const result = spawnSync(process.execPath, [poolctl, "completion", shell], { encoding: "utf8" });
  assert.equal(result.status, 0, result.stderr);
  writeFileSync(file, result.stdout);
  return file;
}

/** What bash completes for the words typed so far (the last one being completed). */
function bashComplete(words: string[]): string[] {
  const array = words.map((w) => `'${w}'`).join(" ");
  const result = spawnSync(
    "bash",
    [
      "-c",
      `source ${script("bash")}; COMP_WORDS=(${array}); COMP_CWORD=${words.length - 1}; _claude_poolctl; printf '%s\\n' "\${COMPREPLY[@]}"`,
    ],
    { encoding: "utf8", env },
  );
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.split("\n").filter(Boolean);
}

before(async () => {
  const dir = tempDir();
  scripts = join(dir, "scripts");
  const bin = join(dir, "bin");
  mkdirSync(scripts);
  mkdirSync(bin);
  symlinkSync(poolctl, join(bin, "claude-poolctl"));
  pool = await startFakePool({}, dir);
  env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, CLAUDE_POOL_SOCKET: pool.socket };
  const client = await connectUnix(pool.socket);
  await client.call("session.spawn", { name: "alpha" });
  // Not "beta": a session id (8 hex digits) may start with "b" and complete too.
  await client.call("session.spawn", { name: "ztest" });
  client.close();
});

after(() => pool.stop());

describe("bash completion", () => {
  it("completes commands", () => {
    assert.deepEqual(bashComplete(["claude-poolctl", "at"]), ["attach"]);
    assert.deepEqual(bashComplete(["claude-poolctl", "tr"]), ["transcript"]);
    assert.ok(bashComplete(["claude-poolctl", ""]).includes("monitor"));
  });

  it("completes a command's options", () => {
    assert.deepEqual(bashComplete(["claude-poolctl", "attach", "--rea"]), ["--read-only"]);
    assert.deepEqual(bashComplete(["claude-poolctl", "remove", "--f"]), ["--force"]);
    assert.deepEqual(bashComplete(["claude-poolctl", "send", "--no"]), ["--no-submit"]);
  });

  it("completes session names from the running pool", () => {
    assert.deepEqual(bashComplete(["claude-poolctl", "kill", "al"]), ["alpha"]);
    assert.deepEqual(bashComplete(["claude-poolctl", "status", "al"]), ["alpha"]);
    assert.deepEqual(bashComplete(["claude-poolctl", "transcript", "-n", "5", "z"]), ["ztest"]);
    assert.deepEqual(bashComplete(["claude-poolctl", "config", "al"]), [], "config takes none");
    assert.deepEqual(bashComplete(["claude-poolctl", "kill", "alpha", "z"]), [], "only one");
  });

  it("finds the command after options that come before it", () => {
    assert.deepEqual(bashComplete(["claude-poolctl", "--json", "li"]), ["list"]);
    assert.deepEqual(
      bashComplete(["claude-poolctl", "--socket", "/s", "--json", "restart", "al"]),
      ["alpha"],
    );
    assert.deepEqual(bashComplete(["claude-poolctl", "--timeout", "5", "logs", "-f", "z"]), [
      "ztest",
    ]);
    assert.deepEqual(bashComplete(["claude-poolctl", "--ti"]), ["--timeout"]);
    assert.deepEqual(bashComplete(["claude-poolctl", "logs", "--lines", "al"]), [], "a value");
  });
});

describe("zsh completion", { skip: !hasZsh && "zsh is not installed" }, () => {
  it("is a valid #compdef script", () => {
    const file = script("zsh");
    const check = spawnSync("zsh", ["-n", file], { encoding: "utf8" });
    assert.equal(check.status, 0, check.stderr);
    const result = spawnSync(
      "zsh",
      [
        "-c",
        `autoload -U compinit; compinit -u -d ${scripts}/.zcompdump; source ${file} 2>&1; whence -w _claude_poolctl`,
      ],
      { encoding: "utf8", env },
    );
    assert.match(result.stdout, /_claude_poolctl: function/);
  });

  it("its session helper lists the pool's sessions", () => {
    const result = spawnSync(
      "zsh",
      [
        "-c",
        `compadd() { shift; print -l -- \${(P)1}; }; source ${script("zsh")} >/dev/null 2>&1; _claude_pool_sessions`,
      ],
      { encoding: "utf8", env },
    );
    assert.match(result.stdout, /alpha/);
    assert.match(result.stdout, /ztest/);
  });
});

describe("fish completion", { skip: !hasFish && "fish is not installed" }, () => {
  /** What fish completes for the command line so far. */
  const fishComplete = (line: string) => {
    const result = spawnSync(
      "fish",
      ["--no-config", "-c", `source ${script("fish")}; complete -C '${line}'`],
      { encoding: "utf8", env },
    );
    assert.equal(result.status, 0, result.stderr);
    return result.stdout
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split("\t")[0]);
  };

  it("completes commands, their options and session names", () => {
    assert.deepEqual(fishComplete("claude-poolctl at"), ["attach"]);
    assert.deepEqual(fishComplete("claude-poolctl attach --rea"), ["--read-only"]);
    assert.ok(fishComplete("claude-poolctl logs -").includes("--follow"));
    assert.deepEqual(fishComplete("claude-poolctl kill al"), ["alpha"]);
    assert.deepEqual(fishComplete("claude-poolctl transcript --li"), ["--limit"]);
    assert.ok(fishComplete("claude-poolctl --ti").includes("--timeout"));
  });
});

it("completion refuses an unknown shell with usage status 2", () => {
  const result = spawnSync(process.execPath, [poolctl, "completion", "tcsh"], { encoding: "utf8" });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /bash, zsh, fish/);
});
