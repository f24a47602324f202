/**
 * What both phone pages share: the event log the test reads, a bounded waitFor() on it, the SIP wire trace,
 * the loopback-only SDP filter and the audio RTP statistics. Browser code, bundled by esbuild (phone-site.ts).
 */

/** Every event the phone saw, in order: `{ type, at, ...fields }`. */
export const events = [];

/** The last SIP messages sent and received, whole (`> ` sent, `< ` received): what a failing test prints. */
export const wire = [];
const WIRE_KEPT = 100;
const keep = (dir, data) => {
  wire.push(`${dir} ${data}`);
  if (wire.length > WIRE_KEPT) wire.shift();
};

const waiters = new Set();

/** Records an event and wakes the waiters it satisfies. */
export function record(type, fields = {}) {
  const event = { type, at: Math.round(performance.now()), ...fields };
  events.push(event);
  for (const w of [...waiters]) if (w.match(event)) w.resolve(event);
}

/** True when every field of `spec` equals the event's (a spec field `startsWith` tests a prefix of `line`). */
function matches(spec, event) {
  for (const [k, v] of Object.entries(spec)) {
    if (k === 'startsWith') {
      if (typeof event.line !== 'string' || !event.line.startsWith(v)) return false;
    } else if (event[k] !== v) return false;
  }
  return true;
}

/**
 * The first event (from index `from` on) that matches `spec`, or a rejection after `timeoutMs` that lists
 * what was seen: every wait in these tests has a bound.
 */
export function waitFor(spec, timeoutMs, from = 0) {
  const seen = events.slice(from).find((e) => matches(spec, e));
  if (seen) return Promise.resolve(seen);
  return new Promise((resolve, reject) => {
    const w = {
      match: (e) => matches(spec, e),
      resolve: (e) => {
        waiters.delete(w);
        clearTimeout(timer);
        resolve(e);
      },
    };
    const timer = setTimeout(() => {
      waiters.delete(w);
      const log = events.slice(from).map((e) => (e.type === 'wire' ? `${e.dir} ${e.line}` : `${e.type}${e.cause ? `(${e.cause})` : ''}`));
      reject(new Error(`no event ${JSON.stringify(spec)} within ${timeoutMs} ms; saw: ${log.join(' | ') || 'nothing'}`));
    }, timeoutMs);
    waiters.add(w);
  });
}

/**
 * Traces the first line of every SIP message on the page's WebSockets (`wire` events, dir `in`/`out`), so a
 * test can check what went over the wire (a 180 received, an ACK sent, a 487) whatever the library reports.
 */
export function traceWebSockets() {
  const Native = globalThis.WebSocket;
  const startLine = (data) => (typeof data === 'string' ? data.slice(0, Math.max(0, data.indexOf('\r\n'))) : '<binary>');
  const cseqOf = (data) => (typeof data === 'string' ? /\r\n(?:CSeq|cseq):\s*\d+\s+(\w+)/i.exec(data)?.[1] : undefined);
  globalThis.WebSocket = class TracedWebSocket extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      this.addEventListener('message', (e) => {
        if (typeof e.data === 'string' && e.data.trim() !== '') keep('<', e.data);
        if (typeof e.data === 'string' && e.data.trim() !== '') record('wire', { dir: 'in', line: startLine(e.data), method: cseqOf(e.data) });
      });
      this.addEventListener('close', (e) => record('socketClosed', { code: e.code }));
    }
    send(data) {
      if (typeof data === 'string' && data.trim() !== '') keep('>', data);
      if (typeof data === 'string' && data.trim() !== '') record('wire', { dir: 'out', line: startLine(data), method: cseqOf(data) });
      super.send(data);
    }
  };
}

/**
 * Keeps only the 127.0.0.1 ICE candidates of a local SDP, so that media flows over loopback (the test machine
 * may have other interfaces, and no traffic may leave it). The connection line follows the kept candidates.
 */
export function loopbackOnly(sdp) {
  let kept = 0;
  let dropped = 0;
  const lines = sdp.split('\r\n').filter((line) => {
    if (!line.startsWith('a=candidate:')) return true;
    // candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> ...
    const address = line.split(' ')[4];
    if (address === '127.0.0.1') kept++;
    else dropped++;
    return address === '127.0.0.1';
  });
  record('sdpFiltered', { kept, dropped });
  return lines.map((line) => (kept > 0 && line.startsWith('c=IN IP4 ') ? 'c=IN IP4 127.0.0.1' : line)).join('\r\n');
}

/**
 * The audio RTP of a peer connection: bytes and packets received and sent, and the addresses of the selected
 * candidate pair.
 */
export async function audioStats(pc) {
  if (!pc) throw new Error('no peer connection: no call in progress');
  const report = await pc.getStats();
  const out = { bytesReceived: 0, packetsReceived: 0, bytesSent: 0, packetsSent: 0, local: undefined, remote: undefined };
  let pairId;
  report.forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'audio') {
      out.bytesReceived += s.bytesReceived ?? 0;
      out.packetsReceived += s.packetsReceived ?? 0;
    } else if (s.type === 'outbound-rtp' && s.kind === 'audio') {
      out.bytesSent += s.bytesSent ?? 0;
      out.packetsSent += s.packetsSent ?? 0;
    } else if (s.type === 'transport' && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId;
  });
  const pair = pairId && report.get(pairId);
  if (pair) {
    out.local = report.get(pair.localCandidateId)?.address;
    // Chromium blanks the address of a peer-reflexive remote candidate (learnt from a check, not signalled)
    const remote = report.get(pair.remoteCandidateId);
    out.remote = remote?.address || remote?.candidateType;
  }
  return out;
}

/**
 * Polls audioStats() until audio has been received (and sent) or `timeoutMs` passes; resolves with the stats
 * either way, so the test asserts on the numbers.
 */
export async function waitForAudio(pc, timeoutMs) {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const s = await audioStats(pc);
    if ((s.packetsReceived > 0 && s.packetsSent > 0) || performance.now() > end) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
}
