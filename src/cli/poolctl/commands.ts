import { defineCommand, type ArgsDef } from "citty";
import { stripAnsi } from "../../pty/strip-ansi.js";
import type { Introspection } from "../../rpc/registry.js";
import type { SessionInfo } from "../../session/session.js";
import { isResumable } from "../../session/status.js";
import { version } from "../../version.js";
import { completionScripts, completionShells, type CompletionShell } from "../completion.js";
import { doctorCommand } from "../doctor.js";
import { Failure, UsageError } from "../errors.js";
import { attach, parseDetachKey } from "./attach.js";
import { chatInteractive, chatOnce } from "./chat.js";
import {
  commonArgs,
  printJson,
  readMessage,
  stopAllowance,
  timeoutSeconds,
  withClient,
  withHost,
  withSession,
  type CommonArgs,
  type PoolClient,
} from "./client.js";
import { askAll, checkAllArgs, fleetExit } from "./fleet.js";
import { remote } from "./remote.js";
import { parseSpawnName } from "./remotes.js";
import {
  outputWidth,
  sessionDetails,
  sessionLine,
  sessionNotes,
  fleetTable,
  hostLines,
  sessionTable,
  statusHeader,
  type PoolStatusResult,
} from "./format.js";
import { notify, notifyNotes } from "./notify.js";
import { schedule } from "./schedule.js";
import { transcriptText, type TranscriptResult } from "./transcript.js";

const idArg = {
  id: {
    type: "positional",
    description: "Session id, name, or unique id prefix; HOST/ID or HOST/NAME on a remote",
    required: true,
  },
} as const;

const allArg = {
  all: {
    type: "boolean",
    description:
      "Ask the local pool and every remote in parallel (each within --timeout, default 5 s); exit 1 when some did not answer, 3 when none did",
  },
} as const;

/** The seed's `--port` flag: accepted for compatibility; the local CLI talks over the Unix socket. */
const seedPortArg = {
  port: {
    type: "string",
    description: "Ignored (seed compatibility): the CLI uses the control socket",
    valueHint: "N",
  },
} as const;

export const status = defineCommand({
  meta: {
    name: "status",
    description: "Pool status and the session table, or one session's details",
  },
  args: {
    ...commonArgs,
    ...seedPortArg,
    ...allArg,
    id: {
      type: "positional",
      description: "Only this session (id, name, or unique id prefix; HOST/ID): all it reports",
      required: false,
    },
  },
  run: async ({ args }) => {
    if (args.all) return fleet(args, true);
    if (args.id !== undefined) {
      return withSession(args, args.id, async (client, id) => {
        const session = await client.call<SessionInfo>("session.get", { id });
        return args.json ? printJson(session) : console.log(sessionDetails(session, outputWidth()));
      });
    }
    return withClient(args, async (client) => {
      const [pool, sessions] = await Promise.all([
        client.call<PoolStatusResult>("pool.status"),
        client.call<SessionInfo[]>("session.list"),
      ]);
      if (args.json) return printJson({ ...pool, sessions });
      const notes = [...sessionNotes(sessions), ...notifyNotes(pool.notify)];
      console.log([statusHeader(pool, sessions), "", sessionTable(sessions), ...notes].join("\n"));
    });
  },
});

/** `status --all` and `list --all`. */
async function fleet(args: CommonArgs & { id?: string }, withStatus: boolean): Promise<void> {
  checkAllArgs(args);
  const results = await askAll(args, withStatus);
  const code = fleetExit(results);
  if (args.json) printJson({ hosts: results });
  else if (withStatus) console.log([...hostLines(results), "", ...fleetTable(results)].join("\n"));
  else {
    const down = results.filter((r) => r.error !== null);
    console.log([...fleetTable(results), ...hostLines(down)].join("\n"));
  }
  // a host that does not answer may hold its connection open for minutes
  if (results.some((r) => r.error !== null)) process.exit(code);
}

export const list = defineCommand({
  meta: { name: "list", description: "The session table" },
  args: {
    ...commonArgs,
    names: { type: "boolean", description: "Only names and ids, one per line (for scripts)" },
    ...allArg,
  },
  run: ({ args }) =>
    args.all
      ? fleet(args, false)
      : withClient(args, async (client) => {
          const sessions = await client.call<SessionInfo[]>("session.list");
          if (args.json) return printJson(sessions);
          if (args.names) return console.log(sessions.flatMap((s) => [s.name, s.id]).join("\n"));
          console.log([sessionTable(sessions), ...sessionNotes(sessions)].join("\n"));
        }),
});

export const spawn = defineCommand({
  meta: { name: "spawn", description: "Create a session and start it" },
  args: {
    ...commonArgs,
    ...seedPortArg,
    name: {
      type: "string",
      description: "Session name (default: its id); HOST/NAME or HOST/ spawns on a remote",
    },
    cwd: {
      type: "string",
      description: "Working directory (default: the config's)",
      valueHint: "DIR",
    },
    model: { type: "string", description: "claude --model" },
    "keep-warm": { type: "boolean", description: "Never stop for being idle" },
    "dangerously-skip-permissions": {
      type: "boolean",
      description: "claude --dangerously-skip-permissions (refused as root)",
    },
  },
  run: ({ args }) => {
    const { host, name } = parseSpawnName(args.name);
    return withHost(args, host, args.name ?? "", async (client) => {
      const params = Object.fromEntries(
        Object.entries({
          name,
          workingDirectory: args.cwd,
          model: args.model,
          keepWarm: args["keep-warm"],
          dangerouslySkipPermissions: args["dangerously-skip-permissions"],
        }).filter(([, v]) => v !== undefined),
      );
      const session = await client.call<SessionInfo>("session.spawn", params);
      if (args.json) return printJson(session);
      console.log(sessionLine("spawned", session));
      if (session.status === "failed") process.exitCode = 1;
    });
  },
});

/** session.kill, given the time the pool may take to stop claude. */
async function stopSession(client: PoolClient, id: string): Promise<SessionInfo> {
  return client.call<SessionInfo>("session.kill", { id }, await stopAllowance(client));
}

export const kill = defineCommand({
  meta: { name: "kill", description: "Stop a session" },
  args: { ...commonArgs, ...seedPortArg, ...idArg },
  run: ({ args }) =>
    withSession(args, args.id, async (client, id) => {
      const session = await stopSession(client, id);
      if (args.json) return printJson(session);
      console.log(sessionLine("stopped", session));
    }),
});

export const resume = defineCommand({
  meta: {
    name: "resume",
    description: "Start a stopped or failed session again, resuming its conversation",
  },
  args: { ...commonArgs, ...seedPortArg, ...idArg },
  run: ({ args }) =>
    withSession(args, args.id, async (client, id) => {
      const session = await client.call<SessionInfo>("session.resume", { id });
      if (args.json) return printJson(session);
      console.log(sessionLine("resumed", session));
    }),
});

export const restart = defineCommand({
  meta: {
    name: "restart",
    description: "Stop a session if it runs, then resume its conversation (kill, then resume)",
  },
  args: { ...commonArgs, ...idArg },
  run: ({ args }) =>
    withSession(args, args.id, async (client, id) => {
      const stopped = await stopSession(client, id);
      const session = await client.call<SessionInfo>("session.resume", { id: stopped.id });
      if (args.json) return printJson(session);
      console.log(sessionLine("restarted", session));
    }),
});

export const remove = defineCommand({
  meta: { name: "remove", description: "Remove a stopped session from the pool" },
  args: {
    ...commonArgs,
    ...idArg,
    force: { type: "boolean", description: "Stop the session first if it runs" },
  },
  run: ({ args }) =>
    withSession(args, args.id, async (client, ref) => {
      const id = args.force ? (await stopSession(client, ref)).id : ref;
      const result = await client.call<{ removed: string }>("session.remove", { id });
      if (args.json) return printJson(result);
      console.log(`removed ${result.removed}`);
    }),
});

export const send = defineCommand({
  meta: {
    name: "send",
    description: "Type a message into a session (TEXT - reads standard input)",
  },
  args: {
    ...commonArgs,
    ...idArg,
    text: { type: "positional", description: "The message", required: true },
    raw: { type: "boolean", description: "Write the text to the PTY as is (no paste, no Enter)" },
    submit: {
      type: "boolean",
      description: "Press Enter after the text",
      negativeDescription: "Leave out the Enter after the text",
      default: true,
    },
  },
  run: ({ args }) =>
    withSession(args, args.id, async (client, id) => {
      const text = args.text === "-" ? readMessage() : args.text;
      const result = await client.call("session.send", {
        id,
        text,
        raw: args.raw ?? false,
        submit: args.submit,
      });
      if (args.json) printJson(result);
    }),
});

export const attachCommand = defineCommand({
  meta: { name: "attach", description: "Attach this terminal to a session, like tmux attach" },
  args: {
    ...commonArgs,
    ...idArg,
    "read-only": { type: "boolean", description: "Watch without sending keys" },
    resume: {
      type: "boolean",
      description: "Resume the session first when it is stopped, crashed or failed",
    },
    "detach-key": {
      type: "string",
      description: "Key that detaches (default C-], or $CLAUDE_POOLCTL_DETACH_KEY)",
      valueHint: "C-x",
    },
  },
  run: async ({ args }) => {
    const label = args["detach-key"] ?? process.env.CLAUDE_POOLCTL_DETACH_KEY ?? "C-]";
    const detachKey = parseDetachKey(label);
    const message = await withSession(args, args.id, (client, id) =>
      attach(client, id, {
        readOnly: args["read-only"] ?? false,
        detachKey,
        detachKeyLabel: label,
        resume: args.resume ?? false,
      }),
    );
    process.stderr.write(`[${message}]\n`);
  },
});

/** How long `chat --message` waits for claude's reply unless --timeout says otherwise. */
const replySeconds = 300;

export const chat = defineCommand({
  meta: {
    name: "chat",
    description:
      "Talk to a session through its channel: type messages, see replies, answer permission prompts",
  },
  args: {
    ...commonArgs,
    ...idArg,
    message: {
      type: "string",
      description: "Send one message (- reads standard input), print the reply and exit",
      valueHint: "TEXT",
    },
    timeout: {
      type: "string",
      description: `Seconds to wait for the pool to answer, and with --message for the reply (default ${replySeconds})`,
      valueHint: "SECONDS",
    },
  },
  run: ({ args }) =>
    withSession(args, args.id, async (client, id) => {
      if (args.message === undefined) return chatInteractive(client, id);
      const timeout = timeoutSeconds(args.timeout, replySeconds);
      const text = args.message === "-" ? readMessage() : args.message;
      const { message, reply } = await chatOnce(client, id, text, timeout * 1000);
      if (args.json) return printJson({ message, reply });
      if (reply !== null) return console.log(reply);
      throw new Failure(
        `no reply within ${timeout} s (message ${message.messageId} is ${message.state}); ` +
          `see "claude-poolctl logs ${args.id}"`,
      );
    }),
});

/** `-n N`: a positive integer, or undefined when not given. */
function countArg(option: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const count = Number(value);
  if (!(Number.isInteger(count) && count > 0)) {
    throw new UsageError(`--${option} must be a positive integer, not "${value}"`);
  }
  return count;
}

export const logs = defineCommand({
  meta: { name: "logs", description: "Print a session's screen and scrollback as text" },
  args: {
    ...commonArgs,
    ...idArg,
    follow: { type: "boolean", alias: "f", description: "Then print new output as it comes" },
    lines: { type: "string", alias: "n", description: "Only the last N lines", valueHint: "N" },
  },
  run: ({ args }) =>
    withSession(args, args.id, async (client, id) => {
      const count = countArg("lines", args.lines);
      const result = await client.call<{ id: string; lines: string[] }>("session.logs", {
        id,
        ...(count ? { lines: count } : {}),
      });
      if (args.json && !args.follow) return printJson(result);
      for (const line of result.lines) console.log(line);
      if (args.follow) await follow(client, result.id);
    }),
});

export const transcript = defineCommand({
  meta: {
    name: "transcript",
    description: "Print a session's conversation from claude's transcript: messages and tool calls",
  },
  args: {
    ...commonArgs,
    ...idArg,
    limit: { type: "string", alias: "n", description: "Only the last N entries", valueHint: "N" },
  },
  run: ({ args }) =>
    withSession(args, args.id, async (client, id) => {
      const limit = countArg("limit", args.limit);
      const result = await client.call<TranscriptResult>("session.transcript", {
        id,
        ...(limit ? { limit } : {}),
      });
      if (args.json) return printJson(result);
      if (result.entries.length === 0) {
        process.stderr.write(`session ${args.id} has no conversation yet\n`);
        return;
      }
      console.log(transcriptText(result.entries, outputWidth()));
    }),
});

/** Prints a session's new output as text until it stops, crashes or is removed. */
async function follow(client: PoolClient, id: string): Promise<void> {
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));
  client.onClose(finish);
  client.onNotification((method, params) => {
    if (method === "session.output" && params.id === id) {
      process.stdout.write(plainText(String(params.data)));
    } else if (method === "session.changed") {
      const changed = params.session as SessionInfo;
      if (changed.id === id && isResumable(changed.status)) finish();
    } else if (method === "session.removed" && params.id === id) {
      finish();
    }
  });
  await client.call("pool.subscribe", { signals: ["session.changed", "session.removed"] });
  const session = await client.call<SessionInfo>("session.get", { id });
  if (isResumable(session.status)) return;
  await client.call("session.attach", { id, readOnly: true });
  await done;
}

/** Terminal output as lines of text: no escape sequences, \n line ends. */
function plainText(data: string): string {
  return stripAnsi(data).replace(/\r+\n/g, "\n").replace(/\r/g, "");
}

export const config = defineCommand({
  meta: { name: "config", description: "Print the config the pool runs with" },
  args: commonArgs,
  run: ({ args }) =>
    withClient(args, async (client) => printJson(await client.call("pool.config"))),
});

export const call = defineCommand({
  meta: {
    name: "call",
    description: "Call a method with JSON params and print the result (like busctl call)",
  },
  args: {
    ...commonArgs,
    method: { type: "positional", description: "Method name, e.g. session.get", required: true },
    params: { type: "positional", description: "Params as a JSON object", required: false },
  },
  run: ({ args }) =>
    withClient(args, async (client) => {
      let params: unknown;
      try {
        params = args.params === undefined ? {} : JSON.parse(args.params);
      } catch (err) {
        throw new UsageError(`params are not valid JSON: ${(err as Error).message}`);
      }
      printJson(await client.call(args.method, params as object));
    }),
});

export const monitor = defineCommand({
  meta: { name: "monitor", description: "Print signals as they come (like busctl monitor)" },
  args: {
    ...commonArgs,
    signals: {
      type: "string",
      description: "Comma-separated signals (default: all but session.output)",
      valueHint: "LIST",
    },
  },
  run: ({ args }) =>
    withClient(args, async (client) => {
      const introspection = await client.call<Introspection>("pool.introspect");
      const signals = args.signals
        ? args.signals.split(",").map((s) => s.trim())
        : introspection.signals.map((s) => s.name).filter((n) => n !== "session.output");
      await new Promise<void>((resolve, reject) => {
        client.onClose(resolve);
        client.onNotification((method, params) => {
          if (args.json) console.log(JSON.stringify({ method, params }));
          else console.log(describeSignal(method, params));
        });
        client
          .call("pool.subscribe", { signals })
          .then(
            () => process.stderr.write(`monitoring ${signals.join(", ")}; Ctrl-C to stop\n`),
            reject,
          );
      });
    }),
});

function describeSignal(method: string, params: Record<string, unknown>): string {
  const { seq, ...rest } = params;
  if (method === "session.changed") {
    const s = rest.session as SessionInfo;
    const extra = s.blockedOn ? ` blockedOn=${s.blockedOn}` : s.reason ? ` (${s.reason})` : "";
    return `${seq} ${method} ${s.id} ${s.name} ${s.status}${s.pid ? ` pid=${s.pid}` : ""}${extra}`;
  }
  return `${seq} ${method} ${JSON.stringify(rest)}`;
}

export const introspect = defineCommand({
  meta: { name: "introspect", description: "List methods and signals with their params" },
  args: commonArgs,
  run: ({ args }) =>
    withClient(args, async (client) => {
      const result = await client.call<Introspection>("pool.introspect");
      if (args.json) return printJson(result);
      const paramNames = (schema: Record<string, unknown>) =>
        Object.keys((schema.properties as object | undefined) ?? {}).join(", ");
      console.log("METHODS");
      for (const m of result.methods) {
        console.log(`  ${m.name}(${paramNames(m.params)})\n      ${m.description}`);
      }
      console.log("SIGNALS");
      for (const s of result.signals) console.log(`  ${s.name}\n      ${s.description}`);
    }),
});

export const dashboard = defineCommand({
  meta: {
    name: "dashboard",
    description: "Print a one-time login link to the web dashboard (opens nothing)",
  },
  args: {
    ...commonArgs,
    "base-url": {
      type: "string",
      description: "Address the browser reaches the pool at (default: the API's own)",
      valueHint: "URL",
    },
  },
  run: ({ args }) =>
    withClient(args, async (client) => {
      const login = await client.call<{ url: string; code: string; expiresAt: string }>(
        "dashboard.login",
      );
      const url = args["base-url"]
        ? `${args["base-url"].replace(/\/+$/, "")}/#login=${login.code}`
        : login.url;
      if (args.json) return printJson({ ...login, url });
      const seconds = Math.round((Date.parse(login.expiresAt) - Date.now()) / 1000);
      process.stderr.write(
        `Open this link within ${seconds} s; it works once and signs the browser in with the main token:\n`,
      );
      console.log(url);
    }),
});

interface TokenInfo {
  id: string;
  name: string;
  scopes: string[];
  createdAt: string;
}

const tokenCommands = {
  rotate: defineCommand({
    meta: { name: "rotate", description: "Replace the main token; the old one stops working" },
    args: commonArgs,
    run: ({ args }) =>
      withClient(args, async (client) => {
        const result = await client.call<{ token: string }>("token.rotate");
        if (args.json) return printJson(result);
        console.log(result.token);
      }),
  }),
  create: defineCommand({
    meta: { name: "create", description: "Make an extra token; its secret is printed only now" },
    args: {
      ...commonArgs,
      name: { type: "string", description: "What the token is for, e.g. phone", required: true },
      scope: {
        type: "string",
        description: "Comma-separated scopes: read, control, approve, admin",
        required: true,
        valueHint: "LIST",
      },
    },
    run: ({ args }) =>
      withClient(args, async (client) => {
        const scopes = args.scope
          .split(",")
          .map((x) => x.trim())
          .filter(Boolean);
        const result = await client.call<{ token: string; info: TokenInfo }>("token.create", {
          name: args.name,
          scopes,
        });
        if (args.json) return printJson(result);
        console.log(result.token);
      }),
  }),
  list: defineCommand({
    meta: { name: "list", description: "Every token, without secrets" },
    args: commonArgs,
    run: ({ args }) =>
      withClient(args, async (client) => {
        const tokens = await client.call<TokenInfo[]>("token.list");
        if (args.json) return printJson(tokens);
        for (const t of tokens) {
          console.log(`${t.id.padEnd(10)}${t.name.padEnd(20)}${t.scopes.join(",")}`);
        }
      }),
  }),
  revoke: defineCommand({
    meta: { name: "revoke", description: "Revoke an extra token by id or name" },
    args: {
      ...commonArgs,
      id: { type: "positional", description: "Token id or name", required: true },
    },
    run: ({ args }) =>
      withClient(args, async (client) => {
        const revoked = await client.call<TokenInfo>("token.revoke", { id: args.id });
        if (args.json) return printJson(revoked);
        console.log(`revoked ${revoked.id} (${revoked.name})`);
      }),
  }),
};

export const token = defineCommand({
  meta: {
    name: "token",
    description: "Print the remote API's main token; rotate, create, list, revoke tokens",
  },
  args: commonArgs,
  subCommands: tokenCommands,
  run: ({ args, rawArgs }) => {
    if (rawArgs.some((a) => Object.hasOwn(tokenCommands, a))) return;
    return withClient(args, async (client) => {
      const result = await client.call<{ token: string }>("token.show");
      if (args.json) return printJson(result);
      console.log(result.token);
    });
  },
});

export const completion = defineCommand({
  meta: {
    name: "completion",
    description: `Print a shell completion script (${completionShells.join(", ")})`,
  },
  args: {
    shell: { type: "positional", description: completionShells.join(" or "), required: true },
  },
  run: async ({ args }) => {
    if (!completionShells.includes(args.shell as CompletionShell)) {
      throw new UsageError(
        `completion: shell must be ${completionShells.join(", ")}, not "${args.shell}"`,
      );
    }
    const generate = completionScripts[args.shell as CompletionShell];
    process.stdout.write(await generate("claude-poolctl", poolctlCommand));
  },
});

export const shutdown = defineCommand({
  meta: {
    name: "shutdown",
    description:
      "Stop every session and the pool itself (a restart of the service keeps sessions running; this does not)",
  },
  args: { ...commonArgs },
  run: ({ args }) =>
    withClient(args, async (client) => {
      const result = await client.call("pool.shutdown", {});
      if (args.json) return printJson(result);
      console.log("claude-pool: stopping every session, then the pool");
    }),
});

export const poolctlCommand = defineCommand({
  meta: {
    name: "claude-poolctl",
    version,
    description: "Control a running claude-pool over its control socket",
  },
  // the options that may come before the command (src/cli/argv.ts); the root itself runs nothing
  args: commonArgs as ArgsDef,
  subCommands: {
    status,
    list,
    spawn,
    kill,
    resume,
    restart,
    remove,
    send,
    chat,
    attach: attachCommand,
    logs,
    transcript,
    config,
    call,
    monitor,
    introspect,
    token,
    doctor: doctorCommand(true),
    notify,
    schedule,
    remote,
    shutdown,
    dashboard,
    completion: () => completion,
  },
});
