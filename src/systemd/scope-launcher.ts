import type { Logger } from "../log.js";
import type { PtySpawner } from "../pty/pty.js";
import type { LaunchedProcess, LaunchRequest, ProcessLauncher } from "../session/launcher.js";
import type { SessionRecord } from "../session/session.js";
import type { SystemdManager } from "./manager.js";
import { continueProcess, stoppedLaunch, waitUntilStopped } from "./scope-launch.js";
import { SCOPE_PATTERN, scopeUnitName, sessionIdOfScope, SESSIONS_SLICE } from "./unit-names.js";

const placementTimeoutMs = 5000;

/**
 * Sessions in transient scopes `claude-pool-<id>.scope` under claude-pool-sessions.slice, so
 * systemd enforces their limits and accounts their usage. The process stops itself before exec
 * and continues once it is in its scope: claude and all it forks start there.
 */
export class ScopeLauncher implements ProcessLauncher {
  readonly kind = "scope";
  /** Per session: the previous scope's cleanup, which frees the unit name for the next launch. */
  private readonly releases = new Map<string, Promise<unknown>>();

  constructor(
    private readonly manager: SystemdManager,
    private readonly spawnPty: PtySpawner,
    private readonly log: Logger,
  ) {}

  launch(request: LaunchRequest): LaunchedProcess {
    const { manager } = this;
    const unit = scopeUnitName(request.sessionId);
    const pty = this.spawnPty({
      ...request.pty,
      ...stoppedLaunch(request.pty.file, request.pty.args),
    });
    let placed: string | null = null;
    const previous = this.releases.get(request.sessionId);
    const started = (async () => {
      await previous;
      await waitUntilStopped(pty.pid, placementTimeoutMs);
      await manager.startScope(
        unit,
        {
          pids: [pty.pid],
          description: `claude-pool session ${request.name}`,
          slice: SESSIONS_SLICE,
          limits: request.limits,
          stopTimeoutSec: request.stopTimeoutSec,
        },
        { timeoutMs: placementTimeoutMs },
      );
      placed = unit;
      if (!continueProcess(pty.pid)) throw new Error(`process ${pty.pid} exited during placement`);
    })();
    const log = this.log;
    return {
      pty,
      get unit() {
        return placed;
      },
      started,
      signal(signal) {
        if (placed === null) {
          pty.kill(signal);
          return;
        }
        manager.killUnit(unit, signal, "all").catch((err: Error) => {
          log.warn(
            `${unit}: KillUnit ${signal} failed (${err.message}); signalling the process group`,
          );
          pty.kill(signal);
        });
      },
      release: () => {
        if (placed === null) return Promise.resolve(null);
        const done = (async () => {
          const result = await manager.unitResult(unit).catch(() => null);
          await manager.stopUnit(unit).catch((err: Error) => log.warn(`${unit}: ${err.message}`));
          return result;
        })();
        this.releases.set(
          request.sessionId,
          done.catch(() => {}),
        );
        return done;
      },
      usage: () => (placed === null ? Promise.resolve(null) : manager.unitUsage(unit)),
    };
  }

  /** Stops the scopes of this registry's sessions that a previous pool left running. */
  async reclaim(records: SessionRecord[]): Promise<void> {
    const ours = new Set(records.map((r) => r.id));
    const units = await this.manager.listUnits(SCOPE_PATTERN);
    await Promise.all(
      units
        .filter(({ name }) => ours.has(sessionIdOfScope(name) ?? ""))
        .map(async ({ name }) => {
          this.log.warn(`stopping ${name}, left by the previous pool`);
          await this.manager
            .stopUnit(name)
            .catch((err: Error) => this.log.warn(`${name}: ${err.message}`));
        }),
    );
  }
}
