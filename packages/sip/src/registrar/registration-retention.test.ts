import { once } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, expect, it } from 'vitest';
import WebSocket from 'ws';
import { defineRoutes } from '@wsgate/core';
import { startTestGateway, type TestGateway } from '@wsgate/test-kit';
import { parseMessage, registrar, type Registrar, type SipResponse } from '../index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const DOMAIN = 'voice.example-company.com';
const PHONES = 150;
const SUBJECT = 'x'.repeat(30_000);

let gw: TestGateway | undefined;
let reg: Registrar | undefined;
afterEach(async () => {
  reg?.close();
  await gw?.close();
  gw = reg = undefined;
});

/** A REGISTER whose AOR, Call-ID and Contact are long enough to be views into its text, with a 30 KB header. */
const register = (i: number): string =>
  [
    `REGISTER sip:${DOMAIN} SIP/2.0`,
    `Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bKretain${i}`,
    'Max-Forwards: 70',
    `To: <sip:alice.longname${i}@${DOMAIN}>`,
    `From: <sip:alice.longname${i}@${DOMAIN}>;tag=from1`,
    `Call-ID: retention-call-id-${i}-0123456789`,
    'CSeq: 1 REGISTER',
    `Contact: <sip:alice.longname${i}@df7jal23ls0d.invalid;transport=ws;ob>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-${String(i).padStart(12, '0')}>";reg-id=1`,
    'Expires: 600',
    `Subject: ${SUBJECT}`,
    '',
    '',
  ].join('\r\n');

function heap(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

it('a registered phone keeps no part of its REGISTER text alive: the registrar holds copies of the AOR, Call-ID and Contact', async () => {
  // What the registrar keeps for as long as a phone stays registered (its AOR in the flow and sweep tables, the
  // binding's Contact, URI, instance and Call-ID in the bindings it last wrote) must not be views into the
  // REGISTER's text, or every phone pins a whole REGISTER — up to the 64 KiB a message may have.
  reg = registrar({ domains: [DOMAIN] });
  gw = await startTestGateway(defineRoutes({ 'http:request': (req) => req.handshake({ protocols: ['sip'], requireProtocol: true }), ...reg.routes }));
  const ws = new WebSocket(gw.url, 'sip');
  await once(ws, 'open');
  const registerOne = async (i: number) => {
    const reply = once(ws, 'message');
    ws.send(register(i));
    return parseMessage(((await reply) as [Buffer])[0]) as SipResponse;
  };
  await registerOne(PHONES); // the registrar's and the connection's own first allocations, not counted
  const before = heap();
  for (let i = 0; i < PHONES; i++) expect((await registerOne(i)).status).toBe(200);
  await new Promise((r) => setTimeout(r, 10));
  const held = heap() - before;
  // 150 phones × 30 KB of REGISTER text would be 4.5 MB; their bindings themselves are well under 1 MB
  expect(held).toBeLessThan(1_500_000);
  expect((await reg.lookup(`sip:alice.longname7@${DOMAIN}`))[0]!.callId).toBe('retention-call-id-7-0123456789');
  ws.terminate();
});
