/**
 * `make build` runs this: the man pages and shell completions of the packages, generated from the
 * citty commands and the config schema into OUT (dist/docs): man/*.1, man/*.5, bash/, zsh/, fish/.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CommandDef } from "citty";
import { claudePoolCommand } from "../src/cli/claude-pool.js";
import { readCommand } from "../src/cli/command-tree.js";
import { bashCompletion, fishCompletion, zshCompletion } from "../src/cli/completion.js";
import {
  bold,
  commandSections,
  italic,
  renderPage,
  schemaItems,
  type Section,
} from "../src/cli/manpage.js";
import { poolctlCommand } from "../src/cli/poolctl/commands.js";
import { configSchema } from "../src/config/schema.js";
import { version } from "../src/version.js";

const out = process.argv[2] ?? "dist/docs";
const repo = new URL("../../", import.meta.url);
const epoch = Number(process.env.SOURCE_DATE_EPOCH ?? Date.now() / 1000);
const date = new Date(epoch * 1000).toISOString().slice(0, 10);
const head = { version: `claude-pool ${version}`, date, manual: "claude-pool" };

const configFiles =
  "--config PATH, else $CLAUDE_POOL_CONFIG, else ./pool.config.json, else $XDG_CONFIG_HOME/claude-pool/config.json (~/.config/claude-pool/config.json).";
const exitStatus: Section = {
  title: "Exit status",
  items: [
    ["0", "Success."],
    ["1", "An error from the pool (or, for claude-pool start, another pool already running)."],
    ["2", "A usage error."],
    [
      "3",
      "The pool is not reachable (start it with systemctl --user start claude-pool), or it did not answer within --timeout.",
    ],
    ["78", "claude-pool start and config: the config is invalid (EX_CONFIG)."],
  ].map(([code, text]) => ({ term: bold(code), body: [text] })),
};
const builtins: Section = {
  title: "Options",
  items: [
    { term: `${bold("--help")}, ${bold("-h")}`, body: ["Usage of the program or of a command."] },
    { term: bold("--version"), body: ["The version."] },
  ],
};
const env = (pairs: [string, string][]): Section => ({
  title: "Environment",
  items: pairs.map(([name, text]) => ({ term: bold(name), body: [text] })),
});

async function commandPage(
  name: string,
  command: CommandDef,
  description: string[],
  sections: Section[],
): Promise<string> {
  const doc = await readCommand(command);
  return renderPage({ ...head, name, section: 1, summary: doc.description }, [
    { title: "Synopsis", paragraphs: [`${name} [options] COMMAND [ARGS]`] },
    { title: "Description", paragraphs: description },
    builtins,
    ...commandSections(doc),
    ...sections,
  ]);
}

const seeAlso = (...pages: string[]): Section => ({
  title: "See also",
  paragraphs: [pages.join(", ")],
});

const pages: Record<string, string> = {
  "claude-pool.1": await commandPage(
    "claude-pool",
    claudePoolCommand,
    [
      "claude-pool supervises a pool of long-lived, interactive Claude Code conversations. It runs as the systemd user service claude-pool.service; each conversation is a claude process in its own pseudo-terminal and its own transient scope, claude-pool-ID.scope, in claude-pool-sessions.slice. It starts sessions on demand, stops idle ones, restarts crashed ones, and resumes them with their history.",
      "Start it with systemctl --user enable --now claude-pool; on a server, loginctl enable-linger USER keeps it running without a login session. Without a command, claude-pool runs start. SIGHUP (systemctl --user reload claude-pool) rereads the config without touching running sessions.",
    ],
    [
      exitStatus,
      env([
        ["CLAUDE_POOL_CONFIG", "The config file, when --config is not given."],
        ["CLAUDE_POOL_SOCKET", "The control socket's path."],
        ["XDG_CONFIG_HOME", "Where claude-pool/config.json is looked up (default ~/.config)."],
        ["XDG_STATE_HOME", "Where the pool keeps its state (default ~/.local/state)."],
        ["XDG_RUNTIME_DIR", "Holds claude-pool/control.sock."],
      ]),
      {
        title: "Files",
        items: [
          ["~/.config/claude-pool/config.json", "The config; see claude-pool.config(5)."],
          [
            "~/.local/state/claude-pool/",
            "The session registry (state.json), the remote API's token and tokens.json, each session's logs under sessions/ID/.",
          ],
          ["$XDG_RUNTIME_DIR/claude-pool/control.sock", "The control socket (mode 0600)."],
          [
            "/usr/lib/systemd/user/claude-pool.service",
            "The service; claude-pool.socket activates it, claude-pool-sessions.slice holds the sessions.",
          ],
        ].map(([path, text]) => ({ term: italic(path), body: [text] })),
      },
      seeAlso("claude-poolctl(1)", "claude-pool.config(5)", "systemctl(1)", "loginctl(1)"),
    ],
  ),
  "claude-poolctl.1": await commandPage(
    "claude-poolctl",
    poolctlCommand,
    [
      "claude-poolctl drives a running claude-pool with JSON-RPC, over the local control socket or, with --url, over a WebSocket to a remote pool. Sessions are named by id, by name, or by a unique id prefix. Every command that talks to the pool takes --json and then prints the method's result as JSON.",
      "The common options (--json, --socket, --url, --token, --timeout) may come before or after the command, as --option value or --option=value; an option the command does not take is a usage error. --timeout bounds how long each call waits for the pool's answer (10 seconds by default); the output that attach, monitor and logs -f follow is not cut off by it.",
    ],
    [
      exitStatus,
      env([
        [
          "CLAUDE_POOL_SOCKET",
          "The control socket (default $XDG_RUNTIME_DIR/claude-pool/control.sock).",
        ],
        ["CLAUDE_POOL_URL", "A remote pool, as for --url."],
        ["CLAUDE_POOL_TOKEN", "Its token, as for --token."],
        ["CLAUDE_POOL_CA", "A CA certificate to trust for wss://."],
        ["CLAUDE_POOLCTL_DETACH_KEY", "The key that detaches attach (default C-])."],
      ]),
      seeAlso("claude-pool(1)", "claude-pool.config(5)"),
    ],
  ),
  "claude-pool.config.5": renderPage(
    { ...head, name: "claude-pool.config", section: 5, summary: "claude-pool configuration file" },
    [
      { title: "Synopsis", paragraphs: [configFiles] },
      {
        title: "Description",
        paragraphs: [
          "The configuration of claude-pool(1): one JSON object. Every key is optional. An unknown key or a wrong value is refused with the file name and the JSON path of each error, and claude-pool exits with status 78. claude-pool config prints the config with every default filled in; systemctl --user reload claude-pool rereads it.",
        ],
      },
      { title: "Keys", items: schemaItems(configSchema) },
      {
        title: "Example",
        literal: readFileSync(new URL("pool.config.example.json", repo), "utf8"),
      },
      seeAlso("claude-pool(1)", "claude-poolctl(1)", "systemd.resource-control(5)"),
    ],
  ),
};

for (const dir of ["man", "bash", "zsh", "fish"]) mkdirSync(join(out, dir), { recursive: true });
for (const [file, text] of Object.entries(pages)) writeFileSync(join(out, "man", file), text);
for (const [program, command] of [
  ["claude-pool", claudePoolCommand],
  ["claude-poolctl", poolctlCommand],
] as const) {
  writeFileSync(join(out, "bash", program), await bashCompletion(program, command));
  writeFileSync(join(out, "zsh", `_${program}`), await zshCompletion(program, command));
  writeFileSync(join(out, "fish", `${program}.fish`), await fishCompletion(program, command));
}
