import { describe, expect, it } from 'vitest';
import { HostMatcher, parseHost, wildcardDomainOf } from './host-matcher.js';

describe('parseHost', () => {
  it('splits names, IPv4 and bracketed IPv6 from their ports', () => {
    expect(parseHost('Example.COM')).toEqual({ name: 'example.com', port: undefined });
    expect(parseHost('example.com.:8443')).toEqual({ name: 'example.com', port: 8443 });
    expect(parseHost('127.0.0.1:80')).toEqual({ name: '127.0.0.1', port: 80 });
    expect(parseHost('[::1]:8080')).toEqual({ name: '::1', port: 8080 });
    expect(parseHost('[::1]')).toEqual({ name: '::1', port: undefined });
  });

  it('refuses what is not a host', () => {
    for (const bad of ['', ':80', 'a:', 'a:0', 'a:65536', 'a:8x', '[::1', '[nothex]:80', 'a:80:90', '::1']) {
      expect(parseHost(bad), bad).toBeUndefined();
    }
  });
});

describe('HostMatcher', () => {
  const me = new HostMatcher(['sip.example.com', '127.0.0.1', '[::1]'], [8080, 8443]);
  it('accepts own names with or without one of its ports', () => {
    expect(me.matches('sip.example.com')).toBe(true);
    expect(me.matches('SIP.example.com:8443')).toBe(true);
    expect(me.matches('127.0.0.1:8080')).toBe(true);
    expect(me.matches('[::1]:8080')).toBe(true);
  });
  it('refuses other names, other ports and look-alikes', () => {
    expect(me.matches('evil.example.com')).toBe(false);
    expect(me.matches('sip.example.com:9999')).toBe(false);
    expect(me.matches('sip.example.com.evil.net')).toBe(false);
    expect(me.matches('127.0.0.2')).toBe(false);
    expect(me.matches('')).toBe(false);
  });
});

describe('HostMatcher with *.domain names', () => {
  const me = new HostMatcher(['*.meet.example.com', 'gw.example.com'], [443]);
  it('matches exactly one label in place of the *', () => {
    expect(me.matches('a.meet.example.com')).toBe(true);
    expect(me.matches('B.Meet.Example.com.:443')).toBe(true);
    expect(me.matches('gw.example.com')).toBe(true);
  });
  it('matches neither the domain itself, nor two labels, nor a look-alike', () => {
    expect(me.matches('meet.example.com')).toBe(false);
    expect(me.matches('a.b.meet.example.com')).toBe(false);
    expect(me.matches('a.meet.example.com.evil.net')).toBe(false);
    expect(me.matches('ameet.example.com')).toBe(false);
    expect(me.matches('a.meet.example.com:8443')).toBe(false);
  });
});

describe('wildcardDomainOf', () => {
  it('drops the first label, which must not be empty', () => {
    expect(wildcardDomainOf('a.example.com')).toBe('example.com');
    expect(wildcardDomainOf('localhost')).toBeUndefined();
    expect(wildcardDomainOf('.example.com')).toBeUndefined();
    expect(wildcardDomainOf('a.')).toBeUndefined();
  });
});
