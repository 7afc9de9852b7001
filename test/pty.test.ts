import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { spawnNodePty } from "./node-pty.js";
import type { PtyExit, PtyProcess } from "./pty-process.js";
import { blockedInTtyWrite, waitFor } from "./helpers.js";

/** `node -e script` in a PTY, its output collected. */
function spawnNode(script: string): {
  pty: PtyProcess;
  output: () => string;
  exited: Promise<PtyExit>;
} {
  const pty = spawnNodePty({
    file: process.execPath,
    args: ["-e", script],
    cwd: process.cwd(),
    env: process.env as Record<string, string>,
    cols: 80,
    rows: 24,
  });
  let output = "";
  pty.onData((data) => (output += data));
  const exited = new Promise<PtyExit>((resolve) => pty.onExit(resolve));
  return { pty, output: () => output, exited };
}

describe("node-pty backend", () => {
  it("pause() blocks the program in its writes; resume() lets it finish", async () => {
    // It stays until killed: node-pty drops what is unread 200 ms after an exit, which a loaded
    // machine can take longer than to read 4 MB.
    const child = spawnNode(
      "process.stdout.write('x'.repeat(4_000_000) + 'END', () => setInterval(() => {}, 1000))",
    );
    child.pty.pause();
    await waitFor("the program blocked in a write", () => blockedInTtyWrite(child.pty.pid));
    assert.ok(child.output().length < 1_000_000, `${child.output().length} chars read`);
    child.pty.resume();
    await waitFor("the whole output", () => child.output().endsWith("END"), 30_000);
    assert.match(child.output(), /x{1000}END$/);
    child.pty.kill("SIGKILL");
    await child.exited;
  });

  it("output left unread when the program exits while paused still arrives", async () => {
    // The last words fit the kernel's buffer: the program exits without waiting for a reader.
    const child = spawnNode(
      "process.stdout.write('ready\\n'); process.stdin.once('data', () => { process.stdout.write('last words'); process.exit(3); })",
    );
    await waitFor("ready", () => child.output().includes("ready"));
    child.pty.pause();
    child.pty.write("go\r");
    const exit = await child.exited;
    assert.equal(exit.exitCode, 3);
    assert.match(child.output(), /last words$/);
  });
});
