import pty from "node-pty";
import { isRunning } from "../src/proc.js";
import type { PtyProcess, PtySpawner } from "./pty-process.js";

/** How often a paused terminal checks that its process still runs. */
const exitCheckMs = 50;

/** A node-pty terminal that hands out the bytes it reads. */
export const spawnNodePty: PtySpawner = (options) => {
  const child = pty.spawn(options.file, options.args, {
    name: options.env.TERM ?? "xterm-256color",
    cols: options.cols,
    rows: options.rows,
    cwd: options.cwd,
    env: options.env,
    encoding: null,
  });
  // node-pty destroys the terminal 200 ms after its process exits, dropping what is still unread:
  // a paused terminal resumes once its process is gone, so the last output reaches onData.
  let exitCheck: NodeJS.Timeout | null = null;
  const stopExitCheck = () => {
    if (exitCheck) clearInterval(exitCheck);
    exitCheck = null;
  };
  child.onExit(stopExitCheck);
  const processGroup: PtyProcess = {
    pid: child.pid,
    write: (data) => child.write(data),
    resize: (cols, rows) => child.resize(cols, rows),
    // With no encoding node-pty passes Buffers, though its typings say string.
    onData: (listener) => child.onData((data) => listener(data as unknown as Buffer)),
    onExit: (listener) => child.onExit(listener),
    pause: () => {
      child.pause();
      exitCheck ??= setInterval(() => {
        if (isRunning(child.pid)) return;
        stopExitCheck();
        child.resume();
      }, exitCheckMs).unref();
    },
    resume: () => {
      stopExitCheck();
      child.resume();
    },
    // The child leads its own session, so its tools and MCP servers share its process group.
    kill: (signal = "SIGHUP") => {
      try {
        process.kill(-child.pid, signal);
      } catch {
        // ESRCH: the group is gone already
      }
    },
  };
  return processGroup;
};
