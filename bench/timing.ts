import pty from "node-pty";
import type { Pool } from "../src/pool.js";

/** Milliseconds from spawning `file` in a raw node-pty PTY to its first output. */
export function ptyFirstOutputMs(
  file: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<number> {
  const t0 = performance.now();
  const child = pty.spawn(file, args, { cols: 120, rows: 40, ...options });
  return new Promise((resolve) => {
    const sub = child.onData(() => {
      const elapsed = performance.now() - t0;
      sub.dispose();
      child.onExit(() => resolve(elapsed));
      child.kill("SIGTERM");
    });
  });
}

/** Milliseconds from `session.spawn` to the session's first PTY output; the session is removed. */
export async function poolSpawnMs(pool: Pool): Promise<number> {
  const t0 = performance.now();
  let id = "";
  const first = new Promise<number>((resolve) => {
    const onOutput = (sessionId: string) => {
      if (sessionId !== id) return;
      pool.off("session.output", onOutput);
      resolve(performance.now() - t0);
    };
    pool.on("session.output", onOutput);
  });
  id = pool.spawn({}).id;
  const elapsed = await first;
  await pool.kill(id);
  pool.remove(id);
  return elapsed;
}
