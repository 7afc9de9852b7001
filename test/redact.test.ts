/** Redaction of the config for callers below admin. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { parseConfig } from "../src/config/load.js";
import { redactSecrets, redacted } from "../src/config/redact.js";

const config = parseConfig(
  JSON.stringify({
    defaults: { model: "sonnet", env: { ANTHROPIC_API_KEY: "sk-ant-1", LANG: "C.UTF-8" } },
    primarySession: { name: "main", env: { GITHUB_TOKEN: "ghp_2" } },
    sessions: [{ name: "other", keepWarm: true, env: { AWS_SECRET_ACCESS_KEY: "aws-3" } }],
    auth: { tokenFile: "/home/ann/.pool-token" },
    tls: { cert: "/etc/pool/cert.pem", key: "/etc/pool/key.pem" },
    maxSessions: 3,
  }),
  "test",
);

/** Every key path of a JSON value, with arrays' indexes. */
function keyPaths(value: unknown, prefix = ""): string[] {
  if (value === null || typeof value !== "object") return [prefix];
  return [
    prefix,
    ...Object.entries(value).flatMap(([k, v]) => keyPaths(v, `${prefix}/${JSON.stringify(k)}`)),
  ];
}

describe("redactSecrets", () => {
  it("redacts every env value and secret-named key, keeping the keys and the rest", () => {
    const shown = redactSecrets(config);
    assert.deepEqual(shown.defaults.env, { ANTHROPIC_API_KEY: redacted, LANG: redacted });
    assert.deepEqual(shown.primarySession?.env, { GITHUB_TOKEN: redacted });
    assert.deepEqual(shown.sessions[0].env, { AWS_SECRET_ACCESS_KEY: redacted });
    assert.deepEqual(shown.auth, { tokenFile: redacted });
    assert.deepEqual(shown.tls, { cert: "/etc/pool/cert.pem", key: redacted });
    assert.equal(shown.defaults.model, "sonnet");
    assert.equal(shown.sessions[0].keepWarm, true);
    assert.equal(shown.maxSessions, 3);
    assert.deepEqual(shown.restart, config.restart);
    assert.equal(config.defaults.env?.ANTHROPIC_API_KEY, "sk-ant-1", "the original is untouched");
  });

  it("redacts a notify endpoint's secret, headers and the credentials in its URL", () => {
    const notify = parseConfig(
      JSON.stringify({
        notify: [
          { url: "https://hooks.example/pool", secret: "s3cret" },
          {
            url: "https://ann:pw@ntfy.example/alerts?auth=tk_1&x=1",
            format: "ntfy",
            headers: { Authorization: "Bearer tk_2", Title: "t" },
          },
        ],
      }),
      "test",
    ).notify;
    const shown = redactSecrets({ notify }).notify;
    assert.equal(shown[0].url, "https://hooks.example/pool");
    assert.equal(shown[0].secret, redacted);
    assert.deepEqual(shown[1].headers, { Authorization: redacted, Title: redacted });
    assert.equal(
      shown[1].url,
      "https://%3Credacted%3E@ntfy.example/alerts?auth=%3Credacted%3E&x=1",
    );
    for (const secret of ["s3cret", "tk_1", "tk_2", "pw", "ann"]) {
      assert.ok(!JSON.stringify(shown).includes(secret), secret);
    }
  });

  it("gives a config that is still valid", () => {
    parseConfig(JSON.stringify(redactSecrets(config)), "redacted");
  });

  it("no env value ever appears in the redacted JSON", () => {
    const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,16}$/);
    const env = fc.dictionary(
      name,
      fc.string({ minLength: 1 }).map((s) => `secret:${s}`),
    );
    fc.assert(
      fc.property(env, env, fc.array(env, { maxLength: 3 }), (defaults, primary, others) => {
        const values = [defaults, primary, ...others].flatMap((e) => Object.values(e));
        const json = JSON.stringify(
          redactSecrets({
            ...config,
            defaults: { env: defaults },
            primarySession: { name: "p", env: primary },
            sessions: others.map((e, i) => ({ name: `s${i}`, env: e })),
          }),
        );
        for (const value of values) assert.ok(!json.includes(JSON.stringify(value)), value);
      }),
    );
  });

  it("keeps the shape of any JSON, changes nothing twice, and leaves secret-free JSON alone", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const once = redactSecrets(value);
        assert.deepEqual(keyPaths(once), keyPaths(value));
        assert.deepEqual(redactSecrets(once), once);
        const secretFree = !keyPaths(value).some((p) =>
          /"env"|"headers"|"url"|token|key|secret|passw|credential|auth|cookie/i.test(p),
        );
        if (secretFree) assert.deepEqual(once, value);
      }),
    );
  });
});
