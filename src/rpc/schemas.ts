import { sessionSchema } from "../config/schema.js";
import type { JsonSchema } from "./registry.js";

const nullable = (type: string): JsonSchema => ({ type: [type, "null"] });

export const sessionRef: JsonSchema = {
  type: "string",
  minLength: 1,
  description: "Session id, name, or unique id prefix.",
};

export const idParams: JsonSchema = {
  type: "object",
  additionalProperties: false,
  required: ["id"],
  properties: { id: sessionRef },
};

export const noParams: JsonSchema = { type: "object", additionalProperties: false, properties: {} };

export const sessionInfo: JsonSchema = {
  type: "object",
  required: ["id", "name", "status"],
  properties: {
    id: { type: "string", pattern: "^[0-9a-f]{8}$" },
    name: { type: "string" },
    status: { enum: ["starting", "running", "stopping", "stopped", "crashed", "failed"] },
    pid: nullable("integer"),
    claudeSessionId: { type: "string" },
    keepWarm: { type: "boolean" },
    workingDirectory: { type: "string" },
    createdAt: { type: "string" },
    startedAt: nullable("string"),
    lastActivityAt: nullable("string"),
    idleSeconds: nullable("integer"),
    restarts: { type: "integer" },
    exitCode: nullable("integer"),
    signal: nullable("string"),
    unit: nullable("string"),
    memoryBytes: nullable("integer"),
    cpuSeconds: nullable("number"),
    tasks: nullable("integer"),
    channel: { type: "boolean" },
    blockedOn: {
      enum: [
        null,
        "trust-folder",
        "api-key",
        "development-channels",
        "bypass-permissions",
        "login",
        "onboarding",
      ],
    },
    reason: nullable("string"),
  },
};

export const spawnParams: JsonSchema = sessionSchema as unknown as JsonSchema;

export const screen: JsonSchema = {
  type: "object",
  required: ["id", "data", "cols", "rows"],
  properties: {
    id: { type: "string" },
    data: { type: "string", description: "Escape sequences that redraw screen and scrollback." },
    cols: { type: "integer" },
    rows: { type: "integer" },
    readOnly: { type: "boolean" },
  },
};

export const signalList: JsonSchema = {
  type: "array",
  items: { type: "string" },
  description: "Signal names; all signals when omitted.",
};
