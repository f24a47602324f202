/**
 * The routes' answers, with no socket: inject() runs the gateway's own pipeline on a made-up request.
 * Run with `npm test` (node's test runner; tsx runs the TypeScript).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inject } from '@wsgate/core';
import routes from './routes.js';

const HOST = { Host: 'localhost:8080' };
const get = (url: string) => inject(routes, { url, listener: { port: 8080 }, headers: HOST });
const upgrade = (origin: string) =>
  inject(routes, {
    url: '/echo',
    listener: { port: 8080 },
    headers: {
      ...HOST,
      Upgrade: 'websocket',
      Connection: 'Upgrade',
      'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Protocol': 'echo',
      Origin: origin,
    },
  });

test('GET /health answers 200 ok', async () => {
  const result = await get('/health');
  assert.equal(result.kind, 'reply');
  if (result.kind === 'reply') assert.deepEqual([result.status, result.body], [200, 'ok\n']);
});

test('a WebSocket from an allowed site is upgraded with the echo subprotocol', async () => {
  const result = await upgrade('https://app.example.com');
  assert.equal(result.kind, 'handshake');
  if (result.kind === 'handshake') {
    assert.equal(result.decision.ok, true);
    if (result.decision.ok) assert.equal(result.decision.protocol, 'echo');
    assert.equal(result.req.get('client'), '127.0.0.1:50000');
  }
});

test('a WebSocket from another site is refused with 403', async () => {
  const result = await upgrade('https://evil.example.org');
  assert.equal(result.kind, 'reply');
  if (result.kind === 'reply') assert.equal(result.status, 403);
});

test('anything else is 404 Not found', async () => {
  const result = await get('/nothing');
  assert.equal(result.kind, 'reply');
  if (result.kind === 'reply') assert.deepEqual([result.status, result.reason], [404, 'Not found']);
});
