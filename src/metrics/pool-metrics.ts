import { collectDefaultMetrics, Counter, Gauge, Registry } from "prom-client";
import type { ChannelHub, PromptSource } from "../channel/hub.js";
import type { Pool } from "../pool.js";
import { hookEvents } from "../hooks/settings.js";
import type { Activity } from "../session/evidence.js";
import type { SessionStatus } from "../session/status.js";
import { version } from "../version.js";
import { crashKinds, tally, type Seen } from "./session-tally.js";

const statuses = Object.keys({
  starting: 0,
  running: 0,
  stopping: 0,
  stopped: 0,
  crashed: 0,
  failed: 0,
} satisfies Record<SessionStatus, 0>) as SessionStatus[];

const activities = Object.keys({
  starting: 0,
  idle: 0,
  busy: 0,
  waiting: 0,
} satisfies Record<Activity, 0>) as Activity[];

/** How a client is connected: the first word of its peer's label ("unix", "ws 10.0.0.2:5123", "rest"). */
export function transportOf(label: string): "unix" | "ws" | "rest" | "other" {
  const word = label.split(" ")[0];
  return word === "unix" || word === "ws" || word === "rest" ? word : "other";
}

/** A hook's event name as a label: one of those the pool installs, else "other". */
function hookLabel(name: unknown): string {
  return typeof name === "string" && (hookEvents as readonly string[]).includes(name)
    ? name
    : "other";
}

/** How a permission prompt ended, from the hub's (behavior, by). */
function decisionOf(behavior: string, by: string): string {
  if (by === "timeout") return "timeout";
  if (by === "channel closed") return "dropped";
  return behavior;
}

export interface MetricsSources<Client extends object> {
  pool: Pool;
  hub?: ChannelHub<Client> | null;
  /** The transports of the clients connected now ("unix", "ws …", "rest"). */
  clients?: () => string[];
}

/**
 * The pool's Prometheus metrics: gauges read from the pool when scraped, counters fed by its
 * events. Every label is bounded: session id and name, and enumerations (status, activity,
 * method, transport, path, state, decision, hook event); never text a client or claude wrote.
 */
export class PoolMetrics<Client extends object = object> {
  readonly registry = new Registry();
  private readonly seen = new Map<string, Seen>();
  private readonly names = new Map<string, string>();
  private readonly restarts: Counter<"id" | "name">;
  private readonly crashes: Counter<"id" | "name" | "reason">;
  private readonly rpcRequests: Counter<"method" | "transport">;
  private readonly rpcErrors: Counter<"method" | "transport" | "code">;
  private readonly hooks: Counter<"event">;

  constructor(sources: MetricsSources<Client>) {
    const { pool, hub } = sources;
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: "claude_pool_info",
      help: "The pool's version, as a label; always 1.",
      labelNames: ["version"],
      registers,
    }).set({ version }, 1);
    new Gauge({
      name: "claude_pool_sessions",
      help: "Sessions in the pool by status.",
      labelNames: ["status"],
      registers,
      collect() {
        const counts = new Map(statuses.map((s) => [s, 0]));
        for (const s of pool.list()) counts.set(s.status, (counts.get(s.status) ?? 0) + 1);
        for (const [status, n] of counts) this.set({ status }, n);
      },
    });
    new Gauge({
      name: "claude_pool_sessions_by_activity",
      help: "Sessions with a claude process by what it is doing: starting, idle, busy, waiting (for a person).",
      labelNames: ["activity"],
      registers,
      collect() {
        const counts = new Map(activities.map((a) => [a, 0]));
        for (const s of pool.list()) {
          if (s.activity !== null) counts.set(s.activity, (counts.get(s.activity) ?? 0) + 1);
        }
        for (const [activity, n] of counts) this.set({ activity }, n);
      },
    });
    new Gauge({
      name: "claude_pool_sessions_active",
      help: "Sessions holding a slot of maxSessions (starting, running, stopping or crashed).",
      registers,
      collect() {
        this.set(pool.status().active);
      },
    });
    new Gauge({
      name: "claude_pool_sessions_max",
      help: "maxSessions of the config in force.",
      registers,
      collect() {
        this.set(pool.status().maxSessions);
      },
    });
    new Gauge({
      name: "claude_pool_channels_connected",
      help: "Sessions whose channel server is connected to the pool.",
      registers,
      collect() {
        this.set(pool.list().filter((s) => s.channel).length);
      },
    });
    const perSession = (
      name: string,
      help: string,
      field: "memoryBytes" | "tasks",
    ): Gauge<"id" | "name"> =>
      new Gauge({
        name,
        help,
        labelNames: ["id", "name"],
        registers,
        collect() {
          this.reset();
          for (const s of pool.list()) {
            const value = s[field];
            if (value !== null) this.set({ id: s.id, name: s.name }, value);
          }
        },
      });
    perSession(
      "claude_pool_session_memory_bytes",
      "Memory of the session's systemd scope (absent without one).",
      "memoryBytes",
    );
    perSession(
      "claude_pool_session_tasks",
      "Tasks (processes and threads) in the session's systemd scope (absent without one).",
      "tasks",
    );
    new Counter({
      name: "claude_pool_session_cpu_seconds_total",
      help: "CPU time of the session's current systemd scope (starts again at each launch).",
      labelNames: ["id", "name"],
      registers,
      collect() {
        this.reset();
        for (const s of pool.list()) {
          if (s.cpuSeconds !== null) this.inc({ id: s.id, name: s.name }, s.cpuSeconds);
        }
      },
    });
    this.restarts = new Counter({
      name: "claude_pool_session_restarts_total",
      help: "Automatic restarts of a crashed session.",
      labelNames: ["id", "name"],
      registers,
    });
    this.crashes = new Counter({
      name: "claude_pool_session_crashes_total",
      help: "Crashes by reason: exit (a non-zero exit code), signal (killed by a signal the pool did not send), oom (its memory limit).",
      labelNames: ["id", "name", "reason"],
      registers,
    });
    this.rpcRequests = new Counter({
      name: "claude_pool_rpc_requests_total",
      help: 'Control protocol calls by method ("unknown" for a name no method has) and transport.',
      labelNames: ["method", "transport"],
      registers,
    });
    this.rpcErrors = new Counter({
      name: "claude_pool_rpc_errors_total",
      help: "Control protocol calls answered with an error, by method, transport and JSON-RPC error code.",
      labelNames: ["method", "transport", "code"],
      registers,
    });
    new Gauge({
      name: "claude_pool_clients",
      help: "Clients connected now, by transport.",
      labelNames: ["transport"],
      registers,
      collect() {
        const counts = new Map(["unix", "ws"].map((t) => [t, 0]));
        for (const label of sources.clients?.() ?? []) {
          const transport = transportOf(label);
          counts.set(transport, (counts.get(transport) ?? 0) + 1);
        }
        for (const [transport, n] of counts) this.set({ transport }, n);
      },
    });
    this.hooks = new Counter({
      name: "claude_pool_hook_events_total",
      help: "Calls of claude's hooks to the pool, by hook event.",
      labelNames: ["event"],
      registers,
    });

    pool.on("session.changed", (session) => {
      const { seen, restarted, crashed } = tally(this.seen.get(session.id), session);
      this.seen.set(session.id, seen);
      this.names.set(session.id, session.name);
      const labels = { id: session.id, name: session.name };
      if (restarted) this.restarts.inc(labels);
      if (crashed) this.crashes.inc({ ...labels, reason: crashed });
    });
    pool.on("session.removed", (id) => {
      const name = this.names.get(id);
      this.seen.delete(id);
      this.names.delete(id);
      if (name === undefined) return;
      this.restarts.remove({ id, name });
      for (const reason of crashKinds) this.crashes.remove({ id, name, reason });
    });
    if (hub) this.watchHub(hub);
  }

  /** A call of the control protocol was answered (see MethodRegistry.observe). */
  rpc(method: string | null, transport: string, errorCode: number | null): void {
    const labels = { method: method ?? "unknown", transport: transportOf(transport) };
    this.rpcRequests.inc(labels);
    if (errorCode !== null) this.rpcErrors.inc({ ...labels, code: String(errorCode) });
  }

  /** A hook of some session's claude called the pool. */
  hook(event: unknown): void {
    this.hooks.inc({ event: hookLabel(event) });
  }

  /** The exposition in Prometheus' text format. */
  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  private watchHub(hub: ChannelHub<Client>): void {
    const registers = [this.registry];
    const messages = new Counter({
      name: "claude_pool_messages_total",
      help: "channel.send messages entering each state (queued, delivered, replied), by the path that delivered them (channel, pty; none while queued).",
      labelNames: ["path", "state"],
      registers,
    });
    const prompts = new Counter({
      name: "claude_pool_permission_prompts_total",
      help: "Permission prompts ended, by decision (allow, deny, terminal: answered in claude's terminal, timeout, dropped: its channel closed) and source (hook, channel).",
      labelNames: ["decision", "source"],
      registers,
    });
    new Gauge({
      name: "claude_pool_permission_prompts_pending",
      help: "Permission prompts waiting for an answer.",
      registers,
      collect() {
        this.set(hub.pendingPrompts().length);
      },
    });
    const sources = new Map<string, PromptSource>();
    hub.on("message", (entry) => messages.inc({ path: entry.via ?? "none", state: entry.state }));
    hub.on("permission.request", (id, prompt, source) =>
      sources.set(`${id}\0${prompt.requestId}`, source),
    );
    hub.on("permission.resolved", (id, requestId, behavior, by) => {
      const key = `${id}\0${requestId}`;
      prompts.inc({ decision: decisionOf(behavior, by), source: sources.get(key) ?? "channel" });
      sources.delete(key);
    });
  }
}
