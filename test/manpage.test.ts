/** The man pages and completions that packaging/docs.ts generates for the packages. */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import { claudePoolCommand } from "../src/cli/claude-pool.js";
import { readCommand, type CommandDoc } from "../src/cli/command-tree.js";
import { escape, type SchemaNode } from "../src/cli/manpage.js";
import { poolctlCommand } from "../src/cli/poolctl/commands.js";
import { configSchema } from "../src/config/schema.js";
import { repoRoot, tempDir } from "./helpers.js";

const hasMan = spawnSync("man", ["--version"]).status === 0;
const hasFish = spawnSync("fish", ["--version"]).status === 0;
let out: string;
const page = (file: string) => readFileSync(join(out, "man", file), "utf8");
/** The page as man shows it, without roff's escapes. */
const rendered = (file: string) =>
  execFileSync("man", ["-l", join(out, "man", file)], {
    encoding: "utf8",
    env: { ...process.env, MANWIDTH: "200" },
  }).replace(/\u2010/g, "-");

before(() => {
  out = tempDir();
  execFileSync(process.execPath, [join(repoRoot, "dist", "packaging", "docs.js"), out]);
});

function visible(command: CommandDoc, path: string[] = []): [string, CommandDoc][] {
  return command.subCommands
    .filter((c) => !c.hidden)
    .flatMap((c) => [
      [[...path, c.name].join(" "), c] as [string, CommandDoc],
      ...visible(c, [...path, c.name]),
    ]);
}

describe("man pages", () => {
  for (const [file, command] of [
    ["claude-pool.1", claudePoolCommand],
    ["claude-poolctl.1", poolctlCommand],
  ] as const) {
    it(`${file} describes every command and option that --help shows`, async () => {
      const roff = page(file);
      for (const [words, sub] of visible(await readCommand(command))) {
        assert.ok(roff.includes(`\\fB${escape(words)}\\fR`), `${file}: command ${words}`);
        for (const option of sub.options) {
          assert.ok(roff.includes(escape(option.flag)), `${file}: ${words} ${option.flag}`);
        }
      }
    });
  }

  it("claude-pool.config.5 describes every key of the config schema", () => {
    const roff = page("claude-pool.config.5");
    const described = (node: SchemaNode, path: string): void => {
      for (const [key, child] of Object.entries(node.properties ?? {})) {
        assert.ok(child.description, `config key ${path}${key} has no description`);
        described(child.items ?? child, `${path}${key}.`);
      }
    };
    described(configSchema as SchemaNode, "");
    for (const key of Object.keys(configSchema.properties)) {
      assert.ok(roff.includes(`\\fB${escape(key)}\\fR (`), key);
    }
    assert.ok(roff.includes("\\fBrestart.maxRestarts\\fR (integer, at least 0, default 3)"));
    assert.ok(roff.includes("\\fBprimarySession.limits.memoryMax\\fR (integer or string)"));
  });

  it("render without warnings from man", { skip: !hasMan && "man is not installed" }, () => {
    for (const file of ["claude-pool.1", "claude-poolctl.1", "claude-pool.config.5"]) {
      const result = spawnSync(
        "man",
        ["--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", join(out, "man", file)],
        {
          encoding: "utf8",
          env: { ...process.env, MANWIDTH: "80" },
        },
      );
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stderr, "", `${file}: ${result.stderr}`);
    }
    const text = rendered("claude-poolctl.1");
    assert.match(text, /^ {7}send \[options\] ID TEXT$/m);
    assert.match(text, /^ +--no-submit$/m);
    assert.match(text, /^ {7}transcript \[options\] ID$/m);
    assert.match(text, /^ +-n, --limit N$/m);
    assert.match(rendered("claude-pool.config.5"), /"maxSessions": 5,/);
  });

  it("escapes what roff would read as requests or escapes", () => {
    assert.equal(escape(".hidden\n'quoted\na\\b-c"), "\\&.hidden\n\\&'quoted\na\\eb\\-c");
  });
});

it("writes bash, zsh and fish completions for both programs", () => {
  for (const file of ["bash/claude-pool", "bash/claude-poolctl"]) {
    assert.equal(spawnSync("bash", ["-n", join(out, file)]).status, 0, file);
  }
  assert.match(
    readFileSync(join(out, "zsh", "_claude-poolctl"), "utf8"),
    /^#compdef claude-poolctl\n/,
  );
  assert.match(readFileSync(join(out, "zsh", "_claude-pool"), "utf8"), /^#compdef claude-pool\n/);
  for (const file of ["fish/claude-pool.fish", "fish/claude-poolctl.fish"]) {
    assert.match(readFileSync(join(out, file), "utf8"), /^# fish completion for claude-pool/);
    if (hasFish) assert.equal(spawnSync("fish", ["-n", join(out, file)]).status, 0, file);
  }
});
