import { defineCommand } from "citty";
import type { ScheduleInfo } from "../../schedule/scheduler.js";
import type { ScheduleRun } from "../../schedule/store.js";
import { UsageError } from "../errors.js";
import { commonArgs, printJson, readMessage, withClient } from "./client.js";
import { excerpt, localTime, outputWidth } from "./format.js";

const nameArg = {
  name: { type: "positional", description: "Schedule name", required: true },
} as const;

/** Rows under a header, each column as wide as its widest cell; the last one is cut to fit. */
function table(header: string[], rows: string[][], width: number): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => {
    const start = cells
      .slice(0, -1)
      .map((c, i) => c.padEnd(widths[i] + 2))
      .join("");
    return start + excerpt(cells[cells.length - 1] || "-", Math.max(10, width - start.length));
  };
  return [line(header), ...rows.map(line)].join("\n");
}

function target(s: ScheduleInfo): string {
  return s.session !== undefined ? `session ${s.session}` : "spawn";
}

/** `#3 replied` and when, for the table. */
function runText(run: ScheduleRun | null): string {
  return run === null ? "-" : `#${run.run} ${run.status} ${localTime(run.firedAt)}`;
}

const add = defineCommand({
  meta: {
    name: "add",
    description:
      "Add a schedule, kept across restarts: --cron, --message, and --session or --spawn",
  },
  args: {
    ...commonArgs,
    ...nameArg,
    cron: {
      type: "string",
      description: 'Five fields, six with seconds first, or "@daily", "@hourly", "@weekly"…',
      required: true,
      valueHint: "EXPR",
    },
    message: {
      type: "string",
      description: "What is sent to claude (- reads standard input)",
      required: true,
      valueHint: "TEXT",
    },
    session: {
      type: "string",
      description: "Send it to this session (resumed when stopped)",
      valueHint: "NAME",
    },
    spawn: {
      type: "string",
      description: "Send it to a fresh session per run, with these settings ({} for the defaults)",
      valueHint: "JSON",
    },
    timezone: {
      type: "string",
      description: "IANA time zone of the cron expression (default: the pool's)",
      valueHint: "ZONE",
    },
    delivery: { type: "string", description: "auto, channel or pty", valueHint: "MODE" },
    "catch-up": {
      type: "boolean",
      description: "Run once at start when the pool was down at a run's time",
    },
    overlap: {
      type: "string",
      description: "When the last run has no reply yet: skip (default) or queue",
      valueHint: "POLICY",
    },
    "keep-runs": {
      type: "string",
      description: "With --spawn: keep the sessions of this many latest runs (default 5)",
      valueHint: "N",
    },
  },
  run: ({ args }) =>
    withClient(args, async (client) => {
      if ((args.session === undefined) === (args.spawn === undefined)) {
        throw new UsageError("schedule add: give one of --session NAME and --spawn JSON");
      }
      let spawn: unknown;
      if (args.spawn !== undefined) {
        try {
          spawn = JSON.parse(args.spawn);
        } catch (err) {
          throw new UsageError(`--spawn is not valid JSON: ${(err as Error).message}`);
        }
      }
      const keepRuns = args["keep-runs"] === undefined ? undefined : Number(args["keep-runs"]);
      if (keepRuns !== undefined && !(Number.isInteger(keepRuns) && keepRuns > 0)) {
        throw new UsageError(`--keep-runs must be a positive integer, not "${args["keep-runs"]}"`);
      }
      const params = Object.fromEntries(
        Object.entries({
          name: args.name,
          cron: args.cron,
          message: args.message === "-" ? readMessage() : args.message,
          session: args.session,
          spawn,
          timezone: args.timezone,
          delivery: args.delivery,
          catchUp: args["catch-up"],
          overlap: args.overlap,
          keepRuns,
        }).filter(([, v]) => v !== undefined),
      );
      const added = await client.call<ScheduleInfo>("schedule.add", params);
      if (args.json) return printJson(added);
      const next = added.nextRunAt === null ? "never" : localTime(added.nextRunAt);
      console.log(`added schedule ${added.name} (${target(added)}), next run ${next}`);
    }),
});

const list = defineCommand({
  meta: { name: "list", description: "Every schedule with its next and last run" },
  args: commonArgs,
  run: ({ args }) =>
    withClient(args, async (client) => {
      const schedules = await client.call<ScheduleInfo[]>("schedule.list");
      if (args.json) return printJson(schedules);
      if (schedules.length === 0) {
        process.stderr.write('no schedules; add one with "claude-poolctl schedule add"\n');
        return;
      }
      const rows = schedules.map((s) => [
        s.name,
        s.cron,
        s.timezone ?? "-",
        target(s),
        s.nextRunAt === null ? "never" : localTime(s.nextRunAt),
        runText(s.lastRun),
      ]);
      console.log(table(["NAME", "CRON", "ZONE", "TARGET", "NEXT", "LAST"], rows, outputWidth()));
    }),
});

const rm = defineCommand({
  meta: { name: "rm", description: "Remove a schedule added at run time" },
  args: { ...commonArgs, ...nameArg },
  run: ({ args }) =>
    withClient(args, async (client) => {
      const result = await client.call<{ removed: string }>("schedule.remove", { name: args.name });
      if (args.json) return printJson(result);
      console.log(`removed schedule ${result.removed}`);
    }),
});

const runNow = defineCommand({
  meta: { name: "run", description: "Run a schedule now (its overlap policy applies)" },
  args: { ...commonArgs, ...nameArg },
  run: ({ args }) =>
    withClient(args, async (client) => {
      const run = await client.call<ScheduleRun>("schedule.run", { name: args.name });
      if (args.json) return printJson(run);
      const to = run.sessionName === null ? "" : ` to ${run.sessionName}`;
      const message = run.messageId === null ? "" : ` (message ${run.messageId})`;
      console.log(`run ${run.run} of ${run.name}${to}: ${run.status}${message}`);
      if (run.note !== null) console.log(run.note);
      if (run.status === "failed") process.exitCode = 1;
    }),
});

const history = defineCommand({
  meta: { name: "history", description: "A schedule's runs: when, outcome, reply" },
  args: {
    ...commonArgs,
    ...nameArg,
    limit: { type: "string", alias: "n", description: "Only the last N runs", valueHint: "N" },
  },
  run: ({ args }) =>
    withClient(args, async (client) => {
      const limit = args.limit === undefined ? undefined : Number(args.limit);
      if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
        throw new UsageError(`--limit must be a positive integer, not "${args.limit}"`);
      }
      const runs = await client.call<ScheduleRun[]>("schedule.history", {
        name: args.name,
        ...(limit ? { limit } : {}),
      });
      if (args.json) return printJson(runs);
      if (runs.length === 0) {
        process.stderr.write(`schedule ${args.name} has not run yet\n`);
        return;
      }
      const rows = runs.map((r) => [
        String(r.run),
        localTime(r.firedAt),
        r.trigger,
        r.status,
        r.sessionName ?? "-",
        r.reply ?? r.note ?? "",
      ]);
      const header = ["RUN", "FIRED", "TRIGGER", "STATUS", "SESSION", "REPLY"];
      console.log(table(header, rows, outputWidth()));
    }),
});

export const schedule = defineCommand({
  meta: {
    name: "schedule",
    description: "Messages sent on a cron schedule: add, list, rm, run, history",
  },
  subCommands: { add, list, rm, run: runNow, history },
});
