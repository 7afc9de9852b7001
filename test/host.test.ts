import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { HostConnection } from "../src/host/host-connection.js";
import {
  encodeMessage,
  FrameDecoder,
  FrameKind,
  protocolVersion,
  type HostSpec,
} from "../src/host/protocol.js";
import { HostSpawner, hostProgram } from "../src/host/spawn-host.js";
import { isRunning, processState } from "../src/proc.js";
import { blockedInTtyWrite, fakeClaude, tempDir, waitFor } from "./helpers.js";

const hosts: number[] = [];
after(() => {
  for (const pid of hosts) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
});

function hostSpec(dir: string, env: Record<string, string> = {}, lingerMs?: number): HostSpec {
  return {
    sessionId: "0badc0de",
    socketPath: join(dir, "host.sock"),
    file: process.execPath,
    args: [fakeClaude],
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: dir,
      TERM: "xterm-256color",
      CLAUDE_CONFIG_DIR: join(dir, "claude"),
      ...env,
    },
    cols: 100,
    rows: 30,
    scrollbackBytes: 1 << 20,
    notices: [],
    ...(lingerMs === undefined ? {} : { lingerMs }),
  };
}

const spawner = new HostSpawner();
after(() => spawner.close());

async function startHost(spec: HostSpec): Promise<number> {
  const host = spawner.take();
  hosts.push(host.pid);
  // The tests connect as they need to; each new connection replaces the previous one.
  (await host.start(spec)).dispose();
  return host.pid;
}

/** Collects a connection's output as text, with the offsets it came at. */
function record(connection: HostConnection): { text: () => string; offsets: number[][] } {
  let text = "";
  const offsets: number[][] = [];
  connection.on("data", (data, offset) => {
    text += data;
    offsets.push([offset, Buffer.byteLength(data)]);
  });
  return { text: () => text, offsets };
}

describe("session host", () => {
  it("says hello with its version and claude's pid, and streams output with contiguous offsets", async () => {
    const dir = tempDir();
    const spec = hostSpec(dir);
    const hostPid = await startHost(spec);
    const connection = await HostConnection.open(spec.socketPath);
    assert.equal(connection.hello.version, protocolVersion);
    assert.equal(connection.hello.hostPid, hostPid);
    assert.ok(isRunning(connection.pid));
    const out = record(connection);
    connection.attach();
    assert.deepEqual(await connection.type("hello host", true), { typed: true });
    await waitFor("the echo", () => out.text().includes("hello host"));
    for (let i = 1; i < out.offsets.length; i++) {
      const [prev, len] = out.offsets[i - 1];
      assert.equal(out.offsets[i][0], prev + len, "each chunk starts where the last ended");
    }
    connection.kill("SIGTERM");
    const exit = await new Promise((resolve) => connection.once("exit", resolve));
    assert.deepEqual(Object.keys(exit as object).sort(), ["code", "signal", "tail"]);
    connection.release();
    await waitFor("the host to end once its exit is taken", () => !isRunning(hostPid));
  });

  it("parses claude's output on a thread that yields to the one reading claude's terminal", async () => {
    const dir = tempDir();
    const spec = hostSpec(dir);
    const hostPid = await startHost(spec);
    const connection = await HostConnection.open(spec.socketPath);
    const niceOf = (tid: string) => {
      const stat = readFileSync(`/proc/${hostPid}/task/${tid}/stat`, "utf8");
      return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]);
    };
    const main = niceOf(String(hostPid));
    const feeder = () =>
      readdirSync(`/proc/${hostPid}/task`).find((tid) => tid !== String(hostPid));
    // The thread sets its own value as it starts.
    const nice = await waitFor("the feeding thread's nice value", () => {
      const tid = feeder();
      const value = tid === undefined ? main : niceOf(tid);
      return (value !== main || main === 19) && tid !== undefined && value;
    });
    assert.equal(nice, Math.min(19, main + 10));
    connection.dispose();
    await killHost(hostPid, connection.pid);
  });

  it("keeps claude and its screen while no supervisor is connected; the next one gets a snapshot up to its offset", async () => {
    const dir = tempDir();
    const spec = hostSpec(dir);
    const hostPid = await startHost(spec);
    const first = await HostConnection.open(spec.socketPath);
    first.attach();
    await first.type("before the restart", true);
    const claudePid = first.pid;
    first.dispose();
    const second = await HostConnection.open(spec.socketPath);
    assert.equal(second.pid, claudePid, "the same claude");
    assert.equal(second.hello.drawn, true);
    second.attach();
    await second.type("after the restart", true);
    await waitFor("both messages on the screen", async () =>
      /before the restart[\s\S]*after the restart/.test((await second.lines(true)).join("\n")),
    );
    const snapshot = await second.snapshot(true);
    assert.match(snapshot.data, /before the restart/);
    assert.ok(snapshot.offset >= second.hello.offset, "the snapshot is at or after the hello");
    assert.deepEqual([snapshot.cols, snapshot.rows], [100, 30]);
    second.kill("SIGKILL");
    await new Promise((resolve) => second.once("exit", resolve));
    second.release();
    await waitFor("host gone", () => !isRunning(hostPid));
  });

  it("snapshots the newest 8 MiB of a larger scrollback, so its reply fits a frame", async () => {
    const dir = tempDir();
    const spec = { ...hostSpec(dir), scrollbackBytes: 32 << 20 };
    const hostPid = await startHost(spec);
    const connection = await HostConnection.open(spec.socketPath);
    let tail = "";
    connection.on("data", (data) => (tail = (tail + data).slice(-64)));
    connection.attach();
    await connection.type(`/flood ${12 << 20}`, true);
    await waitFor("the flood", () => tail.includes("flood done"), 60_000);
    const kept = (await connection.lines(true)).join("\n").length;
    assert.ok(kept > 11 << 20, `the scrollback keeps the flood (${kept} bytes)`);
    const { data } = await connection.snapshot(true);
    // 8 MiB of scrollback, and the screen after it.
    assert.ok(
      data.length <= (8 << 20) + 65536,
      `the snapshot is within 8 MiB (${data.length} bytes)`,
    );
    assert.ok(data.length > 7 << 20, `and fills it (${data.length} bytes)`);
    assert.match(data.slice(-4096), /flood done/);
    connection.kill("SIGKILL");
    await new Promise((resolve) => connection.once("exit", resolve));
    connection.release();
    await waitFor("host gone", () => !isRunning(hostPid));
  });

  it("types nothing before claude draws text: modes set first, then a dialog, which it refuses", async () => {
    const dir = tempDir();
    const dialog = [
      " Accessing workspace:",
      "",
      " Quick safety check: Is this a project you created or one you trust?",
      "",
      " ❯ No, exit",
      "   Yes, I trust this folder",
    ];
    const program = `process.stdout.write("\\x1b[?2004h");
      setTimeout(() => process.stdout.write(${JSON.stringify(dialog.join("\r\n"))}), 400);
      setInterval(() => {}, 1000);`;
    const spec = { ...hostSpec(dir), args: ["-e", program] };
    const hostPid = await startHost(spec);
    const connection = await HostConnection.open(spec.socketPath);
    connection.attach();
    assert.deepEqual(await connection.type("not an answer", true), {
      typed: false,
      dialog: "trust-folder",
    });
    connection.kill("SIGKILL");
    await new Promise((resolve) => connection.once("exit", resolve));
    connection.release();
    await waitFor("host gone", () => !isRunning(hostPid));
  });

  it("gives claude no descriptor the host inherited, nor any of its own", async () => {
    const dir = tempDir();
    const spec = hostSpec(dir);
    // fd 3 reaches the host without close-on-exec, as a descriptor of a supervisor's could.
    const child = spawn(hostProgram, [], {
      stdio: ["pipe", "pipe", "ignore", "pipe"],
      detached: true,
    });
    hosts.push(child.pid!);
    const targets = (pid: number) =>
      readdirSync(`/proc/${pid}/fd`).map((fd) => {
        try {
          return readlinkSync(`/proc/${pid}/fd/${fd}`);
        } catch {
          return "";
        }
      });
    // Read before the spec is sent: the host touches no descriptor until it has its spec.
    const inherited = readlinkSync(`/proc/${child.pid}/fd/3`);
    assert.match(inherited, /^socket:/);
    child.stdin!.end(JSON.stringify(spec));
    await new Promise((resolve) => child.stdout!.once("data", resolve));
    const connection = await HostConnection.open(spec.socketPath);
    // Until its exec, the forked child still holds the host's close-on-exec descriptors.
    await waitFor("claude's exec", () =>
      readFileSync(`/proc/${connection.pid}/cmdline`, "utf8").includes(fakeClaude),
    );
    const claude = targets(connection.pid);
    assert.ok(!claude.includes(inherited), `claude holds the inherited ${inherited}`);
    const own = (t: string) => !t.startsWith("/dev/pts/") && !t.startsWith("anon_inode:");
    const hostOwn = new Set(targets(child.pid!).filter(own));
    assert.deepEqual(
      claude.filter((t) => hostOwn.has(t)),
      [],
      "claude holds a descriptor of the host's",
    );
    connection.attach();
    connection.kill("SIGKILL");
    await new Promise((resolve) => connection.once("exit", resolve));
    connection.release();
    (child.stdio[3] as Socket).destroy();
    await waitFor("host gone", () => !isRunning(child.pid!));
  });

  it("tells the next supervisor how claude exited while none was connected", async () => {
    const dir = tempDir();
    const spec = hostSpec(dir, { FAKE_CLAUDE_EXIT_AFTER_MS: "300", FAKE_CLAUDE_EXIT_CODE: "3" });
    const hostPid = await startHost(spec);
    await waitFor("claude gone", async () => {
      const probe = await HostConnection.open(spec.socketPath);
      probe.dispose();
      return probe.hello.exit !== null;
    });
    const connection = await HostConnection.open(spec.socketPath);
    assert.equal(connection.hello.exit?.code, 3);
    const exited = new Promise<{ code: number }>((resolve) => connection.once("exit", resolve));
    connection.attach();
    assert.equal((await exited).code, 3);
    connection.release();
    await waitFor("host gone", () => !isRunning(hostPid));
  });

  it("leaves the socket of the next host of its session in place when it goes", async () => {
    const dir = tempDir();
    const spec = hostSpec(dir);
    const oldPid = await startHost(spec);
    const old = await HostConnection.open(spec.socketPath);
    old.attach();
    old.kill("SIGKILL");
    await new Promise((resolve) => old.once("exit", resolve));
    // The session is resumed before its old host has gone: a new one listens at the same path.
    const newPid = await startHost(spec);
    assert.ok(isRunning(oldPid), "the old host went before the new one listened");
    old.release();
    await waitFor("old host gone", () => !isRunning(oldPid));
    const next = await HostConnection.open(spec.socketPath);
    assert.equal(next.hello.hostPid, newPid);
    next.dispose();
  });

  it("pauses claude when the supervisor stops acknowledging, holding no more than its watermark", async () => {
    const dir = tempDir();
    const spec = hostSpec(dir);
    const hostPid = await startHost(spec);
    const helper = await HostConnection.open(spec.socketPath);
    const claudePid = helper.pid;
    helper.attach();
    await helper.type("/flood 200000000", true);
    helper.dispose();
    // A supervisor that attaches and then reads nothing: no acknowledgements.
    const stalled = await attachBare(spec.socketPath);
    stalled.pause();
    await waitFor(
      "claude blocked in its terminal write",
      () => blockedInTtyWrite(claudePid),
      20_000,
    );
    const hostRss = rss(hostPid);
    assert.ok(hostRss < 150 * 1024 * 1024, `host RSS ${hostRss >> 20} MiB`);
    // Reading and acknowledging again lets claude go on.
    const acked = acknowledge(stalled);
    stalled.resume();
    await waitFor("output flowing again", () => acked.offset() > 1_000_000, 20_000);
    stalled.destroy();
    await killHost(hostPid, claudePid);
  });

  it("reads claude's terminal no faster than its screen model keeps up, holding a bounded backlog", async () => {
    const dir = tempDir();
    const { hostPid, connection, received } = await attachCounting(hostSpec(dir));
    const claudePid = connection.pid;
    // Erase sequences parse far slower than claude writes them; the supervisor acknowledges.
    await connection.type(`/flood-erase ${256 << 20}`, true);
    // Unbounded, the host would read on at once and claude would write on; bounded, the host
    // reads in steps as the model parses, and claude waits in its write between them.
    await heldBack(claudePid, 20_000);
    assert.ok(received() < 32 << 20, `${received()} bytes read`);
    const hostRss = rss(hostPid);
    assert.ok(hostRss < 24 << 20, `host RSS ${(hostRss / (1 << 20)).toFixed(1)} MiB`);
    connection.dispose();
    await killHost(hostPid, claudePid);
  });

  it("holds no more output for its screen model than the model parses in a moment, however slow to parse", async () => {
    const dir = tempDir();
    // On a large screen an erase takes long to parse, so a byte bound alone would hold seconds.
    const spec = { ...hostSpec(dir), cols: 250, rows: 80 };
    const { hostPid, connection, received } = await attachCounting(spec);
    const claudePid = connection.pid;
    await waitFor("the prompt", () => received() > 0);
    // What parsing 256 KiB of erases takes here: the snapshot waits for all of it.
    const sample = 256 * 1024;
    let start = performance.now();
    await connection.type(`/flood-erase ${sample}`, true);
    await waitFor("the sample read", () => received() >= sample, 60_000);
    await connection.snapshot(false);
    const perMiB = ((performance.now() - start) * (1 << 20)) / sample;
    await connection.type(`/flood-erase ${256 << 20}`, true);
    await heldBack(claudePid, 60_000);
    // Bounded by bytes alone (256 KiB to 1 MiB held), this would wait a quarter of perMiB or more.
    start = performance.now();
    await connection.snapshot(false);
    const waited = performance.now() - start;
    assert.ok(
      waited < perMiB / 8,
      `a snapshot waited ${waited.toFixed(0)} ms; a MiB parses in ${perMiB.toFixed(0)} ms`,
    );
    connection.dispose();
    await killHost(hostPid, claudePid);
  });

  it("reads the screen once more when its model has caught up with a flood's end", async () => {
    const dir = tempDir();
    const spec = hostSpec(dir);
    const hostPid = await startHost(spec);
    const helper = await HostConnection.open(spec.socketPath);
    const claudePid = helper.pid;
    helper.attach();
    await helper.type("/flood-erase 4000000", true);
    helper.dispose();
    // Erase sequences are slow to parse: the screen is read while the model is behind.
    const socket = await attachBare(spec.socketPath);
    let screen: string[] = [];
    acknowledge(socket, (message) => {
      if ((message as { t: string }).t === "screen")
        screen = (message as { lines: string[] }).lines;
    });
    await waitFor(
      "the flood's end on the screen",
      () => screen.join("\n").includes("flood done"),
      60_000,
    );
    socket.destroy();
    await killHost(hostPid, claudePid);
  });

  it("starts the next spare host once the launched claude has drawn, not only after a delay", async () => {
    const dir = tempDir();
    const spec = hostSpec(dir);
    const lazy = new HostSpawner(600_000);
    try {
      const host = lazy.take();
      hosts.push(host.pid);
      const connection = await host.start(spec);
      const drawn = new Promise((resolve) => connection.once("data", resolve));
      connection.attach();
      await drawn;
      const running = startedHosts();
      const next = lazy.take();
      hosts.push(next.pid);
      assert.ok(running.includes(next.pid), "the next launch takes a host started already");
      next.kill();
      connection.kill("SIGKILL");
      await new Promise((resolve) => connection.once("exit", resolve));
      connection.release();
    } finally {
      lazy.close();
    }
  });
});

/** Resolves once claude has been seen blocked in its terminal write five times in a row. */
async function heldBack(claudePid: number, timeoutMs: number): Promise<void> {
  let blocked = 0;
  await waitFor(
    "claude held back",
    () => {
      blocked = blockedInTtyWrite(claudePid) ? blocked + 1 : 0;
      return blocked >= 5;
    },
    timeoutMs,
  );
}

/** A host for `spec`, and a connection attached to it that counts the bytes of output it gets. */
async function attachCounting(
  spec: HostSpec,
): Promise<{ hostPid: number; connection: HostConnection; received: () => number }> {
  const hostPid = await startHost(spec);
  const connection = await HostConnection.open(spec.socketPath);
  let received = 0;
  connection.on("data", (data) => (received += data.length));
  connection.attach();
  return { hostPid, connection, received: () => received };
}

/** A supervisor speaking the protocol's bare frames, attached. */
async function attachBare(path: string): Promise<Socket> {
  const socket = connect(path);
  await new Promise((resolve) => socket.once("connect", resolve));
  socket.write(encodeMessage({ t: "attach", version: protocolVersion }));
  return socket;
}

/** Acknowledges each read of output at once and hands on the messages; the offset read to. */
function acknowledge(
  socket: Socket,
  onMessage: (message: unknown) => void = () => {},
): { offset: () => number } {
  const decoder = new FrameDecoder();
  let offset = 0;
  socket.on("data", (chunk) => {
    for (const frame of decoder.push(chunk)) {
      if (frame.kind === FrameKind.Output) offset = frame.offset + frame.data.length;
      else onMessage(frame.message);
    }
    socket.write(encodeMessage({ t: "ack", offset }));
  });
  return { offset: () => offset };
}

/** Ends a host and its claude at once, as a crash would. */
async function killHost(hostPid: number, claudePid: number): Promise<void> {
  process.kill(hostPid, "SIGKILL");
  process.kill(-claudePid, "SIGKILL");
  await waitFor("claude gone", () => processState(claudePid) === null);
}

/** Hosts this process started and that still run, by their command line. */
function startedHosts(): number[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        return (
          ppid === process.pid &&
          readFileSync(`/proc/${pid}/cmdline`, "utf8").startsWith("claude-pool host")
        );
      } catch {
        return false;
      }
    });
}

function rss(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readStatus(pid))?.[1] ?? 0) * 1024;
}

function readStatus(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return "";
  }
}
