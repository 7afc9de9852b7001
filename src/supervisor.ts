import { loadConfig } from "./config/load.js";
import { createLogger, type Logger } from "./log.js";
import { stateDir } from "./paths.js";
import { Pool } from "./pool.js";
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
  const store = new StateStore(stateDir());
  const pool = new Pool({ config, store, log });
  await pool.start();
  log.info(`claude-pool v${version} | port ${config.apiPort} | max ${config.maxSessions} sessions`);
  log.info(`registry: ${store.file}`);

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log.warn(`${signal} again: exiting without waiting for sessions`);
      process.exit(1);
    }
    stopping = true;
    log.info(`${signal}: stopping sessions`);
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
