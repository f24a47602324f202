/**
 * xcap() on two gateways sharing one real redis-server, as two nodes behind one name: a document written on one
 * is read on the other, and concurrent element PUTs through both lose nothing (compare-and-set in Redis); users
 * racing through both for one rls-services service URI (RFC 4826 §4.4.5) cannot both take it, and the global
 * index (§4.4.8) read on either node holds it once.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '@wsgate/core';
import { RedisServer, startTestGateway, xcapRequest, type TestGateway, type XcapRequest } from '@wsgate/test-kit';
import { basicAuth } from '../auth/basic.js';
import { xcap } from './xcap.js';

const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'];
let redis: RedisServer;
const stores: RedisStore[] = [];
const gateways: TestGateway[] = [];
let auth: ReturnType<typeof basicAuth>;

beforeAll(async () => {
  redis = await RedisServer.start();
  const dir = mkdtempSync(join(tmpdir(), 'wsgate-xcap-redis-'));
  writeFileSync(join(dir, 'htpasswd'), `${USERS.map((u) => `${u}:${u}-pw`).join('\n')}\n`);
  auth = basicAuth({ file: join(dir, 'htpasswd'), plain: true });
  for (let i = 0; i < 2; i++) {
    const store = new RedisStore({ url: redis.url, commandTimeout: 10 });
    await store.connect();
    stores.push(store);
    gateways.push(await startTestGateway(xcap({ store, auth, admins: ['alice'] })));
  }
});
afterAll(async () => {
  await Promise.all(gateways.map((g) => g.close()));
  await Promise.all(stores.map((s) => s.close()));
  await auth.close();
  await redis?.close();
});

const send = (gw: TestGateway, path: string, r: XcapRequest = {}) => xcapRequest(gw.port, path, { as: 'alice:alice-pw', ...r });

describe('xcap() on a shared Redis store', () => {
  it('two nodes writing one list at once lose nothing: 30 entries put through both, 30 in the list', async () => {
    const [a, b] = gateways as [TestGateway, TestGateway];
    const path = '/xcap-root/resource-lists/users/alice/index';
    const created = await send(a, path, { method: 'PUT', type: 'application/resource-lists+xml', body: '<resource-lists xmlns="urn:ietf:params:xml:ns:resource-lists"><list name="l"/></resource-lists>' });
    expect(created.status).toBe(201);
    expect((await send(b, path)).headers.etag).toBe(created.headers.etag);
    const uris = Array.from({ length: 30 }, (_, i) => `sip:u${i}@example.com`);
    const answers = await Promise.all(
      uris.map((u, i) => send(i % 2 ? a : b, `${path}/~~/resource-lists/list%5B@name=%22l%22%5D/entry%5B@uri=%22${u}%22%5D`, { method: 'PUT', type: 'application/xcap-el+xml', body: `<entry uri="${u}"/>` })),
    );
    expect(answers.map((r) => r.status)).toEqual(uris.map(() => 201));
    const body = (await send(a, path)).body;
    for (const u of uris) expect(body).toContain(`uri="${u}"`);
  });
});

describe('RFC 4826 §4.4.5 and §4.4.8 across two nodes', () => {
  const rls = (uri: string) =>
    `<rls-services xmlns="urn:ietf:params:xml:ns:rls-services"><service uri="${uri}"><list name="l"/><packages><package>presence</package></packages></service></rls-services>`;

  it('users racing for one service URI through both nodes: exactly one holds it, the others get 409 uniqueness-failure', async () => {
    for (let round = 0; round < 5; round++) {
      const uri = `sip:race-${round}@example.com`;
      const answers = await Promise.all(
        USERS.map((u, i) => send(gateways[i % 2]!, `/xcap-root/rls-services/users/${u}/index`, { as: `${u}:${u}-pw`, method: 'PUT', type: 'application/rls-services+xml', body: rls(uri) })),
      );
      expect(answers.map((a) => a.status).sort(), `round ${round}`).toEqual([201, ...USERS.slice(1).map(() => 409)]);
      for (const a of answers.filter((r) => r.status === 409)) expect(a.body).toContain('<uniqueness-failure');
      // The global index, read on either node, holds the URI once.
      for (const gw of gateways) {
        const global = await xcapRequest(gw.port, '/xcap-root/rls-services/global/index');
        expect(global.status).toBe(200);
        expect(global.body.split(`uri="${uri}"`).length - 1, `round ${round}`).toBe(1);
      }
      // Everyone lets go, so the next round starts with the URI free.
      for (const u of USERS) await send(gateways[0]!, `/xcap-root/rls-services/users/${u}/index`, { as: `${u}:${u}-pw`, method: 'DELETE' });
    }
  });
});
