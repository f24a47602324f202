/**
 * Parse and serialize throughput of @wsgate/sip on typical browser messages (a JsSIP-style REGISTER with
 * credentials, a WebRTC INVITE with its SDP, a MESSAGE). Run after `npx tsc -b packages/sip`:
 *
 *   node packages/sip/bench/throughput.mjs [seconds per case, default 1]
 *
 * Prints messages per CPU-second (one thread) for: parse; parse + serialize (relayed untouched); a proxy's edit
 * (parse, read the top Via, Route and Max-Forwards, add a Via and a Record-Route, decrement Max-Forwards,
 * serialize); parse with validateAll.
 */
import { formatVia, parseMessage, serialize } from '../dist/index.js';

const seconds = Number(process.argv[2] ?? 1);
const crlf = (lines) => lines.join('\r\n');

const REGISTER = crlf([
  'REGISTER sip:example.com SIP/2.0',
  'Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK4155817',
  'Max-Forwards: 69',
  'To: <sip:alice@example.com>',
  'From: "Alice" <sip:alice@example.com>;tag=ll2gs1ctf7',
  'Call-ID: tpk3kgbu48obtcsk20jk6l',
  'CSeq: 2 REGISTER',
  'Authorization: Digest algorithm=MD5, username="alice", realm="example.com", nonce="Wq0zsFqtMoRYXi9VmMNdO2xUx1aWXfgh", uri="sip:example.com", response="8f3b40f4b4ab1d83e0e2e2bb2d1ae5e7", qop=auth, cnonce="ic64bi7j7pa2", nc=00000001',
  'Contact: <sip:8g9rh0oi@df7jal23ls0d.invalid;transport=ws>;+sip.ice;reg-id=1;+sip.instance="<urn:uuid:5a3d6e1c-2b0f-4f2c-9b0e-2b8a3b6f7c41>";expires=600',
  'Expires: 600',
  'Allow: INVITE,ACK,CANCEL,BYE,UPDATE,MESSAGE,OPTIONS,REFER,INFO,NOTIFY',
  'Supported: path,gruu,outbound',
  'User-Agent: JsSIP 3.10.0',
  'Content-Length: 0',
  '',
  '',
]);

const sdp = crlf([
  'v=0',
  'o=- 4611731400430051336 2 IN IP4 127.0.0.1',
  's=-',
  't=0 0',
  'a=group:BUNDLE 0 1',
  'a=extmap-allow-mixed',
  'a=msid-semantic: WMS 3b8f0d4c-6d3c-4a59-9b4e-6f0d0e2a7c11',
  'm=audio 49203 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126',
  'c=IN IP4 203.0.113.7',
  'a=rtcp:9 IN IP4 0.0.0.0',
  'a=candidate:842163049 1 udp 1677729535 203.0.113.7 49203 typ srflx raddr 192.168.1.20 rport 49203 generation 0 network-cost 999',
  'a=candidate:1467250027 1 udp 2122260223 192.168.1.20 49203 typ host generation 0 network-id 1',
  'a=candidate:3327374541 1 tcp 1518280447 192.168.1.20 9 typ host tcptype active generation 0 network-id 1',
  'a=ice-ufrag:Kd8v',
  'a=ice-pwd:Q2w3E4r5T6y7U8i9O0p1A2s3',
  'a=ice-options:trickle',
  'a=fingerprint:sha-256 6B:8B:5D:EA:59:04:20:23:29:C8:87:1C:CD:87:32:BE:DD:8C:66:A5:8E:50:55:EA:20:C8:DA:C7:E4:C4:9F:0F',
  'a=setup:actpass',
  'a=mid:0',
  'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
  'a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
  'a=sendrecv',
  'a=msid:3b8f0d4c-6d3c-4a59-9b4e-6f0d0e2a7c11 9a1c2b3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
  'a=rtcp-fb:111 transport-cc',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=rtpmap:63 red/48000/2',
  'a=fmtp:63 111/111',
  'a=rtpmap:9 G722/8000',
  'a=rtpmap:0 PCMU/8000',
  'a=rtpmap:8 PCMA/8000',
  'a=rtpmap:13 CN/8000',
  'a=rtpmap:110 telephone-event/48000',
  'a=rtpmap:126 telephone-event/8000',
  'a=ssrc:1001 cname:Qb3c0w3Yq1Nf2xZc',
  'm=video 49203 UDP/TLS/RTP/SAVPF 96 97 98 99',
  'c=IN IP4 203.0.113.7',
  'a=ice-ufrag:Kd8v',
  'a=ice-pwd:Q2w3E4r5T6y7U8i9O0p1A2s3',
  'a=fingerprint:sha-256 6B:8B:5D:EA:59:04:20:23:29:C8:87:1C:CD:87:32:BE:DD:8C:66:A5:8E:50:55:EA:20:C8:DA:C7:E4:C4:9F:0F',
  'a=setup:actpass',
  'a=mid:1',
  'a=sendrecv',
  'a=rtcp-mux',
  'a=rtcp-rsize',
  'a=rtpmap:96 VP8/90000',
  'a=rtcp-fb:96 goog-remb',
  'a=rtcp-fb:96 transport-cc',
  'a=rtcp-fb:96 ccm fir',
  'a=rtcp-fb:96 nack',
  'a=rtcp-fb:96 nack pli',
  'a=rtpmap:97 rtx/90000',
  'a=fmtp:97 apt=96',
  'a=rtpmap:98 H264/90000',
  'a=fmtp:98 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  'a=rtpmap:99 rtx/90000',
  'a=fmtp:99 apt=98',
  'a=ssrc-group:FID 2001 2002',
  'a=ssrc:2001 cname:Qb3c0w3Yq1Nf2xZc',
  'a=ssrc:2002 cname:Qb3c0w3Yq1Nf2xZc',
  '',
]);

const INVITE = crlf([
  'INVITE sip:bob@example.com SIP/2.0',
  'Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK1939404',
  'Max-Forwards: 69',
  'Route: <sip:edge.example.com;transport=ws;lr>',
  'To: <sip:bob@example.com>',
  'From: "Alice" <sip:alice@example.com>;tag=8d1s9vtj0h',
  'Call-ID: 7iqkbc90tu8bhn5pgmja',
  'CSeq: 7512 INVITE',
  'Contact: <sip:8g9rh0oi@df7jal23ls0d.invalid;transport=ws;ob>',
  'Content-Type: application/sdp',
  'Session-Expires: 90',
  'Allow: INVITE,ACK,CANCEL,BYE,UPDATE,MESSAGE,OPTIONS,REFER,INFO,NOTIFY',
  'Supported: timer,ice,replaces,outbound',
  'User-Agent: JsSIP 3.10.0',
  `Content-Length: ${Buffer.byteLength(sdp)}`,
  '',
  sdp,
]);

const MESSAGE = crlf([
  'MESSAGE sip:bob@example.com SIP/2.0',
  'Via: SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bK7735820',
  'Max-Forwards: 69',
  'To: <sip:bob@example.com>',
  'From: "Alice" <sip:alice@example.com>;tag=ho9ngl5ac8',
  'Call-ID: vm0km0e6b6l2dq1prv3n',
  'CSeq: 9042 MESSAGE',
  'Content-Type: text/plain',
  'Content-Length: 11',
  '',
  'Hello, Bob!',
]);

let sink = 0;
const cases = {
  parse: (b) => {
    sink += parseMessage(b).headers.size;
  },
  'parse+serialize': (b) => {
    sink += serialize(parseMessage(b)).length;
  },
  'proxy edit': (b) => {
    const m = parseMessage(b);
    const mf = m.maxForwards ?? 70;
    m.routes();
    sink += m.topVia.branch.length;
    m.headers.prepend('Via', formatVia({ transport: 'WSS', host: 'edge.example.com', params: new Map([['branch', 'z9hG4bKp1q2r3'], ['rport', null]]) }));
    m.headers.prepend('Record-Route', '<sip:ZmxvdzEyMw@edge.example.com;transport=ws;lr>');
    m.headers.set('Max-Forwards', String(mf - 1));
    sink += serialize(m).length;
  },
  'parse validateAll': (b) => {
    sink += parseMessage(b, { validateAll: true }).headers.size;
  },
};

/** Messages per second of this process's CPU time (user + system), so that a shared machine's other load does not count. */
function measure(fn, frame) {
  for (let i = 0; i < 20_000; i++) fn(frame); // warm up
  let n = 0;
  const end = performance.now() + seconds * 1000;
  const cpu0 = process.cpuUsage();
  while (performance.now() < end) {
    for (let i = 0; i < 1000; i++) fn(frame);
    n += 1000;
  }
  const cpu = process.cpuUsage(cpu0);
  return n / ((cpu.user + cpu.system) / 1e6);
}

console.log(`node ${process.version}, ${seconds}s per case; messages per CPU-second, one thread`);
for (const [name, text] of Object.entries({ REGISTER, INVITE, MESSAGE })) {
  const frame = Buffer.from(text);
  const row = Object.entries(cases).map(([c, fn]) => `${c} ${Math.round(measure(fn, frame)).toLocaleString('en')}/s`);
  console.log(`${name} (${frame.length} B): ${row.join(', ')}`);
}
if (sink === 0) console.log('');
