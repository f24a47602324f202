/** Factories check their options at creation: a bad one is a WsgateError naming the option and the fix. */
import { describe, expect, it } from 'vitest';
import { WsgateError } from '@wsgate/core';
import { parseUpstreamAddress } from './address.js';
import { upstream, upstreams } from '../proxy/pool.js';
import { streamRelay } from '../stream/stream-relay.js';

function failure(make: () => unknown): WsgateError {
  try {
    const made = make() as { close?: () => unknown };
    void made.close?.();
  } catch (err) {
    expect(err).toBeInstanceOf(WsgateError);
    expect((err as WsgateError).code).toBe('WSGATE_CONFIG_INVALID');
    return err as WsgateError;
  }
  throw new Error('no error');
}

describe('upstream addresses', () => {
  it('parses ws, wss, http, https and unix addresses', () => {
    expect(parseUpstreamAddress('wss://meet.example.com', 'x')).toMatchObject({ tls: true, host: 'meet.example.com', port: 443, hostHeader: 'meet.example.com' });
    expect(parseUpstreamAddress('http://[::1]:8080', 'x')).toMatchObject({ tls: false, host: '::1', port: 8080, hostHeader: '[::1]:8080' });
    expect(parseUpstreamAddress('unix:/run/app.sock', 'x')).toMatchObject({ socketPath: '/run/app.sock', tls: false });
  });

  it('refuses what it cannot connect to, saying how to write it', () => {
    expect(failure(() => upstream('ftp://x')).message).toBe('upstream().servers[0]: "ftp://x": the scheme must be ws://, wss://, http://, https:// or unix:');
    expect(failure(() => upstream('ws://x/path')).message).toMatch(/no path or query; rewrite paths with locations\(\{ rewrite \}\)/);
    expect(failure(() => upstream('unix:run.sock')).message).toMatch(/absolute socket path/);
    expect(failure(() => upstream('ws://user:pw@x')).message).toMatch(/credentials in the URL/);
  });
});

describe('upstreams() options', () => {
  it('names the bad option', () => {
    expect(failure(() => upstreams({ servers: [] })).message).toMatch(/^upstreams\(\)\.servers: give at least one server/);
    expect(failure(() => upstreams({ servers: [{ url: 'ws://a', weight: 0 }] })).message).toMatch(/^upstreams\(\)\.servers\[0\]\.weight: expected an integer from 1/);
    expect(failure(() => upstreams({ servers: ['ws://a'], balance: 'random' as never })).message).toMatch(/^upstreams\(\)\.balance: expected "round_robin", "ip_hash", "least_conn"/);
    expect(failure(() => upstreams({ servers: ['ws://a'], timeouts: { conect: 1 } as never })).message).toMatch(/^upstreams\(\)\.timeouts\.conect: unknown option; known ones are connect, websocket, http/);
    expect(failure(() => upstreams({ servers: ['ws://a'], tls: { caFile: '/nonexistent/ca.pem' } })).message).toMatch(/^upstreams\(\)\.tls\.caFile: cannot read \/nonexistent\/ca\.pem \(ENOENT\)/);
    expect(failure(() => upstreams({ servers: ['ws://a'], headers: { set: { Host: 'x' } } })).message).toMatch(/set the Host header with headers\.host/);
    expect(failure(() => upstreams({ servers: ['ws://a'], headers: { set: { 'X-A': 'a\r\nb' } } })).message).toMatch(/must not contain CR, LF or NUL/);
    expect(failure(() => upstreams({ servers: ['ws://a', 'ws://a'] })).message).toMatch(/same name/);
    expect(failure(() => upstreams({ servers: [{ url: 'ws://a', backup: true }] })).message).toMatch(/at least one must be a primary/);
    expect(failure(() => upstreams({ servers: ['ws://a'], ping: {} as never })).message).toMatch(/^upstreams\(\)\.ping\.interval/);
    expect(failure(() => upstream('ws://a').with({ url: 'no-slash' })).message).toMatch(/^with\(\)\.url: expected a request target starting with "\/"/);
  });

  it('upgrades: protocol names without versions, WebSocket not among them', () => {
    const at = (upgrades: unknown) => failure(() => upstream('ws://a', { upgrades: upgrades as never })).message;
    expect(at('h2c')).toBe('upstream().upgrades: expected an array of names, e.g. ["h2c"], got "h2c"');
    expect(at(['h2c', 'a b'])).toMatch(/^upstream\(\)\.upgrades\[1\]: expected a name of letters, digits and /);
    expect(at(['h2c/1'])).toBe('upstream().upgrades[0]: give the protocol without its version: "h2c"');
    expect(at(['h2c', 'WebSocket'])).toBe('upstream().upgrades[1]: WebSocket upgrades are always proxied: list only other protocols');
    const pool = upstream('ws://127.0.0.1:1', { upgrades: ['H2C', 'TLS'] });
    expect([...pool.settings.upgrades]).toEqual(['h2c', 'tls']);
    const plain = upstream('ws://127.0.0.1:1');
    expect(plain.settings.upgrades.size).toBe(0);
    void pool.close();
    void plain.close();
  });

  it('fills in defaults', () => {
    const pool = upstreams({ servers: ['ws://127.0.0.1:1', { url: 'ws://127.0.0.1:2', weight: 3, name: 'jvb2' }] });
    expect(pool.settings).toMatchObject({ connectTimeoutMs: 10_000, websocketIdleMs: 86_400_000, httpIdleMs: 600_000, maxBodySize: 1048576, keepAlive: 0, tries: 2 });
    expect(pool.status().map((n) => n.name)).toEqual(['127.0.0.1:1', 'jvb2']);
    void pool.close();
  });
});

describe('streamRelay() options', () => {
  it('names the bad option', () => {
    expect(failure(() => streamRelay({ protocol: 'sctp' as never, listen: { port: 0 }, servers: ['a:1'] })).message).toMatch(/^streamRelay\(\)\.protocol: expected "udp" or "tcp"/);
    expect(failure(() => streamRelay({ protocol: 'udp', listen: { port: 0 }, servers: ['10.0.0.1'] })).message).toMatch(/write it as host:port/);
    expect(failure(() => streamRelay({ protocol: 'udp', listen: {} as never, servers: ['a:1'] })).message).toMatch(/^streamRelay\(\)\.listen\.port/);
  });
});
