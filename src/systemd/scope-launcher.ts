import { reconnect } from "../host/adopt.js";
import { HostConnection } from "../host/host-connection.js";
import { HostHandle } from "../host/host-handle.js";
import { HostSpawner } from "../host/spawn-host.js";
import type { Logger } from "../log.js";
import { endHost } from "../pty/process-launcher.js";
import type {
  Adopted,
  LaunchedProcess,
  LaunchRequest,
  ProcessLauncher,
} from "../session/launcher.js";
import type { SessionRecord } from "../session/session.js";
import type { SystemdManager } from "./manager.js";
import { SCOPE_PATTERN, scopeUnitName, sessionIdOfScope, SESSIONS_SLICE } from "./unit-names.js";

const placementTimeoutMs = 5000;

/**
 * Sessions in transient scopes `claude-pool-<id>.scope` under claude-pool-sessions.slice, so
 * systemd enforces their limits and accounts their usage. The host is the scope's first process:
 * it stops itself before exec and continues once it is in its scope, so claude and all it forks
 * start there, and none of it is in the supervisor's cgroup when the service restarts.
 */
export class ScopeLauncher implements ProcessLauncher {
  readonly kind = "scope";
  /** Per session: the previous scope's cleanup, which frees the unit name for the next launch. */
  private readonly releases = new Map<string, Promise<unknown>>();
  private readonly hosts = new HostSpawner();

  constructor(
    private readonly manager: SystemdManager,
    private readonly log: Logger,
  ) {}

  launch(request: LaunchRequest): LaunchedProcess {
    const { manager } = this;
    const unit = scopeUnitName(request.sessionId);
    // A waiting host has forked nothing yet: once it is in the scope, what it starts is too.
    const host = this.hosts.take();
    const previous = this.releases.get(request.sessionId);
    const placed = (async () => {
      await previous;
      await manager.startScope(
        unit,
        {
          pids: [host.pid],
          description: `claude-pool session ${request.name}`,
          slice: SESSIONS_SLICE,
          limits: request.limits,
          stopTimeoutSec: request.stopTimeoutSec,
        },
        { timeoutMs: placementTimeoutMs },
      );
    })();
    let unplaced: () => void = () => {};
    const mayRun = new Promise<void>((resolve) => {
      unplaced = resolve;
      placed.then(resolve, () => {});
    });
    const started = mayRun.then(() => host.start(request.host));
    const handle = new HostHandle(host.pid, started, host);
    return this.scoped(request.sessionId, unit, handle, placed, unplaced, {
      graceMs: request.stopTimeoutSec * 1000,
    });
  }

  prepare(): void {
    this.hosts.prepare();
  }

  close(): void {
    this.hosts.close();
  }

  /** Reconnects to hosts whose scopes still run; stops the scopes of the others. */
  async adopt(
    records: SessionRecord[],
    socketOf: (id: string) => string,
  ): Promise<Map<string, Adopted>> {
    const adopted = new Map<string, Adopted>();
    const byId = new Map(records.map((r) => [r.id, r]));
    const units = await this.manager.listUnits(SCOPE_PATTERN);
    await Promise.all(
      units.map(async ({ name }) => {
        const record = byId.get(sessionIdOfScope(name) ?? "");
        if (!record) return;
        const found = await reconnect(record, socketOf(record.id), this.log);
        if (found !== null) {
          // A host of another protocol never connects: its scope is signalled as a whole.
          const [hostPid, started, legacy] =
            "connection" in found
              ? [found.connection.hostPid, Promise.resolve(found.connection), null]
              : [found.legacy.hostPid, new Promise<HostConnection>(() => {}), found.legacy];
          const launched = this.scoped(
            record.id,
            name,
            new HostHandle(hostPid, started),
            Promise.resolve(),
            () => {},
          );
          adopted.set(record.id, { launched, legacy });
          return;
        }
        this.log.warn(`stopping ${name}, left by the previous pool`);
        await this.manager
          .stopUnit(name)
          .catch((err: Error) => this.log.warn(`${name}: ${err.message}`));
      }),
    );
    return adopted;
  }

  /** `unplaced`: how a host let run outside a scope is ended, as the plain launcher ends one. */
  private scoped(
    sessionId: string,
    unit: string,
    host: HostHandle,
    placed: Promise<void>,
    runUnplaced: () => void,
    unplaced: { graceMs: number } | null = null,
  ): LaunchedProcess {
    const { manager, log } = this;
    let inScope = false;
    placed.then(
      () => (inScope = true),
      () => {},
    );
    let ranUnplaced = false;
    return {
      hostPid: host.pid,
      get unit() {
        return inScope ? unit : null;
      },
      placed,
      started: host.started,
      runUnplaced: () => {
        ranUnplaced = true;
        runUnplaced();
      },
      abort: () => host.kill(),
      signal(signal) {
        if (!inScope) {
          host.signal(signal);
          return;
        }
        manager.killUnit(unit, signal, "all").catch((err: Error) => {
          log.warn(
            `${unit}: KillUnit ${signal} failed (${err.message}); signalling the process group`,
          );
          host.signal(signal);
        });
      },
      release: async () => {
        if (!inScope) {
          if (ranUnplaced && unplaced !== null) await endHost(host, unplaced.graceMs);
          return null;
        }
        const done = (async () => {
          const result = await manager.unitResult(unit).catch(() => null);
          await manager.stopUnit(unit).catch((err: Error) => log.warn(`${unit}: ${err.message}`));
          return result;
        })();
        this.releases.set(
          sessionId,
          done.catch(() => {}),
        );
        return done;
      },
      usage: () => (inScope ? manager.unitUsage(unit) : Promise.resolve(null)),
    };
  }
}
