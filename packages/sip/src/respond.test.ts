import { describe, expect, it } from 'vitest';
import {
  createResponse,
  errorResponse,
  frameStats,
  ParseError,
  parseMessage,
  readFrame,
  reasonPhrase,
  serialize,
  tagOf,
  type SipRequest,
} from './index.js';

const REGISTER = [
  'REGISTER sip:example.com SIP/2.0',
  'Via: SIP/2.0/WSS q8r5.invalid;branch=z9hG4bKreg1',
  'v: SIP/2.0/WS 192.0.2.1;branch=z9hG4bKreg0;received=192.0.2.1',
  'Max-Forwards: 70',
  'To: <sip:alice@example.com>',
  'From: <sip:alice@example.com>;tag=abc',
  'Call-ID: reg.1@q8r5.invalid',
  'CSeq: 7 REGISTER',
  'Timestamp: 54',
  'Contact: <sip:x@q8r5.invalid;transport=ws>',
  '',
  '',
].join('\r\n');

describe('responses (RFC 3261 §8.2.6)', () => {
  it('copies Via, From, Call-ID and CSeq as received, and adds a To tag', () => {
    const request = parseMessage(REGISTER) as SipRequest;
    const r = createResponse(request, 200, 'OK', { toTag: 't1', headers: [['Expires', '600']] });
    expect(serialize(r).toString()).toBe(
      [
        'SIP/2.0 200 OK',
        'Via: SIP/2.0/WSS q8r5.invalid;branch=z9hG4bKreg1',
        'v: SIP/2.0/WS 192.0.2.1;branch=z9hG4bKreg0;received=192.0.2.1',
        'From: <sip:alice@example.com>;tag=abc',
        'To: <sip:alice@example.com>;tag=t1',
        'Call-ID: reg.1@q8r5.invalid',
        'CSeq: 7 REGISTER',
        'Expires: 600',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    // a To that has a tag is copied; a 100 gets no tag but the Timestamp
    const tagged = parseMessage(REGISTER.replace('To: <sip:alice@example.com>', 'To: <sip:alice@example.com>;tag=old')) as SipRequest;
    expect(createResponse(tagged, 486, 'Busy Here').toTag).toBe('old');
    const trying = createResponse(request, 100, 'Trying');
    expect([tagOf(trying.to), trying.headers.get('timestamp')]).toEqual([undefined, '54']);
    expect(tagOf(createResponse(request, 403, 'Forbidden').to)).toMatch(/^[0-9a-f]{16}$/);
  });

  it('writes the fault as the reason phrase, with what the grammar forbids blanked out', () => {
    expect(reasonPhrase('CSeq "x" <y> 100% \\ {z}')).toBe('CSeq  x   y  100     z ');
    const e = new ParseError(400, 'x'.repeat(300), parseMessage(REGISTER) as SipRequest);
    expect(errorResponse(e)!.reason).toHaveLength(120);
    expect(parseMessage(serialize(errorResponse(e)!)).kind).toBe('response');
  });
});

describe('readFrame: a message, an answer, a drop, or a keep-alive', () => {
  it('answers a malformed request it can answer, drops what it cannot, and counts both', () => {
    const stats = frameStats();
    expect(readFrame(Buffer.from(REGISTER), undefined, stats).kind).toBe('message');
    const bad = readFrame(Buffer.from(REGISTER.replace('Max-Forwards: 70', 'Max-Forwards: 700')), undefined, stats);
    if (bad.kind !== 'answer') throw new Error(bad.kind);
    const reply = parseMessage(bad.reply);
    expect(reply.kind === 'response' && [reply.status, reply.reason]).toEqual([400, 'invalid Max-Forwards header: invalid value']);
    expect(reply.via.map((v) => v.branch)).toEqual(['z9hG4bKreg1', 'z9hG4bKreg0']);
    const dropped = readFrame(Buffer.from(REGISTER.replace('Call-ID: reg.1@q8r5.invalid\r\n', '')), undefined, stats);
    expect(dropped.kind === 'drop' && dropped.error.reason).toBe('missing Call-ID header');
    const version = readFrame(REGISTER.replace('SIP/2.0', 'SIP/3.0'), undefined, stats);
    expect(version.kind === 'answer' && parseMessage(version.reply)).toMatchObject({ status: 505 });
    expect(stats).toEqual({ messages: 1, answered: 2, dropped: 1, keepalives: 0 });
  });

  it('answers a CRLF ping with a CRLF pong (RFC 5626 §3.5.1) and takes a pong silently', () => {
    const stats = frameStats();
    expect(readFrame(Buffer.from('\r\n\r\n'), undefined, stats)).toEqual({ kind: 'keepalive', reply: Buffer.from('\r\n') });
    expect(readFrame('\r\n', undefined, stats)).toEqual({ kind: 'keepalive', reply: undefined });
    expect(readFrame('', undefined, stats).kind).toBe('drop');
    expect(stats).toMatchObject({ keepalives: 2, dropped: 1 });
  });
});
