import { describe, expect, it } from 'vitest';
import { describeValue, formatPath } from './issues.js';
import { applyConfigSchema } from './schema.js';

describe('applyConfigSchema', () => {
  it('fills defaults in place, nested objects included', () => {
    const data: Record<string, unknown> = { listeners: [{ port: 1 }], script: { path: 'r.ts' } };
    expect(applyConfigSchema(data)).toEqual([]);
    expect(data).toMatchObject({
      listeners: [{ port: 1, host: '127.0.0.1' }],
      names: [],
      dataDir: '.wsgate',
      script: { path: 'r.ts', options: {} },
      limits: { maxHeaderSize: 16384, headerTimeout: 10, keepAliveTimeout: 5, maxConnections: 10000, maxPayload: 1048576 },
      keepalive: { mechanism: 'ping', interval: 30, timeout: 10 },
      shutdown: { grace: 5 },
      log: { level: 'info' },
    });
  });

  it('accepts anything in script.options, and only there', () => {
    expect(applyConfigSchema({ listeners: [{ port: 1 }], script: { path: 'r.ts', options: { any: { thing: [1] } } } })).toEqual([]);
    expect(applyConfigSchema({ listeners: [{ port: 1 }], script: { path: 'r.ts', option: {} } })).toEqual([
      { path: 'script.option', message: 'unknown field (known: path, options), did you mean options?' },
    ]);
  });

  it('suggests the known field a typo meant, and nothing for an unrelated one', () => {
    const [typo, unrelated] = applyConfigSchema({ listeners: [{ port: 1 }], keepalive: { intreval: 5, colour: 'red' } });
    expect(typo).toEqual({ path: 'keepalive.intreval', message: 'unknown field (known: mechanism, interval, timeout), did you mean interval?' });
    expect(unrelated).toEqual({ path: 'keepalive.colour', message: 'unknown field (known: mechanism, interval, timeout)' });
  });
});

describe('formatPath', () => {
  it.each([
    [[], 'config'],
    [['listeners', '0', 'port'], 'listeners[0].port'],
    [['listeners', 2], 'listeners[2]'],
    [['script', 'options', 'a-b'], 'script.options["a-b"]'],
    [['odd key'], '["odd key"]'],
  ])('%j → %s', (segments, expected) => {
    expect(formatPath(segments)).toBe(expected);
  });
});

describe('describeValue', () => {
  it.each([
    ['80a', '"80a"'],
    [70000, '70000'],
    [null, 'null'],
    [undefined, 'nothing'],
    [Number.NaN, 'NaN'],
    [{ a: 1 }, '{"a":1}'],
    ['x'.repeat(100), `"${'x'.repeat(38)}…`],
  ])('%j → %s', (value, expected) => {
    expect(describeValue(value)).toBe(expected);
  });
});
