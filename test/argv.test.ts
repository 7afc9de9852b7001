/** The command line read against the command tree (src/cli/argv.ts), for both programs. */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import fc from "fast-check";
import { parseArgv, type Request } from "../src/cli/argv.js";
import { claudePoolCommand } from "../src/cli/claude-pool.js";
import { readCommand, type CommandDoc } from "../src/cli/command-tree.js";
import { UsageError } from "../src/cli/errors.js";
import { poolctlCommand } from "../src/cli/poolctl/commands.js";

let poolctl: CommandDoc;
let pool: CommandDoc;

before(async () => {
  poolctl = await readCommand(poolctlCommand);
  pool = await readCommand(claudePoolCommand);
});

const run = (root: CommandDoc, argv: string[]) => {
  const request = parseArgv(root, argv);
  assert.equal(request.kind, "run", JSON.stringify(request));
  return (request as Extract<Request, { kind: "run" }>).rawArgs;
};

const refused = (root: CommandDoc, argv: string[], message: RegExp) =>
  assert.throws(
    () => parseArgv(root, argv),
    (err: unknown) => err instanceof UsageError && message.test(err.message),
    argv.join(" "),
  );

describe("claude-poolctl's command line", () => {
  it("takes the common options before or after the command, --opt value or --opt=value", () => {
    const expected = ["list", "--url=ws://h:1", "--token=t", "--json"];
    assert.deepEqual(
      run(poolctl, ["--url", "ws://h:1", "--token", "t", "--json", "list"]),
      expected,
    );
    assert.deepEqual(run(poolctl, ["--url=ws://h:1", "list", "--token=t", "--json"]), expected);
    assert.deepEqual(run(poolctl, ["list", "--url", "ws://h:1", "--token=t", "--json"]), expected);
  });

  it("any placement of the common options means the same (property)", () => {
    const commonOption = fc.oneof(
      fc.constant(["--json"]),
      ...["socket", "url", "token", "timeout"].map((name) =>
        fc
          .tuple(fc.string({ minLength: 1 }), fc.boolean())
          .map(([value, inline]) => (inline ? [`--${name}=${value}`] : [`--${name}`, value])),
      ),
    );
    const command = fc.constantFrom(
      ["status"],
      ["list"],
      ["kill", "abc"],
      ["logs", "abc"],
      ["token", "list"],
      ["send", "abc", "--not-an-option"],
    );
    fc.assert(
      fc.property(
        command,
        fc.array(fc.tuple(commonOption, fc.boolean()), { maxLength: 5 }),
        (words, options) => {
          const before = options.filter(([, first]) => first).flatMap(([o]) => o);
          const afterwards = options.filter(([, first]) => !first).flatMap(([o]) => o);
          // positionals that look like options go after --
          const [name, ...rest] = words;
          const path = name === "token" ? words : [name];
          const positionals = name === "token" ? [] : rest;
          const argv = [...before, ...path, ...afterwards, "--", ...positionals];
          const rawArgs = run(poolctl, argv);
          assert.deepEqual(rawArgs.slice(0, path.length), path);
          const sorted = (a: string[]) => [...a].sort();
          const given = options.map(([o]) => (o.length === 1 ? o[0] : `${o[0]}=${o[1]}`));
          assert.deepEqual(
            sorted(
              rawArgs.slice(
                path.length,
                rawArgs.length - (positionals.length ? positionals.length + 1 : 0),
              ),
            ),
            sorted(given),
          );
          if (positionals.length)
            assert.deepEqual(rawArgs.slice(-positionals.length - 1), ["--", ...positionals]);
        },
      ),
    );
  });

  it("short options and negated switches", () => {
    const canonical = ["logs", "--follow", "--lines=5", "--", "x"];
    for (const argv of [
      ["logs", "-f", "-n", "5", "x"],
      ["logs", "x", "-f", "-n5"],
      ["logs", "--follow", "-n=5", "x"],
      ["logs", "-f", "x", "--lines=5"],
    ]) {
      assert.deepEqual(run(poolctl, argv), canonical, argv.join(" "));
    }
    assert.deepEqual(run(poolctl, ["send", "x", "hi", "--no-submit"]), [
      "send",
      "--no-submit",
      "--",
      "x",
      "hi",
    ]);
    assert.deepEqual(run(poolctl, ["send", "x", "-", "--raw"]), ["send", "--raw", "--", "x", "-"]);
    assert.deepEqual(run(poolctl, ["send", "x", "--", "--json"]), ["send", "--", "x", "--json"]);
    assert.deepEqual(run(poolctl, ["chat", "x", "--message", "-v"]), [
      "chat",
      "--message=-v",
      "--",
      "x",
    ]);
  });

  it("refuses what cannot apply", () => {
    refused(poolctl, ["list", "--bogus"], /^unknown option --bogus$/);
    refused(poolctl, ["--follow", "logs", "x"], /^unknown option --follow$/);
    refused(poolctl, ["--json", "completion", "bash"], /--json does not apply to "completion"/);
    refused(poolctl, ["list", "--json=1"], /--json takes no value/);
    refused(poolctl, ["list", "--timeout"], /--timeout needs a value \(SECONDS\)/);
    refused(poolctl, ["list", "--no-url"], /unknown option --no-url/);
    refused(poolctl, ["list", "x"], /"list" takes no arguments, not "x"/);
    refused(poolctl, ["kill", "a", "b"], /unexpected argument "b" after ID/);
    refused(poolctl, ["frobnicate"], /^unknown command "frobnicate"$/);
    refused(poolctl, ["token", "frobnicate"], /^unknown command "token frobnicate"$/);
    refused(poolctl, ["--json"], /^no command given$/);
  });

  it("runs a command with subcommands on its own when it can", () => {
    assert.deepEqual(run(poolctl, ["token", "--json"]), ["token", "--json"]);
    assert.deepEqual(run(poolctl, ["--json", "token", "list"]), ["token", "list", "--json"]);
  });

  it("--help anywhere asks for the usage of the command named so far; --version alone", () => {
    assert.deepEqual(parseArgv(poolctl, ["--help"]), { kind: "help", path: [] });
    assert.deepEqual(parseArgv(poolctl, ["--url", "u", "logs", "-h"]), {
      kind: "help",
      path: ["logs"],
    });
    assert.deepEqual(parseArgv(poolctl, ["token", "create", "--help", "--bogus"]), {
      kind: "help",
      path: ["token", "create"],
    });
    assert.deepEqual(run(poolctl, ["send", "x", "--", "--help"]), ["send", "--", "x", "--help"]);
    assert.deepEqual(parseArgv(poolctl, ["--version"]), { kind: "version" });
  });
});

describe("claude-pool's command line", () => {
  it("runs start when no command is named", () => {
    assert.deepEqual(run(pool, ["--config", "c.json"]), ["start", "--config=c.json"]);
    assert.deepEqual(run(pool, ["start", "--port=0"]), ["start", "--port=0"]);
    assert.deepEqual(run(pool, ["status", "--port", "3200"]), ["status", "--port=3200"]);
  });

  it("refuses an unknown command or option", () => {
    refused(pool, ["--bogus"], /^unknown option --bogus$/);
    refused(pool, ["stop"], /^unknown command "stop"$/);
  });
});
