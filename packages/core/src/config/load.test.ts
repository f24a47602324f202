import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyConfigOverrides, ConfigError, loadConfigFile, resolveConfig } from './load.js';

const base = '/srv/gw';

function invalid(input: unknown): ConfigError {
  try {
    resolveConfig(input, base);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('WSGATE_CONFIG_INVALID');
    return error as ConfigError;
  }
  throw new Error('expected the config to be refused');
}

describe('resolveConfig', () => {
  it('fills every default of the minimal config', () => {
    expect(resolveConfig({ listeners: [{ port: 8080 }] }, base)).toEqual({
      listeners: [{ name: '127.0.0.1:8080', host: '127.0.0.1', port: 8080 }],
      names: [],
      dataDir: '/srv/gw/.wsgate',
      limits: {
        maxHeaderSize: 16384,
        headerTimeout: 10,
        tlsHandshakeTimeout: 10,
        keepAliveTimeout: 5,
        maxConnections: 10000,
        maxPayload: 1048576,
        sendQueue: { pause: 1048576, close: 16777216, timeout: 30 },
        routeTimeout: 5,
      },
      keepalive: { mechanism: 'ping', interval: 30, timeout: 10 },
      shutdown: { grace: 5 },
      log: { level: 'info' },
      workers: 1,
    });
  });

  it('keeps given values and resolves paths against baseDir', () => {
    const config = resolveConfig(
      {
        listeners: [
          { name: 'wss', host: '::', port: 443, tls: { cert: 'certs/gw.pem', key: '/etc/gw/key.pem' } },
          { host: '::1', port: 8443, tls: true },
          { port: 8444, tls: {} },
          { port: 80, tls: false },
        ],
        names: ['gw.example.com', '192.0.2.7'],
        dataDir: '/var/lib/wsgate',
        script: { path: 'routes.ts', options: { realm: 'example.com' } },
        limits: { maxPayload: 65536, headerTimeout: 2.5 },
        keepalive: { mechanism: 'none' },
        shutdown: { grace: 0 },
        log: { level: 'debug' },
      },
      base,
    );
    expect(config.listeners).toEqual([
      { name: 'wss', host: '::', port: 443, tls: { cert: '/srv/gw/certs/gw.pem', key: '/etc/gw/key.pem' } },
      { name: '[::1]:8443', host: '::1', port: 8443, tls: {} },
      { name: '127.0.0.1:8444', host: '127.0.0.1', port: 8444, tls: {} },
      { name: '127.0.0.1:80', host: '127.0.0.1', port: 80 },
    ]);
    expect(config.script).toEqual({ path: '/srv/gw/routes.ts', options: { realm: 'example.com' } });
    expect(config.dataDir).toBe('/var/lib/wsgate');
    expect(config.limits).toMatchObject({ maxPayload: 65536, headerTimeout: 2.5, maxHeaderSize: 16384 });
    expect(config.keepalive).toEqual({ mechanism: 'none', interval: 30, timeout: 10 });
    expect(config.shutdown.grace).toBe(0);
    expect(config.log.level).toBe('debug');
  });

  it('takes a string as the script path, with empty options', () => {
    expect(resolveConfig({ listeners: [{ port: 1 }], script: './r.ts' }, base).script).toEqual({ path: '/srv/gw/r.ts', options: {} });
  });

  it('freezes the result deeply and leaves the input untouched', () => {
    const input = { listeners: [{ port: 8080 }], script: { path: 'r.ts', options: { nested: { a: 1 } } } };
    const config = resolveConfig(input, base);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.listeners[0])).toBe(true);
    expect(Object.isFrozen(config.limits)).toBe(true);
    expect(Object.isFrozen(config.script!.options.nested)).toBe(true);
    expect(input).toEqual({ listeners: [{ port: 8080 }], script: { path: 'r.ts', options: { nested: { a: 1 } } } });
    expect(Object.isFrozen(input.script.options)).toBe(false);
  });

  it('reports every error at once, each with its path and what is expected', () => {
    const error = invalid({
      listeners: [{ port: '80a' }, { port: 70000, host: 'a b' }],
      limits: { maxHeaderSzie: 1, maxPayload: 0, headerTimeout: -1 },
      keepalive: { mechanism: 'pang' },
      log: { level: 'verbose' },
      extra: true,
    });
    expect(error.details.map((d) => d.path).sort()).toEqual([
      'extra',
      'keepalive.mechanism',
      'limits.headerTimeout',
      'limits.maxHeaderSzie',
      'limits.maxPayload',
      'listeners[0].port',
      'listeners[1].host',
      'listeners[1].port',
      'log.level',
    ]);
    const at = (p: string) => error.details.find((d) => d.path === p)?.message;
    expect(at('listeners[0].port')).toBe('must be an integer from 0 to 65535, got "80a"');
    expect(at('listeners[1].port')).toBe('must be an integer from 0 to 65535, got 70000');
    expect(at('listeners[1].host')).toMatch(/^must be a host name or IP address .*, got "a b"$/);
    expect(at('limits.maxHeaderSzie')).toBe(
      'unknown field (known: maxHeaderSize, headerTimeout, tlsHandshakeTimeout, keepAliveTimeout, maxConnections, maxPayload, sendQueue, routeTimeout), did you mean maxHeaderSize?',
    );
    expect(at('limits.headerTimeout')).toBe('must be a number of seconds, more than 0 and at most 2147483, got -1');
    expect(at('limits.maxPayload')).toBe('must be a whole number of bytes, at least 1, got 0');
    expect(at('keepalive.mechanism')).toBe('must be one of ping, pong, none, got "pang"');
    expect(at('log.level')).toBe('must be one of debug, info, warn, error, silent, got "verbose"');
    expect(at('extra')).toMatch(/^unknown field \(known: listeners, names, dataDir, script, limits, keepalive, shutdown, (\w+, )*log(, \w+)*\)$/);
    expect(error.message).toBe(error.details.map((d) => `${d.path}: ${d.message}`).join('; '));
    expect(error.message).not.toContain('\n');
  });

  it.each([
    [{}, 'listeners', 'is required: give a list of at least one listener, such as [{ port: 8080 }]'],
    [{ listeners: [] }, 'listeners', 'must be a list of at least one listener, such as [{ port: 8080 }], got []'],
    [{ listeners: [{}] }, 'listeners[0].port', 'is required: give an integer from 0 to 65535'],
    [{ listeners: [{ port: 1.5 }] }, 'listeners[0].port', 'must be an integer from 0 to 65535, got 1.5'],
    [{ listeners: [{ port: 1, host: '[::1]' }] }, 'listeners[0].host', expect.stringContaining('without brackets')],
    [{ listeners: [{ port: 1, tls: 'yes' }] }, 'listeners[0].tls', 'must be true (self-signed certificate) or { cert: FILE, key: FILE }, got "yes"'],
    [
      { listeners: [{ port: 1 }, { port: 2, tls: { cert: 'c.pem' } }] },
      'listeners[1].tls',
      'cert is given but key is not: give both cert and key, or neither for a self-signed certificate',
    ],
    [{ listeners: [{ port: 1, tls: { crt: 'c.pem' } }] }, 'listeners[0].tls.crt', 'unknown field (known: cert, key, sni), did you mean cert?'],
    [{ listeners: [{ port: 1 }], script: { options: {} } }, 'script.path', 'is required: give a file path'],
    [{ listeners: [{ port: 1 }], script: 42 }, 'script', 'must be a file path, or { path: FILE, options: {...} }, got 42'],
    [{ listeners: [{ port: 1 }], names: ['ok', ''] }, 'names[1]', 'must be a host name or IP address, got ""'],
    [{ listeners: [{ port: 1 }], limits: { headerTimeout: Infinity } }, 'limits.headerTimeout', expect.stringContaining('got Infinity')],
    [{ listeners: [{ port: 1 }], limits: { maxConnections: '10' } }, 'limits.maxConnections', 'must be a whole number, at least 1, got "10"'],
    [{ listeners: [{ port: 1 }], limits: { keepAliveTimeout: 3e6 } }, 'limits.keepAliveTimeout', expect.stringContaining('at most 2147483')],
    [{ listeners: [{ port: 1 }], limits: { routeTimeout: 0 } }, 'limits.routeTimeout', 'must be a number of seconds, more than 0 and at most 2147483, got 0'],
    [{ listeners: [{ port: 1 }], limits: { tlsHandshakeTimeout: 0 } }, 'limits.tlsHandshakeTimeout', 'must be a number of seconds, more than 0 and at most 2147483, got 0'],
    [{ listeners: [{ port: 1 }], limits: { tlsHandshakeTimeout: '10s' } }, 'limits.tlsHandshakeTimeout', 'must be a number of seconds, more than 0 and at most 2147483, got "10s"'],
    [{ listeners: [{ port: 1 }], limits: { sendQueue: { pause: 0 } } }, 'limits.sendQueue.pause', 'must be a whole number of bytes, at least 1, got 0'],
    [{ listeners: [{ port: 1 }], limits: { sendQueue: { timeout: 0 } } }, 'limits.sendQueue.timeout', expect.stringContaining('more than 0')],
    [{ listeners: [{ port: 1 }], limits: { sendQueue: { pasue: 1 } } }, 'limits.sendQueue.pasue', 'unknown field (known: pause, close, timeout), did you mean pause?'],
    [
      { listeners: [{ port: 1 }], limits: { sendQueue: { close: 65536 } } },
      'limits.sendQueue.close',
      'must be more than limits.sendQueue.pause (1048576), got 65536: raise close or lower pause',
    ],
    [[1, 2], 'config', 'must be an object with at least a "listeners" list, got [1,2]'],
    [null, 'config', 'must be an object with at least a "listeners" list, got null'],
    [{ listeners: [{ port: 1, 'weird key': 1 }] }, 'listeners[0]["weird key"]', expect.stringContaining('unknown field')],
  ])('reports %j at %s', (input, at, message) => {
    expect(invalid(input).details).toContainEqual({ path: at, message });
  });

  it('refuses two listeners on one host:port, but not on port 0', () => {
    const error = invalid({
      listeners: [{ port: 8080 }, { port: 0 }, { port: 0 }, { host: '127.0.0.1', port: 8080 }, { host: '::1', port: 8080 }],
    });
    expect(error.details).toEqual([
      { path: 'listeners[3]', message: '127.0.0.1:8080 is already used by listeners[0]: give each listener its own host:port' },
    ]);
  });

  it('refuses two listeners with one name', () => {
    const error = invalid({ listeners: [{ name: 'a', port: 1 }, { name: 'a', port: 2 }] });
    expect(error.details).toEqual([
      { path: 'listeners[1].name', message: '"a" is already the name of listeners[0]: give each listener its own name' },
    ]);
  });

  it('reports duplicates together with schema errors', () => {
    const error = invalid({ listeners: [{ port: 9 }, { port: 9 }], log: { level: 'loud' } });
    expect(error.details.map((d) => d.path)).toEqual(['log.level', 'listeners[1]']);
  });

  it('reports a "__proto__" key as unknown instead of following it', () => {
    const error = invalid(JSON.parse('{"listeners":[{"port":1}],"__proto__":{"polluted":true}}'));
    expect(error.details).toContainEqual(expect.objectContaining({ path: '__proto__' }));
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('resolveConfig: store', () => {
  it('has no store section by default (a memory store), and fills the Redis defaults when given', () => {
    expect(resolveConfig({ listeners: [{ port: 1 }] }, base).store).toBeUndefined();
    expect(resolveConfig({ listeners: [{ port: 1 }], store: { redis: { url: 'rediss://:pw@redis.example:6380/2' } } }, base).store).toEqual({
      redis: { url: 'rediss://:pw@redis.example:6380/2', prefix: '', connectTimeout: 5, commandTimeout: 1, onUnavailable: 'fail' },
    });
    const given = { url: 'redis://10.0.0.9', prefix: 'prod:', connectTimeout: 0.5, commandTimeout: 0.25, onUnavailable: 'degraded' };
    expect(resolveConfig({ listeners: [{ port: 1 }], store: { redis: given } }, base).store).toEqual({ redis: given });
  });

  it('names each bad store field and what to give instead', () => {
    const at = (store: unknown) => Object.fromEntries(invalid({ listeners: [{ port: 1 }], store }).details.map((d) => [d.path, d.message]));
    expect(at({})).toEqual({ 'store.redis': 'is required: give an object such as { url: redis://127.0.0.1:6379, prefix: "prod:" }' });
    expect(at({ memcached: {} })['store.memcached']).toBe('unknown field (known: redis)');
    expect(at({ redis: {} })).toEqual({
      'store.redis.url': 'is required: give a Redis URL such as redis://127.0.0.1:6379, redis://:PASSWORD@HOST:6379/0 or rediss://HOST:6380 (TLS)',
    });
    expect(at({ redis: { url: 'http://127.0.0.1:6379' } })).toEqual({
      'store.redis.url': 'must be a Redis URL such as redis://127.0.0.1:6379, redis://:PASSWORD@HOST:6379/0 or rediss://HOST:6380 (TLS), got the scheme "http:"',
    });
    expect(at({ redis: { url: '127.0.0.1:6379' } })['store.redis.url']).toMatch(/^must be a Redis URL .*: put redis:\/\/ \(or rediss:\/\/ for TLS\) before the host$/);
    expect(at({ redis: { url: 'redis:// bad' } })['store.redis.url']).toMatch(/got a string that is not a URL$/);
    expect(at({ redis: { url: 'redis://h/db1' } })['store.redis.url']).toMatch(/the path is a database number, got "\/db1"$/);
    expect(at({ redis: { url: 'redis://h', onUnavailable: 'ignore', commandTimeout: 0, connectTimout: 1 } })).toEqual({
      'store.redis.onUnavailable': 'must be one of fail, degraded, got "ignore"',
      'store.redis.commandTimeout': 'must be a number of seconds, more than 0 and at most 2147483, got 0',
      'store.redis.connectTimout': 'unknown field (known: url, prefix, connectTimeout, commandTimeout, onUnavailable), did you mean connectTimeout?',
    });
  });
});

describe('applyConfigOverrides', () => {
  it('replaces listeners, script path (from the working directory) and log level', () => {
    const parsed = { listeners: [{ port: 1, tls: true }], script: { path: 'a.ts', options: { x: 1 } }, log: { level: 'info' } };
    const out = applyConfigOverrides(parsed, { listeners: [{ host: '::1', port: 9 }], scriptPath: 'b.ts', logLevel: 'debug' });
    expect(out).toEqual({
      listeners: [{ host: '::1', port: 9 }],
      script: { path: path.resolve('b.ts'), options: { x: 1 } },
      log: { level: 'debug' },
    });
    expect(parsed.script.path).toBe('a.ts');
  });

  it('leaves what is not an object for validation to report', () => {
    expect(applyConfigOverrides('nonsense', { logLevel: 'warn' })).toBe('nonsense');
  });
});

describe('loadConfigFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'wsgate-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const file = async (name: string, text: string) => {
    const p = path.join(dir, name);
    await writeFile(p, text);
    return p;
  };
  const refusal = (p: string) => loadConfigFile(p).then(() => expect.fail('expected a refusal'), (e: ConfigError) => e);

  it('reads YAML, with paths relative to the file', async () => {
    const p = await file('gw.yaml', 'listeners:\n  - port: 8080\n    tls: { cert: c.pem, key: k.pem }\nscript: routes.ts\n');
    const config = await loadConfigFile(p);
    expect(config.listeners[0]!.tls).toEqual({ cert: path.join(dir, 'c.pem'), key: path.join(dir, 'k.pem') });
    expect(config.script!.path).toBe(path.join(dir, 'routes.ts'));
    expect(config.dataDir).toBe(path.join(dir, '.wsgate'));
  });

  it('reads JSON (and .yml), a BOM notwithstanding', async () => {
    const json = await file('gw.json', '\uFEFF{"listeners": [{"port": 8081}]}');
    expect((await loadConfigFile(json)).listeners[0]!.port).toBe(8081);
    const yml = await file('gw.yml', 'listeners: [{ port: 8082 }]');
    expect((await loadConfigFile(yml)).listeners[0]!.port).toBe(8082);
  });

  it('applies overrides before validating', async () => {
    const p = await file('over.yaml', 'listeners: [{ port: 1 }]\n');
    const config = await loadConfigFile(p, { listeners: [{ host: '0.0.0.0', port: 2 }], logLevel: 'warn' });
    expect(config.listeners).toEqual([{ name: '0.0.0.0:2', host: '0.0.0.0', port: 2 }]);
    expect(config.log.level).toBe('warn');
  });

  it('names the file and every error in an invalid config', async () => {
    const p = await file('bad.yaml', 'listeners:\n  - port: 80a\nlimits:\n  maxHeaderSzie: 1\n');
    const error = await refusal(p);
    expect(error.code).toBe('WSGATE_CONFIG_INVALID');
    expect(error.file).toBe(p);
    expect(error.message).toBe(
      `invalid config ${p}: listeners[0].port: must be an integer from 0 to 65535, got "80a"; ` +
        'limits.maxHeaderSzie: unknown field (known: maxHeaderSize, headerTimeout, tlsHandshakeTimeout, keepAliveTimeout, maxConnections, maxPayload, sendQueue, routeTimeout), did you mean maxHeaderSize?',
    );
  });

  it('reports a YAML syntax error with line and column', async () => {
    const p = await file('syntax.yaml', 'listeners:\n  - port: 1\n   host: x\n');
    const error = await refusal(p);
    expect(error.code).toBe('WSGATE_CONFIG_INVALID');
    expect(error.details[0]!.path).toMatch(/^line 3, column \d+$/);
    expect(error.details[0]!.message).toMatch(/^YAML syntax error: /);
  });

  it('reports a duplicate YAML key as a syntax error', async () => {
    const p = await file('dup.yaml', 'listeners: [{ port: 1 }]\nlisteners: [{ port: 2 }]\n');
    expect((await refusal(p)).details[0]).toMatchObject({ path: 'line 2, column 1', message: expect.stringContaining('unique') });
  });

  it.each([
    ['{\n  "listeners": [\n    { "port": 1 },\n  ]\n}', 'line 4, column 3', 'expected a value, found "]"'],
    ['{\n  "listeners": [{ "port": 1 }],\n}', 'line 3, column 1', 'expected a "quoted" key, found "}"'],
    ['{"listeners": [{"port": 1}]', 'line 1, column 28', 'expected "," or "}", found the end of the file'],
    ['{"listeners": [{port: 1}]}', 'line 1, column 17', 'expected a "quoted" key, found "p"'],
    ['{"a": "x\ny"}', 'line 1, column 9', 'expected no line breaks or control characters inside a string, found "\\n"'],
    ['{"listeners": [{"port": 1}]}  x', 'line 1, column 31', 'expected the end of the file, found "x"'],
  ])('reports the JSON syntax error in %j at its line and column', async (text, at, message) => {
    const p = await file('syntax.json', text);
    expect((await refusal(p)).details).toEqual([{ path: at, message: `JSON syntax error: ${message}` }]);
  });

  it('says so when the file is empty', async () => {
    const p = await file('empty.yaml', '\n# nothing yet\n');
    expect((await refusal(p)).details).toEqual([{ path: 'config', message: 'the file is empty: give at least a "listeners" list' }]);
  });

  it('reports a missing file as WSGATE_CONFIG_UNREADABLE with the path and the OS reason', async () => {
    const p = path.join(dir, 'missing.yaml');
    const error = await refusal(p);
    expect(error.code).toBe('WSGATE_CONFIG_UNREADABLE');
    expect(error.message).toBe(`cannot read config file ${p} (ENOENT: no such file or directory): check the path and the file's permissions`);
  });

  it('reports a folder and an unreadable file as unreadable', async () => {
    const folder = path.join(dir, 'folder.yaml');
    await rm(folder, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(folder));
    expect(await refusal(folder)).toMatchObject({ code: 'WSGATE_CONFIG_UNREADABLE', message: expect.stringContaining('(EISDIR: illegal operation on a directory)') });

    if (process.getuid?.() !== 0) {
      const locked = await file('locked.yaml', 'listeners: [{ port: 1 }]');
      await chmod(locked, 0o000);
      expect(await refusal(locked)).toMatchObject({ code: 'WSGATE_CONFIG_UNREADABLE', message: expect.stringContaining('EACCES') });
    }
  });

  it('refuses an unknown format', async () => {
    const p = await file('gw.toml', 'listeners = []');
    expect(await refusal(p)).toMatchObject({ code: 'WSGATE_CONFIG_UNREADABLE', message: expect.stringContaining('use a .json, .yaml or .yml file') });
  });
});
