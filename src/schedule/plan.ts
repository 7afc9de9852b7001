import { Cron } from "croner";

/** When a schedule fires: a cron expression, read in an IANA time zone (default the pool's). */
export interface Timing {
  cron: string;
  timezone?: string;
}

/** Occurrences counted at most, when many were missed at once. */
export const missedCountLimit = 1000;

/**
 * Why `timing` cannot be used, or null: five or six fields (seconds first) or an `@daily`-style
 * name, and a time zone the system knows.
 */
export function timingProblem(timing: Timing): string | null {
  if (timing.timezone !== undefined) {
    try {
      new Intl.DateTimeFormat("en", { timeZone: timing.timezone });
    } catch {
      return `timezone "${timing.timezone}" is no IANA time zone (like "Europe/Berlin" or "UTC")`;
    }
  }
  if (!/^\s*@[a-z]+\s*$/i.test(timing.cron) && /\d{4}-\d\d/.test(timing.cron)) {
    return `cron "${timing.cron}" is a date; give five or six fields, like "0 7 * * 1-5"`;
  }
  try {
    compile(timing);
  } catch (err) {
    const detail = (err as Error).message.replace(/^CronPattern: /, "");
    return (
      `cron "${timing.cron}" is invalid (${detail}); give five fields (minute hour day-of-month ` +
      'month day-of-week), six with seconds first, or a name like "@daily"'
    );
  }
  return null;
}

export function compile(timing: Timing): Cron {
  return new Cron(timing.cron, {
    mode: "5-or-6-parts",
    paused: true,
    ...(timing.timezone !== undefined && { timezone: timing.timezone }),
  });
}

/** The first occurrence strictly after `after` (ms), or null when there is none. */
export function nextAfter(cron: Cron, after: number): number | null {
  return cron.nextRun(new Date(after))?.getTime() ?? null;
}

/** What a schedule should do at wall-clock time `now`. */
export interface Plan {
  /** Fire now, for this occurrence, or null. */
  due: { occurrence: number; missed: number } | null;
  /** The occurrence the schedule has run for, after this plan. */
  cursor: number;
  /** The next occurrence after `cursor`, or null when the expression has no more. */
  next: number | null;
}

/**
 * Plans by a cursor, the occurrence the schedule last ran for (null for a new schedule, which
 * starts at `now`), never by elapsed time: an occurrence fires once, as the clock passes it.
 * When the clock jumped forward (or the pool was down or the machine slept) past several, the
 * latest fires once and `missed` counts the others; when it went back, nothing fires until it
 * passes the cursor again. DST is croner's: a fixed time that occurs twice runs once, one that
 * does not occur runs after the gap.
 */
export function plan(cron: Cron, cursor: number | null, now: number): Plan {
  if (cursor === null) return { due: null, cursor: now, next: nextAfter(cron, now) };
  const next = nextAfter(cron, cursor);
  if (next === null || next > now) return { due: null, cursor, next };
  let latest = Math.max(next, cron.previousRuns(1, new Date(now + 1))[0]?.getTime() ?? next);
  // croner's previous run from a time a fraction of a second past an occurrence can be the one
  // before it: the occurrences still due are walked to.
  for (let i = 0; i < missedCountLimit; i++) {
    const following = nextAfter(cron, latest);
    if (following === null || following > now) break;
    latest = following;
  }
  let missed = 0;
  for (let at = next; at < latest && missed < missedCountLimit; missed++) {
    const following = nextAfter(cron, at);
    if (following === null) break;
    at = following;
  }
  return { due: { occurrence: latest, missed }, cursor: latest, next: nextAfter(cron, latest) };
}
