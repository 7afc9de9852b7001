/**
 * trustWorkingDirectories: the pool records a session's folder as trusted in claude's global
 * config, as claude records an accepted trust dialog, without losing anything claude keeps there,
 * under the lock claude takes for it. With the real claude (when installed): a session in a
 * fresh folder reaches its prompt with no trust dialog.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  mkdirSync,
  readFileSync,
  realpathSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { Logger } from "../src/log.js";
import { globalConfigFile, trustChain } from "../src/session/claude-config.js";
import { recordTrust, trustBeforeLaunch } from "../src/session/folder-trust.js";
import type { SessionInfo } from "../src/session/session.js";
import { poolFactory, tempDir, waitFor, waitForStatus } from "./helpers.js";
import {
  apiKey,
  readJson,
  realPool,
  skipReason,
  startupMs,
  waitForIdle,
  type RealPool,
} from "./real-claude-support.js";

/** The parts of a .claude.json these tests look at. */
interface ClaudeJson {
  [key: string]: unknown;
  projects: Record<string, { hasTrustDialogAccepted?: boolean } | undefined>;
  customApiKeyResponses: { approved: string[] };
  numStartups: number;
  writes: number;
}
const read = (file: string) => JSON.parse(readFileSync(file, "utf8")) as ClaudeJson;

describe("recordTrust", () => {
  it("adds the folder's trust and keeps everything else, the file's mode and claude's indent", () => {
    const dir = tempDir();
    const work = join(dir, "work");
    mkdirSync(work);
    const file = join(dir, ".claude.json");
    const before = {
      numStartups: 7,
      theme: "light",
      projects: { [work]: { allowedTools: ["Bash"], hasTrustDialogAccepted: false }, "/x": {} },
    };
    writeFileSync(file, JSON.stringify(before), { mode: 0o640 });
    assert.equal(recordTrust(file, work), "recorded");
    const after = read(file);
    assert.deepEqual(after, {
      ...before,
      projects: {
        ...before.projects,
        [work]: { allowedTools: ["Bash"], hasTrustDialogAccepted: true },
      },
    });
    assert.equal(statSync(file).mode & 0o777, 0o640);
    assert.match(readFileSync(file, "utf8"), /^{\n {2}"numStartups": 7,/);
    assert.equal(recordTrust(file, work), "already");
  });

  it("files a symlinked folder under its real path, the key claude reads; creates a missing file", () => {
    const dir = tempDir();
    mkdirSync(join(dir, "real"));
    symlinkSync(join(dir, "real"), join(dir, "link"));
    const file = join(dir, "claude", ".claude.json");
    assert.equal(recordTrust(file, join(dir, "link")), "recorded");
    assert.deepEqual(read(file), {
      projects: { [realpathSync(join(dir, "real"))]: { hasTrustDialogAccepted: true } },
    });
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  it("leaves a file that is not a JSON object alone, and says so", () => {
    const dir = tempDir();
    const file = join(dir, ".claude.json");
    for (const text of ["{not json", "[1, 2]", '{"projects": 3}']) {
      writeFileSync(file, text);
      assert.throws(() => recordTrust(file, dir), /leaves (it|the file) alone/);
      assert.equal(readFileSync(file, "utf8"), text);
    }
    writeFileSync(file, JSON.stringify({ projects: { [dir]: "junk" } }));
    recordTrust(file, dir);
    assert.deepEqual(read(file).projects[dir], { hasTrustDialogAccepted: true });
  });

  it("waits for claude's lock; writes once it is stale or after the wait, and removes only its own", () => {
    const dir = tempDir();
    const file = join(dir, ".claude.json");
    writeFileSync(file, "{}");
    mkdirSync(`${file}.lock`);
    const started = Date.now();
    assert.equal(recordTrust(file, dir, { lockWaitMs: 200 }), "recorded");
    assert.ok(Date.now() - started >= 200, "it waited for the lock");
    assert.ok(statSync(`${file}.lock`).isDirectory(), "another writer's lock stays");
    const old = new Date(Date.now() - 60_000);
    utimesSync(`${file}.lock`, old, old);
    assert.equal(recordTrust(file, join(dir, ".."), { lockWaitMs: 5000 }), "recorded");
    assert.throws(
      () => statSync(`${file}.lock`),
      /ENOENT/,
      "the stale lock was taken and released",
    );
  });

  it("loses no write of a concurrent writer that locks as claude does, nor any of its own", async () => {
    const dir = tempDir();
    const file = join(dir, ".claude.json");
    writeFileSync(file, JSON.stringify({ writes: 0, keep: "me", projects: {} }));
    // claude's save: take <file>.lock, read, change, write a temp file, rename, release
    const writer = spawn(
      process.execPath,
      [
        "-e",
        `const fs = require("fs"); const file = ${JSON.stringify(file)};
         const until = Date.now() + 1500; let n = 0;
         while (Date.now() < until) {
           try { fs.mkdirSync(file + ".lock"); } catch { continue; }
           const data = JSON.parse(fs.readFileSync(file, "utf8"));
           data.writes += 1; n += 1;
           fs.writeFileSync(file + ".w", JSON.stringify(data, null, 2));
           fs.renameSync(file + ".w", file);
           fs.rmdirSync(file + ".lock");
         }
         console.log(n);`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    let out = "";
    writer.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise((resolve) => writer.on("exit", resolve));
    await waitFor("the writer's first write", () => (read(file).writes as number) > 0);
    const folders = Array.from({ length: 40 }, (_, i) => join(dir, `f${i}`));
    for (const folder of folders) {
      mkdirSync(folder);
      recordTrust(file, folder, { lockWaitMs: 5000 });
      await new Promise((resolve) => setImmediate(resolve));
    }
    await exited;
    const final = read(file);
    assert.equal(final.writes, Number(out), "every write of the other writer is there");
    assert.equal(final.keep, "me");
    for (const folder of folders) {
      assert.equal(final.projects[folder]?.hasTrustDialogAccepted, true, folder);
    }
  });
});

describe("where claude keeps trust", () => {
  it("the global config is $CLAUDE_CONFIG_DIR/.claude.json, else $HOME/.claude.json", () => {
    assert.equal(globalConfigFile({ CLAUDE_CONFIG_DIR: "/c", HOME: "/h" }), "/c/.claude.json");
    assert.equal(globalConfigFile({ HOME: "/h" }), "/h/.claude.json");
    const dir = tempDir();
    mkdirSync(join(dir, "c"));
    writeFileSync(join(dir, "c", ".config.json"), "{}");
    assert.equal(
      globalConfigFile({ CLAUDE_CONFIG_DIR: join(dir, "c") }),
      join(dir, "c", ".config.json"),
      "a legacy .config.json while .claude.json does not exist",
    );
  });

  it("a folder's trust chain climbs to the root of its git repository, or to /", () => {
    const dir = realpathSync(tempDir());
    const deep = join(dir, "repo", "a", "b");
    mkdirSync(deep, { recursive: true });
    mkdirSync(join(dir, "repo", ".git"));
    assert.deepEqual(trustChain(deep), [deep, join(dir, "repo", "a"), join(dir, "repo")]);
    assert.equal(trustChain(dir).at(-1), "/");
  });
});

describe("trustBeforeLaunch", () => {
  it("logs once per folder it records; a failure is a warning, not a thrown error", () => {
    const dir = tempDir();
    const lines: string[] = [];
    const log = {
      info: (m: string) => lines.push(`info ${m}`),
      warn: (m: string) => lines.push(`warn ${m}`),
    } as unknown as Logger;
    const env = { CLAUDE_CONFIG_DIR: join(dir, "claude") };
    trustBeforeLaunch(env, dir, log, "session a");
    trustBeforeLaunch(env, dir, log, "session b");
    assert.equal(lines.length, 1);
    assert.match(lines[0], /^info session a: recorded .* as trusted in .*\.claude\.json/);
    writeFileSync(join(dir, "claude", ".claude.json"), "{oops");
    trustBeforeLaunch(env, join(dir, "claude"), log, "session c");
    assert.match(lines[1], /^warn session c: cannot record .* not valid JSON/);
  });
});

describe("the pool with trustWorkingDirectories", () => {
  const makePool = poolFactory();

  it("records each session's own folder before it starts, and nothing else; off by default", async () => {
    const t = makePool({ trustWorkingDirectories: true });
    const other = join(t.dir, "other");
    mkdirSync(other);
    const s = t.pool.spawn({ name: "a", workingDirectory: other });
    await waitForStatus(t.pool, s.id, "running");
    const file = join(t.claudeDir, ".claude.json");
    assert.deepEqual(Object.keys(read(file).projects), [realpathSync(other)]);

    const off = makePool();
    const s2 = off.pool.spawn({ name: "b" });
    await waitForStatus(off.pool, s2.id, "running");
    assert.equal(readJson(join(off.claudeDir, ".claude.json"))?.projects, undefined);
  });
});

const skip = skipReason("real claude trust test");
const pools: RealPool[] = [];
after(async () => {
  await Promise.all(pools.map((t) => t.close()));
});

describe("real claude in folders it was never asked to trust", { skip }, () => {
  it(
    "reaches its prompt with no trust dialog; claude's other settings in .claude.json survive",
    { timeout: 90_000 },
    async () => {
      const t = await realPool({ trusted: () => [], config: { trustWorkingDirectories: true } });
      pools.push(t);
      const file = join(t.claudeDir, ".claude.json");
      const seeded = read(file);
      writeFileSync(file, JSON.stringify({ ...seeded, theme: "light-daltonized", marker: 1 }));
      const dialogs: string[] = [];
      t.pool.on("session.changed", (s: SessionInfo) => {
        if (s.blockedOn) dialogs.push(`${s.name}: ${s.blockedOn}`);
      });
      const second = join(t.dir, "second");
      mkdirSync(second);
      const a = t.pool.spawn({ name: "first" });
      // claude writes .claude.json as it starts (numStartups, its project's entry): the second
      // folder's trust is recorded while the first claude may be writing.
      const b = t.pool.spawn({ name: "second", workingDirectory: second });
      await Promise.all([waitForIdle(t, a.id, startupMs), waitForIdle(t, b.id, startupMs)]);
      assert.deepEqual(dialogs, []);
      const final = read(file);
      for (const folder of [t.workDir, second]) {
        assert.equal(final.projects[realpathSync(folder)]?.hasTrustDialogAccepted, true, folder);
      }
      assert.equal(final.theme, "light-daltonized");
      assert.equal(final.marker, 1);
      assert.equal(final.hasCompletedOnboarding, true);
      assert.deepEqual(final.customApiKeyResponses.approved, [apiKey.slice(-20)]);
      // claude counts its start in the file some time after its prompt is up.
      await waitFor(
        "claude to write the file after the pool did",
        () => read(file).numStartups >= 1,
        20_000,
      );
      const rewritten = read(file);
      assert.equal(rewritten.marker, 1, "claude's own rewrite keeps what was there");
      for (const folder of [t.workDir, second]) {
        assert.equal(rewritten.projects[realpathSync(folder)]?.hasTrustDialogAccepted, true);
      }
    },
  );
});
