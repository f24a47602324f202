import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from './load.js';
import { sniNameProblem } from './tls.js';

const base = '/srv/gw';

/** The problems reported for a config whose listeners[1] has the given tls section. */
function issuesOf(tls: unknown): ConfigError['details'] {
  try {
    resolveConfig({ listeners: [{ port: 1 }, { port: 2, tls }] }, base);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).details;
  }
  throw new Error('expected the config to be refused');
}

describe('tls.sni in the config', () => {
  it('resolves the files against the config folder and lower-cases the names', () => {
    const config = resolveConfig(
      {
        listeners: [
          {
            port: 443,
            tls: {
              cert: 'default.pem',
              key: 'default-key.pem',
              sni: { 'Meet.Example.com': { cert: 'meet.pem', key: '/etc/keys/meet.pem' }, '*.example.org': { cert: 'org.pem', key: 'org-key.pem' } },
            },
          },
        ],
      },
      base,
    );
    expect(config.listeners[0]!.tls).toEqual({
      cert: '/srv/gw/default.pem',
      key: '/srv/gw/default-key.pem',
      sni: {
        'meet.example.com': { cert: '/srv/gw/meet.pem', key: '/etc/keys/meet.pem' },
        '*.example.org': { cert: '/srv/gw/org.pem', key: '/srv/gw/org-key.pem' },
      },
    });
    expect(Object.isFrozen(config.listeners[0]!.tls!.sni!['meet.example.com'])).toBe(true);
  });

  it('keeps the self-signed default when only sni is given, and drops an empty sni', () => {
    const config = resolveConfig({ listeners: [{ port: 1, tls: { sni: { 'a.example.com': { cert: 'a.pem', key: 'a-key.pem' } } } }, { port: 2, tls: { sni: {} } }] }, base);
    expect(config.listeners[0]!.tls).toEqual({ sni: { 'a.example.com': { cert: '/srv/gw/a.pem', key: '/srv/gw/a-key.pem' } } });
    expect(config.listeners[1]!.tls).toEqual({});
  });

  it('names the entry and the field of a bad entry', () => {
    expect(issuesOf({ sni: { 'meet.example.com': { cert: 'm.pem' } } })).toEqual([
      { path: 'listeners[1].tls.sni["meet.example.com"].key', message: 'is required: give a file path' },
    ]);
    expect(issuesOf({ sni: { 'meet.example.com': { cert: '', key: 'k.pem', ca: 'x' } } })).toEqual([
      { path: 'listeners[1].tls.sni["meet.example.com"].ca', message: 'unknown field (known: cert, key)' },
      { path: 'listeners[1].tls.sni["meet.example.com"].cert', message: 'must be a file path, got ""' },
    ]);
    expect(issuesOf({ sni: { 'meet.example.com': 'm.pem' } })).toEqual([
      { path: 'listeners[1].tls.sni["meet.example.com"]', message: 'must be an object such as { cert: FILE, key: FILE }, got "m.pem"' },
    ]);
    expect(issuesOf({ sni: [] })).toEqual([
      { path: 'listeners[1].tls.sni', message: 'must be an object of host names to certificates, such as { meet.example.com: { cert: FILE, key: FILE } }, got []' },
    ]);
  });

  it('refuses names SNI can never carry, and one name twice but for case', () => {
    const pair = { cert: 'c.pem', key: 'k.pem' };
    const issues = issuesOf({ sni: { '10.0.0.1': pair, 'meet.example.com:443': pair, 'A.example.com': pair, 'a.EXAMPLE.com': pair } });
    expect(issues).toEqual([
      { path: 'listeners[1].tls.sni["10.0.0.1"]', message: expect.stringMatching(/^"10\.0\.0\.1" is an IP address: clients send only host names by SNI/) },
      { path: 'listeners[1].tls.sni["meet.example.com:443"]', message: expect.stringMatching(/is not a host name or \*\.domain: give a name such as meet\.example\.com/) },
      { path: 'listeners[1].tls.sni["a.EXAMPLE.com"]', message: '"a.EXAMPLE.com" is "A.example.com" again (host names ignore case): keep one of them' },
    ]);
  });
});

describe('sniNameProblem', () => {
  it.each(['localhost', 'meet.example.com', '*.example.com', 'xn--bcher-kva.example', 'a-1.b2.example', '*.com'])('accepts %s', (name) => {
    expect(sniNameProblem(name)).toBeUndefined();
  });
  it.each(['', '*', '*.', 'a.*.example.com', '**.example.com', '*example.com', 'example.com.', '-a.example', 'a_b.example', 'bücher.example', '::1', '[::1]', `${'a'.repeat(64)}.example`])(
    'refuses %j',
    (name) => {
      expect(sniNameProblem(name)).toBeDefined();
    },
  );
});
