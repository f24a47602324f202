/**
 * A seeded fuzz of node selectors: mutations of valid selectors, each parsed and then used for GET, PUT and
 * DELETE. Only an XcapError with status 400, 404 or 409 may come out; a failed PUT or DELETE leaves the
 * document as it was, a successful one leaves it well-formed; every case ends within a time bound.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom, thrown } from '@wsgate/test-kit';
import { parseXml, serializeXml } from '../xml.js';
import { XcapError } from '../xcap-error.js';
import { deleteNode } from './delete-node.js';
import { getNode } from './get-node.js';
import { parseNamespaceBindings } from './namespace-bindings.js';
import { parseNodeSelector, type NodeSelector } from './node-selector.js';
import { putNode } from './put-node.js';

const SEED = 0x5eed_4825;
const CASES = 3000;
/** A case is a few small DOM walks; 50 ms means something loops. */
const CASE_BOUND_MS = 50;

const RL = 'urn:ietf:params:xml:ns:resource-lists';
const DOC = `<?xml version="1.0" encoding="UTF-8"?>
<resource-lists xmlns="${RL}" xmlns:cp="urn:cp">
  <list name="friends">
    <entry uri="sip:joe@example.com"><display-name>Joe</display-name></entry>
    <entry uri="sip:nancy@example.com" cp:copyControl="to"/>
    <entry uri='a"b'/>
  </list>
  <list name="work"><list name="inner"><entry uri="sip:x@y"/></list></list>
</resource-lists>`;
const QUERY = 'xmlns(c=urn:cp)xmlns(r=urn:ietf:params:xml:ns:resource-lists)';

const VALID = [
  'resource-lists',
  'resource-lists/list[1]',
  'resource-lists/list[@name="friends"]/entry[2]',
  'resource-lists/list[@name="friends"]/entry[@uri="sip:joe@example.com"]/display-name',
  'resource-lists/*[2]/list[1][@name="inner"]/entry',
  'resource-lists/list[1]/entry[2]/@c:copyControl',
  'resource-lists/list[@name="work"]/@name',
  'r:resource-lists/r:list[2]/namespace::*',
  "resource-lists/list[@name='friends']/entry[@uri='a&quot;b']",
  'resource-lists/list[@name="friends"]/entry[@uri="sip:new@example.com"]',
  'resource-lists/list[@name="friends"]/@label',
];

const TOKENS = [
  '/', '[', ']', '@', '=', '"', "'", '*', ':', '::', '//', '[1]', '[0]', '[3]', '[99999999999999999999]', '[@',
  '="x"]', 'namespace::*', '@name', '&amp;', '&#x41;', '&#0;', '&', ';', '<', '>', '%', ' ', '\t', '\u0000',
  '\uD800', '😀', 'é', 'c:', 'q:', 'xmlns', 'list', 'entry', '-', '.', '0', '9', '(', ')', 'text()', '..', '|',
];

const BODIES: readonly (readonly [string, string])[] = [
  ['application/xcap-el+xml', '<entry uri="sip:new@example.com"/>'],
  ['application/xcap-el+xml', '<list name="friends"/>'],
  ['application/xcap-el+xml', '<entry uri="sip:joe@example.com"><display-name>J</display-name></entry>'],
  ['application/xcap-el+xml', '<display-name>x</display-name>'],
  ['application/xcap-el+xml', '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"/>'],
  ['application/xcap-el+xml', '<entry'],
  ['application/xcap-el+xml', '<a/><b/>'],
  ['application/xcap-att+xml', 'friends'],
  ['application/xcap-att+xml', 'to'],
  ['application/xcap-att+xml', 'a &amp; b'],
  ['application/xcap-att+xml', 'a < b'],
];

function mutate(text: string, next: () => number): string {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
  let out = text;
  const edits = 1 + Math.floor(next() * 3);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(next() * (out.length + 1));
    switch (Math.floor(next() * 5)) {
      case 0: // insert a token
        out = out.slice(0, at) + pick(TOKENS) + out.slice(at);
        break;
      case 1: // delete a run
        out = out.slice(0, at) + out.slice(at + 1 + Math.floor(next() * 4));
        break;
      case 2: // replace one character
        out = out.slice(0, at) + pick(TOKENS) + out.slice(at + 1);
        break;
      case 3: // cut short
        out = out.slice(0, at);
        break;
      default: // repeat a slice
        out = out.slice(0, at) + out.slice(Math.floor(next() * out.length), at) + out.slice(at);
    }
  }
  return out;
}

/** Runs `step`; returns the XcapError it threw, or undefined; anything else fails the test. */
function expectOnlyXcapErrors(label: string, step: () => void): XcapError | undefined {
  try {
    step();
    return undefined;
  } catch (error) {
    if (!(error instanceof XcapError)) throw new Error(`${label}: ${String(error)}`, { cause: error });
    if (![400, 404, 409].includes(error.status)) throw new Error(`${label}: status ${error.status} ${error.message}`);
    return error;
  }
}

type Counts = Record<'refused' | 'parsed' | 'got' | 'put' | 'deleted', number>;

const ORIGINAL = serializeXml(parseXml(Buffer.from(DOC)));
const BINDINGS = parseNamespaceBindings(QUERY);

/** One case: parse, then GET, PUT and DELETE on fresh copies of the document, checking what may come out. */
function runCase(label: string, text: string, body: readonly [string, string], counts: Counts): void {
  let sel: NodeSelector | undefined;
  const parseError = expectOnlyXcapErrors(label, () => {
    sel = parseNodeSelector(text, BINDINGS);
  });
  if (parseError) {
    // 400: an empty step or an unbound prefix; 404: an extension selector (RFC 4825 §8).
    expect([400, 404], label).toContain(parseError.status);
    counts.refused++;
    return;
  }
  counts.parsed++;
  const parsed = sel as NodeSelector;
  const doc = parseXml(Buffer.from(DOC));
  if (!expectOnlyXcapErrors(`${label} GET`, () => getNode(doc, parsed, RL))) counts.got++;
  expect(serializeXml(doc), `${label} GET changed the document`).toBe(ORIGINAL);
  if (parsed.terminal?.kind === 'namespace') return; // PUT and DELETE are 405 there, tested on their own
  const putType = parsed.terminal ? 'application/xcap-att+xml' : 'application/xcap-el+xml';
  const putBody = body[0] === putType ? body[1] : putType === 'application/xcap-att+xml' ? 'x' : '<entry/>';
  const putDoc = parseXml(Buffer.from(DOC));
  const putError = expectOnlyXcapErrors(`${label} PUT ${putBody}`, () =>
    putNode(putDoc, parsed, RL, Buffer.from(putBody), putType, (prefix) => `/doc/~~/${prefix}`),
  );
  if (putError) {
    expect(serializeXml(putDoc), `${label} failed PUT changed the document`).toBe(ORIGINAL);
  } else {
    counts.put++;
    expect(() => parseXml(Buffer.from(serializeXml(putDoc))), `${label} PUT left a broken document`).not.toThrow();
  }
  const delDoc = parseXml(Buffer.from(DOC));
  const deleteError = expectOnlyXcapErrors(`${label} DELETE`, () => deleteNode(delDoc, parsed, RL));
  if (deleteError) {
    expect(serializeXml(delDoc), `${label} failed DELETE changed the document`).toBe(ORIGINAL);
  } else {
    counts.deleted++;
    expect(() => parseXml(Buffer.from(serializeXml(delDoc))), `${label} DELETE left a broken document`).not.toThrow();
  }
}

const failure = (run: () => unknown) => thrown(run, XcapError);

describe('node selector fuzz', () => {
  it(`${CASES} mutated selectors: only XcapError 400/404/409, documents intact, each case bounded`, () => {
    const next = seededRandom(SEED);
    const counts: Counts = { refused: 0, parsed: 0, got: 0, put: 0, deleted: 0 };
    for (let i = 0; i < CASES; i++) {
      const text = mutate(VALID[i % VALID.length] as string, next);
      const body = BODIES[Math.floor(next() * BODIES.length)] as readonly [string, string];
      const label = `case ${i} ${JSON.stringify(text)}`;
      const started = performance.now();
      runCase(label, text, body, counts);
      const took = performance.now() - started;
      if (took < CASE_BOUND_MS) continue;
      // A loaded machine preempts a run now and then: a slow case is timed again alone, at its best of 20.
      let best = took;
      for (let run = 0; run < 20 && best >= CASE_BOUND_MS; run++) {
        const again = performance.now();
        runCase(label, text, body, { refused: 0, parsed: 0, got: 0, put: 0, deleted: 0 });
        best = Math.min(best, performance.now() - again);
      }
      expect(best, `${label} took ${best.toFixed(1)} ms at best`).toBeLessThan(CASE_BOUND_MS);
    }
    // The mutations reach every path: refusals, and selectors that still select, put and delete.
    expect(counts.refused).toBeGreaterThan(CASES / 10);
    expect(counts.parsed).toBeGreaterThan(CASES / 10);
    expect(counts.got).toBeGreaterThan(50);
    expect(counts.put).toBeGreaterThan(50);
    expect(counts.deleted).toBeGreaterThan(50);
  });

  it('2000 mutated queries: parseNamespaceBindings throws only XcapError 400', () => {
    const next = seededRandom(SEED + 1);
    const queries = ['?xmlns(a=urn:a)xmlns(b=urn:b)', 'xmlns(p%3Durn%3Aa)%20xmlns(q=http://x/a^(b^)^^c)'];
    let refused = 0;
    for (let i = 0; i < 2000; i++) {
      const query = mutate(queries[i % queries.length] as string, next);
      const error = expectOnlyXcapErrors(`query ${i} ${JSON.stringify(query)}`, () => parseNamespaceBindings(query));
      if (error) {
        expect(error.status).toBe(400);
        refused++;
      }
    }
    expect(refused).toBeGreaterThan(200);
  });

  it('selects among 20 000 siblings in bounded time', () => {
    const entries = Array.from({ length: 20_000 }, (_, i) => `<entry uri="sip:${i}@x"/>`).join('');
    const doc = parseXml(Buffer.from(`<resource-lists xmlns="${RL}"><list>${entries}</list></resource-lists>`));
    const bindings = parseNamespaceBindings('');
    const started = performance.now();
    const many = failure(() => getNode(doc, parseNodeSelector('resource-lists/list/*', bindings), RL));
    expect(many.message).toContain('matches 20000 elements');
    expect(getNode(doc, parseNodeSelector('resource-lists/*/entry[@uri="sip:19999@x"]/@uri', bindings), RL).body).toBe('"sip:19999@x"');
    const noParent = failure(() =>
      putNode(doc, parseNodeSelector('resource-lists/list/*/x', bindings), RL, Buffer.from('<x/>'), 'application/xcap-el+xml', (p) => p),
    );
    expect(noParent.conflict?.ancestor).toBe('resource-lists/list');
    // ~0.4 s here; a walk quadratic in the siblings would take minutes. Room for a loaded CI machine.
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it('refuses a 10 000-step selector in bounded time, and evaluates one fast', () => {
    const bindings = parseNamespaceBindings('');
    const doc = parseXml(Buffer.from(DOC));
    const started = performance.now();
    const long = parseNodeSelector(`resource-lists${'/*'.repeat(10_000)}`, bindings);
    expect(() => getNode(doc, long, RL)).toThrow(XcapError);
    const broken = `resource-lists${'/*[1]'.repeat(10_000)}[`;
    expect(() => parseNodeSelector(broken, bindings)).toThrow(/bad node selector/);
    expect(performance.now() - started).toBeLessThan(2000); // ~0.1 s here
  });
});
