import { defineCommand } from "citty";
import { printJson } from "./client.js";
import {
  findRemote,
  loadRemotes,
  remotesFile,
  saveRemotes,
  tokenSource,
  withRemote,
  type Remote,
} from "./remotes.js";

/** What `remote list --json` shows of a remote: never its token. */
function shown(r: Remote) {
  return {
    name: r.name,
    url: r.url,
    token: tokenSource(r),
    ...(r.ca !== undefined ? { ca: r.ca } : {}),
  };
}

const remoteCommands = {
  add: defineCommand({
    meta: {
      name: "add",
      description: `Name a pool for --remote, HOST/ID and --all (kept in ${remotesFile()}, mode 0600)`,
    },
    args: {
      json: { type: "boolean", description: "Print the result as JSON", default: false },
      name: { type: "positional", description: "Its name, e.g. the host's", required: true },
      url: { type: "positional", description: "wss://host:3200 (or ws://)", required: true },
      "token-file": {
        type: "string",
        description: "A file holding its token, read at each use (kept as a reference)",
        valueHint: "FILE",
      },
      token: {
        type: "string",
        description: "Its token, stored in the remotes file (prefer --token-file)",
        valueHint: "TOKEN",
      },
      ca: {
        type: "string",
        description: "A CA certificate (PEM) to trust for its wss://",
        valueHint: "FILE",
      },
    },
    run: ({ args }) => {
      const remote: Remote = {
        name: args.name,
        url: args.url,
        ...(args["token-file"] !== undefined ? { tokenFile: args["token-file"] } : {}),
        ...(args.token !== undefined ? { token: args.token } : {}),
        ...(args.ca !== undefined ? { ca: args.ca } : {}),
      };
      const remotes = withRemote(loadRemotes(), remote);
      saveRemotes(remotes);
      const added = findRemote(remotes, args.name);
      if (args.json) return printJson(shown(added));
      console.log(`added ${added.name} ${added.url}`);
    },
  }),
  list: defineCommand({
    meta: { name: "list", description: "The named pools, without their tokens" },
    args: { json: { type: "boolean", description: "Print the result as JSON", default: false } },
    run: ({ args }) => {
      const remotes = loadRemotes().map(shown);
      if (args.json) return printJson(remotes);
      const rows = [
        ["NAME", "URL", "TOKEN", "CA"],
        ...remotes.map((r) => [r.name, r.url, r.token, r.ca ?? "-"]),
      ];
      const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
      for (const row of rows) {
        console.log(
          row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] + 2))).join(""),
        );
      }
    },
  }),
  rm: defineCommand({
    meta: { name: "rm", description: "Forget a named pool (its token file stays)" },
    args: {
      json: { type: "boolean", description: "Print the result as JSON", default: false },
      name: { type: "positional", description: "Its name", required: true },
    },
    run: ({ args }) => {
      const remotes = loadRemotes();
      const gone = findRemote(remotes, args.name);
      saveRemotes(remotes.filter((r) => r !== gone));
      if (args.json) return printJson({ removed: gone.name });
      console.log(`removed ${gone.name}`);
    },
  }),
};

export const remote = defineCommand({
  meta: { name: "remote", description: "Name other hosts' pools: add, list, rm" },
  subCommands: remoteCommands,
});
