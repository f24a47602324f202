/**
 * xcap() with node selectors, over HTTP on a live gateway: elements and attributes of RFC 4826's example
 * resource list read, put and deleted one at a time (RFC 4825 §7.3–§7.8), the §8.2.3 placement of a new
 * element, the 409s of §8.2 with their ancestor, and concurrent writers of one document losing nothing.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RFC4825_INSERT_EXAMPLE, RFC4825_NAMESPACES, RFC4826_LISTS, startTestGateway, xcapRequest, type TestGateway, type XcapRequest } from '@wsgate/test-kit';
import { basicAuth } from '../auth/basic.js';
import { xcap } from './xcap.js';

const RL = 'application/resource-lists+xml';
const EL = 'application/xcap-el+xml';
const ATT = 'application/xcap-att+xml';
const ALICE = 'alice:alice-pw';
const doc = '/xcap-root/resource-lists/users/sip:alice@example.com/index';
let gw: TestGateway;
let auth: ReturnType<typeof basicAuth>;

/** A node selector as a client writes it in a URI: `[`, `]` and `"` percent-encoded (RFC 4825 §6.3). */
const at = (selector: string, base = doc) => `${base}/~~/${selector.replace(/\[/g, '%5B').replace(/\]/g, '%5D').replace(/"/g, '%22')}`;
const send = (path: string, r: XcapRequest = {}) => xcapRequest(gw.port, path, { as: ALICE, ...r });
const put = (path: string, body: string, type = EL, headers: Record<string, string> = {}) => send(path, { method: 'PUT', type, body, headers });

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsgate-xcap-nodes-'));
  writeFileSync(join(dir, 'htpasswd'), 'alice:alice-pw\nbill:bill-pw\n');
  auth = basicAuth({ file: join(dir, 'htpasswd'), plain: true });
  // RFC 4825 §8.2.3's example documents have an unqualified <root>: a usage "test" without a namespace holds them.
  const test = { auid: 'test', mimeType: 'application/test+xml', namespace: '', rootElement: 'root' };
  gw = await startTestGateway(xcap({ auth, xuis: (user) => [`sip:${user}@example.com`], usages: [test] }));
});
afterAll(async () => {
  await gw.close();
  await auth.close();
});

describe('elements and attributes of RFC 4826\'s example list', () => {
  let etag: string;
  beforeAll(async () => {
    const r = await send(doc, { method: 'PUT', type: RL, body: RFC4826_LISTS });
    expect(r.status).toBe(201);
    etag = r.headers.etag as string;
  });

  it('GETs one entry as application/xcap-el+xml and an attribute as application/xcap-att+xml, with the document\'s ETag', async () => {
    const entry = await send(at('resource-lists/list[@name="friends"]/entry[@uri="sip:bill@example.com"]'));
    expect(entry.status).toBe(200);
    expect(entry.headers['content-type']).toBe(EL);
    expect(entry.headers.etag).toBe(etag);
    expect(entry.body).toMatch(/^<entry uri="sip:bill@example.com"( xmlns="urn:ietf:params:xml:ns:resource-lists")?>\s*<display-name>Bill Doe<\/display-name>\s*<\/entry>$/);
    // RFC 4825 §7.9: "formatted according to the grammar of AttValue", quotes included (§13 Figure 32).
    const name = await send(at('resource-lists/list[@name="friends"]/list[1]/@name'));
    expect(name).toMatchObject({ status: 200, body: '"close-friends"' });
    expect(name.headers['content-type']).toBe(ATT);
    expect((await send(at('resource-lists/list[@name="enemies"]'))).status).toBe(404);
  });

  it('PUTs a new entry (201), replaces it in place (200), and each answer carries the new ETag the document then has', async () => {
    const target = at('resource-lists/list[@name="friends"]/list[@name="close-friends"]/entry[@uri="sip:carol@example.com"]');
    const created = await put(target, '<entry uri="sip:carol@example.com"><display-name>Carol</display-name></entry>');
    expect(created.status).toBe(201);
    expect(created.headers.etag).not.toBe(etag);
    const whole = await send(doc);
    expect(whole.headers.etag).toBe(created.headers.etag);
    // §8.2.3: after the last sibling entry, before the <external>
    expect(whole.body.indexOf('sip:carol@example.com')).toBeGreaterThan(whole.body.indexOf('sip:nancy@example.com'));
    expect(whole.body.indexOf('sip:carol@example.com')).toBeLessThan(whole.body.indexOf('<external'));
    const replaced = await put(target, '<entry uri="sip:carol@example.com"><display-name>Carol C.</display-name></entry>');
    expect(replaced.status).toBe(200);
    expect((await send(target)).body).toContain('Carol C.');
    etag = replaced.headers.etag as string;
  });

  it('PUTs an attribute as an AttValue with application/xcap-att+xml (§7.7); one whose new value the selector would no longer select is 409 cannot-insert (§8.2.4)', async () => {
    const keyed = await put(at('resource-lists/list[@name="friends"]/list[@name="close-friends"]/entry[@uri="sip:carol@example.com"]/@uri'), '"sip:carol@example.net"', ATT);
    expect(keyed.status).toBe(409);
    expect(keyed.body).toContain('<cannot-insert');
    const r = await put(at('resource-lists/list[@name="friends"]/list[1]/entry[3]/@uri'), '"sip:carol@example.net"', ATT);
    expect(r.status).toBe(200);
    expect((await send(at('resource-lists/list[@name="friends"]/list[1]/entry[3]/@uri'))).body).toBe('"sip:carol@example.net"');
  });

  it('an attribute the schema does not allow is 409 schema-validation-error (RFC 4825 §8.2.5), as OpenXCAP answers it', async () => {
    const r = await put(at('resource-lists/list[@name="friends"]/@some-attribute'), '"coworkers"', ATT);
    expect(r.status).toBe(409);
    expect(r.body).toContain('<schema-validation-error');
  });

  it('§8.2.6: "a conditional PUT of an element or attribute with an If-None-Match: * will always fail"', async () => {
    const r = await put(at('resource-lists/list[@name="friends"]/entry[@uri="sip:new@example.com"]'), '<entry uri="sip:new@example.com"/>', EL, { 'If-None-Match': '*' });
    expect(r.status).toBe(412);
    expect((await send(at('resource-lists/list[@name="friends"]/entry[@uri="sip:new@example.com"]'))).status).toBe(404);
  });

  it('refuses with 409 what would break the usage\'s constraints, the document unchanged', async () => {
    const before = (await send(doc)).headers.etag;
    const r = await put(at('resource-lists/list[@name="friends"]/list[@name="close-friends"]/entry[4]'), '<entry uri="sip:joe@example.com"/>');
    expect(r.status).toBe(409);
    expect(r.body).toContain('<uniqueness-failure');
    expect((await send(doc)).headers.etag).toBe(before);
  });

  it('409 no-parent names the closest ancestor that exists as an HTTP URI; 415 for a whole-document type at a node', async () => {
    const r = await put(at('resource-lists/list[@name="family"]/entry[@uri="sip:mom@example.com"]'), '<entry uri="sip:mom@example.com"/>');
    expect(r.status).toBe(409);
    expect(r.body).toContain(`<no-parent phrase=`);
    expect(r.body).toContain(`<ancestor>http://127.0.0.1:${gw.port}/xcap-root/resource-lists/users/sip:alice@example.com/index/~~/resource-lists</ancestor>`);
    const wrongType = await put(at('resource-lists/list[@name="friends"]/entry[@uri="sip:x@example.com"]'), '<entry uri="sip:x@example.com"/>', RL);
    expect(wrongType.status).toBe(415);
  });

  it('a node PUT into a document that does not exist is 409 no-parent', async () => {
    const r = await put(at('resource-lists/list[@name="a"]', '/xcap-root/resource-lists/users/sip:alice@example.com/missing'), '<list name="a"/>');
    expect(r.status).toBe(409);
    expect(r.body).toContain('<no-parent phrase="the document does not exist: PUT the whole document first"/>');
  });

  it('a conditional node PUT that read an older ETag loses with 412', async () => {
    const stale = await put(at('resource-lists/list[@name="friends"]/entry[@uri="sip:late@example.com"]'), '<entry uri="sip:late@example.com"/>', EL, { 'If-Match': '"older"' });
    expect(stale.status).toBe(412);
    expect(stale.headers.etag).toBe((await send(doc)).headers.etag);
  });

  it('DELETEs one entry (200, new ETag); then it is 404', async () => {
    const target = at('resource-lists/list[@name="friends"]/entry[@uri="sip:bill@example.com"]');
    const r = await send(target, { method: 'DELETE' });
    expect(r.status).toBe(200);
    expect(r.headers.etag).toBe((await send(doc)).headers.etag);
    expect((await send(target)).status).toBe(404);
    expect((await send(target, { method: 'DELETE' })).status).toBe(404);
  });

  it('answers 404 for a step it does not understand (an extension selector, §8), 400 for an unbound prefix or a malformed query', async () => {
    expect((await send(at('resource-lists/list[@name="friends"'))).status).toBe(404);
    expect((await send(at('q:resource-lists'))).status).toBe(400);
    expect((await send(`${at('p:resource-lists')}?xmlns(p=urn:ietf:params:xml:ns:resource-lists`)).status).toBe(400);
    expect((await send(`${at('p:resource-lists/p:list[1]/@name')}?xmlns(p=urn:ietf:params:xml:ns:resource-lists)`)).body).toBe('"friends"');
  });
});

describe('concurrent writers of one document', () => {
  it('lose nothing: 20 clients each PUT their own entry at once, and the list holds all 20', async () => {
    const path = '/xcap-root/resource-lists/users/sip:alice@example.com/busy';
    expect((await send(path, { method: 'PUT', type: RL, body: '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list name="l"/></resource-lists>' })).status).toBe(201);
    const uris = Array.from({ length: 20 }, (_, i) => `sip:u${i}@example.com`);
    const answers = await Promise.all(uris.map((u) => put(at(`resource-lists/list[@name="l"]/entry[@uri="${u}"]`, path), `<entry uri="${u}"/>`)));
    expect(answers.map((a) => a.status)).toEqual(uris.map(() => 201));
    const body = (await send(path)).body;
    for (const u of uris) expect(body).toContain(`uri="${u}"`);
  });
});

describe('RFC 4825 §8.2.3: where a new element goes', () => {
  const path = '/xcap-root/test/users/sip:alice@example.com/index';
  const START = RFC4825_INSERT_EXAMPLE;
  const reset = async () => expect((await send(path, { method: 'PUT', type: 'application/test+xml', body: START })).status).toBeLessThan(300);

  it('root/el1[@att="third"]: after the last <el1>, before the comment', async () => {
    await reset();
    expect((await put(at('root/el1[@att="third"]', path), '<el1 att="third"/>')).status).toBe(201);
    expect((await send(path)).body).toMatch(/<el1 att="second"\/><el1 att="third"\/>\s*<!-- comment -->/);
  });

  it('root/el3: after the last element, when no sibling has its name', async () => {
    await reset();
    expect((await put(at('root/el3', path), '<el3/>')).status).toBe(201);
    expect((await send(path)).body).toMatch(/<el2 att="first"\/>\s*<el3\/>\s*<\/root>/);
  });

  it('a body the selector would not select is 409 cannot-insert (§8.2.3), the document unchanged', async () => {
    await reset();
    const r = await put(at('root/el1[@att="third"]', path), '<el1 att="fourth"/>');
    expect(r.status).toBe(409);
    expect(r.body).toContain('<cannot-insert');
    expect((await send(path)).body).toBe(START);
  });
});

describe('RFC 4825 §6.3: namespace bindings in the query, on an XCAP root at the host\'s root', () => {
  let bare: TestGateway;
  beforeAll(async () => {
    const test = { auid: 'test', mimeType: 'application/test+xml', namespace: 'urn:test:default-namespace', rootElement: 'foo' };
    bare = await startTestGateway(xcap({ root: '', auth, xuis: (user) => [`sip:${user}@example.com`, user === 'alice' ? 'sip:joe@example.com' : user], usages: [test] }));
  });
  afterAll(() => bare.close());

  it('foo/a:bar/b:baz with a and b both bound to namespace1 selects the <baz/> of namespace1', async () => {
    const index = '/test/users/sip:joe@example.com/index';
    expect((await xcapRequest(bare.port, index, { as: ALICE, method: 'PUT', type: 'application/test+xml', body: RFC4825_NAMESPACES })).status).toBe(201);
    const r = await xcapRequest(bare.port, `${index}/~~/foo/a:bar/b:baz?xmlns(a=urn:test:namespace1-uri)xmlns(b=urn:test:namespace1-uri)`, { as: ALICE });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe(EL);
    expect(r.body).toMatch(/^<baz( xmlns="urn:test:namespace1-uri")?\/>$/);
    const other = await xcapRequest(bare.port, `${index}/~~/foo/a:bar/b:baz?xmlns(a=urn:test:namespace1-uri)xmlns(b=urn:test:namespace2-uri)`, { as: ALICE });
    expect(other.body).toMatch(/^<ns2:baz xmlns:ns2="urn:test:namespace2-uri"\/>$/);
  });
});


describe('RFC 4825 §13 Examples: Bill\'s requests and the answers, as written there', () => {
  // The request lines are the RFC's, percent-encoding included; the XCAP root is the host's root as there.
  // Bodies are the figures de-indented by the RFC's three-space page margin; the URIs the RFC line-folds "for
  // readability" are unfolded.
  let bare: TestGateway;
  const BILL = 'bill:bill-pw';
  const bill = (path: string, r: XcapRequest = {}) => xcapRequest(bare.port, path, { as: BILL, ...r });
  const billPut = (path: string, type: string, body: string) => bill(path, { method: 'PUT', type, body });
  beforeAll(async () => {
    bare = await startTestGateway(xcap({ root: '', auth, xuis: (user) => [`sip:${user}@example.com`] }));
  });
  afterAll(() => bare.close());

  it('Figures 24–32: create, add an entry, fetch, add a list, delete an entry, fetch an attribute', async () => {
    // Figure 24: New Document (§7.1)
    const created = await billPut('/resource-lists/users/sip:bill@example.com/index', 'application/resource-lists+xml', `<?xml version="1.0" encoding="UTF-8"?>
<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">
  <list name="friends">
  </list>
</resource-lists>`);
    expect(created.status).toBe(201);
    expect(created.headers.etag).toBeDefined(); // §8.2.7 "An entity tag MUST be included in all successful responses to a PUT."

    // Figure 25: RLS Services Example
    const rls = await billPut('/rls-services/users/sip:bill@example.com/index', 'application/rls-services+xml', `<?xml version="1.0" encoding="UTF-8"?>
<rls-services xmlns="urn:ietf:params:xml:ns:rls-services">
<service uri="sip:myfriends@example.com">
  <resource-list>http://xcap.example.com/resource-lists/users/sip:bill@example.com/index/~~/resource-lists/list%5b@name=%22friends%22%5d
</resource-list>
  <packages>
   <package>presence</package>
  </packages>
 </service>
</rls-services>`);
    expect(rls.status).toBe(201);

    // Figure 26: Resource Lists Document (§7.4)
    const entry = await billPut('/resource-lists/users/sip:bill@example.com/index/~~/resource-lists/list%5b@name=%22friends%22%5d/entry', 'application/xcap-el+xml', `<entry uri="sip:bob@example.com">
    <display-name>Bob Jones</display-name>
  </entry>`);
    expect(entry).toMatchObject({ status: 201, body: '' });

    // Figure 27: Fetch Operation; Figure 28: Results of Fetch ("note how white space text nodes appear")
    const fetched = await bill('/resource-lists/users/sip:bill@example.com/index');
    expect(fetched.status).toBe(200);
    expect(fetched.headers['content-type']).toBe('application/resource-lists+xml');
    expect(fetched.headers.etag).toBe(entry.headers.etag);
    expect(fetched.body).toBe(`<?xml version="1.0" encoding="UTF-8"?>
<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">
  <list name="friends">
  <entry uri="sip:bob@example.com">
    <display-name>Bob Jones</display-name>
  </entry></list>
</resource-lists>`);

    // Figure 29: Adding an Entry
    const list = await billPut('/resource-lists/users/sip:bill@example.com/index/~~/resource-lists/list%5b@name=%22friends%22%5d/list%5b@name=%22close-friends%22%5d', 'application/xcap-el+xml', `<list name="close-friends">
   <entry uri="sip:joe@example.com">
     <display-name>Joe Smith</display-name>
   </entry>
   <entry uri="sip:nancy@example.com">
     <display-name>Nancy Gross</display-name>
   </entry>
   <entry uri="sip:petri@example.com">
     <display-name>Petri Aukia</display-name>
   </entry>
</list>`);
    expect(list.status).toBe(201);

    // Figure 30: Deleting an Entry (§7.5)
    const deleted = await bill('/resource-lists/users/sip:bill@example.com/index/~~/resource-lists/list/list/entry%5b@uri=%22sip:petri@example.com%22%5d', { method: 'DELETE' });
    expect(deleted.status).toBe(200);
    expect(deleted.headers.etag).toBeDefined(); // §8.4: "any successful response to DELETE MUST include the entity tag"

    // Figure 31: Fetching an Attribute; Figure 32: Results of Fetch
    const uri = await bill('/resource-lists/users/sip:bill@example.com/index/~~/resource-lists/list/list/entry%5b2%5d/@uri');
    expect(uri.status).toBe(200);
    expect(uri.headers['content-type']).toBe('application/xcap-att+xml');
    expect(uri.headers.etag).toBe(deleted.headers.etag);
    expect(uri.body).toBe('"sip:nancy@example.com"');
    expect(uri.headers['cache-control']).toBe('no-cache'); // §9
  });

  it('§7.4: the PUT of <service uri="sip:mybuddies@example.com"> at service[@uri="sip:good-friends@example.com"] "will fail with a 409"', async () => {
    const r = await billPut('/rls-services/users/sip:bill@example.com/index/~~/rls-services/service%5b@uri=%22sip:good-friends@example.com%22%5d', 'application/xcap-el+xml', `<service uri="sip:mybuddies@example.com">
  <resource-list>http://xcap.example.com/resource-lists/users/sip:joe@example.com/index/~~/resource-lists/list%5b@name=%22l1%22%5d
</resource-list>
  <packages>
   <package>presence</package>
  </packages>
</service>`);
    expect(r.status).toBe(409);
    expect(r.headers['content-type']).toBe('application/xcap-error+xml');
    expect(r.body).toContain('<cannot-insert phrase=');
  });

  it('§7.7: the PUT of "sip:bad-friends@example.com" at service[@uri="sip:good-friends@example.com"]/@uri "will fail with a 409"', async () => {
    // In Bill's document no service has that URI, so here the element to put it in is missing: no-parent. The
    // cannot-insert of a document that has it is in selector/rfc4825-examples.test.ts.
    const r = await bill('/rls-services/users/sip:bill@example.com/index/~~/rls-services/service%5b@uri=%22sip:good-friends@example.com%22%5d/@uri', {
      method: 'PUT',
      type: 'application/xcap-att+xml',
      body: '"sip:bad-friends@example.com"',
    });
    expect(r.status).toBe(409);
    expect(r.body).toContain('<no-parent phrase=');
  });
});
