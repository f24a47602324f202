import { describe, expect, it } from 'vitest';
import { answerSip } from './sip.js';

const crlf = (lines: string[]) => lines.join('\r\n');

// What a SIP-over-WebSocket client (JsSIP / SIP.js style) sends to probe the server.
const options = crlf([
  'OPTIONS sip:wsgate.example.com SIP/2.0',
  'Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK2n9q5ol0rgn',
  'Max-Forwards: 69',
  'To: <sip:wsgate.example.com>',
  'From: "Alice" <sip:alice@example.com>;tag=ia0sv9uh8t',
  'Call-ID: 5mttjb4f2cf6mpn1nqbm',
  'CSeq: 7341 OPTIONS',
  'Contact: <sip:t2jtv6j5@df7jal23ls0d.invalid;transport=ws>;expires=600',
  'Accept: application/sdp',
  'Supported: path,gruu,outbound',
  'User-Agent: JsSIP 3.10.1',
  'Content-Length: 0',
  '',
  '',
]);

/** Splits an answer into its status line, its header lines and what follows the blank line. */
function parse(answer: string | undefined) {
  expect(answer).toBeTypeOf('string');
  const text = answer as string;
  const head = text.indexOf('\r\n\r\n');
  expect(head).toBeGreaterThan(0);
  expect(text.slice(head + 4)).toBe('');
  const [status, ...headers] = text.slice(0, head).split('\r\n');
  expect(text.slice(0, head)).not.toMatch(/(^|[^\r])\n/); // CRLF only
  return { status, headers };
}

describe('answerSip', () => {
  it('answers a WebSocket client OPTIONS with 200 OK, copying the dialog headers byte for byte', () => {
    const { status, headers } = parse(answerSip(options));
    expect(status).toBe('SIP/2.0 200 OK');
    expect(headers).toHaveLength(8);
    expect(headers.slice(0, 2)).toEqual([
      'Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK2n9q5ol0rgn',
      'From: "Alice" <sip:alice@example.com>;tag=ia0sv9uh8t',
    ]);
    expect(headers[2]).toMatch(/^To: <sip:wsgate\.example\.com>;tag=[0-9a-f]+$/);
    expect(headers.slice(3)).toEqual([
      'Call-ID: 5mttjb4f2cf6mpn1nqbm',
      'CSeq: 7341 OPTIONS',
      'Allow: OPTIONS',
      'Server: wsgate',
      'Content-Length: 0',
    ]);
  });

  it('adds a fresh To tag to each answer', () => {
    const tag = (a: string | undefined) => /\r\nTo: [^\r]*;tag=([0-9a-f]+)\r\n/.exec(a ?? '')?.[1];
    expect(tag(answerSip(options))).toBeTypeOf('string');
    expect(tag(answerSip(options))).not.toBe(tag(answerSip(options)));
  });

  it('keeps every Via in order, separate lines and comma-joined ones as received', () => {
    const msg = crlf([
      'OPTIONS sip:gw SIP/2.0',
      'Via: SIP/2.0/WSS proxy.invalid;branch=z9hG4bKa;received=127.0.0.1',
      'Max-Forwards: 70',
      'VIA:SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bKb , SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKc',
      'From: <sip:a@b>;tag=1',
      'To: <sip:gw>',
      'via: SIP/2.0/UDP 10.0.0.3;branch=z9hG4bKd',
      'Call-ID: x',
      'CSeq: 1 OPTIONS',
      '',
      '',
    ]);
    const { headers } = parse(answerSip(msg));
    expect(headers.slice(0, 3)).toEqual([
      'Via: SIP/2.0/WSS proxy.invalid;branch=z9hG4bKa;received=127.0.0.1',
      'VIA:SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bKb , SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKc',
      'via: SIP/2.0/UDP 10.0.0.3;branch=z9hG4bKd',
    ]);
  });

  it('keeps a To that already has a tag', () => {
    const msg = options.replace('To: <sip:wsgate.example.com>', 'To: <sip:wsgate.example.com>;Tag=abc123');
    const { headers } = parse(answerSip(msg));
    expect(headers[2]).toBe('To: <sip:wsgate.example.com>;Tag=abc123');
  });

  it('does not mistake a URI parameter or a display name for a To tag', () => {
    const msg = options.replace('To: <sip:wsgate.example.com>', 'To: "x;tag=y" <sip:gw;tag=z>');
    const { headers } = parse(answerSip(msg));
    expect(headers[2]).toMatch(/^To: "x;tag=y" <sip:gw;tag=z>;tag=[0-9a-f]+$/);
  });

  it('accepts compact header forms and any case in names', () => {
    const msg = crlf([
      'OPTIONS sip:gw SIP/2.0',
      'v: SIP/2.0/WS h.invalid;branch=z9hG4bKq',
      'F: <sip:a@b>;tag=9',
      't: sip:gw',
      'i: abc@h',
      'cseq: 2 OPTIONS',
      'l: 0',
      '',
      '',
    ]);
    const { status, headers } = parse(answerSip(msg));
    expect(status).toBe('SIP/2.0 200 OK');
    expect(headers.slice(0, 5)).toEqual([
      'v: SIP/2.0/WS h.invalid;branch=z9hG4bKq',
      'F: <sip:a@b>;tag=9',
      expect.stringMatching(/^t: sip:gw;tag=[0-9a-f]+$/),
      'i: abc@h',
      'cseq: 2 OPTIONS',
    ]);
  });

  it('answers any other request with 501 Not Implemented and the same copied headers', () => {
    const invite = options.replace('OPTIONS sip:', 'INVITE sip:').replace('CSeq: 7341 OPTIONS', 'CSeq: 7341 INVITE');
    const ok = parse(answerSip(options));
    const { status, headers } = parse(answerSip(invite));
    expect(status).toBe('SIP/2.0 501 Not Implemented');
    expect(headers.filter((h) => !h.startsWith('To:') && !h.startsWith('CSeq:'))).toEqual(
      ok.headers.filter((h) => !h.startsWith('To:') && !h.startsWith('CSeq:')),
    );
    expect(headers).toContain('CSeq: 7341 INVITE');
  });

  it('never answers an ACK', () => {
    const ack = options.replace('OPTIONS sip:', 'ACK sip:').replace('CSeq: 7341 OPTIONS', 'CSeq: 7341 ACK');
    expect(answerSip(ack)).toBeUndefined();
    expect(answerSip('ACK sip:gw SIP/2.0\r\n\r\n')).toBeUndefined();
  });

  it('never answers a response', () => {
    const response = crlf([
      'SIP/2.0 200 OK',
      'Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK2n9q5ol0rgn',
      'From: <sip:a@b>;tag=1',
      'To: <sip:gw>;tag=2',
      'Call-ID: x',
      'CSeq: 1 OPTIONS',
      '',
      '',
    ]);
    expect(answerSip(response)).toBeUndefined();
  });

  it('answers 400 Bad Request, copying what exists, when Call-ID is missing', () => {
    const { status, headers } = parse(answerSip(options.replace('Call-ID: 5mttjb4f2cf6mpn1nqbm\r\n', '')));
    expect(status).toBe('SIP/2.0 400 Bad Request');
    expect(headers[0]).toBe('Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK2n9q5ol0rgn');
    expect(headers[1]).toBe('From: "Alice" <sip:alice@example.com>;tag=ia0sv9uh8t');
    expect(headers[2]).toMatch(/^To: <sip:wsgate\.example\.com>;tag=[0-9a-f]+$/);
    expect(headers[3]).toBe('CSeq: 7341 OPTIONS');
    expect(headers.some((h) => /^(call-id|i)\s*:/i.test(h))).toBe(false);
  });

  it('answers 400 to a CSeq whose method is not the request method', () => {
    expect(parse(answerSip(options.replace('CSeq: 7341 OPTIONS', 'CSeq: 7341 INVITE'))).status).toBe(
      'SIP/2.0 400 Bad Request',
    );
  });

  it('stays silent when a broken request has no Via to answer on', () => {
    expect(answerSip(options.replace(/Via: [^\r]*\r\n/, ''))).toBeUndefined();
  });

  it('accepts bare LF line endings and still answers with CRLF', () => {
    const { status } = parse(answerSip(options.replace(/\r\n/g, '\n')));
    expect(status).toBe('SIP/2.0 200 OK');
  });

  it('returns undefined for garbage, never throwing', () => {
    const garbage = [
      '',
      'hello',
      '\r\n\r\n',
      'OPTIONS',
      'OPTIONS sip:x',
      'OPTIONS sip:x HTTP/1.1\r\nVia: x\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
      'OPT IONS sip:x SIP/2.0\r\nVia: x\r\n\r\n',
      'OPTI<NS sip:x SIP/2.0\r\nVia: x\r\n\r\n',
      '\u0000\u00ff\ud800',
      'SIP/2.0 ',
    ];
    for (const g of garbage) expect(answerSip(g), JSON.stringify(g)).toBeUndefined();
  });

  it('survives random mutations of a real message', () => {
    let seed = 42;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let i = 0; i < 2000; i++) {
      const chars = [...options];
      for (let k = rnd(8); k >= 0; k--) chars[rnd(chars.length)] = String.fromCharCode(rnd(128));
      const out = answerSip(chars.join('').slice(0, rnd(options.length + 1)));
      if (out !== undefined) expect(out).toMatch(/^SIP\/2\.0 (200 OK|400 Bad Request|501 Not Implemented)\r\n/);
    }
  });
});
