import { unlinkSync } from "node:fs";
import type { Server } from "node:net";
import { loadConfig } from "./config/load.js";
import { createLogger, type Logger } from "./log.js";
import { controlSocket, stateDir } from "./paths.js";
import { Pool } from "./pool.js";
import { createControlRegistry } from "./rpc/methods.js";
import { RpcServer } from "./rpc/server.js";
import { SignalRouter } from "./rpc/signals.js";
import { claimSocketPath, listenUnix } from "./rpc/unix-server.js";
import { StateStore } from "./store/state-store.js";
import { version } from "./version.js";

export interface SupervisorOptions {
  configPath?: string;
  port?: number;
}

/** `claude-pool start`: runs the pool in the foreground until SIGTERM or SIGINT. */
export async function runSupervisor(options: SupervisorOptions): Promise<void> {
  const { config, file } = loadConfig({ explicitPath: options.configPath });
  if (options.port !== undefined) config.apiPort = options.port;
  const log: Logger = createLogger({ level: config.logLevel });
  log.info(`config: ${file ?? "none found, using defaults"}`);
  const socket = controlSocket();
  if (socket.fallback) log.warn(`XDG_RUNTIME_DIR is not set; control socket at ${socket.path}`);
  await claimSocketPath(socket.path, log);

  const store = new StateStore(stateDir());
  const pool = new Pool({ config, store, log });
  await pool.start();
  const router = new SignalRouter(pool);
  const rpc = new RpcServer(createControlRegistry(pool, config), log);
  const server = await listenUnix({
    path: socket.path,
    rpc,
    router,
    snapshot: (id, withScrollback) => pool.find(id).snapshot(withScrollback),
    log,
  });
  log.info(`claude-pool v${version} | port ${config.apiPort} | max ${config.maxSessions} sessions`);
  log.info(`control socket: ${socket.path}; registry: ${store.file}`);
  handleShutdown(pool, server, socket.path, log);
}

function handleShutdown(pool: Pool, server: Server, socketPath: string, log: Logger): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn(`${signal} again: exiting without waiting for sessions`);
      process.exit(1);
    }
    stopping = true;
    log.info(`${signal}: stopping sessions`);
    server.close();
    try {
      unlinkSync(socketPath);
    } catch {
      // already gone
    }
    pool.shutdown().then(
      () => {
        log.info("stopped");
        process.exit(0);
      },
      (err: Error) => {
        log.error(`shutdown failed: ${err.message}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
