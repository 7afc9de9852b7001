/**
 * The config file's JSON Schema: the seed's `pool.config.json` plus DESIGN.md's additions.
 * Defaults live here so `claude-pool config` prints exactly what the pool runs with.
 */

import { defaultNotifyEvents, notifyEvents } from "../notify/events.js";

const stringList = { type: "array", items: { type: "string" } } as const;

const limitsSchema = {
  type: "object",
  additionalProperties: false,
  description: "Resource limits applied to the session's systemd scope.",
  properties: {
    memoryMax: {
      description: 'Hard memory cap: bytes, or a size like "2G" (K, M, G, T are powers of 1024).',
      oneOf: [
        { type: "integer", minimum: 1 },
        { type: "string", pattern: "^[0-9]+(\\.[0-9]+)?[KMGT]?$" },
      ],
    },
    cpuQuota: {
      description: 'CPU time cap as a percentage of one CPU, like "150%".',
      type: "string",
      pattern: "^[0-9]+(\\.[0-9]+)?%$",
    },
    tasksMax: {
      description: "Maximum number of tasks (processes and threads).",
      type: "integer",
      minimum: 1,
    },
  },
} as const;

/** Fields a session may set; `defaults` holds the same ones. */
const sessionProperties = {
  name: {
    description: "Session name, unique in the pool; passed to claude as --name.",
    type: "string",
    pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
  },
  keepWarm: { description: "Never stop this session for being idle.", type: "boolean" },
  channels: { description: "Entries passed to claude --channels.", ...stringList },
  developmentChannels: {
    description: "Entries passed to claude --dangerously-load-development-channels.",
    ...stringList,
  },
  pluginDirs: { description: "Directories passed to claude --plugin-dir.", ...stringList },
  workingDirectory: {
    description: "Directory claude runs in; must exist. Default: the pool's home directory.",
    type: "string",
    minLength: 1,
  },
  dangerouslySkipPermissions: {
    description: "Pass --dangerously-skip-permissions (refused when the pool runs as root).",
    type: "boolean",
  },
  model: { description: "Passed to claude --model.", type: "string", minLength: 1 },
  args: { description: "Extra arguments appended to claude's command line.", ...stringList },
  env: {
    description: "Extra environment variables for claude.",
    type: "object",
    additionalProperties: { type: "string" },
  },
  limits: limitsSchema,
  channel: {
    description: "Connect the pool's MCP channel server to this session.",
    type: "boolean",
  },
} as const;

/** Also the params schema of `session.spawn`. */
export const sessionSchema = {
  type: "object",
  additionalProperties: false,
  properties: sessionProperties,
} as const;

const namedSessionSchema = { ...sessionSchema, required: ["name"] } as const;

const httpUrl = { type: "string", pattern: "^https?://[^\\s/]+" } as const;

/** One entry of `remotes`: another host's pool, reached with its own token. */
const remoteSchema = {
  type: "object",
  additionalProperties: false,
  required: ["name", "url"],
  properties: {
    name: {
      description: "What the dashboard calls it, e.g. its host name.",
      type: "string",
      pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
    },
    url: {
      description: "Its remote API, wss://host:3200 (or ws://).",
      type: "string",
      pattern: "^wss?://[^\\s/]+",
    },
    tokenFile: {
      description: "A file holding a token of that pool (read scope is enough).",
      type: "string",
      minLength: 1,
    },
    ca: { description: "A CA certificate (PEM) to trust for its wss://.", type: "string" },
  },
} as const;

/** One entry of `notify`: where to POST which events, how. */
const notifyEndpointSchema = {
  type: "object",
  additionalProperties: false,
  required: ["url"],
  properties: {
    url: {
      description: "Where to POST: a webhook receiver (json) or an ntfy topic URL (ntfy).",
      ...httpUrl,
    },
    events: {
      description:
        "Events to send: waiting (a permission prompt, dialog or question waits for a person), " +
        "turn.ended (each reply, with its excerpt), crashed, failed, schedule (a scheduled run's result).",
      type: "array",
      items: { enum: notifyEvents },
      minItems: 1,
      uniqueItems: true,
      default: defaultNotifyEvents,
    },
    format: {
      description:
        'Request body: "json" (the event as JSON, signed with secret) or "ntfy" (an ntfy JSON publish).',
      enum: ["json", "ntfy"],
      default: "json",
    },
    secret: {
      description:
        "Signs each body: X-Claude-Pool-Signature-256: sha256=<HMAC-SHA256 of the body, hex>.",
      type: "string",
      minLength: 1,
    },
    headers: {
      description: 'Extra request headers, e.g. {"Authorization": "Bearer tk_..."} for ntfy.',
      type: "object",
      propertyNames: { pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$" },
      additionalProperties: { type: "string" },
    },
    timeoutSeconds: {
      description: "How long one request may take before it counts as failed.",
      type: "number",
      exclusiveMinimum: 0,
      maximum: 300,
      default: 10,
    },
    retries: {
      description:
        "Attempts after the first for a notification that failed (network, 408, 429, 5xx).",
      type: "integer",
      minimum: 0,
      maximum: 100,
      default: 5,
    },
    backoffSeconds: {
      description: "Delay before the first retry; doubles with each retry, up to 10 minutes.",
      type: "number",
      exclusiveMinimum: 0,
      default: 2,
    },
    queueSize: {
      description: "Notifications kept while the endpoint is down; past it the oldest are dropped.",
      type: "integer",
      minimum: 1,
      maximum: 10000,
      default: 100,
    },
  },
} as const;

/** Which sessions' claude may message which through the send_message tool. */
const agentRuleSchema = {
  type: "object",
  additionalProperties: false,
  required: ["from", "to"],
  properties: {
    from: {
      description: 'The sending session, by name or id; "*" for every session.',
      type: "string",
      minLength: 1,
    },
    to: {
      description: 'The sessions it may message, by name or id; "*" for every other session.',
      type: "array",
      items: { type: "string", minLength: 1 },
      minItems: 1,
    },
  },
} as const;

/** A session's settings without its name: a `spawn` schedule names each run's session. */
function unnamed<T extends { name: unknown }>(properties: T): Omit<T, "name"> {
  const copy: Partial<T> = { ...properties };
  delete copy.name;
  return copy as Omit<T, "name">;
}

/** One of `schedules`; also the params schema of `schedule.add`. */
export const scheduleSchema = {
  type: "object",
  additionalProperties: false,
  description:
    "A message sent on a cron schedule, to an existing session (session) or to a fresh one " +
    "per run (spawn): exactly one of the two.",
  required: ["name", "cron", "message"],
  oneOf: [{ required: ["session"] }, { required: ["spawn"] }],
  properties: {
    name: {
      description: "Schedule name, unique in the pool.",
      type: "string",
      pattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,47}$",
    },
    cron: {
      description:
        "When it runs: five cron fields (minute hour day-of-month month day-of-week), six with " +
        'seconds first, or a name like "@daily", "@hourly", "@weekly".',
      type: "string",
      minLength: 1,
    },
    timezone: {
      description: "IANA time zone the cron expression is read in (default: the pool's).",
      type: "string",
      minLength: 1,
    },
    session: {
      description: "The session (by name) the message goes to; resumed when stopped.",
      type: "string",
      minLength: 1,
    },
    spawn: {
      description: "Settings of a fresh session for each run (named <schedule>-<run>).",
      type: "object",
      additionalProperties: false,
      properties: unnamed(sessionProperties),
    },
    message: { description: "What is sent to claude.", type: "string", minLength: 1 },
    delivery: {
      description: "How the message reaches claude (default: the pool's delivery).",
      enum: ["auto", "channel", "pty"],
    },
    catchUp: {
      description:
        "After the pool was down across a run's time, run once at start (like systemd's Persistent=).",
      type: "boolean",
      default: false,
    },
    overlap: {
      description: 'When the previous run has no reply yet: "skip" this run, or "queue" it behind.',
      enum: ["skip", "queue"],
      default: "skip",
    },
    keepRuns: {
      description: "spawn: the sessions of this many latest runs are kept; older ones are removed.",
      type: "integer",
      minimum: 1,
      default: 5,
    },
  },
} as const;

export const configSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  title: "claude-pool configuration",
  type: "object",
  additionalProperties: false,
  properties: {
    $schema: { description: "A JSON Schema for editors; the pool ignores it.", type: "string" },
    maxSessions: {
      description: "Maximum concurrent sessions (starting, running, stopping or awaiting restart).",
      type: "integer",
      minimum: 1,
      default: 5,
    },
    idleTimeoutMinutes: {
      description: "Stop sessions idle this long (0 = never).",
      type: "number",
      minimum: 0,
      default: 30,
    },
    idleCheckSeconds: {
      description: "How often the idle sweep runs.",
      type: "number",
      exclusiveMinimum: 0,
      default: 60,
    },
    apiPort: {
      description: "TCP port of the WebSocket and REST API.",
      type: "integer",
      minimum: 0,
      maximum: 65535,
      default: 3200,
    },
    bind: { description: "Address the TCP API listens on.", type: "string", default: "127.0.0.1" },
    primarySession: { description: "Session started with the pool.", ...namedSessionSchema },
    defaults: {
      description: "Settings under each session's own, read at each launch.",
      ...sessionSchema,
      default: {},
    },
    sessions: {
      description: "More named sessions to start with the pool.",
      type: "array",
      items: namedSessionSchema,
      default: [],
    },
    inheritEnv: {
      description:
        "Variables of the pool's environment that claude inherits beyond the base set (HOME, " +
        "USER, PATH, LANG, LC_*, TZ, XDG_*, proxies, certificates, ANTHROPIC_*, CLAUDE_*, " +
        "DISABLE_*, AWS_*, GOOGLE_*, OTEL_* and the rest Claude Code documents): a list of " +
        "names, or true for all of them.",
      oneOf: [
        { type: "array", items: { type: "string", pattern: "^[A-Za-z_][A-Za-z0-9_]*$" } },
        { type: "boolean" },
      ],
      default: [],
    },
    claudePath: {
      description: "Claude Code binary: a path, or a name looked up in PATH.",
      type: "string",
      minLength: 1,
      default: "claude",
    },
    logLevel: {
      description: "Log verbosity.",
      enum: ["debug", "info", "warn", "error"],
      default: "info",
    },
    auth: {
      description: "Remote API authentication.",
      type: "object",
      additionalProperties: false,
      properties: {
        tokenFile: {
          description: "The main token's file (default: $XDG_STATE_HOME/claude-pool/token).",
          type: "string",
          minLength: 1,
        },
      },
      default: {},
    },
    restart: {
      description: "Automatic restart of crashed sessions.",
      type: "object",
      additionalProperties: false,
      properties: {
        maxRestarts: {
          description: "Restarts allowed within windowMinutes; past them the session is failed.",
          type: "integer",
          minimum: 0,
          default: 3,
        },
        windowMinutes: {
          description: "The window maxRestarts counts in.",
          type: "number",
          exclusiveMinimum: 0,
          default: 5,
        },
        backoffSeconds: {
          description: "Delay before the first restart; doubles with each restart in the window.",
          type: "number",
          minimum: 0,
          default: 1,
        },
        maxBackoffSeconds: {
          description: "The longest delay before a restart.",
          type: "number",
          minimum: 0,
          default: 30,
        },
      },
      default: {},
    },
    stopTimeoutSeconds: {
      description: "Grace period between SIGTERM and SIGKILL when stopping a session.",
      type: "number",
      minimum: 0,
      default: 10,
    },
    resumeOnStart: {
      description:
        "Resume sessions that were running when the pool went down (keepWarm ones always resume).",
      type: "boolean",
      default: true,
    },
    scrollbackBytes: {
      description: "PTY output kept in memory per session for attach.",
      type: "integer",
      minimum: 1024,
      default: 1048576,
    },
    systemd: {
      description: "Run sessions in transient systemd scopes: auto, required, or off.",
      enum: ["auto", "required", "off"],
      default: "auto",
    },
    channel: {
      description: "Default for each session's channel setting.",
      type: "boolean",
      default: true,
    },
    delivery: {
      description: "How channel.send reaches a conversation.",
      enum: ["auto", "channel", "pty"],
      default: "auto",
    },
    trustWorkingDirectories: {
      description:
        "Before a session starts, record its working directory as trusted in the .claude.json of " +
        "the claude config dir it uses (what accepting claude's trust dialog records), so that " +
        "dialog never stops it. Only the pool's sessions' own folders.",
      type: "boolean",
      default: false,
    },
    confirmDevelopmentChannels: {
      description: 'Answer the "Loading development channels" warning for the pool\'s own channel.',
      type: "boolean",
      default: false,
    },
    permissionTimeoutSeconds: {
      description:
        "How long a permission prompt waits for a client's answer: then it is denied, or (a " +
        "hook's prompt with permissionTimeoutAction \"terminal\") left to the dialog in claude's terminal.",
      type: "number",
      exclusiveMinimum: 0,
      maximum: 86400,
      default: 300,
    },
    permissionTimeoutAction: {
      description:
        "What happens to a permission prompt from claude's PermissionRequest hook that no client " +
        'answered in permissionTimeoutSeconds: "terminal" leaves it to the dialog in claude\'s ' +
        'terminal, "deny" denies it. Prompts relayed by the channel are denied.',
      enum: ["terminal", "deny"],
      default: "terminal",
    },
    hooks: {
      description:
        "Report each conversation's activity, replies and permission prompts to the pool through " +
        "Claude Code hooks (a generated --settings file per launch). Off: the screen is the only evidence.",
      type: "boolean",
      default: true,
    },
    channelFallbackSeconds: {
      description:
        'With delivery "auto": how long a session\'s channel may stay unconnected, or a message ' +
        "sent through it start no turn, before messages are typed into the terminal instead.",
      type: "number",
      exclusiveMinimum: 0,
      maximum: 3600,
      default: 10,
    },
    tls: {
      description: "Certificate and key for wss:// and https://.",
      type: "object",
      additionalProperties: false,
      required: ["cert", "key"],
      properties: {
        cert: { description: "PEM certificate (chain) file.", type: "string" },
        key: { description: "PEM private key file.", type: "string" },
      },
    },
    allowedOrigins: {
      description: "Browser origins allowed to connect.",
      ...stringList,
      default: [],
    },
    allowInsecureRemote: {
      description: "Allow a non-loopback bind without TLS.",
      type: "boolean",
      default: false,
    },
    requestsPerSecond: {
      description: "Requests per second one remote connection may send on average (0 = no limit).",
      type: "number",
      minimum: 0,
      default: 500,
    },
    schedules: {
      description: "Messages sent on a schedule; schedule.add adds more at run time.",
      type: "array",
      items: scheduleSchema,
      default: [],
    },
    pingSeconds: {
      description: "How often remote connections are pinged; one that misses a pong is dropped.",
      type: "number",
      exclusiveMinimum: 0,
      default: 30,
    },
    publicUrl: {
      description:
        "The pool's URL as people reach it (say behind a reverse proxy); notifications link to " +
        "its dashboard pages. Default: the remote API's own address.",
      ...httpUrl,
    },
    notify: {
      description:
        "Webhook and ntfy endpoints told of what needs a person (pool.status shows their health).",
      type: "array",
      items: notifyEndpointSchema,
      default: [],
    },
    remotes: {
      description:
        "Other hosts' pools the dashboard shows beside this one (remote.list fetches their " +
        "sessions with their tokens; give it a read-scoped token).",
      type: "array",
      items: remoteSchema,
      default: [],
    },
    agentMessaging: {
      description:
        'Whether sessions\' claude may message each other (the send_message tool): "off", or ' +
        "rules of which session may message which.",
      oneOf: [{ enum: ["off"] }, { type: "array", items: agentRuleSchema }],
      default: "off",
    },
  },
} as const;
