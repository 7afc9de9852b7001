import { randomBytes } from "node:crypto";
import { EventEmitter } from "node:events";
import type { Cron } from "croner";
import type { ChannelHub } from "../channel/hub.js";
import type { LedgerEntry } from "../channel/ledger.js";
import type { PoolConfig, ScheduleSettings } from "../config/types.js";
import { ErrorCode, PoolError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Pool } from "../pool.js";
import type { Session } from "../session/session.js";
import { isActive } from "../session/status.js";
import { compile, nextAfter, plan, timingProblem } from "./plan.js";
import type { ScheduleRun, ScheduleStore } from "./store.js";

/** schedule.list's view of a schedule. */
export type ScheduleInfo = ScheduleSettings & {
  source: "config" | "runtime";
  nextRunAt: string | null;
  lastRun: ScheduleRun | null;
};

export interface SchedulerOptions {
  config: () => PoolConfig;
  store: ScheduleStore;
  log: Logger;
  /** The wall clock in ms (default Date.now). */
  now?: () => number;
}

interface Active {
  settings: ScheduleSettings;
  source: "config" | "runtime";
  cron: Cron;
  /** Cron and time zone as one key: a cursor planned under other timing is not this one's. */
  timing: string;
}

interface SchedulerEvents {
  fired: [name: string, messageId: string];
  /** A run was recorded or changed. */
  run: [run: ScheduleRun];
}

/** The longest the scheduler sleeps: a clock set forward or back is noticed within it. */
const maxSleepMs = 60_000;
const replyChars = 2000;

/**
 * Sends each schedule's message when its cron expression says, as a ledger message (channel.send's
 * path), and records every run with its outcome and reply. When to fire is plan.ts's: by a
 * cursor kept in the store, so a restart, a clock jump or DST neither repeats a run nor skips
 * one without a record saying so.
 */
export class Scheduler<Client extends object> extends EventEmitter<SchedulerEvents> {
  private readonly schedules = new Map<string, Active>();
  /** Runs whose message has not been answered yet, by message id. */
  private readonly open = new Map<string, ScheduleRun>();
  private timer: NodeJS.Timeout | null = null;
  private lastTick: number | null = null;
  private closed = false;
  private readonly now: () => number;

  constructor(
    private readonly pool: Pool,
    private readonly hub: ChannelHub<Client>,
    private readonly options: SchedulerOptions,
  ) {
    super();
    this.now = options.now ?? Date.now;
    const { store } = options;
    for (const run of store.names().flatMap((name) => store.history(name))) {
      if (run.messageId && (run.status === "queued" || run.status === "delivered")) {
        this.open.set(run.messageId, { ...run });
      }
    }
    hub.on("message", (entry) => this.onMessage(entry));
  }

  /**
   * Takes up the schedules of the config and those added at run time. Runs that fell due while
   * the pool was down run once now with catchUp, else are recorded as missed.
   */
  start(): void {
    this.load();
    const now = this.now();
    for (const schedule of this.schedules.values()) this.afterDowntime(schedule, now);
    this.arm();
  }

  /** A reloaded config: its schedules from now on; those it dropped are forgotten. */
  reconfigure(): void {
    this.load();
    this.arm();
  }

  /** Stops firing. */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.closed = true;
  }

  list(): ScheduleInfo[] {
    return [...this.schedules.values()].map((s) => this.info(s));
  }

  /** schedule.add: a schedule kept in the state dir; its first run is its next occurrence. */
  add(settings: ScheduleSettings): ScheduleInfo {
    const { name } = settings;
    const existing = this.schedules.get(name);
    if (existing) {
      const where = existing.source === "config" ? "in the config" : "added at run time";
      throw new PoolError(
        ErrorCode.InvalidParams,
        `a schedule named "${name}" exists already (${where}); remove it first or choose another name`,
      );
    }
    const problem = timingProblem(settings);
    if (problem) throw new PoolError(ErrorCode.InvalidParams, `schedule ${name}: ${problem}`);
    if (settings.session !== undefined) this.pool.find(settings.session);
    this.options.store.define(settings);
    this.options.store.forget(name);
    const schedule = this.activate(settings, "runtime");
    this.options.log.info(`schedule ${name}: added (${settings.cron})`);
    this.arm();
    return this.info(schedule);
  }

  remove(name: string): void {
    const schedule = this.find(name);
    if (schedule.source === "config") {
      throw new PoolError(
        ErrorCode.InvalidState,
        `schedule ${name} is in the config file; remove it there and reload the pool ` +
          '("systemctl --user reload claude-pool")',
      );
    }
    this.options.store.undefine(name);
    this.options.store.forget(name);
    this.schedules.delete(name);
    this.options.log.info(`schedule ${name}: removed`);
    this.arm();
  }

  /** schedule.run: one run now, outside the cron expression (overlap still applies). */
  run(name: string): ScheduleRun {
    return this.fire(this.find(name), "manual", null, null);
  }

  history(name: string, limit: number): ScheduleRun[] {
    const runs = this.options.store.history(name);
    if (runs.length === 0) this.find(name);
    return runs.slice(-limit);
  }

  private find(name: string): Active {
    const schedule = this.schedules.get(name);
    if (schedule) return schedule;
    throw new PoolError(
      ErrorCode.InvalidParams,
      `no schedule "${name}"; list them with "claude-poolctl schedule list"`,
    );
  }

  private info(schedule: Active): ScheduleInfo {
    const cursor = this.cursorOf(schedule) ?? this.now();
    const next = nextAfter(schedule.cron, Math.max(cursor, this.now()));
    return {
      ...schedule.settings,
      source: schedule.source,
      nextRunAt: next === null ? null : new Date(next).toISOString(),
      lastRun: this.options.store.history(schedule.settings.name).at(-1) ?? null,
    };
  }

  /** The config's schedules and the run-time ones; state of those gone is forgotten. */
  private load(): void {
    const { store, log } = this.options;
    const wanted = new Map<string, { settings: ScheduleSettings; source: Active["source"] }>();
    for (const settings of this.options.config().schedules) {
      wanted.set(settings.name, { settings, source: "config" });
    }
    for (const settings of store.definitions()) {
      if (wanted.has(settings.name)) {
        log.warn(
          `schedule ${settings.name}: the config has one of this name, which is used; remove ` +
            `the one added at run time with "claude-poolctl schedule rm ${settings.name}"`,
        );
        continue;
      }
      wanted.set(settings.name, { settings, source: "runtime" });
    }
    this.schedules.clear();
    for (const { settings, source } of wanted.values()) {
      try {
        this.activate(settings, source);
      } catch (err) {
        log.error(`schedule ${settings.name}: not used: ${(err as Error).message}`);
      }
    }
    for (const name of store.names()) if (!wanted.has(name)) store.forget(name);
  }

  private activate(settings: ScheduleSettings, source: Active["source"]): Active {
    const timing = `${settings.cron}\0${settings.timezone ?? ""}`;
    const schedule = { settings, source, cron: compile(settings), timing };
    this.schedules.set(settings.name, schedule);
    if (this.cursorOf(schedule) === null) {
      this.options.store.setCursor(settings.name, { at: this.now(), timing });
    }
    return schedule;
  }

  /** The occurrence the schedule last ran for, unless its timing changed since. */
  private cursorOf(schedule: Active): number | null {
    const cursor = this.options.store.cursor(schedule.settings.name);
    return cursor && cursor.timing === schedule.timing ? cursor.at : null;
  }

  private afterDowntime(schedule: Active, now: number): void {
    const { name, catchUp } = schedule.settings;
    const p = plan(schedule.cron, this.cursorOf(schedule), now);
    if (p.due) {
      const count = p.due.missed + 1;
      const last = new Date(p.due.occurrence).toISOString();
      const what = `${count} run${count === 1 ? "" : "s"} fell due while the pool was down (the last for ${last})`;
      if (catchUp) {
        this.fire(schedule, "catchUp", p.due.occurrence, `${what}; ran once (catchUp)`);
      } else {
        this.options.log.info(`schedule ${name}: ${what}; not run, catchUp is off`);
        this.save({
          ...this.newRun(schedule, "cron", p.due.occurrence),
          status: "missed",
          note: `${what}; not run (catchUp is off)`,
        });
      }
    }
    this.options.store.setCursor(name, { at: p.cursor, timing: schedule.timing });
  }

  /** Sleeps until the next occurrence of any schedule, or maxSleepMs. */
  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.closed) return;
    const now = this.now();
    let wake = now + maxSleepMs;
    for (const schedule of this.schedules.values()) {
      const next = nextAfter(schedule.cron, this.cursorOf(schedule) ?? now);
      if (next !== null) wake = Math.min(wake, next);
    }
    this.timer = setTimeout(() => this.tick(), Math.max(0, wake - now));
    this.timer.unref();
  }

  private tick(): void {
    this.timer = null;
    const now = this.now();
    if (this.lastTick !== null && now < this.lastTick - 1000) {
      this.options.log.warn(
        `the clock went back by ${Math.round((this.lastTick - now) / 1000)} s; runs made for ` +
          "the times it shows again are not made twice",
      );
    }
    this.lastTick = now;
    for (const schedule of this.schedules.values()) {
      try {
        this.due(schedule, now);
      } catch (err) {
        const problem = (err as Error).stack ?? String(err);
        this.options.log.error(`schedule ${schedule.settings.name}: ${problem}`);
      }
    }
    this.arm();
  }

  private due(schedule: Active, now: number): void {
    const cursor = this.cursorOf(schedule);
    const p = plan(schedule.cron, cursor, now);
    if (p.due) {
      const { missed } = p.due;
      const note =
        missed === 0
          ? null
          : `${missed} earlier run${missed === 1 ? "" : "s"} passed without running (the ` +
            "clock jumped forward, or the machine slept); ran once for the latest";
      this.fire(schedule, "cron", p.due.occurrence, note);
    }
    if (p.cursor !== cursor) {
      this.options.store.setCursor(schedule.settings.name, {
        at: p.cursor,
        timing: schedule.timing,
      });
    }
  }

  private newRun(schedule: Active, trigger: ScheduleRun["trigger"], occurrence: number | null) {
    const runs = this.options.store.history(schedule.settings.name);
    const run: ScheduleRun = {
      name: schedule.settings.name,
      run: (runs.at(-1)?.run ?? 0) + 1,
      trigger,
      scheduledFor: occurrence === null ? null : new Date(occurrence).toISOString(),
      firedAt: new Date(this.now()).toISOString(),
      status: "failed",
      sessionId: null,
      sessionName: null,
      spawned: false,
      messageId: null,
      reply: null,
      repliedAt: null,
      note: null,
    };
    return run;
  }

  /** One run: skipped when the previous one is still busy (overlap "skip"), else a message. */
  private fire(
    schedule: Active,
    trigger: ScheduleRun["trigger"],
    occurrence: number | null,
    note: string | null,
  ): ScheduleRun {
    const { name, overlap, message, delivery } = schedule.settings;
    const run = { ...this.newRun(schedule, trigger, occurrence), note };
    const busy = this.busyRun(schedule);
    if (busy && overlap === "skip") {
      run.status = "skipped";
      run.note = joined(note, `run ${busy.run} has no reply yet (overlap: skip)`);
      this.options.log.info(`schedule ${name}: run ${run.run} skipped, ${run.note}`);
      return this.save(run);
    }
    try {
      const session = this.target(schedule, run);
      const meta = { schedule: name, run: String(run.run) };
      const origin = { from: `schedule:${name}`, client: null };
      const entry = this.hub.send(session.id, message, meta, origin, delivery ?? null);
      Object.assign(run, { status: entry.state, messageId: entry.messageId });
      this.open.set(entry.messageId, run);
      this.save(run);
      this.options.log.info(
        `schedule ${name}: run ${run.run} sent to session ${session.name} (message ${entry.messageId})`,
      );
      this.emit("fired", name, entry.messageId);
    } catch (err) {
      run.status = "failed";
      run.note = joined(note, (err as Error).message);
      this.options.log.warn(`schedule ${name}: run ${run.run} failed: ${(err as Error).message}`);
      this.save(run);
    }
    return run;
  }

  /** The session the run's message goes to: the named one, or a fresh one for `spawn`. */
  private target(schedule: Active, run: ScheduleRun): Session {
    const { name, session: named, spawn } = schedule.settings;
    if (named !== undefined) {
      const session = this.pool.find(named);
      Object.assign(run, { sessionId: session.id, sessionName: session.name });
      return session;
    }
    let sessionName = `${name}-${run.run}`;
    if (this.pool.list().some((s) => s.name === sessionName)) {
      sessionName += `-${randomBytes(2).toString("hex")}`;
    }
    const info = this.pool.spawn({ ...spawn, name: sessionName });
    Object.assign(run, { sessionId: info.id, sessionName: info.name, spawned: true });
    if (info.status === "failed") throw new Error(`session ${info.name} failed: ${info.reason}`);
    return this.pool.find(info.id);
  }

  /** The previous run, while its target still works on it (or its message still waits). */
  private busyRun(schedule: Active): ScheduleRun | null {
    const runs = this.options.store.history(schedule.settings.name);
    const last = [...runs].reverse().find((r) => r.messageId !== null);
    if (!last || (last.status !== "queued" && last.status !== "delivered")) return null;
    if (last.status === "queued") return last;
    const session = this.session(last.sessionId);
    // After a restart a delivered message may never get its reply: an idle session is not busy.
    const working = session?.status === "running" && session.conversation.activity !== "idle";
    return working ? last : null;
  }

  private onMessage(entry: LedgerEntry): void {
    const run = this.open.get(entry.messageId);
    if (!run) return;
    run.status = entry.state;
    const finished = entry.state === "replied" || entry.state === "failed";
    if (finished) {
      this.open.delete(entry.messageId);
      const reply = entry.replies.at(-1)?.text;
      run.reply = reply === undefined ? null : reply.slice(0, replyChars);
      run.repliedAt = entry.repliedAt;
      if (entry.state === "failed") run.note = joined(run.note, entry.note);
    }
    this.save(run);
    if (finished && run.spawned) void this.finishSpawned(run);
  }

  /** A spawned run's session is stopped once it answered; sessions past keepRuns are removed. */
  private async finishSpawned(run: ScheduleRun): Promise<void> {
    const { log } = this.options;
    try {
      const session = this.session(run.sessionId);
      if (session && isActive(session.status)) await this.pool.kill(session.id);
      const schedule = this.schedules.get(run.name);
      if (!schedule) return;
      const spawned = this.options.store.history(run.name).filter((r) => r.spawned);
      for (const old of spawned.slice(
        0,
        Math.max(0, spawned.length - schedule.settings.keepRuns),
      )) {
        const stale = this.session(old.sessionId);
        if (!stale || (isActive(stale.status) && this.open.has(old.messageId ?? ""))) continue;
        if (isActive(stale.status)) await this.pool.kill(stale.id);
        this.pool.remove(stale.id);
        log.info(
          `schedule ${run.name}: removed session ${stale.name} of run ${old.run} (keepRuns)`,
        );
      }
    } catch (err) {
      log.warn(`schedule ${run.name}: tidying run ${run.run}'s session: ${(err as Error).message}`);
    }
  }

  private save(run: ScheduleRun): ScheduleRun {
    this.options.store.saveRun(run);
    this.emit("run", { ...run });
    return run;
  }

  private session(id: string | null): Session | null {
    if (id === null) return null;
    try {
      return this.pool.find(id);
    } catch {
      return null;
    }
  }
}

function joined(a: string | null, b: string | null): string | null {
  return [a, b].filter((x) => x !== null && x !== "").join("; ") || null;
}
