import { describe, expect, it } from 'vitest';
import { seededRandom } from '@wsgate/test-kit';
import { parseMessage, serialize, tagOf } from './index.js';

/**
 * The other half of the fuzz: random messages built from RFC 3261's grammar (random names, escapes, quoted
 * strings, compact forms, whitespace and folds wherever SWS may go, IPv6, several values per field) must
 * parse, read back as what was generated, and relay byte for byte.
 */


const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function gen(r: () => number) {
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;
  const chars = (set: string, min: number, max: number) => Array.from({ length: min + int(max - min + 1) }, () => pick([...set])).join('');
  const escaped = (set: string, min: number, max: number) => Array.from({ length: min + int(max - min + 1) }, () => (r() < 0.1 ? `%${pick([...'0123456789ABCDEF'])}${pick([...'0123456789abcdef'])}` : pick([...set]))).join('');
  const token = (max = 10) => chars(ALNUM + "-.!%*_+`'~", 1, max);
  /** SWS: nothing, spaces, tabs, or a fold */
  const sws = () => pick(['', '', '', ' ', '  ', '\t', ' \r\n ', '\r\n\t']);
  const lws = () => pick([' ', '  ', '\t', '\r\n ', ' \r\n  ']);
  const label = (alphaFirst: boolean) => (alphaFirst ? pick([...'abcdefghijklmnopqrstuvwxyz']) : pick([...ALNUM])) + (r() < 0.5 ? '' : chars(ALNUM + '-', 0, 6) + pick([...ALNUM]));
  const host = (): string => {
    const k = int(3);
    if (k === 0) return `${int(256)}.${int(256)}.${int(256)}.${int(256)}`;
    if (k === 1) return `[2001:db8::${int(0xffff).toString(16)}]`;
    return [...Array.from({ length: int(3) }, () => label(false)), label(true)].join('.') + (r() < 0.1 ? '.' : '');
  };
  const port = () => (r() < 0.5 ? undefined : int(65536));
  const params = (names: string[], value: () => string, open: () => string, eq: () => string) => {
    const map = new Map<string, string | null>();
    let text = '';
    for (const name of names) {
      if (map.has(name.toLowerCase())) continue;
      const v = r() < 0.3 ? null : value();
      map.set(name.toLowerCase(), v);
      text += `${open()}${name}${v === null ? '' : `${eq()}${v}`}`;
    }
    return { map, text };
  };
  const sipUri = (withParams: boolean) => {
    // an addr-spec (no brackets) cannot hold ";", "?" or "," (RFC 3261 §20): they would end it
    const user = r() < 0.8 ? escaped(ALNUM + (withParams ? "-_.!~*'()&=+$,;?/" : "-_.!~*'()&=+$/"), 1, 12) : undefined;
    const h = host();
    const p = port();
    const ps = withParams ? params(Array.from({ length: int(3) }, () => escaped(ALNUM + "[]/:&+$-_.!~*'()", 1, 6)), () => escaped(ALNUM + "[]/:&+$-_.!~*'()", 1, 6), () => ';', () => '=') : params([], () => '', () => '', () => '');
    const scheme = pick(['sip', 'sips', 'SIP']);
    const text = `${scheme}:${user === undefined ? '' : `${user}@`}${h}${p === undefined ? '' : `:${p}`}${ps.text}`;
    return { text, expected: { type: 'sip', scheme: scheme.toLowerCase(), user, password: undefined, host: h, port: p, params: ps.map, headers: [] } };
  };
  const quoted = () => `"${Array.from({ length: int(10) }, () => (r() < 0.15 ? `\\${pick([...'"\\a'])}` : pick([...'abc xyz,;<>:@é大']))).join('')}"`;
  const headerParams = (extra: string[]) =>
    // "p…": never a parameter with a grammar of its own (tag, expires, q, branch …)
    params([...extra, ...Array.from({ length: int(3) }, () => `p${token(6)}`)], () => (r() < 0.2 ? quoted() : token()), () => `${sws()};${sws()}`, () => `${sws()}=${sws()}`);
  const nameAddr = (needBrackets: boolean, extra: string[]) => {
    const bracketed = needBrackets || r() < 0.7;
    const uri = sipUri(bracketed);
    const dn = bracketed && r() < 0.6 ? (r() < 0.5 ? quoted() : [token(), token()].join(' ')) : undefined;
    const ps = headerParams(extra);
    const text = bracketed ? `${dn === undefined ? '' : `${dn}${r() < 0.5 && dn.startsWith('"') ? '' : ' '}`}<${uri.text}>${ps.text}` : `${uri.text}${ps.text}`;
    return { text, expected: { displayName: dn, bracketed, uri: uri.expected, params: ps.map } };
  };
  const via = () => {
    const transport = pick(['WS', 'WSS', 'UDP', 'TCP', 'TLS', token(5).toUpperCase()]);
    const h = host();
    const p = port();
    const received = r() < 0.3 ? (r() < 0.5 ? `${int(256)}.${int(256)}.0.${int(256)}` : `2001:db8::${int(99)}`) : undefined;
    const rport = r() < 0.3 ? (r() < 0.5 ? true : 1 + int(65535)) : undefined;
    const branch = `z9hG4bK${token(12)}`;
    let text = `SIP${sws()}/${sws()}2.0${sws()}/${sws()}${transport}${lws()}${h}${p === undefined ? '' : `${sws()}:${sws()}${p}`}`;
    const semi = () => `${sws()};${sws()}`;
    text += `${semi()}branch${sws()}=${sws()}${branch}`;
    if (received !== undefined) text += `${semi()}received=${received}`;
    if (rport !== undefined) text += `${semi()}rport${rport === true ? '' : `=${rport}`}`;
    return { text, expected: { transport, host: h, port: p, branch, received, rport } };
  };
  const name = (full: string, compact?: string) => {
    const n = compact !== undefined && r() < 0.3 ? compact : full;
    return [...n].map((c) => (r() < 0.2 ? c.toUpperCase() : r() < 0.2 ? c.toLowerCase() : c)).join('') + pick(['', '', ' ', '\t']);
  };
  return { int, pick, token, sws, lws, chars, via, nameAddr, name, quoted };
}

function message(seed: number) {
  const r = seededRandom(seed);
  const g = gen(r);
  const method = g.pick(['INVITE', 'REGISTER', 'MESSAGE', 'OPTIONS', g.token(8)]);
  const vias = Array.from({ length: 1 + g.int(4) }, () => g.via());
  const from = g.nameAddr(false, ['tag']);
  const to = g.nameAddr(false, []);
  const contacts = Array.from({ length: 1 + g.int(3) }, () => g.nameAddr(false, []));
  const routes = Array.from({ length: g.int(3) }, () => g.nameAddr(true, ['lr']));
  const callId = g.chars(ALNUM + "-.!%*_+`'~()<>:\\\"/[]?{}", 1, 20) + (g.int(2) ? `@${g.token()}` : '');
  const seq = g.int(2 ** 31);
  const maxForwards = g.int(256);
  const body = g.int(3) === 0 ? '' : `v=0\r\ns=${g.token()} é\r\n`;
  const hcolon = () => `:${g.sws().replace(/^\r\n/, ' \r\n')}`;
  const fields: string[] = [];
  // Via values spread over one or more fields, commas with SWS inside a field
  for (let i = 0; i < vias.length; ) {
    const n = 1 + g.int(vias.length - i);
    fields.push(`${g.name('Via', 'v')}${hcolon()}${vias.slice(i, i + n).map((v) => v.text).join(`${g.sws()},${g.sws()}`)}`);
    i += n;
  }
  fields.push(`${g.name('From', 'f')}${hcolon()}${from.text}`);
  fields.push(`${g.name('To', 't')}${hcolon()}${to.text}`);
  fields.push(`${g.name('Call-ID', 'i')}${hcolon()}${callId}`);
  fields.push(`${g.name('CSeq')}${hcolon()}${'0'.repeat(g.int(3))}${seq}${g.lws()}${method}`);
  fields.push(`${g.name('Max-Forwards')}${hcolon()}${maxForwards}`);
  fields.push(`${g.name('Contact', 'm')}${hcolon()}${contacts.map((c) => c.text).join(`${g.sws()},${g.sws()}`)}`);
  if (routes.length > 0) fields.push(`${g.name('Route')}${hcolon()}${routes.map((c) => c.text).join(`${g.sws()},${g.sws()}`)}`);
  for (let i = g.int(4); i > 0; i--) fields.push(`X-${g.token()}${hcolon()}${g.chars('abc ;,"=<>@é\t', 0, 12).trim()}`);
  if (body) fields.push(`${g.name('Content-Type', 'c')}${hcolon()}application/sdp`);
  if (body || g.int(2)) fields.push(`${g.name('Content-Length', 'l')}${hcolon()}${Buffer.byteLength(body)}`);
  // the fields in any order: Via's relative order is kept
  const shuffled = fields.map((f, i) => ({ f, k: f.toLowerCase().startsWith('v') ? i : r() * fields.length })).sort((a, b) => a.k - b.k).map((x) => x.f);
  const uri = g.nameAddr(true, []).expected.uri;
  const text = `${method} ${uriText(uri)} SIP/2.0\r\n${shuffled.join('\r\n')}\r\n\r\n${body}`;
  return { text, expected: { method, vias, from, to, contacts, routes, callId, seq, maxForwards, body } };
}

function uriText(u: { scheme: string; user: string | undefined; host: string; port: number | undefined }): string {
  return `${u.scheme}:${u.user === undefined ? '' : `${u.user}@`}${u.host}${u.port === undefined ? '' : `:${u.port}`}`;
}

describe('generated messages', () => {
  it('10,000 messages from the grammar parse, read back as generated, and relay byte for byte', () => {
    for (let seed = 1; seed <= 10_000; seed++) {
      const { text, expected: x } = message(seed);
      const frame = Buffer.from(text);
      let m;
      try {
        m = parseMessage(frame, { validateAll: true });
      } catch (e) {
        throw new Error(`seed ${seed}: ${String(e)}\n${JSON.stringify(text)}`, { cause: e });
      }
      const where = `seed ${seed}`;
      expect(m.kind === 'request' && m.method, where).toBe(x.method);
      expect(m.via.map((v) => ({ transport: v.transport, host: v.host, port: v.port, branch: v.branch, received: v.received, rport: v.rport })), where).toEqual(x.vias.map((v) => v.expected));
      expect(m.from, where).toEqual(x.from.expected);
      expect(tagOf(m.from), where).toBe(x.from.expected.params.get('tag') ?? undefined);
      expect(m.to, where).toEqual(x.to.expected);
      const contacts = m.contacts();
      if (contacts === '*') throw new Error(where);
      expect(contacts.map(({ displayName, uri, bracketed, params }) => ({ displayName, uri, bracketed, params })), where).toEqual(x.contacts.map((c) => c.expected));
      expect(m.routes(), where).toEqual(x.routes.map((c) => c.expected));
      expect([m.callId, m.cseq, m.maxForwards, m.bodyText()], where).toEqual([x.callId, { seq: x.seq, method: x.method }, x.maxForwards, x.body]);
      expect(serialize(m).equals(frame), where).toBe(true);
    }
  }, 60_000);
});
