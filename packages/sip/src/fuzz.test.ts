import { describe, expect, it } from 'vitest';
import { seededRandom } from '@wsgate/test-kit';
import { invalid, valid } from './fixtures/torture.js';
import { errorResponse, ParseError, parseMessage, serialize, type SipMessage } from './index.js';


const INTERESTING = [0, 9, 10, 13, 32, 34, 37, 44, 47, 58, 59, 60, 61, 62, 63, 64, 91, 92, 93, 0x7f, 0x80, 0xc3, 0xff];
const HUGE = ['a', ';', ',', '"', '\\', '<', ' ', '%', '0', 'z9hG4bK', ';x=1', '\r\n '];

/** One mutation of a valid message: byte flips, truncation, a line duplicated or dropped, a huge value. */
function mutate(input: Buffer, r: () => number): Buffer {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  let b = Buffer.from(input);
  const rounds = r() < 0.6 ? 1 : 2 + Math.floor(r() * 2);
  for (let k = 0; k < rounds; k++) {
    const at = Math.floor(r() * (b.length + 1));
    const lines = b.toString('latin1').split('\r\n');
    const line = Math.floor(r() * lines.length);
    switch (Math.floor(r() * 9)) {
      case 8: // a letter for a letter: the message often stays valid, with other values
        if (b.length > 0 && /[A-Za-z0-9]/.test(String.fromCharCode(b[Math.min(at, b.length - 1)] ?? 0))) {
          b[Math.min(at, b.length - 1)] = pick([...Buffer.from('aZ09xK.-')]);
        }
        break;
      case 0: // flip a byte to an interesting or random value
        if (b.length > 0) b[Math.min(at, b.length - 1)] = r() < 0.7 ? pick(INTERESTING) : Math.floor(r() * 256);
        break;
      case 1: // insert a byte
        b = Buffer.concat([b.subarray(0, at), Buffer.from([r() < 0.7 ? pick(INTERESTING) : Math.floor(r() * 256)]), b.subarray(at)]);
        break;
      case 2: // truncate
        b = b.subarray(0, at);
        break;
      case 3: // delete a range
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + Math.floor(r() * 40)))]);
        break;
      case 4: // duplicate a header line, once or many times
        lines.splice(line, 0, ...Array<string>(r() < 0.9 ? 1 : 200).fill(lines[line] ?? ''));
        b = Buffer.from(lines.join('\r\n'), 'latin1');
        break;
      case 5: // drop a line
        lines.splice(line, 1);
        b = Buffer.from(lines.join('\r\n'), 'latin1');
        break;
      case 6: // a huge value
        b = Buffer.concat([b.subarray(0, at), Buffer.from(pick(HUGE).repeat(1 + Math.floor(r() * (r() < 0.1 ? 80_000 : 2_000)))), b.subarray(at)]);
        break;
      default: // swap two lines
        {
          const other = Math.floor(r() * lines.length);
          [lines[line], lines[other]] = [lines[other] ?? '', lines[line] ?? ''];
          b = Buffer.from(lines.join('\r\n'), 'latin1');
        }
        break;
    }
  }
  return b;
}

/** The quickest of `runs` parses of one frame, in ms. */
function bestOf(runs: number, frame: Buffer, validateAll: boolean): number {
  let best = Infinity;
  for (let k = 0; k < runs; k++) {
    const t0 = performance.now();
    try {
      parseMessage(frame, { validateAll });
    } catch (e) {
      if (!(e instanceof ParseError)) throw e;
    }
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

/** Every typed view of a message, a fault shown as its reason. */
function model(m: SipMessage): unknown {
  const read = (f: () => unknown): unknown => {
    try {
      return f();
    } catch (e) {
      if (e instanceof ParseError) return { fault: e.reason };
      throw e;
    }
  };
  return {
    start: m.kind === 'request' ? [m.method, m.requestUri, read(() => m.uri)] : [m.status, m.reason],
    headers: m.headers.toArray().map((f) => [f.key, f.value]),
    body: m.body.toString('hex'),
    essentials: [m.via, m.from, m.to, m.callId, m.cseq, m.maxForwards, m.contentLength, m.contentType],
    lazy: [
      read(() => m.contacts()),
      read(() => m.routes()),
      read(() => m.recordRoutes()),
      read(() => m.paths()),
      read(() => m.expires()),
      read(() => m.authorizations()),
      read(() => m.proxyAuthorizations()),
      read(() => m.wwwAuthenticates()),
      read(() => m.proxyAuthenticates()),
      read(() => m.tokens('supported')),
    ],
  };
}

describe('parser fuzz', () => {
  it('mutated messages: only ParseErrors, in bounded time; what parses round-trips; every answer parses', () => {
    const CASES = 20_000;
    const counts = { parsed: 0, refused: 0, answered: 0 };
    let slowest = 0;
    const slow: Array<{ ms: number; frame: Buffer; validateAll: boolean }> = [];
    const started = performance.now();
    for (let n = 0; n < CASES; n++) {
      const r = seededRandom(n + 1);
      // four in five from a valid message, the rest from an invalid one
      const from = r() < 0.8 ? valid[n % valid.length]!.text : invalid[n % invalid.length]!.text;
      const frame = mutate(Buffer.from(from), r);
      const validateAll = r() < 0.5;
      const t0 = performance.now();
      const took = () => {
        const ms = performance.now() - t0;
        slowest = Math.max(slowest, ms);
        if (ms > 1) slow.push({ ms, frame, validateAll });
      };
      let m: SipMessage;
      try {
        m = parseMessage(frame, { validateAll });
      } catch (e) {
        took();
        if (!(e instanceof ParseError)) throw new Error(`case ${n + 1}: ${String(e)}`, { cause: e });
        counts.refused++;
        const answer = errorResponse(e);
        if (answer) {
          counts.answered++;
          const back = parseMessage(serialize(answer));
          expect(back.kind, `case ${n + 1}`).toBe('response');
        }
        continue;
      }
      took();
      counts.parsed++;
      const wire = serialize(m);
      expect(wire.equals(frame), `case ${n + 1}: byte-exact`).toBe(true);
      const again = parseMessage(wire, { validateAll });
      const canonical = parseMessage(serialize(m, { canonical: true }), { validateAll });
      const expected = model(m);
      expect(model(again), `case ${n + 1}: re-parsed`).toEqual(expected);
      expect(model(canonical), `case ${n + 1}: canonical`).toEqual(expected);
    }
    const elapsed = performance.now() - started;
    console.log(`fuzz: ${CASES} cases in ${elapsed.toFixed(0)} ms, slowest parse ${slowest.toFixed(2)} ms`, counts);
    // every kind of outcome was reached, and no case took long
    expect(counts.parsed).toBeGreaterThan(CASES / 20);
    expect(counts.answered).toBeGreaterThan(CASES / 20);
    expect(counts.refused - counts.answered).toBeGreaterThan(CASES / 20);
    expect(slowest).toBeLessThan(2_000); // no hang, even on a loaded machine
    // a slow first parse is the collector or the machine, not the input: timed again alone, each is quick.
    // "Quick" is 5 ms, or 200 parses of a plain valid message timed just before, when the machine is so loaded
    // that even that one is slow (CI once took 5.08 ms at best of 20 for a case this machine parses in 0.03 ms)
    const reference = Buffer.from(valid[0]!.text);
    for (const c of slow.sort((a, b) => b.ms - a.ms).slice(0, 10)) {
      const bound = Math.max(5, 200 * bestOf(20, reference, true));
      expect(bestOf(20, c.frame, c.validateAll)).toBeLessThan(bound);
    }
  }, 60_000);

  it('adversarial 60 KB values parse (or are refused) in linear time', () => {
    const head = (extra: string) =>
      `OPTIONS sip:a@example.com SIP/2.0\r\nVia: SIP/2.0/WSS h.invalid;branch=z9hG4bK1${extra}\r\nTo: <sip:b@example.com>\r\nFrom: <sip:a@example.com>;tag=1\r\nCall-ID: adv\r\nCSeq: 1 OPTIONS\r\n\r\n`;
    const n = 20_000;
    const cases = [
      head(';'.repeat(n)),
      head(`;x=${'"'.repeat(n)}`),
      head(`;x="${'\\"'.repeat(n)}`),
      head(`,${' ,'.repeat(n)}`),
      head(`\r\n${'Contact: <'.repeat(1)}${'<'.repeat(n)}`),
      head(`\r\nRoute: ${'<sip:a@b>,'.repeat(n / 10)}`),
      head(`\r\nAuthorization: Digest ${'a=b,'.repeat(n / 4)}`),
      head(`\r\nX-Fold: a${'\r\n b'.repeat(n / 4)}`),
      head(`\r\nContact: <sip:${'%4'.repeat(n / 2)}@h>`),
      head(`\r\nTo2: ${'a'.repeat(n * 3)}`),
    ];
    for (const text of cases) {
      const frame = Buffer.from(text);
      // linear: well under a millisecond per 20 KB when warm; a quadratic step would take seconds
      expect(bestOf(5, frame, true), text.slice(80, 140)).toBeLessThan(50);
    }
  });
});
