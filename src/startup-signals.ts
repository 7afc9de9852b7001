/**
 * Signals the supervisor acts on, caught from the first line of the entry point on: before the
 * pool is ready their default action would kill it (and, past the start of its sessions, leave
 * them behind). Until `deliver` they are held: a reload is queued (once), a stop remembered.
 */

const stopSignals = ["SIGTERM", "SIGINT"] as const;
type StopSignal = (typeof stopSignals)[number];

export interface SignalHandlers {
  reload(): void;
  stop(signal: StopSignal): void;
}

let handlers: SignalHandlers | null = null;
let reloadHeld = false;
let stopHeld: StopSignal | null = null;
let installed = false;

function onReload(): void {
  if (handlers) handlers.reload();
  else reloadHeld = true;
}

function onStop(signal: StopSignal): void {
  if (handlers) handlers.stop(signal);
  else stopHeld ??= signal;
}

/** Catches SIGHUP, SIGTERM and SIGINT from now on; idempotent. */
export function holdSignals(): void {
  if (installed) return;
  installed = true;
  for (const signal of stopSignals) process.on(signal, onStop);
  // Last: node catches SIGTERM and SIGINT itself from the start, so SIGHUP caught shows all are.
  process.on("SIGHUP", onReload);
}

/** The stop signal that came while held, if any: the supervisor stops instead of going on. */
export function heldStop(): StopSignal | null {
  return stopHeld;
}

/**
 * From now on signals go to `to`; what was held is delivered first, a stop instead of a reload.
 * Catches the signals if `holdSignals` was not called (a supervisor started another way).
 */
export function deliverSignals(to: SignalHandlers): void {
  holdSignals();
  handlers = to;
  const [reload, stop] = [reloadHeld, stopHeld];
  reloadHeld = false;
  stopHeld = null;
  if (stop) to.stop(stop);
  else if (reload) to.reload();
}
