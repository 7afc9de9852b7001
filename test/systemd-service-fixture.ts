/**
 * Stands in for `claude-pool start` in the unit-file tests: takes the activated socket, reports
 * READY/STATUS/RELOADING/STOPPING and pings the watchdog the way the pool does, and answers each
 * connection with what it saw, as one JSON line.
 */
import { createServer } from "node:net";
import { ServiceNotifier } from "../src/systemd/notify.js";
import { takeListenFd } from "../src/systemd/socket-activation.js";

const notifier = ServiceNotifier.fromEnvironment();
const listenFd = takeListenFd();
const leftInEnv = ["LISTEN_FDS", "LISTEN_PID", "NOTIFY_SOCKET", "WATCHDOG_USEC"].filter(
  (name) => process.env[name] !== undefined,
);
let reloads = 0;

const server = createServer((socket) => {
  socket.end(
    JSON.stringify({
      pid: process.pid,
      listenFd,
      leftInEnv,
      notify: notifier.enabled,
      watchdogIntervalMs: notifier.watchdogIntervalMs,
      reloads,
    }) + "\n",
  );
});

if (listenFd === null) {
  process.stderr.write("not socket-activated\n");
  process.exit(1);
}
server.listen({ fd: listenFd }, () => {
  notifier.startWatchdog();
  void notifier.ready("0/5 sessions");
});

process.on("SIGHUP", () => {
  void notifier.reloading("reloading config").then(() => {
    reloads++;
    return notifier.ready(`reloaded ${reloads}`);
  });
});

process.on("SIGTERM", () => {
  void notifier.stopping("stopping 0 sessions").then(() => {
    server.close();
    process.exit(0);
  });
});
