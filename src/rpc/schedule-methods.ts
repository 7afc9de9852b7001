import { hasScope } from "../auth/scopes.js";
import { scheduleSchema } from "../config/schema.js";
import type { ScheduleSettings } from "../config/types.js";
import { redactSecrets } from "../config/redact.js";
import type { Scheduler } from "../schedule/scheduler.js";
import { runsLimit, type ScheduleRun } from "../schedule/store.js";
import type { RequestContext } from "./methods.js";
import type { Peer } from "./peer.js";
import type { JsonSchema, MethodRegistry } from "./registry.js";

const str = { type: "string" } as const;
const nullableStr = { type: ["string", "null"] } as const;

const run: JsonSchema = {
  type: "object",
  properties: {
    name: str,
    run: { type: "integer" },
    trigger: { enum: ["cron", "catchUp", "manual"] },
    scheduledFor: nullableStr,
    firedAt: str,
    status: { enum: ["queued", "delivered", "replied", "failed", "skipped", "missed"] },
    sessionId: nullableStr,
    sessionName: nullableStr,
    spawned: { type: "boolean" },
    messageId: nullableStr,
    reply: nullableStr,
    repliedAt: nullableStr,
    note: nullableStr,
  },
};

const schedule: JsonSchema = {
  type: "object",
  properties: {
    ...(scheduleSchema.properties as unknown as Record<string, JsonSchema>),
    source: { enum: ["config", "runtime"] },
    nextRunAt: nullableStr,
    lastRun: { anyOf: [{ type: "null" }, run] },
  },
};

const byName: JsonSchema = {
  type: "object",
  additionalProperties: false,
  required: ["name"],
  properties: { name: { type: "string", minLength: 1 } },
};

/** schedule.* methods and the schedule.fired signal. */
export function addScheduleMethods(
  registry: MethodRegistry<RequestContext>,
  scheduler: Scheduler<Peer>,
): void {
  registry.signal("schedule.fired", {
    description: "A schedule sent its message (messageId: the ledger message of the run).",
    params: { type: "object", properties: { name: str, messageId: str } },
  });
  registry
    .method("schedule.list", {
      scope: "read",
      description:
        "Every schedule (from the config, or added at run time) with its next run time and last run.",
      params: { type: "object", additionalProperties: false, properties: {} },
      result: { type: "array", items: schedule },
      handler: (_params, { caller }) => {
        const list = scheduler.list();
        return hasScope(caller.scopes, "admin") ? list : redactSecrets(list);
      },
    })
    .method<ScheduleSettings, unknown>("schedule.add", {
      scope: "control",
      description:
        "Add a schedule, kept in the state dir across restarts: name, cron (five or six fields, " +
        'or "@daily"), timezone?, session or spawn, message, delivery?, catchUp?, overlap?, keepRuns?.',
      params: scheduleSchema as unknown as JsonSchema,
      result: schedule,
      handler: (settings) => scheduler.add(settings),
    })
    .method<{ name: string }, { removed: string }>("schedule.remove", {
      scope: "control",
      description:
        "Remove a schedule added at run time (config schedules are removed in the config).",
      params: byName,
      result: { type: "object", properties: { removed: str } },
      handler: ({ name }) => {
        scheduler.remove(name);
        return { removed: name };
      },
    })
    .method<{ name: string }, ScheduleRun>("schedule.run", {
      scope: "control",
      description:
        "Run a schedule now, outside its cron expression; overlap applies. Returns the run.",
      params: byName,
      result: run,
      handler: ({ name }) => scheduler.run(name),
    })
    .method<{ name: string; limit: number }, ScheduleRun[]>("schedule.history", {
      scope: "read",
      description: `A schedule's runs, oldest first (the last ${runsLimit} are kept), with their outcome and reply.`,
      params: {
        type: "object",
        additionalProperties: false,
        required: ["name"],
        properties: {
          name: { type: "string", minLength: 1 },
          limit: { type: "integer", minimum: 1, maximum: runsLimit, default: 20 },
        },
      },
      result: { type: "array", items: run },
      handler: ({ name, limit }) => scheduler.history(name, limit),
    });
}
