import { redactSecrets } from "../config/redact.js";
import type { SessionSettings } from "../config/types.js";
import type { Caller, TokenStore } from "../auth/tokens.js";
import { hasScope, scopeNames, type Scope } from "../auth/scopes.js";
import { ErrorCode, PoolError } from "../errors.js";
import type { Pool } from "../pool.js";
import { version } from "../version.js";
import type { ChannelHub } from "../channel/hub.js";
import type { Notifier } from "../notify/notifier.js";
import type { Scheduler } from "../schedule/scheduler.js";
import { addChannelMethods } from "./channel-methods.js";
import { addNotifyMethods, notifyStatus } from "./notify-methods.js";
import type { Peer } from "./peer.js";
import { MethodRegistry } from "./registry.js";
import { addScheduleMethods } from "./schedule-methods.js";
import {
  endedTurn,
  idParams,
  noParams,
  screen,
  sessionInfo,
  sessionRef,
  signalList,
  spawnParams,
  turn,
} from "./schemas.js";

export interface RequestContext {
  peer: Peer;
  caller: Caller;
}

type Id = { id: string };

const ok = { type: "object", properties: {} } as const;
const str = { type: "string" } as const;
const object = (properties: Record<string, unknown>) => ({ type: "object", properties });

/** The control protocol of DESIGN.md: every method and signal, for every transport. */
export function createControlRegistry(
  pool: Pool,
  tokens: TokenStore | null = null,
  hub: ChannelHub<Peer> | null = null,
  notifier: Notifier | null = null,
  scheduler: Scheduler<Peer> | null = null,
): MethodRegistry<RequestContext> {
  const registry = new MethodRegistry<RequestContext>();
  const checkSignals = (names: string[] | undefined): string[] => {
    const known = registry.signalNames();
    const unknown = (names ?? []).filter((n) => !known.includes(n));
    if (unknown.length > 0) {
      throw new PoolError(
        ErrorCode.InvalidParams,
        `unknown signal ${unknown.map((n) => `"${n}"`).join(", ")}; signals are ${known.join(", ")}`,
      );
    }
    return names ?? known;
  };

  registry
    .signal("session.changed", {
      description: "A session changed state, conversation or dialog.",
      params: { type: "object", properties: { session: sessionInfo, seq: { type: "integer" } } },
    })
    .signal("session.removed", {
      description: "A session was removed from the pool.",
      params: { type: "object", properties: { id: { type: "string" }, seq: { type: "integer" } } },
    })
    .signal("turn.started", {
      description: "A conversation's turn started (a message, typed or through the channel).",
      params: object({ id: str, turn }),
    })
    .signal("turn.delta", {
      description: "Reply text of the turn in progress, as claude shows it.",
      params: object({ id: str, turnId: str, text: str }),
    })
    .signal("turn.ended", {
      description:
        "A turn ended: done, failed or interrupted, with the first 2,000 characters of its reply.",
      params: object({ id: str, turn: endedTurn }),
    })
    .signal("session.output", {
      description:
        "PTY output of an attached session (or of every session for subscribers). With resync, " +
        "data redraws the whole screen because the client fell behind.",
      params: {
        type: "object",
        properties: {
          id: { type: "string" },
          data: { type: "string" },
          resync: { type: "boolean" },
          seq: { type: "integer" },
        },
      },
    });

  registry
    .method("pool.status", {
      scope: "read",
      description: "Pool health: uptime, active sessions, memory.",
      params: noParams,
      result: {
        type: "object",
        properties: {
          status: { const: "ok" },
          version: { type: "string" },
          pid: { type: "integer" },
          uptimeSeconds: { type: "integer" },
          active: { type: "integer" },
          maxSessions: { type: "integer" },
          sessions: { type: "integer" },
          memoryBytes: { type: "integer" },
          notify: notifyStatus,
        },
      },
      handler: (_params, { caller }) => ({
        ...pool.status(),
        version,
        pid: process.pid,
        ...(notifier ? { notify: notifier.status(hasScope(caller.scopes, "admin")) } : {}),
      }),
    })
    .method("pool.shutdown", {
      scope: "admin",
      description:
        "Stops every session and the pool (under systemd it stays stopped until started again).",
      params: noParams,
      result: object({ stopping: { type: "boolean" } }),
      handler: () => {
        setImmediate(() => pool.emit("shutdown.requested"));
        return { stopping: true };
      },
    })
    .method("pool.config", {
      scope: "read",
      description:
        "The resolved config the pool runs with; below admin, env values and other secrets redacted.",
      params: noParams,
      result: { type: "object" },
      handler: (_params, { caller }) =>
        hasScope(caller.scopes, "admin")
          ? pool.currentConfig()
          : redactSecrets(pool.currentConfig()),
    })
    .method("pool.introspect", {
      scope: "read",
      description: "Every method and signal with its JSON Schema.",
      params: noParams,
      result: {
        type: "object",
        properties: { methods: { type: "array" }, signals: { type: "array" } },
      },
      handler: () => registry.introspect(),
    })
    .method<{ signals?: string[] }, { signals: string[] }>("pool.subscribe", {
      scope: "read",
      description: "Receive signals on this connection; each carries a per-connection seq.",
      params: { type: "object", additionalProperties: false, properties: { signals: signalList } },
      result: { type: "object", properties: { signals: signalList } },
      handler: ({ signals }, { peer }) => {
        peer.subscribe(checkSignals(signals));
        return { signals: peer.subscribed() };
      },
    })
    .method<{ signals?: string[] }, { signals: string[] }>("pool.unsubscribe", {
      scope: "read",
      description: "Stop receiving signals (all when none are named).",
      params: { type: "object", additionalProperties: false, properties: { signals: signalList } },
      result: { type: "object", properties: { signals: signalList } },
      handler: ({ signals }, { peer }) => {
        peer.unsubscribe(checkSignals(signals));
        return { signals: peer.subscribed() };
      },
    })
    .method("session.list", {
      scope: "read",
      description: "Every session in the pool.",
      params: noParams,
      result: { type: "array", items: sessionInfo },
      handler: () => pool.list(),
    })
    .method<Id, unknown>("session.get", {
      scope: "read",
      description: "One session.",
      params: idParams,
      result: sessionInfo,
      handler: ({ id }) => pool.get(id),
    })
    .method<SessionSettings, unknown>("session.spawn", {
      scope: "control",
      description: "Create a session and start it; it starts from the config's defaults.",
      params: spawnParams,
      result: sessionInfo,
      handler: (settings) => pool.spawn(settings),
    })
    .method<Id, unknown>("session.kill", {
      scope: "control",
      description: "Stop a session (SIGTERM, then SIGKILL after stopTimeoutSeconds).",
      params: idParams,
      result: sessionInfo,
      handler: ({ id }) => pool.kill(id),
    })
    .method<Id, unknown>("session.resume", {
      scope: "control",
      description: "Start a stopped, crashed or failed session again, resuming its conversation.",
      params: idParams,
      result: sessionInfo,
      handler: ({ id }) => pool.resume(id),
    })
    .method<Id, { removed: string }>("session.remove", {
      scope: "control",
      description: "Remove a stopped or failed session from the pool.",
      params: idParams,
      result: { type: "object", properties: { removed: { type: "string" } } },
      handler: ({ id }) => ({ removed: pool.remove(id) }),
    })
    .method<Id & { text: string; raw: boolean; submit: boolean }, object>("session.send", {
      scope: "control",
      description:
        "Type text into the session: pasted (bracketed paste when claude enabled it), then Enter " +
        "as a separate read unless submit is false. With raw, the text goes to the PTY as is.",
      params: {
        type: "object",
        additionalProperties: false,
        required: ["id", "text"],
        properties: {
          id: sessionRef,
          text: { type: "string", maxLength: 1 << 19 },
          raw: { type: "boolean", default: false },
          submit: { type: "boolean", default: true },
        },
      },
      result: ok,
      handler: async ({ id, text, raw, submit }) => {
        await pool.send(id, text, { raw, submit });
        return {};
      },
    })
    .method<Id & { readOnly: boolean; binary: boolean }, unknown>("session.attach", {
      scope: "read",
      description:
        "Returns the screen and scrollback as escape sequences that redraw them exactly; then " +
        "session.output signals stream live output to this connection. With binary, live output " +
        "comes as the bytes claude wrote instead: a binary WebSocket frame, or on the Unix " +
        "socket a record [0x00][length u32 BE] between the lines, each holding " +
        "[id length u8][id][bytes]; a resync still comes as a session.output signal.",
      params: {
        type: "object",
        additionalProperties: false,
        required: ["id"],
        properties: {
          id: sessionRef,
          readOnly: { type: "boolean", default: false },
          binary: { type: "boolean", default: false },
        },
      },
      result: screen,
      handler: async ({ id, readOnly, binary }, { peer, caller }) => {
        if (!readOnly && !hasScope(caller.scopes, "control")) {
          throw new PoolError(
            ErrorCode.Unauthorized,
            'a writable attach needs the "control" scope; attach with readOnly: true',
          );
        }
        const session = pool.find(id);
        const snapshot = await peer.attach(session.id, readOnly, binary);
        return { id: session.id, readOnly, binary, ...snapshot };
      },
    })
    .method<Id, { detached: boolean }>("session.detach", {
      scope: "read",
      description: "Stop streaming a session's output to this connection.",
      params: idParams,
      result: { type: "object", properties: { detached: { type: "boolean" } } },
      handler: ({ id }, { peer }) => ({ detached: peer.detach(pool.find(id).id) }),
    })
    .method<Id & { cols: number; rows: number }, { cols: number; rows: number }>("session.resize", {
      scope: "control",
      description: "Set the session's terminal size.",
      params: {
        type: "object",
        additionalProperties: false,
        required: ["id", "cols", "rows"],
        properties: {
          id: sessionRef,
          cols: { type: "integer", minimum: 2, maximum: 1000 },
          rows: { type: "integer", minimum: 2, maximum: 1000 },
        },
      },
      result: {
        type: "object",
        properties: { cols: { type: "integer" }, rows: { type: "integer" } },
      },
      handler: ({ id, cols, rows }) => {
        pool.resize(id, cols, rows);
        return { cols, rows };
      },
    })
    .method<Id & { limit?: number }, unknown>("session.transcript", {
      scope: "read",
      description:
        "The conversation from claude's own transcript, oldest first: user and assistant text, " +
        "tool calls with their inputs and results, times. With limit, the last entries.",
      params: {
        type: "object",
        additionalProperties: false,
        required: ["id"],
        properties: { id: sessionRef, limit: { type: "integer", minimum: 1 } },
      },
      result: {
        type: "object",
        properties: {
          id: str,
          claudeSessionId: str,
          entries: {
            type: "array",
            items: object({
              role: { enum: ["user", "assistant"] },
              text: str,
              tools: { type: "array" },
              time: { type: ["string", "null"] },
            }),
          },
        },
      },
      handler: ({ id, limit }) => {
        const session = pool.find(id);
        const entries = session.transcript(limit);
        return { id: session.id, claudeSessionId: session.info().claudeSessionId, entries };
      },
    })
    .method<Id & { lines?: number }, { id: string; lines: string[] }>("session.logs", {
      scope: "read",
      description: "The screen and scrollback as plain text lines, oldest first.",
      params: {
        type: "object",
        additionalProperties: false,
        required: ["id"],
        properties: { id: sessionRef, lines: { type: "integer", minimum: 1 } },
      },
      result: {
        type: "object",
        properties: { id: { type: "string" }, lines: { type: "array", items: { type: "string" } } },
      },
      handler: async ({ id, lines }) => {
        const session = pool.find(id);
        const text = await session.text();
        return { id: session.id, lines: lines === undefined ? text : text.slice(-lines) };
      },
    });
  if (tokens) addTokenMethods(registry, tokens);
  if (hub) addChannelMethods(registry, hub);
  if (notifier) addNotifyMethods(registry, notifier);
  if (scheduler) addScheduleMethods(registry, scheduler);
  return registry;
}

const tokenInfo = {
  type: "object",
  properties: {
    id: { type: "string" },
    name: { type: "string" },
    scopes: { type: "array", items: { enum: [...scopeNames] } },
    createdAt: { type: "string" },
  },
};

function addTokenMethods(registry: MethodRegistry<RequestContext>, tokens: TokenStore): void {
  const secret = { type: "object", properties: { token: { type: "string" } } };
  registry
    .method("token.show", {
      scope: "admin",
      description: "The main token of the remote API (all scopes).",
      params: noParams,
      result: secret,
      handler: () => ({ token: tokens.mainToken() }),
    })
    .method("token.rotate", {
      scope: "admin",
      description: "Replace the main token; the old one stops working.",
      params: noParams,
      result: secret,
      handler: () => ({ token: tokens.rotate() }),
    })
    .method<{ name: string; scopes: Scope[] }, unknown>("token.create", {
      scope: "admin",
      description: "Make an extra token with some scopes; its secret is shown only now.",
      params: {
        type: "object",
        additionalProperties: false,
        required: ["name", "scopes"],
        properties: {
          name: { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$" },
          scopes: { type: "array", minItems: 1, items: { enum: [...scopeNames] } },
        },
      },
      result: { type: "object", properties: { token: { type: "string" }, info: tokenInfo } },
      handler: ({ name, scopes }) => tokens.create(name, scopes),
    })
    .method("token.list", {
      scope: "admin",
      description: "Every token, without secrets.",
      params: noParams,
      result: { type: "array", items: tokenInfo },
      handler: () => tokens.list(),
    })
    .method<Id, unknown>("token.revoke", {
      scope: "admin",
      description: "Revoke an extra token by id or name.",
      params: {
        type: "object",
        additionalProperties: false,
        required: ["id"],
        properties: { id: { type: "string", minLength: 1 } },
      },
      result: tokenInfo,
      handler: ({ id }) => tokens.revoke(id),
    });
}
