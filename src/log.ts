import { fstatSync } from "node:fs";

export type LogLevel = "debug" | "info" | "warn" | "error";

const rank: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };
/** sd-daemon(3) priority prefixes, read by journald from a service's stderr. */
const journalPriority: Record<LogLevel, number> = { debug: 7, info: 6, warn: 4, error: 3 };

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  setLevel(level: LogLevel): void;
}

export interface LoggerOptions {
  level: LogLevel;
  /** Under systemd: priority prefixes and no timestamp (journald adds its own). */
  journal?: boolean;
  write?: (line: string) => void;
}

/**
 * Whether stderr is the journal stream systemd connected: JOURNAL_STREAM names its device and
 * inode, so a child whose stderr was redirected elsewhere is not fooled by an inherited variable.
 */
export function stderrIsJournal(): boolean {
  const stream = process.env.JOURNAL_STREAM;
  if (!stream) return false;
  try {
    const { dev, ino } = fstatSync(2);
    return stream === `${dev}:${ino}`;
  } catch {
    return false;
  }
}

export function createLogger(options: LoggerOptions): Logger {
  let level = options.level;
  const journal = options.journal ?? stderrIsJournal();
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const emit = (at: LogLevel, message: string): void => {
    if (rank[at] < rank[level]) return;
    const text = message.replace(/\n/g, "\\n");
    write(
      journal
        ? `<${journalPriority[at]}>${text}\n`
        : `${new Date().toISOString()} ${at.toUpperCase().padEnd(5)} ${text}\n`,
    );
  };
  return {
    debug: (m) => emit("debug", m),
    info: (m) => emit("info", m),
    warn: (m) => emit("warn", m),
    error: (m) => emit("error", m),
    setLevel: (l) => {
      level = l;
    },
  };
}

/** A logger that drops everything; for library use and tests that do not read logs. */
export const silentLogger: Logger = createLogger({ level: "error", write: () => {} });
