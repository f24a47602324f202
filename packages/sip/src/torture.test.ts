import { describe, expect, it } from 'vitest';
import { invalid, valid } from './fixtures/torture.js';
import { errorResponse, ParseError, parseMessage, reasonPhrase, serialize, tagOf } from './index.js';

function parseError(text: string, validateAll = false): ParseError {
  try {
    parseMessage(Buffer.from(text), { validateAll });
  } catch (e) {
    if (e instanceof ParseError) return e;
    throw e;
  }
  throw new Error('parsed, but should not have');
}

describe('RFC 4475 valid messages', () => {
  for (const c of valid) {
    it(c.name, () => {
      const frame = Buffer.from(c.text);
      const m = parseMessage(frame, { validateAll: true });
      expect(m.kind).toBe(c.kind);
      expect(m.via.length).toBeGreaterThan(0);
      expect(m.callId.length).toBeGreaterThan(0);
      // relayed untouched, every byte is the same
      expect(serialize(m).equals(frame)).toBe(true);
    });
  }
});

describe('RFC 4475 invalid messages', () => {
  for (const c of invalid) {
    it(c.name, () => {
      const e = parseError(c.text, c.validateAll);
      expect({ status: e.status, answerable: e.answerable }).toEqual({ status: c.status, answerable: c.answerable });
      expect(e.reason).toMatch(c.reason);
      if (!c.answerable) return;
      // the answer RFC 3261 §8.2.6 builds, itself a valid message
      const response = errorResponse(e, { toTag: 'a1b2' });
      expect(response).toBeDefined();
      const wire = serialize(response!);
      const back = parseMessage(wire);
      if (back.kind !== 'response') throw new Error('not a response');
      expect(back.status).toBe(c.status);
      expect(back.reason).toBe(reasonPhrase(e.reason));
      const request = e.request!;
      expect(back.headers.getAll('via')).toEqual(request.headers.getAll('via'));
      expect(back.callId).toBe(request.callId);
      expect(back.cseq).toEqual(request.cseq);
      expect(back.headers.get('from')).toBe(request.headers.get('from'));
      expect(tagOf(back.to)).toBe(tagOf(request.to) ?? 'a1b2');
      expect(back.contentLength).toBe(0);
    });
  }
});

describe('typed views of the torture messages', () => {
  it('wsinv: folded and compact headers read as their values', () => {
    const m = parseMessage(valid[0]!.text);
    expect(m.headers.get('to')).toBe('sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n');
    expect(tagOf(m.to)).toBe('1918181833n');
    expect(m.from.displayName).toBe('"J Rosenberg \\\\\\""');
    expect(tagOf(m.from)).toBe('98asjd8');
    expect(m.maxForwards).toBe(68);
    expect(m.cseq).toEqual({ seq: 9, method: 'INVITE' });
    expect(m.via.map((v) => [v.transport, v.host, v.branch, v.rport])).toEqual([
      ['UDP', '192.0.2.2', '390skdjuw', true],
      ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8', undefined],
      ['UDP', '192.168.255.111', 'z9hG4bK30239', undefined],
    ]);
    const contacts = m.contacts();
    if (contacts === '*') throw new Error('star');
    expect(contacts[0]!.q).toBe(0.33);
    expect(contacts[0]!.params.get('newparam')).toBe('newvalue');
    expect(m.headers.get('newfangledheader')).toBe('newfangled value continued newfangled value');
    expect(m.headers.get('subject')).toBe('');
    expect(m.routes()[0]!.uri).toMatchObject({ host: 'services.example.com', params: new Map([['lr', null], ['unknownwith', 'value'], ['unknown-no-value', null]]) });
  });

  it('the browser REGISTER: outbound Contact, credentials, no Content-Length', () => {
    const m = parseMessage(valid.find((c) => c.name.startsWith('RFC 7118: a browser'))!.text);
    expect(m.topVia).toMatchObject({ transport: 'WSS', host: 'df7jal23ls0d.invalid', branch: 'z9hG4bK56sdasks' });
    const [c] = m.contacts() as Exclude<ReturnType<typeof m.contacts>, '*'>;
    expect(c).toMatchObject({ expires: 600, regId: 1, instance: '<urn:uuid:5a3d6e1c-2b0f-4f2c-9b0e-2b8a3b6f7c41>' });
    expect(c!.uri).toMatchObject({ scheme: 'sip', user: '8g9rh0oi', host: 'df7jal23ls0d.invalid' });
    expect(m.expires()).toBe(600);
    const [auth] = m.authorizations();
    expect(auth!.scheme).toBe('Digest');
    expect(Object.fromEntries(auth!.params)).toMatchObject({ username: 'alice', nc: '00000001', qop: 'auth', uri: 'sip:example.com' });
    expect(m.contentLength).toBeUndefined();
    expect(m.tokens('supported')).toEqual(['path', 'gruu', 'outbound']);
  });

  it('the 401: rport and an IPv6 received, the challenge', () => {
    const m = parseMessage(valid.find((c) => c.name.startsWith('RFC 7118: a 401'))!.text);
    expect(m.topVia).toMatchObject({ rport: 51203, received: '2001:db8::9' });
    expect(Object.fromEntries(m.wwwAuthenticates()[0]!.params)).toEqual({ realm: 'example.com', nonce: 'Wq0zsFqtMoRYXi9VmMNdO2xUx1aWX', qop: 'auth', algorithm: 'MD5', stale: 'FALSE' });
  });

  it('Route with an IPv6 hop, Record-Route with a flow token, a Bearer token, a UTF-8 body', () => {
    const m = parseMessage(valid.find((c) => c.name.includes('Bearer'))!.text);
    expect(m.routes().map((r) => r.uri)).toMatchObject([{ host: 'proxy.example.com' }, { host: '[2001:db8::1]', port: 5061 }]);
    expect(m.recordRoutes()[0]!.uri).toMatchObject({ user: 'ZmxvdzEyMw', host: 'edge.example.com' });
    expect(m.authorizations()[0]).toMatchObject({ scheme: 'Bearer', token68: 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl' });
    expect(m.contentType).toMatchObject({ type: 'text', subtype: 'plain' });
    expect(m.bodyText()).toBe('Hello, Bob — ¿qué tal?');
  });

  it('unknown URI schemes are kept as written', () => {
    const m = parseMessage(valid.find((c) => c.name.startsWith('unkscm'))!.text);
    if (m.kind !== 'request') throw new Error('request');
    expect(m.uri).toEqual({ type: 'other', scheme: 'nobodyknowsthisscheme', text: 'nobodyKnowsThisScheme:totallyopaquecontent' });
    expect(m.to.uri).toEqual({ type: 'other', scheme: 'isbn', text: 'isbn:2983792873' });
  });
});
