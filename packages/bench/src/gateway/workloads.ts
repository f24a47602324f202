/** The messages the load generator sends, each built and masked once. */
import { randomBytes } from 'node:crypto';
import { OP_BINARY, OP_TEXT, clientFrame } from './frames.js';

/** 64 bytes of text: a small chat or signalling message. */
export const SMALL_TEXT = clientFrame(OP_TEXT, Buffer.from('{"type":"chat","room":"lobby","text":"hello from the benchmark"}'.padEnd(64, ' ')));

/** 64 KiB of binary: a file chunk or a media packet burst. */
export const LARGE_BINARY = clientFrame(OP_BINARY, randomBytes(64 * 1024));

/** A keep-alive OPTIONS as a SIP-over-WebSocket client (JsSIP, SIP.js) sends it. */
export const SIP_OPTIONS = clientFrame(
  OP_TEXT,
  Buffer.from(
    [
      'OPTIONS sip:example.com SIP/2.0',
      'Via: SIP/2.0/WS df7jal23ls0d.invalid;branch=z9hG4bK1825593',
      'Max-Forwards: 70',
      'To: <sip:example.com>',
      'From: <sip:alice@example.com>;tag=vjr5ka7q8d',
      'Call-ID: q6dmr2v3gbg2ibgc5hkd',
      'CSeq: 8110 OPTIONS',
      'Contact: <sip:k6oqe3c5@df7jal23ls0d.invalid;transport=ws>',
      'Supported: path,gruu,outbound',
      'User-Agent: JsSIP 3.10.1',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  ),
);

/** The payload length of a frame built by `clientFrame` (mask included in the head). */
export function payloadLength(frame: Buffer): number {
  const len7 = frame[1]! & 0x7f;
  return len7 < 126 ? len7 : len7 === 126 ? frame.readUInt16BE(2) : Number(frame.readBigUInt64BE(2));
}
