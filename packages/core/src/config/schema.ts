/**
 * The JSON Schema of the config file and the one function that applies it (docs/design.md convention 8).
 *
 * The file form is the resolved `GatewayConfig` (./types.ts) with defaults left out and two shorthands:
 * `tls: true` (self-signed) and `script: "routes.ts"`. ajv fills the defaults in place; ./load.ts then
 * expands the shorthands, resolves paths and freezes.
 *
 * Every schema node that can fail carries an `expected` annotation: the one phrase an operator needs
 * ("an integer from 0 to 65535"). Errors are written from it rather than from ajv's own messages, which
 * talk about keywords ("must be <= 65535") instead of the field.
 */
import { createRequire } from 'node:module';
import type { Ajv2019 as Ajv, ValidateFunction } from 'ajv/dist/2019.js';
import { describeError, type ConfigIssue } from './issues.js';

/** setTimeout() silently turns anything longer than 2^31-1 ms into 1 ms; refuse such durations instead. */
const MAX_SECONDS = 2_147_483;

const seconds = (fallback: number) => ({
  type: 'number',
  exclusiveMinimum: 0,
  maximum: MAX_SECONDS,
  default: fallback,
  expected: `a number of seconds, more than 0 and at most ${MAX_SECONDS}`,
});

const bytes = (fallback: number) => ({
  type: 'integer',
  minimum: 1,
  default: fallback,
  expected: 'a whole number of bytes, at least 1',
});

const count = (fallback: number) => ({
  type: 'integer',
  minimum: 1,
  default: fallback,
  expected: 'a whole number, at least 1',
});

/** Host names and addresses: non-empty, no spaces; brackets belong to URLs, not to `host`. */
const hostName = {
  type: 'string',
  pattern: '^[^\\s\\[\\]]+$',
  expected: 'a host name or IP address without brackets or port, such as 127.0.0.1, 0.0.0.0 or ::',
};

const path = { type: 'string', minLength: 1, expected: 'a file path' };

/** One `tls.sni` entry. The host names themselves are checked by ./tls.ts (a pattern would be unreadable). */
const sniCertificate = {
  type: 'object',
  additionalProperties: false,
  required: ['cert', 'key'],
  properties: { cert: path, key: path },
  expected: 'an object such as { cert: FILE, key: FILE }',
};

const listener = {
  type: 'object',
  additionalProperties: false,
  required: ['port'],
  expected: 'an object such as { host: 127.0.0.1, port: 8080 }',
  properties: {
    name: { type: 'string', minLength: 1, expected: 'a non-empty name' },
    host: { ...hostName, default: '127.0.0.1' },
    port: {
      type: 'integer',
      minimum: 0,
      maximum: 65535,
      expected: 'an integer from 0 to 65535',
    },
    tls: {
      // `true` and `{}` both mean "self-signed"; `false` is accepted as "no TLS" so YAML can toggle it.
      type: ['boolean', 'object'],
      additionalProperties: false,
      properties: {
        cert: path,
        key: path,
        sni: {
          type: 'object',
          additionalProperties: sniCertificate,
          expected: 'an object of host names to certificates, such as { meet.example.com: { cert: FILE, key: FILE } }',
        },
      },
      dependentRequired: { cert: ['key'], key: ['cert'] },
      expected: 'true (self-signed certificate) or { cert: FILE, key: FILE }',
    },
    proxyProtocol: { type: 'boolean', expected: 'true (every connection starts with a PROXY protocol preface) or false' },
  },
};

/** `realIp`: the entries are checked as addresses and CIDRs by ./load.ts (a pattern would be unreadable). */
const realIp = {
  type: 'object',
  additionalProperties: false,
  required: ['trustedProxies'],
  expected: 'an object such as { trustedProxies: [10.0.0.0/8], header: X-Forwarded-For }',
  properties: {
    trustedProxies: {
      type: 'array',
      items: { type: 'string', minLength: 1, expected: 'an IP address or CIDR such as 10.0.0.0/8 or fd00::/8' },
      expected: 'a list of IP addresses and CIDRs',
    },
    header: {
      type: 'string',
      pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$",
      default: 'X-Forwarded-For',
      expected: 'a header name such as X-Forwarded-For, X-Real-IP or X-Client-IP',
    },
  },
};

/** The config file's schema. `additionalProperties: false` everywhere but `script.options`. */
export const configSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['listeners'],
  expected: 'an object with at least a "listeners" list',
  properties: {
    listeners: {
      type: 'array',
      minItems: 1,
      items: listener,
      expected: 'a list of at least one listener, such as [{ port: 8080 }]',
    },
    names: {
      type: 'array',
      items: { ...hostName, expected: 'a host name or IP address' },
      default: [],
      expected: 'a list of host names and addresses',
    },
    dataDir: { ...path, default: '.wsgate', expected: 'a folder path' },
    script: {
      type: ['string', 'object'],
      minLength: 1,
      additionalProperties: false,
      required: ['path'],
      properties: {
        path,
        options: { type: 'object', default: {}, expected: 'an object (free-form, handed to the script)' },
      },
      expected: 'a file path, or { path: FILE, options: {...} }',
    },
    limits: {
      type: 'object',
      additionalProperties: false,
      default: {},
      expected: 'an object such as { maxPayload: 1048576 }',
      properties: {
        maxHeaderSize: bytes(16384),
        headerTimeout: seconds(10),
        // A real handshake takes a few round trips (well under 1 s, a few s on a bad mobile link); 10 s bounds
        // a flood of silent sockets as the header timeout does, where node's own default would be 120 s.
        tlsHandshakeTimeout: seconds(10),
        keepAliveTimeout: seconds(5),
        maxConnections: count(10000),
        maxPayload: bytes(1048576),
        // That `close` is above `pause` is checked by ./load.ts (JSON Schema cannot compare two fields).
        sendQueue: {
          type: 'object',
          additionalProperties: false,
          default: {},
          expected: 'an object such as { pause: 1048576, close: 16777216, timeout: 30 }',
          properties: { pause: bytes(1048576), close: bytes(16777216), timeout: seconds(30) },
        },
        // No 0 for "none": every limit is bounded; a route that needs long can be given up to MAX_SECONDS.
        routeTimeout: seconds(5),
      },
    },
    keepalive: {
      type: 'object',
      additionalProperties: false,
      default: {},
      expected: 'an object such as { mechanism: ping, interval: 30 }',
      properties: {
        mechanism: { enum: ['ping', 'pong', 'none'], default: 'ping' },
        interval: seconds(30),
        timeout: seconds(10),
      },
    },
    shutdown: {
      type: 'object',
      additionalProperties: false,
      default: {},
      expected: 'an object such as { grace: 5 }',
      properties: {
        // 0 is allowed here (unlike other durations): "close at once" is a meaningful grace.
        grace: {
          type: 'number',
          minimum: 0,
          maximum: MAX_SECONDS,
          default: 5,
          expected: `a number of seconds from 0 to ${MAX_SECONDS}`,
        },
      },
    },
    realIp,
    log: {
      type: 'object',
      additionalProperties: false,
      default: {},
      expected: 'an object such as { level: info }',
      properties: {
        level: { enum: ['debug', 'info', 'warn', 'error', 'silent'], default: 'info' },
        pretty: { type: 'boolean', expected: 'true (human-readable lines, needs pino-pretty) or false (JSON lines)' },
        file: { ...path, expected: 'a file path (absent: stdout)' },
      },
    },
    accessLog: {
      type: 'object',
      additionalProperties: false,
      required: ['path'],
      expected: 'an object such as { path: access.log } (path "-" writes to stdout)',
      properties: {
        path: { ...path, expected: 'a file path, or "-" for stdout' },
        format: { type: 'string', minLength: 1, expected: "an nginx-style log_format, such as '$remote_addr $status'" },
      },
    },
    metrics: {
      type: 'object',
      additionalProperties: false,
      required: ['port'],
      expected: 'an object such as { port: 9100 }',
      properties: {
        host: { ...hostName, default: '127.0.0.1' },
        port: { type: 'integer', minimum: 0, maximum: 65535, expected: 'an integer from 0 to 65535' },
        path: { type: 'string', pattern: '^/', default: '/metrics', expected: 'a URL path starting with /' },
      },
    },
    management: {
      type: 'object',
      additionalProperties: false,
      required: ['port'],
      expected: 'an object such as { port: 9180 } (a token made in dataDir) or { port: 9180, tokenFile: mgmt.token }',
      properties: {
        host: { ...hostName, default: '127.0.0.1' },
        port: { type: 'integer', minimum: 0, maximum: 65535, expected: 'an integer from 0 to 65535' },
        token: { type: 'string', minLength: 16, expected: 'a bearer token of at least 16 characters' },
        tokenFile: { ...path, expected: 'the path of a file holding the bearer token' },
      },
    },
    // No defaults here: the host name is known at start (connections/shared-directory.ts).
    node: {
      type: 'object',
      additionalProperties: false,
      expected: 'an object such as { name: gw-a, heartbeat: 5 } (used with store.redis)',
      properties: {
        name: { type: 'string', pattern: '^[A-Za-z0-9._-]{1,64}$', expected: 'a node name of 1 to 64 letters, digits, ".", "_" or "-", such as gw-a' },
        heartbeat: { type: 'number', exclusiveMinimum: 0, maximum: 3600, expected: 'a number of seconds, more than 0 and at most 3600' },
      },
    },
    // The URL's form is checked by ./load.ts (store/redis-url.ts), with a message a pattern could not give.
    store: {
      type: 'object',
      additionalProperties: false,
      required: ['redis'],
      expected: 'an object such as { redis: { url: redis://127.0.0.1:6379 } } (absent: a memory store in this process)',
      properties: {
        redis: {
          type: 'object',
          additionalProperties: false,
          required: ['url'],
          expected: 'an object such as { url: redis://127.0.0.1:6379, prefix: "prod:" }',
          properties: {
            url: {
              type: 'string',
              minLength: 1,
              expected: 'a Redis URL such as redis://127.0.0.1:6379, redis://:PASSWORD@HOST:6379/0 or rediss://HOST:6380 (TLS)',
            },
            prefix: { type: 'string', default: '', expected: 'a key prefix such as "prod:" (or "" for none)' },
            connectTimeout: seconds(5),
            commandTimeout: seconds(1),
            onUnavailable: { enum: ['fail', 'degraded'], default: 'fail' },
          },
        },
      },
    },
    workers: {
      type: ['integer', 'string'],
      minimum: 1,
      maximum: 256,
      pattern: '^auto$',
      default: 1,
      expected: 'a number of worker processes from 1 to 256, or "auto" (one per core)',
    },
  },
};

/** How long the compiled validator is kept after its last use: tests validate often, gateways once. */
const KEEP_VALIDATOR_MS = 5_000;
let kept: { readonly validate: ValidateFunction; readonly timer: NodeJS.Timeout } | undefined;

/**
 * ajv and the compiled validator, loaded on demand and let go a few seconds after the last use: config is
 * validated at start and on reload, and a running gateway should not carry ajv in its heap (a larger
 * baseline heap measurably slows large-message throughput, through more full garbage collections).
 * Only the modules this call loaded are dropped from the require cache; an ajv the embedding application
 * loaded itself stays.
 */
function validator(): ValidateFunction {
  if (kept) {
    kept.timer.refresh();
    return kept.validate;
  }
  // A require of its own, so that no long-lived parent module keeps the loaded ones as children.
  const require = createRequire(import.meta.url);
  const before = new Set(Object.keys(require.cache));
  const { Ajv2019 } = require('ajv/dist/2019.js') as { Ajv2019: typeof Ajv };
  const ajv = new Ajv2019({
    allErrors: true, // every error at once (docs/design.md convention 8)
    useDefaults: true,
    verbose: true, // errors carry parentSchema, where `expected` lives, and the offending data
    strict: true,
    strictNumbers: true, // YAML's .inf and .nan are not numbers to us
    allowUnionTypes: true, // tls: boolean | object, script: string | object
  });
  ajv.addKeyword({ keyword: 'expected', schemaType: 'string' });
  const validate = ajv.compile(configSchema);
  const loaded = Object.keys(require.cache).filter((key) => !before.has(key));
  const timer = setTimeout(() => {
    kept = undefined;
    for (const key of loaded) delete require.cache[key];
  }, KEEP_VALIDATOR_MS);
  timer.unref();
  kept = { validate, timer };
  return validate;
}

/**
 * Validates `data` against {@link configSchema} and fills in its defaults **in place** (pass a copy).
 * Returns every problem found, each with its field path and what is expected; empty when valid.
 */
export function applyConfigSchema(data: unknown): ConfigIssue[] {
  const validate = validator();
  if (validate(data)) return [];
  const issues: ConfigIssue[] = [];
  const seen = new Set<string>();
  for (const error of validate.errors ?? []) {
    const issue = describeError(error);
    const key = `${issue.path}\0${issue.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      issues.push(issue);
    }
  }
  return issues;
}
