import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import fc from "fast-check";
import { processState } from "../src/proc.js";
import { endProcessesUnder, repoRoot, tempDir, waitFor } from "./helpers.js";
import { isUnder } from "./leftovers.js";

const check = join(repoRoot, "dist", "test", "check-leftovers.js");

const sleepers: ChildProcess[] = [];
after(() => {
  for (const s of sleepers) s.kill("SIGKILL");
});

function sleeper(options: { cwd: string; env?: NodeJS.ProcessEnv }): number {
  const child = spawn("sleep", ["600"], { ...options, stdio: "ignore" });
  sleepers.push(child);
  return child.pid!;
}

function runCheck(root: string) {
  return spawnSync(process.execPath, [check, root, "0"], { encoding: "utf8" });
}

async function kill(pid: number): Promise<void> {
  process.kill(pid, "SIGKILL");
  await waitFor(`pid ${pid} to die`, () => [null, "Z"].includes(processState(pid)));
}

describe("isUnder", () => {
  it("is the root itself and the paths inside it, not its siblings of the same prefix", () => {
    const segment = fc.string({ minLength: 1 }).filter((s) => !s.startsWith("/"));
    fc.assert(
      fc.property(segment, segment, (name, rest) => {
        const root = `/tmp/${name}`;
        assert.ok(isUnder(root, root));
        assert.ok(isUnder(`${root}/${rest}`, root));
        assert.ok(!isUnder(`${root}${rest}`, root));
        assert.ok(!isUnder("/tmp", root));
      }),
    );
  });
});

describe("check-leftovers", () => {
  it("fails naming a process whose cwd is under the root, and passes once it is gone", async () => {
    const root = tempDir();
    mkdirSync(join(root, "work"));
    const pid = sleeper({ cwd: join(root, "work") });
    const found = runCheck(root);
    assert.equal(found.status, 1, found.stderr);
    assert.match(found.stderr, new RegExp(`pid ${pid}, cwd ${join(root, "work")}: sleep 600\\n`));

    await kill(pid);
    const clean = runCheck(root);
    assert.equal(clean.status, 0, clean.stderr);
    assert.match(clean.stdout, /no process left under/);
  });

  it("names a process whose cwd was removed, or whose environment points under the root", async () => {
    const root = tempDir();
    mkdirSync(join(root, "gone"));
    const removed = sleeper({ cwd: join(root, "gone") });
    rmSync(join(root, "gone"), { recursive: true });
    const pointing = sleeper({ cwd: "/", env: { PATH: process.env.PATH, CFG: `${root}/claude` } });
    const found = runCheck(root);
    assert.equal(found.status, 1, found.stderr);
    assert.match(found.stderr, new RegExp(`pid ${removed}, cwd ${root}/gone \\(deleted\\): sleep`));
    assert.match(found.stderr, new RegExp(`pid ${pointing}, cwd /, env CFG=${root}/claude: sleep`));
    await Promise.all([kill(removed), kill(pointing)]);
  });

  it("passes over itself, its callers and the dirs that only share the root's prefix", async () => {
    const root = tempDir();
    mkdirSync(`${root}-other`);
    const neighbour = sleeper({ cwd: `${root}-other` });
    // the check runs in the root, called by a shell in the root, both with TMPDIR=root
    const result = spawnSync(
      "bash",
      ["-c", `"${process.execPath}" "${check}" "${root}" 0; rc=$?; exit $rc`],
      { cwd: root, env: { ...process.env, TMPDIR: root }, encoding: "utf8" },
    );
    assert.equal(result.status, 0, result.stderr);
    await kill(neighbour);
    rmSync(`${root}-other`, { recursive: true });
  });

  it("refuses a root that is not a directory, saying what it wants", () => {
    const result = runCheck("relative/path");
    assert.equal(result.status, 2);
    assert.match(result.stderr, /ROOT must be the absolute path/);
  });
});

describe("endProcessesUnder", () => {
  it("kills what runs under a dir and returns it", async () => {
    const dir = tempDir();
    const pid = sleeper({ cwd: dir });
    const ended = await endProcessesUnder(dir);
    assert.deepEqual(
      ended.map((p) => p.pid),
      [pid],
    );
    assert.ok([null, "Z"].includes(processState(pid)));
  });
});
