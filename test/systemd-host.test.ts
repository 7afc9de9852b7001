/**
 * The Host issue's acceptance with the real claude: `systemctl --user restart claude-pool` while a
 * session runs a slow turn (the API stand-in's `SLEEP 10`). claude's pid stays, the turn finishes,
 * its reply reaches a client that connected after the restart, and attach redraws the screen as
 * the host holds it. Only inside test/systemd-sandbox, and only where the real claude is installed.
 */
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ScreenModel } from "./xterm-screen.js";
import { connectUnix, type RpcClient } from "../src/rpc/client.js";
import type { EndedTurn } from "../src/session/evidence.js";
import type { SessionInfo } from "../src/session/session.js";
import { FakeAnthropic } from "./fake-anthropic.js";
import { claudePoolBin, tempDir, waitFor } from "./helpers.js";
import {
  claudeEnv,
  realClaude,
  seedClaudeDir,
  skipReason,
  startupMs,
} from "./real-claude-support.js";
import {
  call,
  controlSocket,
  gone,
  inSandbox,
  installUnits,
  scopeUnits,
  SERVICE,
  show,
  systemctl,
} from "./systemd-support.js";

const skip = !inSandbox
  ? "not inside test/systemd-sandbox (run test/run-systemd-tests)"
  : skipReason("the restart of a pool with a real claude mid-turn");
async function until(id: string, test: (s: SessionInfo) => boolean, timeoutMs = 15_000) {
  let last: SessionInfo | null = null;
  return waitFor(
    () => `session ${id} to match ${test}; it is ${JSON.stringify(last)}`,
    async () => {
      last = await call<SessionInfo>("session.get", { id }).catch(() => last);
      return last !== null && test(last) ? last : undefined;
    },
    timeoutMs,
  );
}

describe("a real claude across a restart of the service", { skip }, () => {
  const dir = skip ? "/nonexistent" : tempDir("claude-pool-host-");
  let api: FakeAnthropic;
  let uninstall = () => {};

  before(async () => {
    api = await FakeAnthropic.start();
    const work = join(dir, "work");
    const claudeDir = join(dir, "claude");
    mkdirSync(work, { recursive: true });
    mkdirSync(join(dir, "state"));
    seedClaudeDir(claudeDir, [work]);
    writeFileSync(
      join(dir, "pool.json"),
      JSON.stringify({
        claudePath: realClaude,
        apiPort: 0,
        systemd: "required",
        stopTimeoutSeconds: 5,
        defaults: { workingDirectory: work, env: claudeEnv(api, claudeDir, join(dir, "home")) },
      }),
    );
    uninstall = installUnits([
      "ExecStart=",
      `ExecStart=${process.execPath} ${claudePoolBin} start --config ${join(dir, "pool.json")}`,
      `Environment=XDG_STATE_HOME=${dir}/state`,
      `Environment=PATH=${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
    ]);
    systemctl("start", SERVICE);
  });

  after(async () => {
    try {
      systemctl("stop", SERVICE);
    } finally {
      uninstall();
      await api?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it(
    "keeps claude's pid and its turn; the reply reaches a client connected after the restart",
    { timeout: 90_000 },
    async () => {
      const spawned = await call<SessionInfo>("session.spawn", { name: "slow" });
      const idle = await until(spawned.id, (s) => s.activity === "idle", startupMs);
      const oldMain = show(SERVICE, "MainPID").MainPID;
      await call("session.send", { id: idle.id, text: "SLEEP 10\r" });
      // Its hook has named the turn (the screen may show it busy a moment before).
      const busy = await until(idle.id, (s) => s.turn?.prompt === "SLEEP 10");

      systemctl("restart", SERVICE);
      assert.notEqual(show(SERVICE, "MainPID").MainPID, oldMain, "a new supervisor");
      const client: RpcClient = await connectUnix(controlSocket);
      try {
        const ended = new Promise<EndedTurn>((resolve) =>
          client.on("notification", (method: string, params: { id?: string; turn?: EndedTurn }) => {
            if (method === "turn.ended" && params.id === idle.id && params.turn)
              resolve(params.turn);
          }),
        );
        await client.call("pool.subscribe", { signals: ["turn.ended"] });
        const adopted = await client.call<SessionInfo>("session.get", { id: idle.id });
        assert.equal(adopted.pid, idle.pid, "the same claude");
        assert.equal(adopted.hostPid, idle.hostPid, "the same host");
        assert.equal(adopted.status, "running");
        const turn = await ended;
        assert.equal(turn.outcome, "done");
        assert.equal(turn.reply, "slept 10");
        assert.equal(turn.id, busy.turn?.id, "the turn the last supervisor saw start");
        assert.equal(turn.prompt, "SLEEP 10");

        // The attach screen is the host's, drawn exactly: replayed on a fresh terminal it shows
        // what session.logs reads off the host's model (claude redraws its footer now and then,
        // so the two are read again until they are of the same moment).
        await until(idle.id, (s) => s.activity === "idle");
        let replayed = "";
        let visible = "";
        await waitFor(
          () => `the replayed attach screen:\n${replayed}\nto be session.logs' screen:\n${visible}`,
          async () => {
            const screen = await client.call<{ data: string; cols: number; rows: number }>(
              "session.attach",
              { id: idle.id, readOnly: true },
            );
            await client.call("session.detach", { id: idle.id });
            const replica = new ScreenModel(screen.cols, screen.rows, 1 << 20);
            replica.write(screen.data);
            await replica.flushed();
            replayed = replica.lines().join("\n").trimEnd();
            replica.dispose();
            const { lines } = await client.call<{ lines: string[] }>("session.logs", {
              id: idle.id,
            });
            visible = lines.slice(-screen.rows).join("\n").trimEnd();
            return replayed === visible && /slept 10/.test(visible);
          },
        );
      } finally {
        client.close();
      }
    },
  );

  it("systemctl --user stop claude-pool stops every scope", async () => {
    const sessions = await call<SessionInfo[]>("session.list");
    assert.ok(scopeUnits().length > 0);
    systemctl("stop", SERVICE);
    assert.deepEqual(scopeUnits(), []);
    for (const s of sessions) {
      if (s.pid !== null) assert.ok(gone(s.pid), `${s.name} ${s.pid}`);
      if (s.hostPid !== null) assert.ok(gone(s.hostPid), `host of ${s.name}`);
    }
  });
});
