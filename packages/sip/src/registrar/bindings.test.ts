import { describe, expect, it } from 'vitest';
import { MemoryStore } from '@wsgate/core';
import { type Binding, parseBindings, updateBindings } from './bindings.js';
import { Readings } from './readings.js';
import { HttpDate } from './http-date.js';

const binding = (contact: string, flow: string): Binding => ({ contact: `<${contact}>`, uri: contact, callId: 'c1', cseq: 1, expiresAt: Date.now() + 60_000, flow });

describe('updateBindings() with what this process read and wrote', () => {
  it('reuses its own write, and reads what another gateway wrote in between', async () => {
    const store = new MemoryStore();
    const readings = new Readings(10, parseBindings);
    const key = 'wsgate:sip:reg:sip:alice@example.com';
    const mine = binding('sip:a@h1.invalid', 'gw1/1');
    await updateBindings(store, key, readings, () => ({ bindings: [mine], write: true }));
    let seen: readonly Binding[] = [];
    await updateBindings(store, key, readings, (live) => ((seen = live), { bindings: live, write: false }));
    // the very objects readings, frozen: no parse of the stored text
    expect(seen[0]).toBe(mine);
    expect(Object.isFrozen(mine)).toBe(true);

    // another gateway sharing the store adds its binding
    const theirs = binding('sip:b@h2.invalid', 'gw2/7');
    await store.set(key, JSON.stringify([mine, theirs]));
    await updateBindings(store, key, readings, (live) => ((seen = live), { bindings: live, write: false }));
    expect(seen.map((b) => b.flow)).toEqual(['gw1/1', 'gw2/7']);

    // no bindings left: the key is deleted
    await updateBindings(store, key, readings, () => ({ bindings: [], write: true }));
    expect(await store.get(key)).toBeUndefined();
  });

  it('forgets the oldest key past its bound', async () => {
    const store = new MemoryStore();
    const readings = new Readings(2, parseBindings);
    const b = ['a', 'b', 'c'].map((u) => binding(`sip:${u}@h.invalid`, 'gw1/1'));
    for (let i = 0; i < 3; i++) await updateBindings(store, `k${i}`, readings, () => ({ bindings: [b[i]!], write: true }));
    let seen: readonly Binding[] = [];
    await updateBindings(store, 'k0', readings, (live) => ((seen = live), { bindings: live, write: false }));
    expect(seen[0]).not.toBe(b[0]); // parsed again
    expect(seen[0]).toEqual(b[0]);
    await updateBindings(store, 'k2', readings, (live) => ((seen = live), { bindings: live, write: false }));
    expect(seen[0]).toBe(b[2]);
  });
});

describe('HttpDate', () => {
  it('gives the RFC 1123 date of the second, formatted again when the second changes', () => {
    const d = new HttpDate();
    const t = Date.UTC(1994, 10, 6, 8, 49, 37, 100);
    expect(d.at(t)).toBe('Sun, 06 Nov 1994 08:49:37 GMT');
    expect(d.at(t + 899)).toBe('Sun, 06 Nov 1994 08:49:37 GMT');
    expect(d.at(t + 900)).toBe('Sun, 06 Nov 1994 08:49:38 GMT');
    expect(d.at(t - 101)).toBe('Sun, 06 Nov 1994 08:49:36 GMT');
  });
});
