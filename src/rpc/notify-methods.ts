import { hasScope } from "../auth/scopes.js";
import type { Notifier, TestResult } from "../notify/notifier.js";
import type { RequestContext } from "./methods.js";
import type { JsonSchema, MethodRegistry } from "./registry.js";
import { noParams } from "./schemas.js";

const nullable = (type: string): JsonSchema => ({ type: [type, "null"] });

/** pool.status's `notify`: one item per endpoint of the config. */
export const notifyStatus: JsonSchema = {
  type: "array",
  description: "The notify endpoints' health; below admin, URLs without their credentials.",
  items: {
    type: "object",
    properties: {
      url: { type: "string" },
      format: { enum: ["json", "ntfy"] },
      events: { type: "array", items: { type: "string" } },
      ok: { type: "boolean" },
      lastError: nullable("string"),
      lastErrorAt: nullable("string"),
      lastSentAt: nullable("string"),
      sent: { type: "integer" },
      failed: { type: "integer" },
      queued: { type: "integer" },
      dropped: { type: "integer" },
    },
  },
};

export function addNotifyMethods(
  registry: MethodRegistry<RequestContext>,
  notifier: Notifier,
): void {
  registry.method<object, TestResult[]>("notify.test", {
    scope: "control",
    description:
      "Send a test notification to every notify endpoint, whatever its events, and return each " +
      "outcome (one attempt each, no retries).",
    params: noParams,
    result: {
      type: "array",
      items: {
        type: "object",
        properties: {
          url: { type: "string" },
          ok: { type: "boolean" },
          status: nullable("integer"),
          error: nullable("string"),
          ms: { type: "integer" },
        },
      },
    },
    handler: (_params, { caller }) => notifier.test(hasScope(caller.scopes, "admin")),
  });
}
