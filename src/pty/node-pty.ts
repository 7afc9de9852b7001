import pty from "node-pty";
import type { PtyProcess, PtySpawner } from "./pty.js";

/** The in-process backend. */
export const spawnNodePty: PtySpawner = (options) => {
  const child = pty.spawn(options.file, options.args, {
    name: options.env.TERM ?? "xterm-256color",
    cols: options.cols,
    rows: options.rows,
    cwd: options.cwd,
    env: options.env,
  });
  const processGroup: PtyProcess = {
    pid: child.pid,
    write: (data) => child.write(data),
    resize: (cols, rows) => child.resize(cols, rows),
    onData: (listener) => child.onData(listener),
    onExit: (listener) => child.onExit(listener),
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
