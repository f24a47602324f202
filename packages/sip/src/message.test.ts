import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_HEADERS,
  DEFAULT_MAX_MESSAGE_SIZE,
  formatVia,
  ParseError,
  parseMessage,
  createResponse,
  serialize,
  serializeHead,
  SipHeaders,
  SipRequest,
  SipSyntaxError,
  type SipMessage,
} from './index.js';

const INVITE = [
  'INVITE sip:bob@example.com SIP/2.0',
  'Via: SIP/2.0/WSS a1b2c3.invalid;branch=z9hG4bK776asdhds, SIP/2.0/WS 192.0.2.7;branch=z9hG4bKold',
  'v: SIP/2.0/UDP  192.0.2.9 ;branch=z9hG4bKolder',
  'Max-Forwards: 70',
  'To: Bob <sip:bob@example.com>',
  'From: "Alice" <sip:alice@example.com>;tag=1928301774',
  'Call-ID: a84b4c76e66710@pc33.example.com',
  'CSeq: 314159 INVITE',
  'Subject:  folded',
  '\t subject',
  'Contact: <sip:alice@a1b2c3.invalid;transport=ws;ob>',
  'Content-Type: application/sdp',
  'Content-Length: 4',
  '',
  'v=0\n',
].join('\r\n');

const parse = (text: string | Buffer, options = {}): SipMessage => parseMessage(text, options);
const reasonOf = (f: () => unknown): ParseError => {
  try {
    f();
  } catch (e) {
    if (e instanceof ParseError) return e;
    throw e;
  }
  throw new Error('no fault');
};

describe('the message model', () => {
  it('reads Via values across fields and commas, compact names included, and folded values', () => {
    const m = parse(Buffer.from(INVITE.replace('Content-Length: 4', 'Content-Length: 4')));
    expect(m.via.map((v) => v.branch)).toEqual(['z9hG4bK776asdhds', 'z9hG4bKold', 'z9hG4bKolder']);
    expect(m.headers.get('SUBJECT')).toBe('folded\t subject');
    expect(m.headers.values('via')).toHaveLength(3);
    expect(m.body.toString()).toBe('v=0\n');
  });

  it('a relay that adds a Via, decrements Max-Forwards and adds a Record-Route changes only those bytes', () => {
    const m = parse(Buffer.from(INVITE));
    m.headers.prepend('Via', formatVia({ transport: 'WSS', host: 'edge.example.com', params: new Map([['branch', 'z9hG4bKnew']]) }));
    m.headers.set('Max-Forwards', String((m.maxForwards ?? 70) - 1));
    m.headers.prepend('Record-Route', '<sip:edge.example.com;transport=ws;lr>');
    const out = serialize(m).toString();
    // Record-Route had no field, so it goes first; the Via goes before the first Via; nothing else moves
    const expected = INVITE.replace(
      'INVITE sip:bob@example.com SIP/2.0\r\n',
      'INVITE sip:bob@example.com SIP/2.0\r\nRecord-Route: <sip:edge.example.com;transport=ws;lr>\r\nVia: SIP/2.0/WSS edge.example.com;branch=z9hG4bKnew\r\n',
    ).replace('Max-Forwards: 70', 'Max-Forwards: 69');
    expect(out).toBe(expected);
    // the typed views follow the change
    expect(m.topVia.host).toBe('edge.example.com');
    expect(m.maxForwards).toBe(69);
    expect(m.recordRoutes()[0]!.uri).toMatchObject({ host: 'edge.example.com' });
  });

  it('writes a field as received only in its own place: a field taken out, fields copied in another order, a head written alone', () => {
    const m = parse(INVITE);
    m.headers.remove('Subject');
    const expected = INVITE.replace('Subject:  folded\r\n\t subject\r\n', '');
    expect(serialize(m).toString()).toBe(expected);
    expect(serializeHead(m)).toBe(expected.slice(0, expected.indexOf('\r\n\r\n') + 4));
    // a response copies From before To, the other way round from the request, each as received
    const response = serialize(createResponse(m as SipRequest, 486, 'Busy Here', { toTag: 't1' })).toString();
    expect(response).toBe(
      [
        'SIP/2.0 486 Busy Here',
        'Via: SIP/2.0/WSS a1b2c3.invalid;branch=z9hG4bK776asdhds, SIP/2.0/WS 192.0.2.7;branch=z9hG4bKold',
        'v: SIP/2.0/UDP  192.0.2.9 ;branch=z9hG4bKolder',
        'From: "Alice" <sip:alice@example.com>;tag=1928301774',
        'To: Bob <sip:bob@example.com>;tag=t1',
        'Call-ID: a84b4c76e66710@pc33.example.com',
        'CSeq: 314159 INVITE',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
  });

  it('a proxy relaying a response takes its own Via off the top, even from a field of several', () => {
    const m = parse(INVITE);
    expect(m.headers.shiftValue('via')).toBe('SIP/2.0/WSS a1b2c3.invalid;branch=z9hG4bK776asdhds');
    expect(m.via.map((v) => v.branch)).toEqual(['z9hG4bKold', 'z9hG4bKolder']);
    expect(serialize(m).toString()).toContain('\r\nVia: SIP/2.0/WS 192.0.2.7;branch=z9hG4bKold\r\nv: SIP/2.0/UDP  192.0.2.9 ;branch=z9hG4bKolder\r\n');
    m.headers.shiftValue('via');
    m.headers.shiftValue('v');
    expect(m.headers.has('via')).toBe(false);
    expect(reasonOf(() => m.via).reason).toBe('missing Via header');
  });

  it('a new Request-URI rewrites only the start line; setBody keeps Content-Length in step', () => {
    const m = parse(INVITE);
    if (m.kind !== 'request') throw new Error('request');
    m.setRequestUri('sip:bob@192.0.2.44:5060;transport=ws');
    m.setBody('v=0\r\no=- 1 1 IN IP4 192.0.2.44\r\n');
    const out = serialize(m).toString();
    expect(out.startsWith('INVITE sip:bob@192.0.2.44:5060;transport=ws SIP/2.0\r\n')).toBe(true);
    expect(parse(out).contentLength).toBe(32);
    expect(() => m.setRequestUri('sip:bad host')).toThrow(SipSyntaxError);
  });

  it('a change to one header leaves the views of the others as read; each view follows every kind of change to its own', () => {
    const m = parse(INVITE);
    const [from, to, cseq, vias] = [m.from, m.to, m.cseq, m.via];
    m.headers.prepend('Via', 'SIP/2.0/WS edge.example.com;branch=z9hG4bKnew');
    m.headers.set('Max-Forwards', '69');
    // not read again: the same objects
    expect([m.from, m.to, m.cseq]).toEqual([from, to, cseq]);
    expect(m.from).toBe(from);
    expect(m.cseq).toBe(cseq);
    expect(m.via).not.toBe(vias);
    expect(m.via.map((v) => v.host)).toEqual(['edge.example.com', 'a1b2c3.invalid', '192.0.2.7', '192.0.2.9']);
    expect(m.maxForwards).toBe(69);
    m.headers.set('From', '<sip:carol@example.com>;tag=9');
    expect(m.from.uri).toMatchObject({ user: 'carol' });
    expect(m.to).toBe(to);
    m.headers.remove('to');
    expect(reasonOf(() => m.to).reason).toBe('missing To header');
    m.headers.add('t', '<sip:dave@example.com>');
    expect(m.to.uri).toMatchObject({ user: 'dave' });
    m.headers.shiftValue('v');
    expect(m.topVia.host).toBe('a1b2c3.invalid');
    m.headers.add('Max-Forwards', '3');
    expect(reasonOf(() => m.maxForwards).reason).toBe('more than one Max-Forwards header');
  });

  it('a lone CR or LF, or a control character in a folded line, is refused naming the header', () => {
    for (const [bad, header] of [['Subject: a\rb', 'Subject'], ['Subject: a\nb', 'Subject'], ['Subject:  folded\r\n\t sub\u0001ject', 'Subject']] as const) {
      const text = INVITE.replace('Subject:  folded\r\n\t subject', bad);
      expect(text).not.toBe(INVITE);
      expect(reasonOf(() => parse(text)).reason).toBe(`control character in the ${header} header`);
    }
  });

  it('a malformed header read later throws a ParseError that can be answered', () => {
    const m = parse(INVITE.replace('Contact: <sip:alice@a1b2c3.invalid;transport=ws;ob>', 'Contact: <sip:alice@a1b2c3.invalid'));
    const e = reasonOf(() => m.contacts());
    expect([e.reason, e.answerable, e.request]).toEqual(['invalid Contact header: missing > after a URI', true, m]);
    // …and is refused up front with validateAll
    expect(reasonOf(() => parse(serialize(m), { validateAll: true })).reason).toBe('invalid Contact header: missing > after a URI');
  });

  it('builds a request from parts', () => {
    const headers = new SipHeaders()
      .add('via', 'SIP/2.0/WSS x.invalid;branch=z9hG4bK1')
      .add('f', '<sip:a@example.com>;tag=1')
      .add('To', '<sip:b@example.com>')
      .add('call-id', 'c1')
      .add('cseq', '1 OPTIONS');
    const m = new SipRequest('OPTIONS', 'sip:b@example.com', headers);
    const text = serialize(m).toString();
    expect(text).toBe('OPTIONS sip:b@example.com SIP/2.0\r\nVia: SIP/2.0/WSS x.invalid;branch=z9hG4bK1\r\nf: <sip:a@example.com>;tag=1\r\nTo: <sip:b@example.com>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\n\r\n');
    expect(parse(text).from.uri).toMatchObject({ user: 'a' });
    expect(() => headers.add('X-Bad', 'a\r\nVia: injected')).toThrow(TypeError);
    expect(() => headers.add('Bad Name', 'x')).toThrow(TypeError);
  });
});

describe('frames and limits', () => {
  it('takes a string, a Buffer or a Uint8Array; the body is the rest of the frame (RFC 7118 §5.1)', () => {
    const noLength = INVITE.replace('Content-Length: 4\r\n', '');
    for (const frame of [noLength, Buffer.from(noLength), new Uint8Array(Buffer.from(noLength))]) {
      const m = parse(frame);
      expect([m.contentLength, m.bodyText()]).toEqual([undefined, 'v=0\n']);
    }
  });

  it('refuses a frame over maxMessageSize (513) before reading it', () => {
    const big = INVITE.replace('Subject:', `X-Pad: ${'a'.repeat(DEFAULT_MAX_MESSAGE_SIZE)}\r\nSubject:`);
    for (const frame of [big, Buffer.from(big)]) {
      const e = reasonOf(() => parse(frame));
      expect([e.status, e.answerable]).toEqual([513, false]);
      expect(e.reason).toMatch(/over the limit of 65536/);
    }
    expect(parse(INVITE, { maxMessageSize: INVITE.length }).kind).toBe('request');
    expect(reasonOf(() => parse(INVITE, { maxMessageSize: INVITE.length - 1 })).status).toBe(513);
  });

  it('refuses more header fields than maxHeaders (513)', () => {
    const many = INVITE.replace('Subject:', `${'X-A: 1\r\n'.repeat(DEFAULT_MAX_HEADERS)}Subject:`);
    expect(reasonOf(() => parse(many))).toMatchObject({ status: 513, reason: `more than ${DEFAULT_MAX_HEADERS} header fields` });
    expect(parse(INVITE, { maxHeaders: 11 }).headers.size).toBe(11);
    expect(reasonOf(() => parse(INVITE, { maxHeaders: 10 })).status).toBe(513);
  });

  it('refuses a header section that is not UTF-8, and NULs outside quoted-pairs', () => {
    const bytes = Buffer.from(INVITE.replace('Bob <', 'B\u00ffb <'), 'latin1');
    expect(reasonOf(() => parse(bytes)).reason).toBe('the header section is not UTF-8');
    expect(reasonOf(() => parse(INVITE.replace('Subject:  folded', 'Subject: a\0b'))).reason).toBe('control character in the Subject header');
  });
});
