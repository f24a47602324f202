/**
 * xcap({ directory }) over HTTP: documents as files laid out as their URIs, written whole (temporary file and
 * rename), two gateways on one directory losing none of each other's concurrent writes, the directory listing,
 * XUIs that cannot climb out of the directory, and the user's quota counted over their files.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RFC4826_LISTS, startTestGateway, xcapRequest, type TestGateway, type XcapRequest } from '@wsgate/test-kit';
import { basicAuth } from '../../auth/basic.js';
import { xcap } from '../xcap.js';

const RL = 'application/resource-lists+xml';
const dir = mkdtempSync(join(tmpdir(), 'wsgate-xcap-dir-'));
const doc = '/xcap-root/resource-lists/users/sip:alice@example.com/index';
let one: TestGateway;
let two: TestGateway;
let auth: ReturnType<typeof basicAuth>;

beforeAll(async () => {
  const secrets = mkdtempSync(join(tmpdir(), 'wsgate-xcap-pw-'));
  writeFileSync(join(secrets, 'htpasswd'), 'alice:alice-pw\n');
  auth = basicAuth({ file: join(secrets, 'htpasswd'), plain: true });
  // Two gateways, as two processes would be, on one directory.
  const options = { auth, directory: dir, xuis: (user: string) => [`sip:${user}@example.com`, `a/../../${user}`] };
  one = await startTestGateway(xcap(options));
  two = await startTestGateway(xcap(options));
});
afterAll(async () => {
  await Promise.all([one.close(), two.close()]);
  await auth.close();
});

const send = (gw: TestGateway, path: string, r: XcapRequest = {}) => xcapRequest(gw.port, path, { as: 'alice:alice-pw', ...r });

/** Every file under `folder`, relative, sorted. */
function files(folder: string, prefix = ''): string[] {
  return readdirSync(folder, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? files(join(folder, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`]))
    .sort();
}

describe('xcap({ directory })', () => {
  it('keeps a document as the file its URI names, with the text sent; the other gateway reads it; DELETE removes it', async () => {
    const created = await send(one, doc, { method: 'PUT', type: RL, body: RFC4826_LISTS });
    expect(created.status).toBe(201);
    const file = join(dir, 'resource-lists', 'users', 'sip%3Aalice%40example.com', 'index');
    expect(readFileSync(file, 'utf8')).toBe(RFC4826_LISTS);
    const read = await send(two, doc);
    expect(read).toMatchObject({ status: 200, body: RFC4826_LISTS });
    expect(read.headers.etag).toBe(created.headers.etag);
    const other = '/xcap-root/resource-lists/users/sip:alice@example.com/lists/work';
    expect((await send(two, other, { method: 'PUT', type: RL, body: '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"/>' })).status).toBe(201);
    const listing = await send(one, '/xcap-root/org.openmobilealliance.xcap-directory/users/sip:alice@example.com/directory.xml');
    expect(listing.body).toContain(`/xcap-root/resource-lists/users/sip:alice@example.com/index" etag="${(created.headers.etag as string).slice(1, -1)}"`);
    expect(listing.body).toContain('/xcap-root/resource-lists/users/sip:alice@example.com/lists/work"');
    expect((await send(one, other, { method: 'DELETE' })).status).toBe(200);
    expect((await send(two, other)).status).toBe(404);
  });

  it('two gateways writing one document at once lose nothing: 2 × 10 entries put, 20 in the list, no file left behind', async () => {
    const path = '/xcap-root/resource-lists/users/sip:alice@example.com/shared';
    expect((await send(one, path, { method: 'PUT', type: RL, body: '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list name="l"/></resource-lists>' })).status).toBe(201);
    const uris = Array.from({ length: 20 }, (_, i) => `sip:u${i}@example.com`);
    const answers = await Promise.all(
      uris.map((u, i) =>
        send(i % 2 ? one : two, `${path}/~~/resource-lists/list%5B@name=%22l%22%5D/entry%5B@uri=%22${u}%22%5D`, { method: 'PUT', type: 'application/xcap-el+xml', body: `<entry uri="${u}"/>` }),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(uris.map(() => 201));
    const body = (await send(one, path)).body;
    for (const u of uris) expect(body).toContain(`uri="${u}"`);
    expect(files(dir).filter((f) => f.endsWith('.lock') || f.endsWith('.tmp'))).toEqual([]);
  });

  it('keeps an XUI that holds ../ inside the directory, as one encoded folder name', async () => {
    const path = '/xcap-root/resource-lists/users/a%2F..%2F..%2Falice/index';
    expect((await send(one, path, { method: 'PUT', type: RL, body: RFC4826_LISTS })).status).toBe(201);
    expect(existsSync(join(dir, 'resource-lists', 'users', 'a%2F..%2F..%2Falice', 'index'))).toBe(true);
    expect((await send(two, path)).body).toBe(RFC4826_LISTS);
  });

  it('refuses a document and a folder of the same name with 409', async () => {
    const r = await send(one, `${doc}/deeper`, { method: 'PUT', type: RL, body: '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"/>' });
    expect(r.status).toBe(409);
    expect(r.body).toContain('<constraint-failure phrase="a document and a folder of documents cannot have the same name"/>');
  });

  it('507 past the user\'s storage, counting the user\'s other files and not the one rewritten', async () => {
    const size = Buffer.byteLength(RFC4826_LISTS);
    const small = await startTestGateway(xcap({ auth, directory: mkdtempSync(join(tmpdir(), 'wsgate-xcap-quota-')), xuis: (user) => [`sip:${user}@example.com`], maxUserStorage: size + 100 }));
    try {
      expect((await send(small, doc, { method: 'PUT', type: RL, body: RFC4826_LISTS })).status).toBe(201);
      expect((await send(small, doc, { method: 'PUT', type: RL, body: RFC4826_LISTS })).status).toBe(200);
      const second = await send(small, doc.replace('/index', '/second'), { method: 'PUT', type: RL, body: RFC4826_LISTS });
      expect(second.status).toBe(507);
      expect((await send(small, doc.replace('/index', '/second'))).status).toBe(404);
    } finally {
      await small.close();
    }
  });
});
