/**
 * The README's examples, run: every ```sh block after a `<!-- test: run -->` line is run by
 * bash -e, in the README's order, against one pool of fake claudes, the way a reader types them
 * into a terminal in the repository: PATH with bin/, and a home, runtime and state directory of
 * their own. A block passes when it exits 0.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { PoolProcess, repoRoot, startFakePool, tempDir } from "./helpers.js";

const marker = "<!-- test: run -->";

interface Block {
  /** Line of the opening fence, counted from 1. */
  line: number;
  code: string;
}

/** The runnable blocks of `markdown`; a marker that no sh block follows is an error. */
function runnableBlocks(markdown: string): Block[] {
  const lines = markdown.split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].trim() !== marker) continue;
    let open = i + 1;
    while (open < lines.length && lines[open].trim() === "") open++;
    if (!/^```(sh|bash)\s*$/.test(lines[open] ?? "")) {
      throw new Error(`README.md:${i + 1}: ${marker} is not followed by a sh block`);
    }
    const close = lines.findIndex((l, j) => j > open && l.startsWith("```"));
    if (close < 0) throw new Error(`README.md:${open + 1}: the block never closes`);
    blocks.push({ line: open + 1, code: lines.slice(open + 1, close).join("\n") + "\n" });
    i = close;
  }
  return blocks;
}

const blocks = runnableBlocks(readFileSync(join(repoRoot, "README.md"), "utf8"));
const version = (
  JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8")) as {
    version: string;
  }
).version;
const dir = tempDir();
const home = join(dir, "home");
const runtime = join(dir, "run");
let pool: PoolProcess;

/** The reader's environment: no pool named by the caller's own variables. */
function readerEnv(path: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: path,
    HOME: home,
    XDG_RUNTIME_DIR: runtime,
    XDG_STATE_HOME: join(dir, "state"),
    XDG_CONFIG_HOME: join(home, ".config"),
    CLAUDE_CONFIG_DIR: join(dir, "claude"),
  };
  for (const name of ["CLAUDE_POOL_SOCKET", "CLAUDE_POOL_URL", "CLAUDE_POOL_TOKEN"]) {
    delete env[name];
  }
  return env;
}

function bash(code: string, env: NodeJS.ProcessEnv) {
  return new Promise<{ status: number | null; output: string }>((resolve) => {
    const child = spawn("bash", ["-e", "-o", "pipefail", "-c", code], { cwd: repoRoot, env });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    child.stdin.end();
    child.on("close", (status) => resolve({ status, output }));
  });
}

describe("README.md", () => {
  before(async () => {
    mkdirSync(home, { recursive: true });
    mkdirSync(runtime, { recursive: true, mode: 0o700 });
    pool = await startFakePool({ stopTimeoutSeconds: 2 }, dir, {
      CLAUDE_POOL_SOCKET: "",
      XDG_RUNTIME_DIR: runtime,
      HOME: home,
    });
  });

  after(() => pool.stop());

  it("marks at least 4 blocks as runnable", () => {
    assert.ok(blocks.length >= 4, `${blocks.length} runnable blocks`);
  });

  it("its first line (export PATH=…) puts this checkout's commands on PATH", () => {
    const line = blocks[0].code.split("\n")[0];
    assert.match(line, /^export PATH=/);
    const found = spawnSync(
      "bash",
      ["-c", `${line}\ncommand -v claude-pool claude-poolctl && claude-poolctl --version`],
      { cwd: repoRoot, env: readerEnv(process.env.PATH ?? ""), encoding: "utf8" },
    );
    assert.equal(found.status, 0, found.stderr);
    assert.equal(
      found.stdout,
      `${repoRoot}/bin/claude-pool\n${repoRoot}/bin/claude-poolctl\n${version}\n`,
    );
  });

  for (const block of blocks) {
    it(`README.md:${block.line} runs`, { timeout: 60_000 }, async (t) => {
      const env = readerEnv(`${join(repoRoot, "bin")}:${process.env.PATH}`);
      const { status, output } = await bash(block.code, env);
      t.diagnostic(output);
      assert.equal(status, 0, `README.md:${block.line}:\n${block.code}\nprinted:\n${output}`);
    });
  }
});
