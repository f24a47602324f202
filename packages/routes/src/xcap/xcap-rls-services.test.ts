/**
 * RFC 4826's two server-wide rules of the rls-services usage, over HTTP on a live gateway, for both storages (the
 * core Store and a directory): §4.4.5, a <service> URI is unique amongst every document on the server (409
 * uniqueness-failure with a free alt-value, for document and node PUTs, also under concurrent writers), and
 * §4.4.8, the global document `rls-services/global/index`, the union of every user's `index` (read-only, its
 * ETag changing when any of them changes).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryStore, WsgateError } from '@wsgate/core';
import { RFC4826_MARKETING_SERVICE, RFC4826_MYBUDDIES_SERVICE, startTestGateway, xcapRequest, type TestGateway, type XcapRequest } from '@wsgate/test-kit';
import { basicAuth } from '../auth/basic.js';
import { xcap } from './xcap.js';

const RLS = 'application/rls-services+xml';
const USERS = ['joe', 'bob', 'alice', 'carol', 'dave', 'erin', 'frank', 'grace'];
const GLOBAL = '/xcap-root/rls-services/global/index';

/** An rls-services document holding one <service> per URI, each with a list given in place. */
function services(...uris: string[]): string {
  const body = uris.map((u) => `<service uri="${u}"><list name="l"><rl:entry uri="sip:x@example.com"/></list><packages><package>presence</package></packages></service>`).join('');
  return `<rls-services xmlns="urn:ietf:params:xml:ns:rls-services" xmlns:rl="urn:ietf:params:xml:ns:resource-lists">${body}</rls-services>`;
}

const docOf = (user: string, name = 'index') => `/xcap-root/rls-services/users/sip:${user}@example.com/${name}`;

let auth: ReturnType<typeof basicAuth>;
beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'wsgate-xcap-rls-'));
  writeFileSync(join(dir, 'htpasswd'), `${USERS.map((u) => `${u}:${u}-pw`).join('\n')}\nroot:root-pw\n`);
  auth = basicAuth({ file: join(dir, 'htpasswd'), plain: true, realm: 'xcap' });
});
afterAll(() => auth.close());

for (const storage of ['store', 'directory'] as const) {
  describe(`rls-services across the server (${storage} storage)`, () => {
    let gw: TestGateway;
    beforeAll(async () => {
      const where = storage === 'store' ? { store: new MemoryStore() } : { directory: mkdtempSync(join(tmpdir(), 'wsgate-xcap-rls-dir-')) };
      gw = await startTestGateway(xcap({ ...where, auth, xuis: (user) => [`sip:${user}@example.com`], admins: ['root'] }));
    });
    afterAll(() => gw.close());

    const send = (path: string, user: string | undefined, r: XcapRequest = {}) => xcapRequest(gw.port, path, { ...(user ? { as: `${user}:${user}-pw` } : {}), ...r });
    const put = (user: string, path: string, body: string, r: XcapRequest = {}) => send(path, user, { method: 'PUT', type: RLS, body, ...r });

    it('§4.4.5: a service URI another user holds is 409 uniqueness-failure with a free alt-value; nothing is stored', async () => {
      expect((await put('alice', docOf('alice'), services('sip:friends@example.com'))).status).toBe(201);
      const taken = await put('bob', docOf('bob'), services('sip:bobs@example.com', 'sip:friends@example.com'));
      expect(taken.status).toBe(409);
      expect(taken.headers['content-type']).toBe('application/xcap-error+xml');
      expect(taken.body).toContain(
        '<uniqueness-failure phrase="the uri &#34;sip:friends@example.com&#34; of &#60;service&#62; is already used by another document on this server">' +
          '<exists field="rls-services/service%5B2%5D/@uri"><alt-value>sip:friends-2@example.com</alt-value></exists></uniqueness-failure>',
      );
      expect((await send(docOf('bob'), 'bob')).status).toBe(404);
      // The suggestion is one nobody holds: with friends-2 taken, friends-3.
      expect((await put('carol', docOf('carol'), services('sip:friends-2@example.com'))).status).toBe(201);
      expect((await put('bob', docOf('bob'), services('sip:friends@example.com'))).body).toContain('<alt-value>sip:friends-3@example.com</alt-value>');
      // Another document of the same user is another document too.
      expect((await put('alice', docOf('alice', 'work'), services('sip:friends@example.com'))).body).toContain('<uniqueness-failure');
      // The holder itself may write its document again, keeping the URI.
      expect((await put('alice', docOf('alice'), services('sip:friends@example.com', 'sip:family@example.com'))).status).toBe(200);
    });

    it('§4.4.5 for node PUTs: a new <service> or a changed uri attribute that another document holds is 409, the document unchanged', async () => {
      expect((await put('dave', docOf('dave'), services('sip:dave-list@example.com'))).status).toBe(201);
      const before = await send(docOf('dave'), 'dave');
      const element = await send(`${docOf('dave')}/~~/rls-services/service%5B@uri=%22sip:family@example.com%22%5D`, 'dave', {
        method: 'PUT',
        type: 'application/xcap-el+xml',
        body: '<service uri="sip:family@example.com"><list name="f"/></service>',
      });
      expect(element.status).toBe(409);
      expect(element.body).toContain('<exists field="rls-services/service%5B2%5D/@uri"><alt-value>sip:family-2@example.com</alt-value></exists>');
      const attribute = await send(`${docOf('dave')}/~~/rls-services/service%5B1%5D/@uri`, 'dave', { method: 'PUT', type: 'application/xcap-att+xml', body: '"sip:family@example.com"' });
      expect(attribute.status).toBe(409);
      expect(attribute.body).toContain('<uniqueness-failure');
      const after = await send(docOf('dave'), 'dave');
      expect(after.body).toBe(before.body);
      expect(after.headers.etag).toBe(before.headers.etag);
    });

    it('a URI is released when its service goes: by replacing the document, deleting the node, or deleting the document', async () => {
      expect((await put('erin', docOf('erin'), services('sip:one@example.com', 'sip:two@example.com', 'sip:three@example.com'))).status).toBe(201);
      expect((await put('frank', docOf('frank'), services('sip:one@example.com'))).status).toBe(409);
      // replaced: one is gone from erin's document
      expect((await put('erin', docOf('erin'), services('sip:two@example.com', 'sip:three@example.com'))).status).toBe(200);
      expect((await put('frank', docOf('frank'), services('sip:one@example.com'))).status).toBe(201);
      // a node deleted
      expect((await send(`${docOf('erin')}/~~/rls-services/service%5B@uri=%22sip:two@example.com%22%5D`, 'erin', { method: 'DELETE' })).status).toBe(200);
      expect((await put('frank', docOf('frank'), services('sip:one@example.com', 'sip:two@example.com'))).status).toBe(200);
      // the document deleted
      expect((await put('frank', docOf('frank', 'more'), services('sip:three@example.com'))).status).toBe(409);
      expect((await send(docOf('erin'), 'erin', { method: 'DELETE' })).status).toBe(200);
      expect((await put('frank', docOf('frank', 'more'), services('sip:three@example.com'))).status).toBe(201);
    });

    it('of users racing for one URI, exactly one gets it and the others 409', async () => {
      const racers = USERS;
      const answers = await Promise.all(racers.map((u) => put(u, docOf(u, 'race'), services('sip:race@example.com'))));
      expect(answers.map((a) => a.status).sort()).toEqual([201, ...racers.slice(1).map(() => 409)]);
      const winner = racers[answers.findIndex((a) => a.status === 201)]!;
      expect((await send(docOf(winner, 'race'), winner)).status).toBe(200);
      for (const u of racers.filter((r) => r !== winner)) expect((await send(docOf(u, 'race'), u)).status).toBe(404);
    });

    it('§4.4.8: rls-services/global/index is the union of every user\'s index, read by anyone, with an ETag that follows them', async () => {
      // RFC 4826 §4.4.8's two documents (§4.3's two services), as there but with their namespaces declared (the RFC
      // leaves them out, and without them the first is no rls-services document and the second not namespace-well-formed).
      const joe = `<?xml version="1.0" encoding="UTF-8"?>
<rls-services xmlns="urn:ietf:params:xml:ns:rls-services">
 ${RFC4826_MYBUDDIES_SERVICE}
</rls-services>`;
      const bob = `<?xml version="1.0" encoding="UTF-8"?>
<rls-services xmlns="urn:ietf:params:xml:ns:rls-services" xmlns:rl="urn:ietf:params:xml:ns:resource-lists">
 ${RFC4826_MARKETING_SERVICE}
</rls-services>`;
      expect((await put('joe', docOf('joe'), joe)).status).toBe(201);
      expect((await put('bob', docOf('bob'), bob)).status).toBe(201);
      const composed = await send(GLOBAL, undefined);
      expect(composed.status).toBe(200);
      expect(composed.headers['content-type']).toBe(RLS);
      expect(composed.headers.etag).toMatch(/^"[\w-]{27}"$/);
      expect(composed.body).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\n<rls-services xmlns="urn:ietf:params:xml:ns:rls-services" xmlns:rl="urn:ietf:params:xml:ns:resource-lists">/);
      // Every <service> of every user's index, as written there; none of another document (alice's work, erin's).
      expect(composed.body).toContain(RFC4826_MYBUDDIES_SERVICE);
      expect(composed.body).toContain(RFC4826_MARKETING_SERVICE);
      const uris = [...composed.body.matchAll(/<service uri="([^"]+)"/g)].map((m) => m[1]).sort();
      expect(uris).toEqual(['sip:dave-list@example.com', 'sip:family@example.com', 'sip:friends-2@example.com', 'sip:friends@example.com', 'sip:marketing@example.com', 'sip:mybuddies@example.com', 'sip:one@example.com', 'sip:two@example.com'].sort());
      // Node selectors work on it as on any document.
      const one = await send(`${GLOBAL}/~~/rls-services/service%5B@uri=%22sip:marketing@example.com%22%5D/list/@name`, undefined);
      expect(one).toMatchObject({ status: 200, body: '"marketing"' });
      expect(one.headers.etag).toBe(composed.headers.etag);
      // Unchanged users: same ETag, 304. Any index changing changes it.
      expect((await send(GLOBAL, undefined)).headers.etag).toBe(composed.headers.etag);
      expect((await send(GLOBAL, undefined, { headers: { 'If-None-Match': composed.headers.etag as string } })).status).toBe(304);
      expect((await put('bob', docOf('bob'), bob.replace('sip:sudhir@example.com', 'sip:sudhir2@example.com'))).status).toBe(200);
      const changed = await send(GLOBAL, undefined, { headers: { 'If-None-Match': composed.headers.etag as string } });
      expect(changed.status).toBe(200);
      expect(changed.headers.etag).not.toBe(composed.headers.etag);
      expect(changed.body).toContain('sip:sudhir2@example.com');
      // A user's index deleted leaves it.
      expect((await send(docOf('joe'), 'joe', { method: 'DELETE' })).status).toBe(200);
      const less = await send(GLOBAL, undefined);
      expect(less.body).not.toContain('sip:mybuddies@example.com');
      expect(less.headers.etag).not.toBe(changed.headers.etag);
    });

    it('§4.4.8: the global index is read-only, even to an administrator (405, Allow: GET, HEAD); other global documents stay writable by one', async () => {
      for (const method of ['PUT', 'DELETE']) {
        const r = await send(GLOBAL, 'root', { method, type: RLS, body: method === 'PUT' ? services('sip:admin@example.com') : undefined });
        expect(r.status, method).toBe(405);
        expect(r.headers.allow, method).toBe('GET, HEAD');
        expect((await send(`${GLOBAL}/~~/rls-services/service%5B1%5D`, 'root', { method, type: 'application/xcap-el+xml', body: method === 'PUT' ? '<service uri="sip:n@example.com"><list/></service>' : undefined })).status).toBe(405);
      }
      const other = '/xcap-root/rls-services/global/shared';
      expect((await send(other, 'root', { method: 'PUT', type: RLS, body: services('sip:marketing@example.com') })).body).toContain('<uniqueness-failure');
      expect((await send(other, 'root', { method: 'PUT', type: RLS, body: services('sip:everyone@example.com') })).status).toBe(201);
      expect((await put('bob', docOf('bob', 'x'), services('sip:everyone@example.com'))).body).toContain('<uniqueness-failure');
      expect((await send(GLOBAL, undefined)).body).not.toContain('sip:everyone@example.com');
      expect((await send('/xcap-root/rls-services/users/sip:bob@example.com/index/~~/rls-services', undefined)).status).toBe(401);
    });
  });
}

describe('a script\'s usage with values unique on the server or a composed document', () => {
  it('is checked at start: a bad uniqueOnServer or composed throws a WsgateError naming it', () => {
    const base = { auid: 'org.example.x', mimeType: 'application/x+xml', namespace: 'urn:x', rootElement: 'x' };
    expect(() => xcap({ usages: [{ ...base, uniqueOnServer: 'uri' as never }] })).toThrow(WsgateError);
    expect(() => xcap({ usages: [{ ...base, uniqueOnServer: 'uri' as never }] })).toThrow(/^xcap\(\)\.usages\[0\]\.uniqueOnServer: expected a function/);
    expect(() => xcap({ usages: [{ ...base, composed: [{ document: 'index', from: 'index' }] as never }] })).toThrow(/^xcap\(\)\.usages\[0\]\.composed: expected a list of \{ document, from, compose\(documents\) \}/);
    expect(() => xcap({ usages: [{ ...base, composed: [{ document: 'index', from: 'index', compose: () => '<x xmlns="urn:x"/>' }], uniqueOnServer: () => [] }] })).not.toThrow();
  });
});

describe('records left by a writer that failed or died between its steps (memory Store)', () => {
  it('a record naming a document that no longer holds the URI is claimed over; a fresh pending one is a write under way (409), an old one is not', async () => {
    const store = new MemoryStore();
    const gw = await startTestGateway(xcap({ store, auth, xuis: (user) => [`sip:${user}@example.com`] }));
    try {
      const put = (user: string, path: string, body: string) => xcapRequest(gw.port, path, { as: `${user}:${user}-pw`, method: 'PUT', type: RLS, body });
      expect((await put('alice', docOf('alice'), services('sip:alice-own@example.com'))).status).toBe(201);
      const record = (uri: string) => `wsgate:xcap:index:unique:rls-services:${uri}`;
      const alices = { scope: 'users', xui: 'sip:alice@example.com', document: 'index' };
      // Held by alice's index, which does not hold it: stale.
      await store.set(record('sip:ghost@example.com'), JSON.stringify({ holder: alices, token: 't1' }));
      expect((await put('bob', docOf('bob'), services('sip:ghost@example.com'))).status).toBe(201);
      expect(JSON.parse((await store.get(record('sip:ghost@example.com')))!).holder).toEqual({ scope: 'users', xui: 'sip:bob@example.com', document: 'index' });
      // Pending for alice's index a moment ago: her write may still land.
      await store.set(record('sip:pending@example.com'), JSON.stringify({ holder: alices, token: 't2', pendingSince: Date.now() }));
      expect((await put('carol', docOf('carol'), services('sip:pending@example.com'))).body).toContain('<uniqueness-failure');
      // Pending since long ago: its writer is gone.
      await store.set(record('sip:pending@example.com'), JSON.stringify({ holder: alices, token: 't2', pendingSince: Date.now() - 120_000 }));
      expect((await put('carol', docOf('carol'), services('sip:pending@example.com'))).status).toBe(201);
      // And a record that names a document still holding the URI is in force.
      expect((await put('dave', docOf('dave'), services('sip:alice-own@example.com'))).body).toContain('<uniqueness-failure');
    } finally {
      await gw.close();
    }
  });
});
