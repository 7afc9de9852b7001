import { unlinkSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import type { Server } from "node:net";
import { AuditLog } from "./channel/audit-log.js";
import { ChannelHub } from "./channel/hub.js";
import { LoginCodes } from "./dashboard/login-codes.js";
import { addDashboardMethods } from "./dashboard/methods.js";
import { McpConfigFiles } from "./channel/mcp-config.js";
import { hookDispatcher } from "./hooks/dispatch.js";
import { HookServer, type HookHandler } from "./hooks/hook-server.js";
import { HookSettingsFiles } from "./hooks/settings.js";
import { ConfigError, loadConfig } from "./config/load.js";
import { PoolMetrics } from "./metrics/pool-metrics.js";
import { reloadable } from "./config/reload.js";
import type { PoolConfig } from "./config/types.js";
import { createLogger, type Logger } from "./log.js";
import { dashboardUrl, sessionPage } from "./notify/links.js";
import { Notifier } from "./notify/notifier.js";
import { controlSocket, stateDir } from "./paths.js";
import { Pool } from "./pool.js";
import { TokenStore } from "./auth/tokens.js";
import { listenRemote, type RemoteApi } from "./rpc/http-server.js";
import { createControlRegistry } from "./rpc/methods.js";
import type { Peer, SnapshotSource } from "./rpc/peer.js";
import { addRemoteMethods } from "./rpc/remote-methods.js";
import { RpcServer } from "./rpc/server.js";
import { SignalRouter } from "./rpc/signals.js";
import { claimSocketPath, listenUnix } from "./rpc/unix-server.js";
import { deliverSignals, heldStop } from "./startup-signals.js";
import { Scheduler } from "./schedule/scheduler.js";
import { ScheduleStore } from "./schedule/store.js";
import { LedgerStore } from "./store/ledger-store.js";
import { StateStore } from "./store/state-store.js";
import { setUpSystemd, type SystemdSetup } from "./systemd/connect.js";
import { ServiceNotifier } from "./systemd/notify.js";
import { takeListenFd } from "./systemd/socket-activation.js";
import { version } from "./version.js";

export interface SupervisorOptions {
  configPath?: string;
  port?: number;
}

/**
 * `claude-pool start`: runs the pool in the foreground until SIGTERM or SIGINT. Under systemd it
 * takes the control socket from socket activation, reports READY, STATUS and STOPPING, and pings
 * the watchdog; SIGHUP reloads the config. Signals that come while it starts are held (see
 * startup-signals.ts): a reload waits until it is ready, a stop before its sessions start ends it
 * there, and one after that stops them cleanly once it is ready.
 */
export async function runSupervisor(options: SupervisorOptions): Promise<void> {
  // Before anything copies the environment: these are the service's, not the sessions'.
  const notifier = ServiceNotifier.fromEnvironment();
  const listenFd = takeListenFd();
  const load = (): { config: PoolConfig; file: string | null } => {
    const loaded = loadConfig({ explicitPath: options.configPath });
    if (options.port !== undefined) loaded.config.apiPort = options.port;
    return loaded;
  };
  const { config, file } = load();
  const log: Logger = createLogger({ level: config.logLevel });
  log.info(`config: ${file ?? "none found, using defaults"}`);
  const socket = controlSocket();
  if (listenFd === null) {
    if (socket.fallback) log.warn(`XDG_RUNTIME_DIR is not set; control socket at ${socket.path}`);
    await claimSocketPath(socket.path, log);
  }

  const systemd = await setUpSystemd(config, log);
  const store = new StateStore(stateDir());
  const sessionFiles = join(dirname(socket.path), "sessions");
  // Hooks are answered once the hub exists; the endpoint must listen before any session starts.
  let dispatch: HookHandler = (call) => call.answer({});
  const hookServer = new HookServer((call) => dispatch(call), log);
  const hookSettings = new HookSettingsFiles(
    sessionFiles,
    hookServer,
    (): number => pool.currentConfig().permissionTimeoutSeconds,
  );
  // The claudes a previous pool left running post their hooks to its port.
  await hookServer.listen(hookSettings.previousPort());
  const pool: Pool = new Pool({
    config,
    store,
    log,
    launcher: systemd.launcher ?? undefined,
    noScopesReason: systemd.reason,
    channel: new McpConfigFiles(sessionFiles, socket.path),
    hooks: hookSettings,
    sessionsDir: sessionFiles,
  });
  const ledger = LedgerStore.open(join(stateDir(), "ledger.jsonl"), {
    onError: (message) => log.error(message),
  });
  if (ledger.warning) log.warn(ledger.warning);
  const hub = new ChannelHub<Peer>(pool, {
    config: () => pool.currentConfig(),
    audit: new AuditLog(join(stateDir(), "audit.log")),
    log,
    ledger: ledger.store,
  });
  let apiUrl: () => string | null = () => null;
  const notifications = new Notifier({
    config: () => pool.currentConfig(),
    log,
    sessionPage: (id) => {
      const base = dashboardUrl(pool.currentConfig().publicUrl, apiUrl(), hostname());
      return base === null ? null : sessionPage(base, id);
    },
  });
  notifications.watch(pool, hub);
  const schedules = ScheduleStore.open(join(stateDir(), "schedules.jsonl"), (message) =>
    log.error(message),
  );
  if (schedules.warning) log.warn(schedules.warning);
  const scheduler = new Scheduler(pool, hub, {
    config: () => pool.currentConfig(),
    store: schedules.store,
    log,
  });
  const router = new SignalRouter(pool, hub, scheduler);
  // Before the first session starts, so its crashes and restarts count.
  const metrics = new PoolMetrics({
    pool,
    hub,
    clients: () =>
      router
        .connected()
        .filter((peer) => !hub.isBridge(peer))
        .map((peer) => peer.transport.label),
  });
  const hooked = hookDispatcher(pool, hub);
  dispatch = (call) => {
    metrics.hook(call.input.hook_event_name);
    hooked(call);
  };
  const stopBeforeStart = heldStop();
  if (stopBeforeStart) {
    log.info(`${stopBeforeStart} while starting: stopped before any session started`);
    systemd.close();
    process.exit(0);
  }
  await pool.start();
  scheduler.start();
  const tokens = new TokenStore(config.auth.tokenFile ?? join(stateDir(), "token"), stateDir());
  const registry = createControlRegistry(pool, tokens, hub, notifications, scheduler);
  registry.observe((method, { peer }, errorCode) =>
    metrics.rpc(method, peer.transport.label, errorCode),
  );
  const rpc = new RpcServer(registry, log);
  const snapshot: SnapshotSource = (id, withScrollback) => pool.find(id).snapshot(withScrollback);
  const logins = new LoginCodes();
  const server = await listenUnix({ path: socket.path, fd: listenFd, rpc, router, snapshot, log });
  const remote = await listenRemote({
    config: () => pool.currentConfig(),
    pool,
    registry,
    rpc,
    router,
    snapshot,
    tokens,
    logins,
    log,
    metrics,
  }).catch(async (err: unknown) => {
    await pool.shutdown();
    throw err;
  });
  apiUrl = () => remote.url;
  addDashboardMethods(registry, logins, () => remote.url);
  addRemoteMethods(registry, () => pool.currentConfig());
  const port = Number(new URL(remote.url).port);
  log.info(`claude-pool v${version} | port ${port} | max ${config.maxSessions} sessions`);
  log.info(
    `remote API: ${remote.url}/rpc (JSON-RPC), ${remote.url.replace(/^ws/, "http")}/sessions (REST)`,
  );
  log.info(
    `control socket: ${listenFd === null ? socket.path : `fd ${listenFd} from systemd`}; registry: ${store.file}`,
  );

  const statusText = () => {
    const { active, maxSessions } = pool.status();
    return `${active}/${maxSessions} sessions`;
  };
  void notifier.ready(statusText());
  const stopWatchdog = notifier.startWatchdog();
  let lastStatus = statusText();
  pool.on("session.changed", () => {
    const text = statusText();
    if (text === lastStatus) return;
    lastStatus = text;
    void notifier.status(text);
  });

  const reload = async (): Promise<void> => {
    void notifier.reloading("reloading the config");
    try {
      const loaded = load();
      const running = pool.currentConfig();
      const { config: next, needRestart } = reloadable(running, loaded.config);
      try {
        await remote.reconfigure(next);
      } catch (err) {
        const { apiPort, bind, tls, allowInsecureRemote } = running;
        Object.assign(next, { apiPort, bind, tls, allowInsecureRemote });
        log.error(
          `remote API stays at ${remote.url} (apiPort, bind and tls unchanged): ${(err as Error).message}`,
        );
      }
      pool.reconfigure(next);
      scheduler.reconfigure();
      log.setLevel(next.logLevel);
      log.info(`reloaded ${loaded.file ?? "the default config"}; running sessions are unchanged`);
      if (needRestart.length > 0) {
        log.warn(
          `not reloaded: ${needRestart.join(", ")} (read only at start; pool.config shows the ` +
            'running value): restart the pool to apply, "systemctl --user restart claude-pool"',
        );
      }
    } catch (err) {
      const detail = err instanceof ConfigError ? err.message : (err as Error).message;
      log.error(`config not reloaded, keeping the running one:\n${detail}`);
    }
    void notifier.ready(statusText());
  };
  let reloads = Promise.resolve();
  const stop = shutdownHandler({
    pool,
    server,
    remote,
    socketPath: listenFd === null ? socket.path : null,
    systemd,
    notifier,
    stopWatchdog,
    scheduler,
    stores: [ledger.store, schedules.store],
    log,
  });
  const { active } = pool.status();
  log.info(
    `claude-pool ready: ${active} session${active === 1 ? "" : "s"}, socket ${socket.path}, api ${remote.url}`,
  );
  pool.on("shutdown.requested", () => stop("pool.shutdown"));
  deliverSignals({ reload: () => (reloads = reloads.then(reload)), stop });
}

interface Running {
  pool: Pool;
  server: Server;
  remote: RemoteApi;
  /** The socket file to remove on exit; null when systemd owns it. */
  socketPath: string | null;
  systemd: SystemdSetup;
  notifier: ServiceNotifier;
  stopWatchdog: () => void;
  /** Stopped first: no run starts while the pool stops. */
  scheduler: { close(): void };
  /** Closed (synced) once the sessions are stopped. */
  stores: { close(): void }[];
  log: Logger;
}

/** How long the pool waits for systemd to say which job stops it. */
const jobQueryTimeoutMs = 2000;

/**
 * SIGTERM from systemd is a stop or a restart. A restart (an upgrade, a config change reload
 * cannot apply) leaves the sessions running for the next pool to adopt; a stop stops them.
 */
async function isRestart(systemd: SystemdSetup, log: Logger): Promise<boolean> {
  const timeout = new Promise<null>((resolve) => setTimeout(resolve, jobQueryTimeoutMs, null));
  try {
    const job = await Promise.race([systemd.pendingJob(), timeout]);
    return job === "restart";
  } catch (err) {
    log.warn(`cannot tell a restart from a stop (${(err as Error).message}); stopping sessions`);
    return false;
  }
}

function shutdownHandler(running: Running): (signal: NodeJS.Signals | "pool.shutdown") => void {
  const { pool, server, remote, socketPath, systemd, notifier, stopWatchdog, log } = running;
  let stopping = false;
  const stop = (signal: NodeJS.Signals | "pool.shutdown"): void => {
    if (stopping) {
      log.warn(`${signal} again: exiting without waiting for sessions`);
      process.exit(1);
    }
    stopping = true;
    // No schedule fires into a pool that is going away.
    running.scheduler.close();
    void (signal === "SIGTERM" ? isRestart(systemd, log) : Promise.resolve(false)).then(
      (restart) => (restart ? detach() : halt(signal)),
    );
  };
  const closeListeners = (): void => {
    server.close();
    remote.close();
    if (socketPath !== null) {
      try {
        unlinkSync(socketPath);
      } catch {
        // already gone
      }
    }
  };
  const detach = (): void => {
    log.info("restarting: sessions keep running for the next pool to adopt");
    void notifier.stopping("restarting");
    closeListeners();
    pool.detach();
    for (const store of running.stores) store.close();
    stopWatchdog();
    systemd.close();
    process.exit(0);
  };
  const halt = (signal: string): void => {
    log.info(`${signal}: stopping sessions`);
    void notifier.stopping("stopping sessions");
    closeListeners();
    pool.shutdown().then(
      () => {
        for (const store of running.stores) store.close();
        stopWatchdog();
        systemd.close();
        log.info("stopped");
        process.exit(0);
      },
      (err: Error) => {
        log.error(`shutdown failed: ${err.message}`);
        process.exit(1);
      },
    );
  };
  return stop;
}
