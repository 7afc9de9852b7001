import dbus, { type Variant } from "dbus-next";
import type { Limits } from "../config/types.js";

export interface ScopeOptions {
  /** Processes to move into the scope; the scope lives as long as any process in it. */
  pids: number[];
  description: string;
  slice: string;
  limits: Limits;
  /** How long StopUnit waits between SIGTERM and SIGKILL (systemd's default is 90 s). */
  stopTimeoutSec?: number;
}

export type UnitProperty = [string, Variant];

const sizeUnits: Record<string, bigint> = {
  "": 1n,
  K: 1n << 10n,
  M: 1n << 20n,
  G: 1n << 30n,
  T: 1n << 40n,
};

/** Bytes of a config size: a number, or "512", "50M", "1.5G" (K, M, G, T are powers of 1024). */
export function parseSize(value: number | string): bigint {
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`invalid size ${value}`);
    return BigInt(value);
  }
  const m = /^([0-9]+)(?:\.([0-9]+))?([KMGT]?)$/.exec(value.trim());
  if (!m) throw new Error(`invalid size "${value}": use bytes or a number with K, M, G or T`);
  const [, whole, fraction = "", unit] = m;
  const scale = 10n ** BigInt(fraction.length);
  const bytes = (BigInt(whole + fraction) * sizeUnits[unit]) / scale;
  if (bytes < 1n) throw new Error(`invalid size "${value}": less than one byte`);
  return bytes;
}

/** CPUQuotaPerSecUSec of a quota like "150%": CPU time allowed per second of wall time, in µs. */
export function parseCpuQuota(value: string): bigint {
  const m = /^([0-9]+(?:\.[0-9]+)?)%$/.exec(value.trim());
  if (!m) throw new Error(`invalid CPU quota "${value}": use a percentage like "150%"`);
  const usec = BigInt(Math.round(Number(m[1]) * 10_000));
  if (usec < 1n) throw new Error(`invalid CPU quota "${value}": must be above 0%`);
  return usec;
}

/** The StartTransientUnit properties (a(sv)) of a session scope. */
export function scopeProperties(options: ScopeOptions): UnitProperty[] {
  const { limits } = options;
  const props: UnitProperty[] = [
    ["PIDs", new dbus.Variant("au", options.pids)],
    ["Description", new dbus.Variant("s", options.description)],
    ["Slice", new dbus.Variant("s", options.slice)],
    ["CollectMode", new dbus.Variant("s", "inactive-or-failed")],
    // Accounting is off by default for CPU (and everything on some setups); without it the
    // usage properties read as "not available".
    ["MemoryAccounting", new dbus.Variant("b", true)],
    ["CPUAccounting", new dbus.Variant("b", true)],
    ["TasksAccounting", new dbus.Variant("b", true)],
  ];
  if (options.stopTimeoutSec !== undefined) {
    const usec = BigInt(Math.round(options.stopTimeoutSec * 1_000_000));
    props.push(["TimeoutStopUSec", new dbus.Variant("t", usec)]);
  }
  if (limits.memoryMax !== undefined) {
    const max = parseSize(limits.memoryMax);
    props.push(["MemoryMax", new dbus.Variant("t", max)]);
    // Above MemoryHigh the kernel reclaims (page cache of builds and file reads first) and
    // throttles the scope's allocations, so a session near its cap slows down before MemoryMax
    // OOM-kills it. cgroup v2 only; on v1 systemd records it and the kernel has no such knob.
    props.push(["MemoryHigh", new dbus.Variant("t", (max * 9n) / 10n)]);
  }
  if (limits.tasksMax !== undefined) {
    props.push(["TasksMax", new dbus.Variant("t", BigInt(limits.tasksMax))]);
  }
  if (limits.cpuQuota !== undefined) {
    props.push(["CPUQuotaPerSecUSec", new dbus.Variant("t", parseCpuQuota(limits.cpuQuota))]);
  }
  return props;
}
