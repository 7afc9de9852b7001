import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { createInterface } from "node:readline";

/**
 * One program in a tmux session on a private server (`tmux -L`), driven through a control-mode
 * client: each command is a line on its stdin, its output a `%begin … %end` block, so polling
 * the pane costs no process of its own.
 */
export class TmuxPane {
  private readonly replies: ((lines: string[]) => void)[] = [];
  private block: string[] | null = null;
  private ownBlock = false;
  private onAttached: () => void = () => {};
  /** Commands sent before the client is attached are answered out of order. */
  private readonly attached = new Promise<void>((resolve) => (this.onAttached = resolve));
  private socketPath = "";

  private constructor(
    readonly server: string,
    private readonly client: ChildProcess,
  ) {
    createInterface({ input: client.stdout! }).on("line", (line) => this.onLine(line));
  }

  /** Starts `command` in a pane of `cols`×`rows` on the private tmux server `server`. */
  static async start(
    server: string,
    command: string[],
    options: { cwd: string; env: Record<string, string>; cols?: number; rows?: number },
  ): Promise<TmuxPane> {
    const env = Object.entries(options.env).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
    // Inside a tmux of one's own, tmux refuses to attach unless $TMUX is unset.
    const outside = { env: { ...process.env, TMUX: undefined } };
    const size = ["-x", String(options.cols ?? 120), "-y", String(options.rows ?? 40)];
    // With more than one argument tmux runs the command itself, not through a shell.
    execFileSync(
      "tmux",
      [
        ...["-L", server, "new-session", "-d", "-s", "bench", ...size, "-c", options.cwd],
        ...env,
        ...command,
      ],
      outside,
    );
    const client = spawn("tmux", ["-L", server, "-C", "attach", "-t", "bench", "-f", "no-output"], {
      ...outside,
      stdio: ["pipe", "pipe", "inherit"],
    });
    const pane = new TmuxPane(server, client);
    await pane.attached;
    [pane.socketPath] = await pane.command("display-message -p '#{socket_path}'");
    return pane;
  }

  /** The pane's program's pid. */
  async pid(): Promise<number> {
    return Number((await this.command("display-message -p -t bench '#{pane_pid}'"))[0]);
  }

  /** Runs a tmux command; resolves with its output lines. */
  command(line: string): Promise<string[]> {
    return new Promise((resolve) => {
      this.replies.push(resolve);
      this.client.stdin!.write(`${line}\n`);
    });
  }

  /** The visible screen, one string. */
  async screen(): Promise<string> {
    return (await this.command("capture-pane -p -t bench")).join("\n");
  }

  /** Types `text` literally (tmux quotes it), then Enter as a key of its own. */
  async type(text: string): Promise<void> {
    await this.command(`send-keys -t bench -l ${tmuxQuote(text)}`);
    await this.command("send-keys -t bench Enter");
  }

  close(): void {
    this.client.stdin!.end();
    try {
      execFileSync("tmux", ["-L", this.server, "kill-server"], { stdio: "ignore" });
    } catch {
      // already gone
    }
    // tmux 3.3 leaves its socket behind when killed.
    if (this.socketPath !== "") rmSync(this.socketPath, { force: true });
  }

  private onLine(line: string): void {
    if (this.block === null) {
      if (line.startsWith("%session-changed")) this.onAttached();
      const begin = /^%begin \d+ \d+ (\d+)$/.exec(line);
      if (begin) {
        this.block = [];
        // Flag 1: the answer to a command of this client; 0: tmux's own.
        this.ownBlock = begin[1] === "1";
      }
      return;
    }
    if (/^%(end|error) \d+ \d+ \d+$/.test(line)) {
      const lines = this.block;
      this.block = null;
      if (this.ownBlock) this.replies.shift()?.(lines);
      return;
    }
    this.block.push(line);
  }
}

function tmuxQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}
