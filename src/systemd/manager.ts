import { existsSync } from "node:fs";
import { constants as osConstants } from "node:os";
import { join } from "node:path";
import dbus, { type Message, type MessageBus } from "dbus-next";
import { cgroup2CpuSeconds } from "./cgroup-cpu.js";
import { type ScopeOptions, scopeProperties } from "./scope-properties.js";
import { unitObjectPath } from "./unit-names.js";

const SYSTEMD = "org.freedesktop.systemd1";
const MANAGER_PATH = "/org/freedesktop/systemd1";
const MANAGER = "org.freedesktop.systemd1.Manager";
const SCOPE = "org.freedesktop.systemd1.Scope";
const UNIT = "org.freedesktop.systemd1.Unit";
const JOB = "org.freedesktop.systemd1.Job";
const PROPERTIES = "org.freedesktop.DBus.Properties";
const NO_SUCH_UNIT = "org.freedesktop.systemd1.NoSuchUnit";
/** KillUnit on a unit that has no process left. */
const NO_SUCH_PROCESS = "org.freedesktop.systemd1.NoSuchProcess";
/** (uint64)-1: how systemd says a counter is not available (no accounting, no such cgroup file). */
const NOT_AVAILABLE = 2n ** 64n - 1n;
/** Results remembered for units that are gone, for unitResult. */
const REMEMBERED_RESULTS = 1024;

export interface UnitUsage {
  memoryBytes: number | null;
  cpuSeconds: number | null;
  tasks: number | null;
}

export interface UnitSummary {
  name: string;
  description: string;
  /** "active", "activating", "deactivating", "inactive", "failed", … */
  activeState: string;
  subState: string;
}

export interface UnitProcess {
  pid: number;
  command: string;
  /** The process's cgroup, below the manager's root. */
  cgroup: string;
}

export type KillWho = "all" | "main" | "control";

export type ConnectResult = { manager: SystemdManager } | { manager: null; reason: string };

export interface ConnectOptions {
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

export interface CallOptions {
  /** How long to wait for the reply, and for the job where there is one. */
  timeoutMs?: number;
}

/** The address of the user bus: $DBUS_SESSION_BUS_ADDRESS, else $XDG_RUNTIME_DIR/bus if it exists. */
export function userBusAddress(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.DBUS_SESSION_BUS_ADDRESS) return env.DBUS_SESSION_BUS_ADDRESS;
  if (!env.XDG_RUNTIME_DIR) return null;
  const path = join(env.XDG_RUNTIME_DIR, "bus");
  return existsSync(path) ? `unix:path=${path}` : null;
}

/**
 * For unix:path=, dbus-next uses the native usocket module when it loads, and that socket lacks
 * FD_CLOEXEC: every session would inherit the pool's bus connection. Its own `unix:socket=` form
 * uses a net.Socket instead (close-on-exec; unix fd passing is not needed here).
 */
function plainSocketAddress(address: string): string {
  return address
    .split(";")
    .map((a) => a.replace(/^unix:(?:.*,)?path=([^,]*).*$/, "unix:socket=$1"))
    .join(";");
}

function errorType(err: unknown): string | null {
  return err instanceof dbus.DBusError ? err.type : null;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function counter(value: unknown): bigint | null {
  return typeof value === "bigint" && value !== NOT_AVAILABLE ? value : null;
}

/**
 * A client of the systemd user manager (org.freedesktop.systemd1 on the user bus): transient
 * scopes for sessions, their stop and kill, usage and result. Calls are answered or fail within
 * their timeout, also when the bus goes away.
 */
export class SystemdManager {
  private closedBecause: Error | null = null;
  private readonly pending = new Set<(err: Error) => void>();
  private readonly jobWaiters = new Map<string, (result: string) => void>();
  /** JobRemoved signals that can overtake the reply that names their job. */
  private readonly earlyJobs = new Map<string, string>();
  private jobCallsInFlight = 0;
  /** Object path → unit name, for the scopes started here. */
  private readonly watched = new Map<string, string>();
  /** Last Result seen for watched units, kept after systemd garbage-collects them. */
  private readonly results = new Map<string, string>();
  private systemdVersion = "";

  private constructor(
    private readonly bus: MessageBus,
    private readonly timeoutMs: number,
  ) {
    bus.on("error", (err: unknown) => this.fail(new Error(`user bus: ${message(err)}`)));
    bus.on("message", (msg: Message) => this.onMessage(msg));
  }

  /** Connects to the user manager; when none is reachable, says why instead of throwing. */
  static async connect(options: ConnectOptions = {}): Promise<ConnectResult> {
    const address = userBusAddress(options.env ?? process.env);
    if (!address) {
      return {
        manager: null,
        reason:
          "no user bus: DBUS_SESSION_BUS_ADDRESS is unset and $XDG_RUNTIME_DIR/bus is missing",
      };
    }
    let bus: MessageBus;
    try {
      bus = dbus.sessionBus({ busAddress: plainSocketAddress(address) });
    } catch (err) {
      return { manager: null, reason: `cannot use the user bus at ${address}: ${message(err)}` };
    }
    const manager = new SystemdManager(bus, options.timeoutMs ?? 5000);
    try {
      // Subscribe makes systemd emit PropertiesChanged for units, which carries scope results.
      await Promise.all([
        manager.addMatch(`interface='${MANAGER}',member='JobRemoved',path='${MANAGER_PATH}'`),
        manager.addMatch(
          `interface='${PROPERTIES}',member='PropertiesChanged',arg0='${SCOPE}',path_namespace='${MANAGER_PATH}/unit'`,
        ),
        manager.callManager("Subscribe", "", []),
      ]);
      const [version] = await manager.call(MANAGER_PATH, PROPERTIES, "Get", "ss", [
        MANAGER,
        "Version",
      ]);
      manager.systemdVersion = String((version as dbus.Variant).value);
      return { manager };
    } catch (err) {
      manager.close();
      return {
        manager: null,
        reason: `no systemd user manager on the user bus at ${address}: ${message(err)}`,
      };
    }
  }

  /** systemd's version, e.g. "252.38-1~deb12u1". */
  get version(): string {
    return this.systemdVersion;
  }

  close(): void {
    if (this.closedBecause) return;
    this.fail(new Error("the systemd manager connection is closed"));
    this.bus.disconnect();
  }

  /**
   * Makes a transient scope with the given processes and waits until its start job is done.
   * Throws with systemd's reason (e.g. UnitExists while a scope of that name is still loaded).
   */
  async startScope(name: string, options: ScopeOptions, call: CallOptions = {}): Promise<void> {
    const path = unitObjectPath(name);
    this.watched.set(path, name);
    this.results.delete(name);
    const result = await this.runJob(
      "StartTransientUnit",
      "ssa(sv)a(sa(sv))",
      [name, "fail", scopeProperties(options), []],
      call,
    );
    if (result !== "done") {
      this.watched.delete(path);
      throw new Error(`systemd did not start ${name}: job ${result}`);
    }
  }

  /** Sends a signal to the unit's processes; a unit that is gone or has none left is success. */
  async killUnit(
    name: string,
    signal: NodeJS.Signals | number,
    who: KillWho = "all",
    call: CallOptions = {},
  ): Promise<void> {
    const signo = typeof signal === "number" ? signal : osConstants.signals[signal];
    try {
      await this.callManager("KillUnit", "ssi", [name, who, signo], call.timeoutMs);
    } catch (err) {
      const type = errorType(err);
      if (type !== NO_SUCH_UNIT && type !== NO_SUCH_PROCESS) throw err;
    }
  }

  /**
   * Stops the unit (SIGTERM, then SIGKILL after its stop timeout) and waits for the job; a unit
   * that is not loaded is success. The default wait outlasts systemd's default stop timeout.
   */
  async stopUnit(name: string, call: CallOptions = {}): Promise<void> {
    try {
      const result = await this.runJob("StopUnit", "ss", [name, "replace"], {
        timeoutMs: call.timeoutMs ?? 120_000,
      });
      if (result !== "done") throw new Error(`systemd did not stop ${name}: job ${result}`);
    } catch (err) {
      if (errorType(err) !== NO_SUCH_UNIT) throw err;
    }
  }

  /** Memory, CPU time and task count of a loaded unit; null when it is not loaded. */
  async unitUsage(name: string): Promise<UnitUsage | null> {
    const path = await this.unitPath(name);
    if (!path) return null;
    const [memory, cpu, tasks, controlGroup] = await Promise.all(
      ["MemoryCurrent", "CPUUsageNSec", "TasksCurrent", "ControlGroup"].map((p) =>
        this.scopeProperty(path, p),
      ),
    );
    const cpuNsec = counter(cpu);
    return {
      memoryBytes: toNumber(counter(memory)),
      cpuSeconds:
        cpuNsec !== null
          ? Number(cpuNsec) / 1e9
          : typeof controlGroup === "string" && controlGroup !== ""
            ? cgroup2CpuSeconds(controlGroup)
            : null,
      tasks: toNumber(counter(tasks)),
    };
  }

  /**
   * The scope's Result ("success", "oom-kill", "timeout", "signal", …): read from the unit while
   * it is loaded, else the last one seen before systemd collected a scope started here; null if
   * neither.
   */
  async unitResult(name: string): Promise<string | null> {
    const path = await this.unitPath(name);
    if (path) {
      const result = await this.scopeProperty(path, "Result");
      if (typeof result === "string") return result;
    }
    return this.results.get(name) ?? null;
  }

  /** Loaded units whose names match the glob (e.g. "claude-pool-*.scope"), in any state. */
  async listUnits(pattern: string): Promise<UnitSummary[]> {
    const [units] = await this.callManager("ListUnitsByPatterns", "asas", [[], [pattern]]);
    return (units as string[][]).map(([name, description, , activeState, subState]) => ({
      name,
      description,
      activeState,
      subState,
    }));
  }

  /**
   * The type of the job queued for the unit that holds `pid` ("stop", "restart", …), or null when
   * none is: how a service told to stop learns whether it is being restarted.
   */
  async pendingJobOf(pid: number): Promise<string | null> {
    const [unit] = await this.callManager("GetUnitByPID", "u", [pid]);
    const [job] = await this.call(unit as string, PROPERTIES, "Get", "ss", [UNIT, "Job"]);
    const [id, path] = (job as dbus.Variant).value as [number, string];
    if (id === 0) return null;
    const [type] = await this.call(path, PROPERTIES, "Get", "ss", [JOB, "JobType"]);
    return (type as dbus.Variant).value as string;
  }

  /** The processes in a unit's cgroup; empty when it is not loaded. */
  async unitProcesses(name: string): Promise<UnitProcess[]> {
    try {
      const [procs] = await this.callManager("GetUnitProcesses", "s", [name]);
      return (procs as [string, number, string][]).map(([cgroup, pid, command]) => ({
        pid,
        command,
        cgroup,
      }));
    } catch (err) {
      if (errorType(err) === NO_SUCH_UNIT) return [];
      throw err;
    }
  }

  private async unitPath(name: string): Promise<string | null> {
    try {
      const [path] = await this.callManager("GetUnit", "s", [name]);
      return path as string;
    } catch (err) {
      if (errorType(err) === NO_SUCH_UNIT) return null;
      throw err;
    }
  }

  private async scopeProperty(path: string, property: string): Promise<unknown> {
    const [variant] = await this.call(path, PROPERTIES, "Get", "ss", [SCOPE, property]);
    return (variant as dbus.Variant).value;
  }

  private callManager(
    member: string,
    signature: string,
    body: unknown[],
    timeoutMs?: number,
  ): Promise<unknown[]> {
    return this.call(MANAGER_PATH, MANAGER, member, signature, body, timeoutMs);
  }

  private addMatch(rule: string): Promise<unknown[]> {
    return this.call("/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch", "s", [
      `type='signal',sender='${SYSTEMD}',${rule}`,
    ]);
  }

  private call(
    path: string,
    iface: string,
    member: string,
    signature: string,
    body: unknown[],
    timeoutMs = this.timeoutMs,
  ): Promise<unknown[]> {
    if (this.closedBecause) return Promise.reject(this.closedBecause);
    const destination = iface === "org.freedesktop.DBus" ? "org.freedesktop.DBus" : SYSTEMD;
    const msg = new dbus.Message({ destination, path, interface: iface, member, signature, body });
    return this.settleWithin(`${member} (${path})`, timeoutMs, (resolve, reject) => {
      this.bus.call(msg).then((reply) => resolve(reply?.body ?? []), reject);
    });
  }

  /** Calls a Manager method that returns a job and waits for the job's JobRemoved result. */
  private async runJob(
    member: string,
    signature: string,
    body: unknown[],
    call: CallOptions,
  ): Promise<string> {
    const timeoutMs = call.timeoutMs ?? this.timeoutMs;
    this.jobCallsInFlight++;
    try {
      const [job] = (await this.callManager(member, signature, body, timeoutMs)) as [string];
      const early = this.earlyJobs.get(job);
      if (early !== undefined) {
        this.earlyJobs.delete(job);
        return early;
      }
      return await this.settleWithin<string>(`${member} job ${job}`, timeoutMs, (resolve) => {
        this.jobWaiters.set(job, resolve);
      }).finally(() => this.jobWaiters.delete(job));
    } finally {
      if (--this.jobCallsInFlight === 0) this.earlyJobs.clear();
    }
  }

  private settleWithin<T>(
    what: string,
    timeoutMs: number,
    start: (resolve: (value: T) => void, reject: (err: unknown) => void) => void,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.pending.delete(abort);
      };
      const abort = (err: Error) => {
        done();
        reject(err);
      };
      const timer = setTimeout(
        () => abort(new Error(`systemd did not answer ${what} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.pending.add(abort);
      start(
        (value) => {
          done();
          resolve(value);
        },
        (err) => {
          done();
          reject(err);
        },
      );
    });
  }

  private fail(err: Error): void {
    if (this.closedBecause) return;
    this.closedBecause = err;
    for (const abort of [...this.pending]) abort(err);
  }

  private onMessage(msg: Message): void {
    if (msg.type !== dbus.MessageType.SIGNAL) return;
    if (msg.interface === MANAGER && msg.member === "JobRemoved") {
      const [, job, , result] = msg.body as [number, string, string, string];
      const waiter = this.jobWaiters.get(job);
      if (waiter) waiter(result);
      else if (this.jobCallsInFlight > 0) this.earlyJobs.set(job, result);
    } else if (msg.interface === PROPERTIES && msg.member === "PropertiesChanged") {
      const name = this.watched.get(msg.path);
      const changed = msg.body[1] as Record<string, dbus.Variant> | undefined;
      const result = changed?.Result?.value;
      if (name === undefined || typeof result !== "string") return;
      this.results.delete(name);
      this.results.set(name, result);
      if (this.results.size > REMEMBERED_RESULTS) {
        const oldest = this.results.keys().next().value as string;
        this.results.delete(oldest);
        this.watched.delete(unitObjectPath(oldest));
      }
    }
  }
}

function toNumber(value: bigint | null): number | null {
  return value === null ? null : Number(value);
}
