import { describe, expect, it } from 'vitest';
import { parseMessage } from '../parse.js';
import type { SipRequest } from '../message.js';
import type { Binding } from './bindings.js';
import { applyRegister, planRegister, type RegisterLimits, type RegisterPlan } from './register.js';

const LIMITS: RegisterLimits = { domains: new Set(['example.com']), minExpires: 60, maxExpires: 3600, defaultExpires: 3600, maxBindings: 4 };
const NOW = 1_000_000;

const register = (contact: string, cseq = 2): SipRequest =>
  parseMessage(
    [
      'REGISTER sip:example.com SIP/2.0',
      'Via: SIP/2.0/WSS a1.invalid;branch=z9hG4bK1',
      'To: <sip:alice@example.com>',
      'From: <sip:alice@example.com>;tag=1',
      'Call-ID: reg-1',
      `CSeq: ${cseq} REGISTER`,
      `Contact: ${contact}`,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  ) as SipRequest;

const bound = (uri: string, extra: Partial<Binding> = {}): Binding => ({ contact: `<${uri}>`, uri, callId: 'other', cseq: 1, expiresAt: NOW + 60_000, flow: 'local/1', ...extra });
const plan = (contact: string, cseq = 2): RegisterPlan => planRegister(register(contact, cseq), LIMITS) as RegisterPlan;

describe('planRegister()', () => {
  it('keeps the Contact as written but for its expires, the other parameters in their order', () => {
    const p = plan('"Al" <sip:a@h.invalid;transport=ws>;q=0.5;expires=600;+sip.instance="<urn:uuid:1>";reg-id=1');
    expect(p.contacts).toEqual([
      { contact: '"Al" <sip:a@h.invalid;transport=ws>;q=0.5;+sip.instance="<urn:uuid:1>";reg-id=1', uri: 'sip:a@h.invalid;transport=ws', expires: 600, instance: '<urn:uuid:1>', regId: 1, q: 0.5 },
    ]);
    expect(p.outbound).toBe(true);
    expect(plan('<sip:a@h.invalid>;expires=120').contacts[0]!.contact).toBe('<sip:a@h.invalid>');
  });

  it('refuses reg-id without +sip.instance, and two Contacts with reg-id', () => {
    expect(planRegister(register('<sip:a@h.invalid>;reg-id=1'), LIMITS)).toEqual({ status: 400, reason: 'reg-id without +sip.instance' });
    const two = '<sip:a@h.invalid>;+sip.instance="<urn:uuid:1>";reg-id=1, <sip:b@h.invalid>;+sip.instance="<urn:uuid:1>";reg-id=2';
    expect(planRegister(register(two), LIMITS)).toEqual({ status: 400, reason: 'more than one Contact with reg-id' });
  });
});

describe('applyRegister()', () => {
  it('refreshes a binding in its place, appends a new one, and removes one with expires 0', () => {
    const current = [bound('sip:a@h.invalid'), bound('sip:b@h.invalid'), bound('sip:c@h.invalid')];
    const next = applyRegister(plan('<sip:b@h.invalid>;expires=600, <sip:d@h.invalid>, <sip:a@h.invalid>;expires=0'), current, NOW, 'local/9', 4) as Binding[];
    expect(next.map((b) => [b.uri, b.flow])).toEqual([
      ['sip:b@h.invalid', 'local/9'],
      ['sip:c@h.invalid', 'local/1'],
      ['sip:d@h.invalid', 'local/9'],
    ]);
    expect(next[0]).toMatchObject({ callId: 'reg-1', cseq: 2, expiresAt: NOW + 600_000 });
    expect(next[1]).toBe(current[2]);
  });

  it('keys a binding by instance and reg-id, by instance alone, else by URI (RFC 5626 §6)', () => {
    const instance = '"<urn:uuid:1>"';
    const current = [
      bound('sip:x@old.invalid', { instance: '<urn:uuid:1>', regId: 1 }),
      bound('sip:y@old.invalid', { instance: '<urn:uuid:1>' }),
      bound('sip:z@h.invalid'),
    ];
    // the same instance and reg-id from a new flow: the flow is recovered in place (RFC 5626 §4.2.1)
    let next = applyRegister(plan(`<sip:x@new.invalid>;+sip.instance=${instance};reg-id=1`), current, NOW, 'local/9', 4) as Binding[];
    expect(next.map((b) => b.uri)).toEqual(['sip:x@new.invalid', 'sip:y@old.invalid', 'sip:z@h.invalid']);
    // the same instance with another reg-id is another binding
    next = applyRegister(plan(`<sip:x@new.invalid>;+sip.instance=${instance};reg-id=2`), current, NOW, 'local/9', 4) as Binding[];
    expect(next).toHaveLength(4);
    // the instance alone replaces the binding of the instance without reg-id; a URI equal to an instance binding's does not
    next = applyRegister(plan(`<sip:y@new.invalid>;+sip.instance=${instance}, <sip:x@old.invalid>`), current, NOW, 'local/9', 8) as Binding[];
    expect(next.map((b) => [b.uri, b.instance ?? '-', b.regId ?? '-'])).toEqual([
      ['sip:x@old.invalid', '<urn:uuid:1>', 1],
      ['sip:y@new.invalid', '<urn:uuid:1>', '-'],
      ['sip:z@h.invalid', '-', '-'],
      ['sip:x@old.invalid', '-', '-'],
    ]);
  });

  it('a key stored twice counts once, in its first place with its last binding', () => {
    const first = bound('sip:a@h.invalid', { flow: 'gw1/1' });
    const last = bound('sip:a@h.invalid', { flow: 'gw2/2' });
    const next = applyRegister(plan('<sip:b@h.invalid>'), [first, bound('sip:c@h.invalid'), last], NOW, 'local/9', 4) as Binding[];
    expect(next.map((b) => [b.uri, b.flow])).toEqual([
      ['sip:a@h.invalid', 'gw2/2'],
      ['sip:c@h.invalid', 'local/1'],
      ['sip:b@h.invalid', 'local/9'],
    ]);
  });

  it('refuses a CSeq not above the one this Call-ID last wrote, and more than maxBindings', () => {
    const mine = bound('sip:a@h.invalid', { callId: 'reg-1', cseq: 5 });
    expect(applyRegister(plan('<sip:a@h.invalid>', 5), [mine], NOW, 'local/9', 4)).toEqual({ status: 500, reason: 'Server Internal Error: CSeq out of order for this Call-ID' });
    expect(applyRegister(plan('<sip:a@h.invalid>', 6), [mine], NOW, 'local/9', 4)).toHaveLength(1);
    const full = [bound('sip:1@h.invalid'), bound('sip:2@h.invalid'), bound('sip:3@h.invalid'), bound('sip:4@h.invalid')];
    expect(applyRegister(plan('<sip:5@h.invalid>'), full, NOW, 'local/9', 4)).toEqual({ status: 403, reason: 'more than 4 bindings for sip:alice@example.com' });
  });
});
