/**
 * `doctor`'s judgement: what would keep the pool or its sessions from starting unattended, from
 * facts gathered elsewhere (facts.ts). Pure: the same facts give the same lines.
 */
import type {
  CheckStatus,
  Check,
  ClaudeFacts,
  ClaudeDirFacts,
  SessionFacts,
  SystemdFacts,
  PortFacts,
  TlsFacts,
  StateFacts,
  RunningFacts,
  DoctorFacts,
} from "./types.js";

/** The Claude Code versions whose screens, dialogs and hooks the pool was tested against. */
export const testedClaudeVersions = ["2.1.332"];

type Pool = NonNullable<DoctorFacts["pool"]>;

const line = (
  check: string,
  status: CheckStatus,
  message: string,
  fix: string | null = null,
  subject: string | null = null,
): Check => ({ check, subject, status, message, fix });

/** Every check's line, in the order they are printed. */
export function runChecks(facts: DoctorFacts, now = Date.now()): Check[] {
  const { pool } = facts;
  const checks = [configCheck(facts.config)];
  if (pool !== null) {
    checks.push(claudeCheck(pool.claude));
    for (const dir of pool.claudeDirs) checks.push(loginCheck(dir, pool.sessions));
    for (const session of pool.sessions) {
      const dir = pool.claudeDirs.find((d) => d.dir === session.claudeDir)!;
      checks.push(folderCheck(session, dir, pool.trustWorkingDirectories));
      checks.push(dialogsCheck(session, dir, pool));
    }
    checks.push(...systemdChecks(pool.systemd));
    checks.push(portCheck(pool.port));
    if (pool.tls) checks.push(tlsCheck(pool.tls, now));
  }
  checks.push(stateCheck(facts.state));
  if (facts.running) checks.push(...runningChecks(facts.running));
  return checks;
}

/** 0: all is well, 1: warnings, 2: failures. */
export function exitStatus(checks: readonly Check[]): 0 | 1 | 2 {
  if (checks.some((c) => c.status === "fail")) return 2;
  return checks.some((c) => c.status === "warn") ? 1 : 0;
}

/** One line per check, then a summary. */
export function formatChecks(checks: readonly Check[]): string {
  const lines = checks.map((c) => {
    const what = c.subject === null ? c.check : `${c.check} (${c.subject})`;
    return `${c.status.padEnd(4)}  ${what}: ${c.message}${c.fix === null ? "" : `; fix: ${c.fix}`}`;
  });
  const count = (status: CheckStatus) => checks.filter((c) => c.status === status).length;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
  lines.push(
    `${plural(count("ok"), "check")} ok, ${plural(count("warn"), "warning")}, ${plural(count("fail"), "failure")}`,
  );
  return lines.join("\n");
}

function configCheck(config: DoctorFacts["config"]): Check {
  if (config.problems !== null) {
    return line(
      "config",
      "fail",
      `${config.problems.join("; ")} (the other checks need a valid config)`,
      'correct the config; "claude-pool config" prints what the pool would run with',
    );
  }
  if (config.file === null) {
    return line("config", "ok", "no config file found; the defaults apply");
  }
  return line("config", "ok", `${config.file} is valid`);
}

function claudeCheck(claude: ClaudeFacts): Check {
  if (claude.path === null) {
    const where = claude.command.includes("/") ? "" : " in PATH";
    return line(
      "claude",
      "fail",
      `"${claude.command}" is not an executable file${where}: no session can start`,
      "install Claude Code (npm install -g @anthropic-ai/claude-code), or set claudePath to its full path",
    );
  }
  if (claude.version === null) {
    return line(
      "claude",
      "warn",
      `${claude.path} told no version (${claude.error ?? "no output"})`,
      `check that "${claude.path} --version" works as the pool's user`,
    );
  }
  const tested = testedClaudeVersions.join(", ");
  if (testedClaudeVersions.includes(claude.version)) {
    return line("claude", "ok", `${claude.path}, Claude Code ${claude.version} (tested)`);
  }
  return line(
    "claude",
    "warn",
    `${claude.path}, Claude Code ${claude.version}: the pool is tested with ${tested}, and the ` +
      "dialogs and hooks it reads may differ",
    `install a tested version (npm install -g @anthropic-ai/claude-code@${testedClaudeVersions.at(-1)}), or watch blockedOn and the pool's log`,
  );
}

/** How the sessions using `dir` are logged in, by the names of what logs them in. */
function loginCheck(dir: ClaudeDirFacts, sessions: SessionFacts[]): Check {
  const ways = new Set<string>();
  if (dir.claudeAi) ways.add("claude.ai credentials");
  if (dir.primaryApiKey) ways.add("an API key from /login");
  if (dir.apiKeyHelper) ways.add("apiKeyHelper");
  const missing: string[] = [];
  let refusedKey = false;
  for (const s of sessions.filter((x) => x.claudeDir === dir.dir)) {
    const refused = s.apiKeySuffix !== null && dir.rejectedKeys.includes(s.apiKeySuffix);
    const env = s.authEnv.filter((name) => !(refused && name === "ANTHROPIC_API_KEY"));
    for (const name of env) ways.add(name);
    if (!dir.claudeAi && !dir.primaryApiKey && !dir.apiKeyHelper && env.length === 0) {
      missing.push(s.name);
      refusedKey ||= refused;
    }
  }
  if (missing.length > 0) {
    const why = refusedKey
      ? "its ANTHROPIC_API_KEY was once refused at claude's API key dialog, so claude ignores it"
      : "no claude.ai credentials, no API key";
    const configDir = dir.dir.endsWith("/.claude") ? "" : ` with CLAUDE_CONFIG_DIR=${dir.dir}`;
    return line(
      "login",
      "fail",
      `not logged in for ${missing.join(", ")} (${why}): claude would wait at its login screen`,
      refusedKey
        ? `take the key out of customApiKeyResponses.rejected in ${dir.globalFile}`
        : `log in once as this user: run claude${configDir} and /login; or set ANTHROPIC_API_KEY in the config's defaults.env`,
      dir.dir,
    );
  }
  return line("login", "ok", `logged in with ${[...ways].join(", ")}`, null, dir.dir);
}

function folderCheck(session: SessionFacts, dir: ClaudeDirFacts, trustAll: boolean): Check {
  const subject = session.name;
  const folder = session.workingDirectory;
  if (!session.exists) {
    return line(
      "folder",
      "fail",
      `${folder} does not exist`,
      "create it, or change workingDirectory",
      subject,
    );
  }
  if (!session.isDirectory) {
    return line(
      "folder",
      "fail",
      `${folder} is not a directory`,
      "change workingDirectory",
      subject,
    );
  }
  if (dir.global === "invalid") {
    return line(
      "folder",
      "fail",
      `${dir.globalFile} cannot be read (${dir.globalError}): neither claude nor the pool can ` +
        "find the folder's trust, nor the other answers claude keeps there",
      "repair the file, or move it away and let claude make a new one",
      subject,
    );
  }
  const by = session.trustChain.find((f) => dir.trusted.includes(f));
  if (by !== undefined) {
    const how = by === session.trustChain[0] ? "" : ` (through ${by})`;
    return line("folder", "ok", `${folder} exists and claude trusts it${how}`, null, subject);
  }
  if (trustAll) {
    return line(
      "folder",
      "ok",
      `${folder} exists; claude does not trust it yet, and the pool records it as trusted ` +
        "before the session starts (trustWorkingDirectories)",
      null,
      subject,
    );
  }
  return line(
    "folder",
    "warn",
    `${folder} is not trusted in ${dir.globalFile}: claude's trust dialog would stop the session`,
    `set "trustWorkingDirectories": true in the pool's config, or run claude in ${folder} once and accept`,
    subject,
  );
}

/** The first-run dialogs beside the trust dialog (folder) and the login (login). */
function dialogsCheck(session: SessionFacts, dir: ClaudeDirFacts, pool: Pool): Check {
  const subject = session.name;
  if (session.dangerouslySkipPermissions && pool.root && !session.sandbox) {
    return line(
      "dialogs",
      "fail",
      "dangerouslySkipPermissions while the pool runs as root: the pool refuses to start the " +
        "session (claude refuses it too)",
      "run the pool as a normal user, or set IS_SANDBOX=1 in the session's env inside a sandbox",
      subject,
    );
  }
  const found: { dialog: string; fix: string }[] = [];
  if (!dir.onboarded) {
    found.push({
      dialog: "onboarding (its theme picker)",
      fix: `run claude once as this user and finish its setup, or set "hasCompletedOnboarding": true in ${dir.globalFile}`,
    });
  }
  const key = session.apiKeySuffix;
  if (key !== null && !dir.approvedKeys.includes(key) && !dir.rejectedKeys.includes(key)) {
    found.push({
      dialog: 'api-key ("Do you want to use this API key?" for ANTHROPIC_API_KEY)',
      fix: "run claude once with that key and answer Yes",
    });
  }
  if (session.dangerouslySkipPermissions && !dir.bypassAccepted) {
    found.push({
      dialog: "bypass-permissions (the Bypass Permissions mode warning)",
      fix: `add "skipDangerousModePermissionPrompt": true to ${dir.dir}/settings.json`,
    });
  }
  // Logged in with an API key, claude ignores channels and shows no warning for them.
  if (dir.claudeAi && session.developmentChannels > 0) {
    found.push({
      dialog: "development-channels (for the session's own developmentChannels)",
      fix: "attach and answer it at each start, or move them to channels",
    });
  } else if (dir.claudeAi && session.poolChannel && !pool.confirmDevelopmentChannels) {
    found.push({
      dialog: "development-channels (for the pool's channel)",
      fix: 'set "confirmDevelopmentChannels": true to let the pool answer it',
    });
  }
  if (found.length === 0) {
    return line("dialogs", "ok", "no other first-run dialog the pool knows of", null, subject);
  }
  return line(
    "dialogs",
    "warn",
    `claude would wait at: ${found.map((f) => f.dialog).join("; ")}`,
    found.map((f) => f.fix).join("; "),
    subject,
  );
}

function systemdChecks(systemd: SystemdFacts): Check[] {
  if (systemd.mode === "off") {
    return [
      line("systemd", "ok", 'systemd is "off": sessions run as plain children, without limits'),
    ];
  }
  const checks: Check[] = [];
  if (systemd.manager !== null) {
    checks.push(
      line(
        "systemd",
        "ok",
        `user manager (systemd ${systemd.manager}): each session in its own scope`,
      ),
    );
  } else if (systemd.mode === "required") {
    checks.push(
      line(
        "systemd",
        "fail",
        `systemd is "required" but ${systemd.reason ?? "no user manager answers"}: the pool will not start`,
        'log in as the user (or "loginctl enable-linger"), with dbus-user-session installed; or set "systemd": "auto"',
      ),
    );
  } else {
    checks.push(
      line(
        "systemd",
        "warn",
        `${systemd.reason ?? "no user manager answers"}: sessions run as plain children, without scopes or limits`,
        'install dbus-user-session and run the pool in a user session; or set "systemd": "off" to run without it on purpose',
      ),
    );
  }
  if (systemd.linger === false && systemd.manager !== null) {
    checks.push(
      line(
        "linger",
        "warn",
        `lingering is off for ${systemd.user}: the user manager, and the pool with it, stop at logout`,
        `loginctl enable-linger ${systemd.user}`,
      ),
    );
  } else if (systemd.linger === true) {
    checks.push(line("linger", "ok", `lingering is on for ${systemd.user}`));
  }
  return checks;
}

function portCheck(port: PortFacts): Check {
  const where = `${port.bind}:${port.port}`;
  if (!port.loopback && !port.tls && !port.allowInsecureRemote) {
    return line(
      "port",
      "fail",
      `bind ${port.bind} without tls: the pool refuses to serve tokens in clear text`,
      'set tls.cert and tls.key, bind to 127.0.0.1, or set "allowInsecureRemote": true',
    );
  }
  switch (port.state) {
    case "free":
      return line(
        "port",
        "ok",
        port.port === 0 ? "apiPort 0: a free port is picked at start" : `${where} is free`,
      );
    case "ours":
      return line("port", "ok", `${where} is served by a running claude-pool`);
    case "busy":
      return line(
        "port",
        "fail",
        `${where} is in use by another program`,
        "stop it, or set apiPort in the config (or claude-pool start --port N)",
      );
    case "denied":
      return line(
        "port",
        "fail",
        `cannot listen on ${where}: ${port.detail} (ports below 1024 need privileges)`,
        "set apiPort to 1024 or above",
      );
    case "unusable":
      return line(
        "port",
        "fail",
        `cannot listen on ${where}: ${port.detail}`,
        "set bind to an address of this machine",
      );
  }
}

function tlsCheck(tls: TlsFacts, now: number): Check {
  if (tls.certError !== null) {
    return line(
      "tls",
      "fail",
      `cannot read the certificate ${tls.cert}: ${tls.certError}`,
      "point tls.cert at a readable PEM certificate",
    );
  }
  if (tls.keyError !== null) {
    return line(
      "tls",
      "fail",
      `cannot read the key ${tls.key}: ${tls.keyError}`,
      "point tls.key at a readable PEM private key",
    );
  }
  if (tls.keyMatches === false) {
    return line(
      "tls",
      "fail",
      `${tls.key} is not the key of ${tls.cert}`,
      "give the certificate's own key",
    );
  }
  const expires = Date.parse(tls.notAfter ?? "");
  const days = Math.floor((expires - now) / 86_400_000);
  if (expires <= now) {
    return line("tls", "fail", `${tls.cert} expired on ${tls.notAfter}`, "renew the certificate");
  }
  if (days < 14) {
    return line(
      "tls",
      "warn",
      `${tls.cert} expires in ${days} days (${tls.notAfter})`,
      "renew the certificate, then systemctl --user reload claude-pool",
    );
  }
  return line("tls", "ok", `${tls.cert} and its key are readable; valid until ${tls.notAfter}`);
}

function stateCheck(state: StateFacts): Check {
  switch (state.state) {
    case "writable":
      return line("state", "ok", `${state.dir} is writable`);
    case "creatable":
      return line("state", "ok", `${state.dir} does not exist yet; the pool will create it`);
    case "unwritable":
      return line(
        "state",
        "fail",
        `${state.dir} is not writable (${state.error}): the registry and token cannot be saved`,
        "give the pool's user that directory, or set XDG_STATE_HOME",
      );
  }
}

function runningChecks(running: RunningFacts): Check[] {
  if (running.status === null) {
    return [
      line(
        "pool",
        "ok",
        `no pool answers at ${running.socket}; the checks above are what it would find at start`,
      ),
    ];
  }
  const { pid, version, active, maxSessions } = running.status;
  const checks = [
    line(
      "pool",
      "ok",
      `running: pid ${pid}, version ${version}, ${active}/${maxSessions} sessions`,
    ),
  ];
  for (const s of running.sessions) {
    if (s.blockedOn !== null) {
      checks.push(
        line(
          "session",
          "warn",
          `waits at claude's ${s.blockedOn} dialog`,
          `claude-poolctl attach ${s.name} and answer it (the fixes above keep it from coming back)`,
          s.name,
        ),
      );
    } else if (s.status === "failed") {
      checks.push(
        line(
          "session",
          "warn",
          `failed: ${s.reason ?? "no reason given"}`,
          `claude-poolctl resume ${s.name} once the cause is fixed`,
          s.name,
        ),
      );
    }
  }
  return checks;
}
