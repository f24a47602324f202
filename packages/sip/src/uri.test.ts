import { describe, expect, it } from 'vitest';
import {
  formatNameAddr,
  formatUri,
  formatVia,
  parseAuth,
  parseContacts,
  parseCSeq,
  parseMediaType,
  parseNameAddr,
  parseNameAddrList,
  parseUri,
  parseVias,
  quote,
  SipSyntaxError,
  unquote,
} from './index.js';

const faultOf = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof SipSyntaxError) return e.reason;
    throw e;
  }
  throw new Error('no fault');
};

describe('URIs (RFC 3261 §19.1, §25.1)', () => {
  it('reads every part of a SIP URI', () => {
    expect(parseUri('SIPS:alice:secret@[2001:db8::5]:5061;transport=ws;lr;maddr=[::1]?Subject=hi&X-Y=%20')).toEqual({
      type: 'sip',
      scheme: 'sips',
      user: 'alice',
      password: 'secret',
      host: '[2001:db8::5]',
      port: 5061,
      params: new Map([['transport', 'ws'], ['lr', null], ['maddr', '[::1]']]),
      headers: [['Subject', 'hi'], ['X-Y', '%20']],
    });
    expect(parseUri('sip:example.com.')).toMatchObject({ host: 'example.com.', user: undefined, port: undefined });
    expect(parseUri('sip:192.0.2.1:0')).toMatchObject({ host: '192.0.2.1', port: 0 });
  });

  it('refuses what the grammar does not allow, naming the part', () => {
    expect(faultOf(() => parseUri('sip:'))).toBe('missing host');
    expect(faultOf(() => parseUri('sip:@example.com'))).toBe('invalid user in a SIP URI');
    expect(faultOf(() => parseUri('sip:a@b@example.com'))).toBe('more than one @ in a SIP URI');
    expect(faultOf(() => parseUri('sip:a b@example.com'))).toBe('invalid user in a SIP URI');
    expect(faultOf(() => parseUri('sip:example.com:65536'))).toBe('invalid port');
    expect(faultOf(() => parseUri('sip:exa_mple.com'))).toBe('invalid host exa_mple.com');
    expect(faultOf(() => parseUri('sip:-a.example.com'))).toBe('invalid host -a.example.com');
    expect(faultOf(() => parseUri('sip:1.2.3.256'))).toBe('invalid host 1.2.3.256');
    expect(faultOf(() => parseUri('sip:example.3com'))).toBe('invalid host example.3com');
    expect(faultOf(() => parseUri('sip:[2001:db8::g]'))).toBe('invalid IPv6 reference');
    expect(faultOf(() => parseUri('sip:h.example.com;lr;LR'))).toBe('URI parameter lr appears twice');
    expect(faultOf(() => parseUri('sip:h.example.com;x='))).toBe('invalid URI parameter value');
    expect(faultOf(() => parseUri('sip:h.example.com;a%zz'))).toBe('invalid URI parameter name');
    expect(faultOf(() => parseUri('sip:h.example.com?a'))).toBe('invalid URI header');
    expect(faultOf(() => parseUri('1sip:x'))).toBe('invalid URI scheme');
    expect(faultOf(() => parseUri('tel:'))).toBe('invalid tel URI');
  });

  it('writes a URI back from its parts', () => {
    for (const text of ['sip:alice@example.com', 'sips:a:b@[::1]:5061;transport=tls;lr?h=v&i=', 'tel:+1-201-555-0123']) {
      expect(formatUri(parseUri(text))).toBe(text);
    }
  });
});

describe('name-addr, addr-spec and Contact', () => {
  it('reads display names, quoted or tokens, and header parameters outside the brackets', () => {
    expect(parseNameAddr('"Alice \\"A\\"" <sip:alice@example.com;transport=ws>;tag=9fxced76sl')).toMatchObject({
      displayName: '"Alice \\"A\\""',
      bracketed: true,
      uri: { user: 'alice', params: new Map([['transport', 'ws']]) },
      params: new Map([['tag', '9fxced76sl']]),
    });
    expect(unquote('"Alice \\"A\\""')).toBe('Alice "A"');
    expect(quote('Alice "A"')).toBe('"Alice \\"A\\""');
    expect(parseNameAddr('Bob  Smith <sip:bob@example.com>').displayName).toBe('Bob  Smith');
    // an addr-spec's parameters belong to the header, not the URI (RFC 3261 §20.10)
    const spec = parseNameAddr('sip:carol@example.com;tag=1');
    expect([spec.bracketed, spec.uri, spec.params]).toEqual([false, expect.objectContaining({ params: new Map() }), new Map([['tag', '1']])]);
  });

  it('reads a Contact list with registration parameters', () => {
    expect(parseContacts('*')).toBe('*');
    const list = parseContacts('<sip:a@h1.invalid;transport=ws>;expires=0, "B" <sip:b@h2>;q=1.0;reg-id=2;+sip.instance="<urn:uuid:00000000-0000-1000-8000-000A95A0E128>"');
    expect(list).toMatchObject([
      { expires: 0, q: undefined, regId: undefined },
      { q: 1, regId: 2, instance: '<urn:uuid:00000000-0000-1000-8000-000A95A0E128>' },
    ]);
    expect(faultOf(() => parseContacts('<sip:a@h>;q=1.5'))).toBe('invalid q 1.5');
    expect(faultOf(() => parseContacts('<sip:a@h>;reg-id=0'))).toBe('invalid reg-id 0');
    expect(faultOf(() => parseContacts('<sip:a@h>;expires=4294967296'))).toBe('invalid expires 4294967296');
    expect(faultOf(() => parseContacts('<sip:a@h>,'))).toMatch(/expected|URI scheme/);
  });

  it('Route and Record-Route require angle brackets; commas inside quotes and brackets do not split', () => {
    expect(parseNameAddrList('"a,b" <sip:p1.example.com;lr>,<sip:p2.example.com;lr>', true)).toHaveLength(2);
    expect(faultOf(() => parseNameAddrList('sip:p1.example.com', true))).toBe('expected a URI in angle brackets');
  });

  it('writes a name-addr back in brackets', () => {
    const v = parseNameAddr('sip:alice@example.com;tag=x');
    expect(formatNameAddr(v)).toBe('<sip:alice@example.com>;tag=x');
    expect(formatNameAddr({ displayName: quote('Bob'), uri: parseUri('sip:bob@b.example') })).toBe('"Bob" <sip:bob@b.example>');
  });
});

describe('Via, CSeq, Content-Type, credentials', () => {
  it('reads Via with received, rport and a branch; several in one field', () => {
    expect(parseVias('SIP/2.0/WSS 192.0.2.1:8443;received=[2001:db8::1];rport=1234;branch=z9hG4bKx, SIP/2.0/UDP h.example.com')).toEqual([
      {
        protocol: 'SIP/2.0',
        transport: 'WSS',
        host: '192.0.2.1',
        port: 8443,
        params: new Map<string, string | null>([['received', '[2001:db8::1]'], ['rport', '1234'], ['branch', 'z9hG4bKx']]),
        branch: 'z9hG4bKx',
        received: '[2001:db8::1]',
        rport: 1234,
      },
      expect.objectContaining({ transport: 'UDP', host: 'h.example.com', port: undefined, rport: undefined }),
    ]);
    expect(parseVias('SIP/2.0/TCP [2001:db8::2]:5060;branch=z9hG4bK1')[0]).toMatchObject({ host: '[2001:db8::2]', port: 5060 });
    expect(faultOf(() => parseVias('SIP/2.0/WS h.invalid;rport=0'))).toBe('invalid rport 0');
    expect(faultOf(() => parseVias('SIP/2.0/WS h.invalid;branch'))).toBe('branch without a value');
    expect(faultOf(() => parseVias('SIP/2.0/WS h.invalid;branch=a;BRANCH=b'))).toBe('parameter branch appears twice');
    expect(faultOf(() => parseVias('SIP/2.0/WS'))).toBe('expected a space before sent-by');
  });

  it('writes the Via a proxy adds', () => {
    const text = formatVia({ transport: 'WSS', host: 'edge.example.com', port: 443, params: new Map([['branch', 'z9hG4bKabc'], ['rport', null]]) });
    expect(text).toBe('SIP/2.0/WSS edge.example.com:443;branch=z9hG4bKabc;rport');
    expect(parseVias(text)[0]).toMatchObject({ branch: 'z9hG4bKabc', rport: true, port: 443 });
  });

  it('reads CSeq, Content-Type and credentials', () => {
    expect(parseCSeq('0042  REGISTER')).toEqual({ seq: 42, method: 'REGISTER' });
    expect(faultOf(() => parseCSeq('2147483648 INVITE'))).toBe('invalid sequence number');
    expect(faultOf(() => parseCSeq('1INVITE'))).toBe('expected a space before the method');
    expect(parseMediaType('Application/SDP ; charset = "utf-8"')).toEqual({ type: 'application', subtype: 'sdp', params: new Map([['charset', '"utf-8"']]) });
    expect(parseAuth('Digest username="bob", realm="b.example", nonce="n\\"1", uri="sip:b.example", response="abc", nc=00000001, qop=auth')).toEqual({
      scheme: 'Digest',
      params: new Map([['username', 'bob'], ['realm', 'b.example'], ['nonce', 'n"1'], ['uri', 'sip:b.example'], ['response', 'abc'], ['nc', '00000001'], ['qop', 'auth']]),
      token68: undefined,
    });
    expect(faultOf(() => parseAuth('Digest realm="a", realm="b"'))).toBe('auth parameter realm appears twice');
    expect(faultOf(() => parseAuth('Digest realm="a",'))).toMatch(/expected an auth parameter/);
  });
});
