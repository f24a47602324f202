/**
 * xcap() on a live gateway, over HTTP with node's client: whole documents, RFC 4826's resource-lists example,
 * ETags and conditions (RFC 4825 §7.11), the 409 reports, 413/415, authorization for every method, concurrent
 * writers, the capabilities and the directory, a script's own usage, and the options' errors.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore, WsgateError } from '@wsgate/core';
import { RFC4826_LISTS, RFC4826_RLS_SERVICES, startTestGateway, xcapRequest, type TestGateway, type XcapRequest } from '@wsgate/test-kit';
import { basicAuth } from '../auth/basic.js';
import { xcap } from './xcap.js';
import { xcapConflict } from './xcap-error.js';


const RL = 'application/resource-lists+xml';
const ALICE = 'alice:alice-pw';
const BOB = 'bob:bob-pw';
const ROOT = 'root:root-pw';
const aliceDoc = '/xcap-root/resource-lists/users/sip:alice@example.com/index';
const bobDoc = '/xcap-root/resource-lists/users/sip:bob@example.com/index';
const store = new MemoryStore();
let gw: TestGateway;
let auth: ReturnType<typeof basicAuth>;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsgate-xcap-'));
  writeFileSync(join(dir, 'htpasswd'), 'alice:alice-pw\nbob:bob-pw\nroot:root-pw\n');
  auth = basicAuth({ file: join(dir, 'htpasswd'), plain: true, realm: 'xcap' });
  const notes = {
    auid: 'org.example.notes',
    mimeType: 'application/vnd.example.notes+xml',
    namespace: 'urn:example:notes',
    rootElement: 'notes',
    validate(doc: import('@xmldom/xmldom').Document) {
      if (doc.documentElement!.getElementsByTagNameNS('urn:example:notes', 'note').length > 2) throw xcapConflict('constraint-failure', 'at most two notes');
    },
  };
  gw = await startTestGateway(
    xcap({ store, auth, xuis: (user) => [`sip:${user}@example.com`], admins: ['root'], maxDocumentSize: 4096, maxUserStorage: 9000, usages: [notes] }),
  );
});
afterAll(async () => {
  await gw.close();
  await auth.close();
});

const send = (path: string, r: XcapRequest = {}) => xcapRequest(gw.port, path, r);
const put = (path: string, body: string, r: XcapRequest = {}) => send(path, { method: 'PUT', as: ALICE, type: RL, body, ...r });

describe('whole documents', () => {
  it('stores RFC 4826\'s example resource list: 201 with an ETag, read back byte for byte, replaced with 200', async () => {
    const created = await put(aliceDoc, RFC4826_LISTS);
    expect(created).toMatchObject({ status: 201, body: '' });
    const etag = created.headers.etag as string;
    expect(etag).toMatch(/^"[\w-]{27}"$/);
    const read = await send(aliceDoc, { as: ALICE });
    expect(read).toMatchObject({ status: 200, body: RFC4826_LISTS });
    expect(read.headers['content-type']).toBe(RL);
    expect(read.headers.etag).toBe(etag);
    // RFC 4825 §9: "For application usages containing data that is likely to be dynamic or written by clients,
    // servers SHOULD indicate a no-cache directive."
    expect(read.headers['cache-control']).toBe('no-cache');
    const replaced = await put(aliceDoc, RFC4826_LISTS.replace('Bill Doe', 'William Doe'));
    expect(replaced.status).toBe(200);
    expect(replaced.headers.etag).not.toBe(etag);
    const head = await send(aliceDoc, { as: ALICE, method: 'HEAD' });
    expect(head).toMatchObject({ status: 200, body: '' });
    expect(head.headers.etag).toBe(replaced.headers.etag);
  });

  it('deletes a document (200), after which it is 404 to GET and DELETE', async () => {
    const path = '/xcap-root/resource-lists/users/sip:alice@example.com/old';
    expect((await put(path, '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"/>')).status).toBe(201);
    const gone = await send(path, { method: 'DELETE', as: ALICE });
    expect(gone.status).toBe(200);
    expect(gone.headers.etag).toBeUndefined();
    expect((await send(path, { as: ALICE })).status).toBe(404);
    expect((await send(path, { method: 'DELETE', as: ALICE })).status).toBe(404);
  });

  it('answers 405 with Allow to other methods', async () => {
    const r = await send(aliceDoc, { method: 'POST', as: ALICE, body: 'x' });
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('GET, HEAD, PUT, DELETE');
  });

  it('passes requests outside its root on to the next route set (here the final 404)', async () => {
    expect(await send('/index.html')).toMatchObject({ status: 404, body: 'Not found\n' });
    expect(await send('/xcap-rootx/resource-lists/users/a/index')).toMatchObject({ status: 404, body: 'Not found\n' });
  });

  it('answers 404 for an unknown AUID or a path that names no document, 400 for a bad escape', async () => {
    expect(await send('/xcap-root/nothing/users/sip:alice@example.com/index', { as: ALICE })).toMatchObject({ status: 404, body: 'no application usage "nothing" on this server\n' });
    expect((await send('/xcap-root/resource-lists/people/x/index', { as: ALICE })).status).toBe(404);
    expect((await send('/xcap-root/resource-lists/users/sip:alice@example.com', { as: ALICE })).status).toBe(404);
    expect(await send('/xcap-root/resource-lists/users/sip:alice@example.com/in%C3dex', { as: ALICE })).toMatchObject({ status: 400, body: 'bad percent-encoding in the document path\n' });
  });
});

describe('ETags and conditions (RFC 4825 §7.11)', () => {
  const path = '/xcap-root/resource-lists/users/sip:alice@example.com/conditions';
  const doc = (name: string) => `<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list name="${name}"/></resource-lists>`;

  it('If-None-Match: * creates only once (412 after), If-Match must name the current ETag (412 with it otherwise)', async () => {
    const first = await put(path, doc('a'), { headers: { 'If-None-Match': '*' } });
    expect(first.status).toBe(201);
    const again = await put(path, doc('b'), { headers: { 'If-None-Match': '*' } });
    expect(again.status).toBe(412);
    expect(again.headers.etag).toBe(first.headers.etag);
    const stale = await put(path, doc('c'), { headers: { 'If-Match': '"stale"' } });
    expect(stale.status).toBe(412);
    expect(stale.headers.etag).toBe(first.headers.etag);
    const fresh = await put(path, doc('c'), { headers: { 'If-Match': first.headers.etag as string } });
    expect(fresh.status).toBe(200);
    expect((await send(path, { method: 'DELETE', as: ALICE, headers: { 'If-Match': first.headers.etag as string } })).status).toBe(412);
  });

  it('GET with If-None-Match of the current ETag is 304 with it; If-Match on a missing document is 412', async () => {
    const current = (await send(path, { as: ALICE })).headers.etag as string;
    const cached = await send(path, { as: ALICE, headers: { 'If-None-Match': `"x", ${current}` } });
    expect(cached).toMatchObject({ status: 304, body: '' });
    expect(cached.headers.etag).toBe(current);
    expect((await send(path, { as: ALICE, headers: { 'If-None-Match': '"other"' } })).status).toBe(200);
    expect((await put(`${path}-missing`, doc('a'), { headers: { 'If-Match': '*' } })).status).toBe(412);
  });

  it('of concurrent writers that read the same ETag, exactly one wins and the others get 412', async () => {
    const base = (await send(path, { as: ALICE })).headers.etag as string;
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => put(path, doc(`w${i}`), { headers: { 'If-Match': base } })));
    const statuses = answers.map((a) => a.status).sort();
    expect(statuses).toEqual([200, ...Array(11).fill(412)]);
    const winner = answers.find((a) => a.status === 200)!;
    expect((await send(path, { as: ALICE })).headers.etag).toBe(winner.headers.etag);
  });

  it('keeps every concurrent write to different documents of one user (one record, compare-and-set)', async () => {
    const names = Array.from({ length: 10 }, (_, i) => `parallel-${i}`);
    const answers = await Promise.all(names.map((n) => put(`/xcap-root/resource-lists/users/sip:alice@example.com/${n}`, doc(n))));
    expect(answers.map((a) => a.status)).toEqual(names.map(() => 201));
    for (const n of names) expect((await send(`/xcap-root/resource-lists/users/sip:alice@example.com/${n}`, { as: ALICE })).body).toBe(doc(n));
    await Promise.all(names.map((n) => send(`/xcap-root/resource-lists/users/sip:alice@example.com/${n}`, { method: 'DELETE', as: ALICE })));
  });
});

describe('refused writes', () => {
  const path = '/xcap-root/resource-lists/users/sip:alice@example.com/refused';
  const conflict = async (body: string) => {
    const r = await put(path, body);
    expect(r.status).toBe(409);
    expect(r.headers['content-type']).toBe('application/xcap-error+xml');
    return r.body;
  };

  it('415 for a MIME type other than the usage\'s, 413 past maxDocumentSize', async () => {
    expect(await put(path, RFC4826_LISTS, { type: 'application/xml' })).toMatchObject({ status: 415, body: 'a resource-lists document is application/resource-lists+xml, got application/xml\n' });
    expect((await put(path, `<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">${' '.repeat(4096)}</resource-lists>`)).status).toBe(413);
    expect((await send(path, { as: ALICE })).status).toBe(404);
  });

  it('409 not-well-formed, not-utf-8, and a DOCTYPE refused outright', async () => {
    expect(await conflict('<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list>')).toMatch(/<xcap-error xmlns="urn:ietf:params:xml:ns:xcap-error"><not-well-formed phrase="/);
    const latin1 = Buffer.from('<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list name="caf\xe9"/></resource-lists>', 'latin1');
    const r = await send(path, { method: 'PUT', as: ALICE, type: RL, body: latin1 });
    expect(r.status).toBe(409);
    expect(r.body).toContain('<not-utf-8 phrase=');
    const xxe = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists">&x;</resource-lists>';
    expect(await conflict(xxe)).toContain('DTDs are not accepted');
  });

  it('409 schema-validation-error for another root element or a list member the schema does not allow', async () => {
    expect(await conflict('<ruleset xmlns="urn:ietf:params:xml:ns:common-policy"/>')).toContain(
      '<schema-validation-error phrase="resource-lists documents have the root element &#60;resource-lists&#62; in urn:ietf:params:xml:ns:resource-lists, got &#60;{urn:ietf:params:xml:ns:common-policy}ruleset&#62;"/>',
    );
    expect(await conflict('<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list><entry/></list></resource-lists>')).toContain('must have a uri attribute');
    expect(await conflict('<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list><buddy/></list></resource-lists>')).toContain('&#60;buddy&#62; is not allowed in a &#60;list&#62;');
    // RFC 4826 §3.2: listType has the attribute name and <xs:anyAttribute namespace="##other"/>, so an
    // unqualified attribute of another name is not allowed (an XCAP server "MUST NOT perform the insertion" of a
    // document not compliant with the schema, RFC 4825 §8.2.5).
    expect(await conflict('<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list name="a" colour="red"/></resource-lists>')).toContain(
      '<schema-validation-error phrase="&#60;list&#62; has no attribute colour',
    );
    expect(await conflict('<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists" xmlns:rl="urn:ietf:params:xml:ns:resource-lists"><list><entry uri="sip:a@b" rl:uri="sip:c@d"/></list></resource-lists>')).toContain('<schema-validation-error');
    // listType is a sequence: display-name?, (list | external | entry | entry-ref)*, then ##other elements; and
    // display-nameType is simple content.
    expect(await conflict('<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists" xmlns:x="urn:x"><list><x:note/><entry uri="sip:a@b"/></list></resource-lists>')).toContain('<schema-validation-error');
    expect(await conflict('<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list><display-name>A<b/></display-name></list></resource-lists>')).toContain('<schema-validation-error');
    const other = '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists" xmlns:x="urn:x"><list name="a" x:colour="red"><entry uri="sip:a@b" x:k="1"/></list></resource-lists>';
    expect((await put(path, other)).status).toBe(201);
    expect((await send(path, { method: 'DELETE', as: ALICE })).status).toBe(200);
  });

  it('409 uniqueness-failure for a list name used twice in one parent (with an alternative) and an entry URI used twice in one list', async () => {
    const twoFriends = '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list name="friends"/><list name="friends"/></resource-lists>';
    expect(await conflict(twoFriends)).toContain(
      // RFC 4825 §11.1: 'Since the "field" node selector is a valid HTTP URI, it MUST be percent-encoded.'
      '<uniqueness-failure phrase="the name &#34;friends&#34; of &#60;list&#62; is already used by a sibling"><exists field="resource-lists/list%5B2%5D/@name"><alt-value>friends-2</alt-value></exists></uniqueness-failure>',
    );
    const twoBills = RFC4826_LISTS.replace('<entry uri="sip:nancy@example.com">', '<entry uri="sip:joe@example.com">');
    expect(await conflict(twoBills)).toContain('<exists field="resource-lists/list%5B1%5D/list%5B1%5D/entry%5B2%5D/@uri"></exists>');
    // the same URI in two different lists is fine
    expect((await put(path, RFC4826_LISTS.replace('sip:nancy@example.com', 'sip:bill@example.com'))).status).toBe(201);
  });

  it('409 constraint-failure for an entry-ref that is not relative to the XCAP root, an external that is not HTTP', async () => {
    expect(await conflict(RFC4826_LISTS.replace('ref="resource-lists/', 'ref="/resource-lists/'))).toContain('<constraint-failure phrase="the ref');
    expect(await conflict(RFC4826_LISTS.replace('anchor="http://', 'anchor="sip://'))).toContain('must be an absolute HTTP URI');
  });

  it('507 past the user\'s storage', async () => {
    const big = (n: number) => `<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><!--${'x'.repeat(3000)}--><list name="${n}"/></resource-lists>`;
    const paths = [1, 2, 3].map((n) => `/xcap-root/resource-lists/users/sip:alice@example.com/big-${n}`);
    expect((await put(paths[0]!, big(1))).status).toBe(201);
    expect((await put(paths[1]!, big(2))).status).toBe(201);
    const refused = await put(paths[2]!, big(3));
    expect(refused.status).toBe(507);
    for (const p of paths) await send(p, { method: 'DELETE', as: ALICE });
  });
});

describe('who may do what', () => {
  it('without credentials: the auth guard\'s 401 challenge, for GET, HEAD, PUT and DELETE of a user\'s document', async () => {
    for (const method of ['GET', 'HEAD', 'PUT', 'DELETE']) {
      const r = await send(aliceDoc, { method, ...(method === 'PUT' ? { type: RL, body: RFC4826_LISTS } : {}) });
      expect(r.status, method).toBe(401);
      expect(r.headers['www-authenticate'], method).toBe('Basic realm="xcap", charset="UTF-8"');
    }
  });

  it('another user: 403 for GET, HEAD, PUT and DELETE (logged as refusals), and the document is unchanged', async () => {
    const before = await send(aliceDoc, { as: ALICE });
    for (const method of ['GET', 'HEAD', 'PUT', 'DELETE']) {
      const r = await send(aliceDoc, { method, as: BOB, ...(method === 'PUT' ? { type: RL, body: RFC4826_LISTS } : {}) });
      const body = method === 'HEAD' ? '' : '"bob" may not access the documents of "sip:alice@example.com"\n';
      expect(r, method).toMatchObject({ status: 403, body });
    }
    expect(gw.logs).toContainEqual(expect.objectContaining({ msg: 'request refused', by: 'xcap', status: 403 }));
    expect((await send(aliceDoc, { as: ALICE })).headers.etag).toBe(before.headers.etag);
    // bob's own documents are his
    expect((await put(bobDoc, RFC4826_LISTS, { as: BOB })).status).toBe(201);
    expect((await send(bobDoc, { as: ALICE })).status).toBe(403);
  });

  it('global documents: anyone reads, users may not PUT or DELETE (403), an administrator may', async () => {
    const path = '/xcap-root/resource-lists/global/index';
    const body = '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list name="all"/></resource-lists>';
    expect(await put(path, body)).toMatchObject({ status: 403, body: 'global documents are read-only; "alice" is not an administrator\n' });
    expect((await put(path, body, { as: ROOT })).status).toBe(201);
    expect(await send(path)).toMatchObject({ status: 200, body });
    expect((await send(path, { method: 'DELETE', as: ALICE })).status).toBe(403);
    expect((await send(path, { method: 'DELETE' })).status).toBe(401);
    expect((await send(path, { method: 'DELETE', as: ROOT })).status).toBe(200);
    // and the administrator may read any user's document
    expect((await send(aliceDoc, { as: ROOT })).status).toBe(200);
  });
});

describe('the documents the server makes', () => {
  it('xcap-caps lists the mounted usages and their namespaces, read-only (405)', async () => {
    const caps = await send('/xcap-root/xcap-caps/global/index');
    expect(caps.status).toBe(200);
    expect(caps.headers['content-type']).toBe('application/xcap-caps+xml');
    expect(caps.headers.etag).toMatch(/^"[\w-]+"$/);
    const auids = [...caps.body.matchAll(/<auid>([^<]+)<\/auid>/g)].map((m) => m[1]);
    expect(auids).toEqual([
      'xcap-caps',
      'org.openmobilealliance.xcap-directory',
      'resource-lists',
      'rls-services',
      'pres-rules',
      'org.openmobilealliance.pres-rules',
      'pidf-manipulation',
      'org.example.notes',
    ]);
    expect(caps.body).toContain('<namespace>urn:ietf:params:xml:ns:xcap-error</namespace>');
    expect(caps.body).toContain('<namespace>urn:ietf:params:xml:ns:common-policy</namespace>');
    const put405 = await send('/xcap-root/xcap-caps/global/index', { method: 'PUT', as: ROOT, type: 'application/xcap-caps+xml', body: caps.body });
    expect(put405.status).toBe(405);
    expect(put405.headers.allow).toBe('GET, HEAD');
    expect((await send('/xcap-root/xcap-caps/global/other')).status).toBe(404);
    // RFC 4825 §12.7: "There MUST NOT be an instance of this document in the user's tree."
    expect((await send('/xcap-root/xcap-caps/users/sip:alice@example.com/index', { as: ALICE })).status).toBe(404);
  });

  it('the directory lists the user\'s documents with the ETags their GET answers, to that user only', async () => {
    const path = '/xcap-root/org.openmobilealliance.xcap-directory/users/sip:alice@example.com/directory.xml';
    const listing = await send(path, { as: ALICE });
    expect(listing.status).toBe(200);
    expect(listing.headers['content-type']).toBe('application/vnd.oma.xcap-directory+xml');
    const etag = ((await send(aliceDoc, { as: ALICE })).headers.etag as string).slice(1, -1);
    expect(listing.body).toContain(`<entry uri="http://127.0.0.1:${gw.port}/xcap-root/resource-lists/users/sip:alice@example.com/index" etag="${etag}" size="`);
    expect(listing.body).toContain('<folder auid="pidf-manipulation"/>');
    expect((await send(path, { as: BOB })).status).toBe(403);
  });
});

describe('a script\'s own usage and the other usages', () => {
  it('stores a document of a usage given in the options, with its MIME type and constraints', async () => {
    const path = '/xcap-root/org.example.notes/users/sip:alice@example.com/index';
    const type = 'application/vnd.example.notes+xml';
    expect((await put(path, '<notes xmlns="urn:example:notes"><note/></notes>', { type })).status).toBe(201);
    const three = await put(path, '<notes xmlns="urn:example:notes"><note/><note/><note/></notes>', { type });
    expect(three.status).toBe(409);
    expect(three.body).toContain('<constraint-failure phrase="at most two notes"/>');
  });

  it('checks rls-services, pres-rules and pidf-manipulation documents by their RFCs', async () => {
    const rls = (uri2: string) =>
      `<rls-services xmlns="urn:ietf:params:xml:ns:rls-services" xmlns:rl="urn:ietf:params:xml:ns:resource-lists">` +
      `<service uri="sip:mybuddies@example.com"><resource-list>http://xcap.example.com/xcap-root/resource-lists/users/sip:alice@example.com/index/~~/resource-lists/list%5b@name=%22friends%22%5d</resource-list><packages><package>presence</package></packages></service>` +
      `<service uri="${uri2}"><list name="marketing"><rl:entry uri="sip:joe@example.com"/></list></service></rls-services>`;
    const rlsPath = '/xcap-root/rls-services/users/sip:alice@example.com/index';
    const rlsType = 'application/rls-services+xml';
    expect((await put(rlsPath, rls('sip:marketing@example.com'), { type: rlsType })).status).toBe(201);
    const dup = await put(rlsPath, rls('sip:mybuddies@example.com'), { type: rlsType });
    expect(dup.body).toContain('<exists field="rls-services/service%5B2%5D/@uri"><alt-value>sip:mybuddies@example.com-2</alt-value></exists>');

    // RFC 4826 §4.4.5: "The server MUST verify that the URI path contains "resource-lists" in the path segment
    // corresponding to the AUID. If the RLS services document is within the XCAP user tree ..., the server MUST
    // verify that the XUI in the path is the same as the XUI in the URI of to the RLS services document."
    const pointing = (target: string) => rls('sip:marketing@example.com').replace(/<resource-list>[^<]*<\/resource-list>/, `<resource-list>${target}</resource-list>`);
    const bobs = await put(rlsPath, pointing('http://xcap.example.com/xcap-root/resource-lists/users/sip:bob@example.com/index/~~/resource-lists/list%5b@name=%22l1%22%5d'), { type: rlsType });
    expect(bobs.status).toBe(409);
    expect(bobs.body).toContain('<constraint-failure phrase="the &#60;resource-list&#62; ');
    const notLists = await put(rlsPath, pointing('http://xcap.example.com/xcap-root/pres-rules/users/sip:alice@example.com/index/~~/ruleset'), { type: rlsType });
    expect(notLists.body).toContain('<constraint-failure');
    const global = await put(rlsPath, pointing('http://xcap.example.com/xcap-root/resource-lists/global/index/~~/resource-lists/list%5b@name=%22l1%22%5d'), { type: rlsType });
    expect(global.body).toContain('<constraint-failure');

    // RFC 4826 §4.3 Example Document, in Joe's tree since it points at Joe's list; an administrator writes it.
    const example = RFC4826_RLS_SERVICES;
    const joe = '/xcap-root/rls-services/users/sip:joe@example.com/index';
    // Alice's document holds both service URIs, and §4.4.5 makes them unique on the whole server: 409 until she
    // lets them go.
    expect((await put(joe, example, { type: rlsType, as: ROOT })).body).toContain('<uniqueness-failure');
    expect((await send(rlsPath, { method: 'DELETE', as: ALICE })).status).toBe(200);
    expect((await put(joe, example, { type: rlsType, as: ROOT })).status).toBe(201);
    expect((await send(joe, { as: ROOT })).body).toBe(example);
    expect((await put(joe.replace('joe', 'bob'), example, { type: rlsType, as: ROOT })).body).toContain('<constraint-failure');

    const rules = (id2: string) =>
      `<cr:ruleset xmlns:cr="urn:ietf:params:xml:ns:common-policy"><cr:rule id="a"><cr:conditions/><cr:actions/></cr:rule><cr:rule id="${id2}"/></cr:ruleset>`;
    for (const auid of ['pres-rules', 'org.openmobilealliance.pres-rules']) {
      const p = `/xcap-root/${auid}/users/sip:alice@example.com/index`;
      expect((await put(p, rules('b'), { type: 'application/auth-policy+xml' })).status, auid).toBe(201);
      expect((await put(p, rules('a'), { type: 'application/auth-policy+xml' })).body, auid).toContain('<uniqueness-failure');
    }

    const pidf = '/xcap-root/pidf-manipulation/users/sip:alice@example.com/index';
    const presence = `<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="sip:alice@example.com"><tuple id="t1"><status><basic>open</basic></status></tuple></presence>`;
    expect((await put(pidf, presence, { type: 'application/pidf+xml' })).status).toBe(201);
    expect((await put(pidf, presence.replace('<status><basic>open</basic></status>', ''), { type: 'application/pidf+xml' })).body).toContain('must hold a &#60;status&#62;');
  });
});

describe('options', () => {
  it('throws a WsgateError naming the option and the fix', () => {
    const bad = (options: Record<string, unknown>) => {
      try {
        xcap(options as never);
      } catch (err) {
        expect(err).toBeInstanceOf(WsgateError);
        return (err as Error).message;
      }
      return 'no error';
    };
    expect(bad({ root: '/xcap-root/' })).toBe(`xcap().root: expected a path such as /xcap-root (no trailing slash; '' for the host's root), got "/xcap-root/"`);
    expect(bad({ maxDocumentSize: 0 })).toBe('xcap().maxDocumentSize: expected an integer from 1 to 67108864, got 0');
    expect(bad({ admin: ['root'] })).toBe('xcap().admin: unknown option; known ones are root, gateway, store, directory, auth, attribute, xuis, admins, usages, maxDocumentSize, maxUserStorage');
    expect(bad({ usages: [{ auid: 'xcap-caps', mimeType: 'a/b', namespace: 'n', rootElement: 'r' }] })).toBe(
      'xcap().usages[0].auid: xcap-caps is the server\'s own usage and cannot be replaced',
    );
    expect(bad({ usages: [{ auid: 'x', mimeType: 'xml', namespace: 'n', rootElement: 'r' }] })).toBe(
      'xcap().usages[0].mimeType: expected a MIME type such as application/example+xml, got "xml"',
    );
    expect(bad({ xuis: 'sip' })).toMatch(/^xcap\(\)\.xuis: expected a function/);
  });
});
