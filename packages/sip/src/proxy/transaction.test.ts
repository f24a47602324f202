import { collectedHeap } from '@wsgate/test-kit';
import { describe, expect, it } from 'vitest';
import type { Connection } from '@wsgate/core';
import { parseMessage } from '../parse.js';
import type { SipRequest, SipResponse } from '../message.js';
import type { Flow } from './flow.js';
import { Branch, ProxyTransaction, serverKey } from './transaction.js';

const MESSAGE = [
  'MESSAGE sip:bob@example.com SIP/2.0',
  'Via: SIP/2.0/WS alice.invalid;branch=z9hG4bKtx1',
  'Max-Forwards: 70',
  'To: <sip:bob@example.com>',
  'From: <sip:alice@example.com>;tag=a1',
  'Call-ID: tx-test-1',
  'CSeq: 1 MESSAGE',
  'Content-Type: text/plain',
  'Content-Length: 2',
  '',
  'hi',
].join('\r\n');
const OK = ['SIP/2.0 200 OK', 'Via: SIP/2.0/WS alice.invalid;branch=z9hG4bKtx1', 'To: <sip:bob@example.com>;tag=b1', 'From: <sip:alice@example.com>;tag=a1', 'Call-ID: tx-test-1', 'CSeq: 1 MESSAGE', 'Content-Length: 0', '', ''].join('\r\n');

const caller = { id: 1 } as Connection;
const flow: Flow = { id: 2, secure: false, open: true, send: () => true };

/** A relayed MESSAGE's transaction: one branch, answered 200, as the proxy leaves it when it forgets it. */
function answered(): { tx: ProxyTransaction; request: SipRequest; copy: SipRequest; response: SipResponse } {
  const request = parseMessage(MESSAGE) as SipRequest;
  const copy = parseMessage(MESSAGE) as SipRequest;
  const response = parseMessage(OK) as SipResponse;
  const tx = new ProxyTransaction(serverKey(request), request, caller);
  const branch = new Branch('z9hG4bKwgtest0', tx, copy, flow);
  tx.branches.push(branch);
  branch.final = response;
  tx.answered = 200;
  tx.lastSent = Buffer.from(OK);
  return { tx, request, copy, response };
}

describe('ProxyTransaction.release()', () => {
  it('lets go of the request, the branch copies, their answers and the last response sent', async () => {
    // Whatever still points at a forgotten transaction (a dead transaction in the old generation, an obsolete
    // Map table) must not keep its messages alive: a major collection frees them while the transaction is held.
    const held: { tx?: ProxyTransaction } = {};
    const refs = (() => {
      const { tx, request, copy, response } = answered();
      held.tx = tx;
      tx.release();
      return [new WeakRef(request), new WeakRef(copy), new WeakRef(response)];
    })();
    await new Promise((r) => setTimeout(r, 1)); // WeakRef targets are kept until the current job ends
    collectedHeap(); // a full collection
    expect(refs.map((r) => r.deref() === undefined)).toEqual([true, true, true]);
    expect(held.tx?.lastSent).toBeUndefined();
  });

  it('keeps what the proxy may still ask of a forgotten transaction: its method, and branches that read as completed', () => {
    const { tx } = answered();
    const pending = new Branch('z9hG4bKwgtest1', tx, parseMessage(MESSAGE) as SipRequest, flow);
    tx.branches.push(pending);
    tx.release();
    expect(tx.method).toBe('MESSAGE');
    expect(tx.complete).toBe(true); // a late flowGone() or timer finds nothing left to settle
    expect(tx.branches.map((b) => b.final?.status)).toEqual([200, 0]);
  });

  it('keeps a key of its own, not a view into the head of the request it was read from', async () => {
    // 300 requests with a 30 KB header: keys that were views into their heads would keep 9 MB alive
    const subject = 'x'.repeat(30_000);
    const text = (i: number) => MESSAGE.replace('z9hG4bKtx1', `z9hG4bKtx1-${i}-${'b'.repeat(20)}`).replace('CSeq: 1 MESSAGE', `CSeq: 1 MESSAGE\r\nSubject: ${subject}`);
    const before = collectedHeap();
    const txs = Array.from({ length: 300 }, (_, i) => {
      const request = parseMessage(Buffer.from(text(i))) as SipRequest;
      const tx = new ProxyTransaction(serverKey(request), request, caller);
      tx.release();
      return tx;
    });
    await new Promise((r) => setTimeout(r, 1));
    expect(collectedHeap() - before).toBeLessThan(2_000_000);
    expect(txs[7]!.key).toBe(`z9hG4bKtx1-7-${'b'.repeat(20)} alice.invalid: MESSAGE`);
  });

  it('names the transaction when its request is read after it was forgotten', () => {
    const { tx } = answered();
    tx.release();
    expect(() => tx.request).toThrow(/transaction z9hG4bKtx1 alice\.invalid: MESSAGE was read after the transaction was forgotten/);
    expect(() => tx.branches[0]!.request).toThrow(/branch z9hG4bKwgtest0 was read after/);
  });
});
