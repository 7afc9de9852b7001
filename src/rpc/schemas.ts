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

export const turn: JsonSchema = {
  type: "object",
  properties: { id: { type: "string" }, startedAt: { type: "string" }, prompt: { type: "string" } },
};

export const endedTurn: JsonSchema = {
  type: "object",
  properties: {
    ...(turn.properties as Record<string, JsonSchema>),
    endedAt: { type: "string" },
    outcome: { enum: ["done", "failed", "interrupted"] },
    reply: { type: "string" },
  },
};

export const sessionInfo: JsonSchema = {
  type: "object",
  required: ["id", "name", "status"],
  properties: {
    id: { type: "string", pattern: "^[0-9a-f]{8}$" },
    name: { type: "string" },
    status: { enum: ["starting", "running", "stopping", "stopped", "crashed", "failed"] },
    pid: nullable("integer"),
    hostPid: nullable("integer"),
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
    activity: { enum: [null, "starting", "idle", "busy", "waiting"] },
    waitingFor: {
      type: ["object", "null"],
      description:
        '{kind: "permission", requestId, toolName, inputPreview, answerAt?}, {kind: "dialog", ' +
        'dialog} or {kind: "input", message}',
      properties: { kind: { enum: ["permission", "dialog", "input"] } },
    },
    evidence: { enum: ["hooks", "screen"] },
    turn: { anyOf: [{ type: "null" }, turn] },
    lastTurn: { anyOf: [{ type: "null" }, endedTurn] },
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
    binary: { type: "boolean" },
  },
};

export const signalList: JsonSchema = {
  type: "array",
  items: { type: "string" },
  description: "Signal names; all signals when omitted.",
};
