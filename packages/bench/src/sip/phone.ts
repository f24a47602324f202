/**
 * A benchmark phone: one SIP user on its own WebSocket (subprotocol `sip`), as a browser phone (JsSIP, SIP.js)
 * talks to a registrar and proxy — REGISTER and MESSAGE as client transactions that answer a digest challenge
 * (401 or 407, MD5, qop=auth) once by sending the request again with credentials, and 200 to every MESSAGE it
 * is sent. It reads only the headers it needs, so that the load generator costs little next to the server.
 */
import { createHash, randomBytes } from 'node:crypto';
import WebSocket from 'ws';

const CRLF = '\r\n';

export interface PhoneOptions {
  readonly url: string;
  readonly domain: string;
  readonly user: string;
  readonly password: string;
  /** Milliseconds a transaction may take, challenge included; default 10 s. */
  readonly timeoutMs?: number;
}

/** The headers of a received message this phone looks at. */
interface Received {
  readonly status: number; // 0 for a request
  readonly method: string; // a request's method, else ''
  readonly vias: string[];
  readonly from: string;
  readonly to: string;
  readonly callId: string;
  readonly cseq: string;
  readonly challenge: string | undefined; // the MD5 one of the WWW-Authenticate or Proxy-Authenticate headers
}

interface Pending {
  readonly resolve: (r: Received) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class Phone {
  private readonly ha1: string;
  private readonly instance = randomBytes(6).toString('hex');
  private readonly registerCallId = randomBytes(10).toString('hex');
  private readonly fromTag = randomBytes(5).toString('hex');
  private cseq = 1;
  private nc = 0;
  private readonly pending = new Map<string, Pending>();
  /** MESSAGEs this phone answered. */
  received = 0;
  /** Digest challenges (401, 407) this phone answered. */
  challenges = 0;

  private constructor(
    readonly options: PhoneOptions,
    private readonly ws: WebSocket,
  ) {
    this.ha1 = md5(`${options.user}:${options.domain}:${options.password}`);
    ws.on('message', (data, isBinary) => {
      if (!isBinary) this.onMessage(data.toString());
    });
    ws.on('close', () => this.failAll(new Error(`${options.user}: WebSocket closed`)));
    ws.on('error', () => undefined); // 'close' follows
  }

  static open(options: PhoneOptions, timeoutMs = 10_000): Promise<Phone> {
    const ws = new WebSocket(options.url, 'sip', { perMessageDeflate: false, handshakeTimeout: timeoutMs });
    return new Promise((resolve, reject) => {
      ws.once('open', () => {
        ws.removeAllListeners('error');
        resolve(new Phone(options, ws));
      });
      ws.once('error', (err) => reject(new Error(`${options.user}: WebSocket to ${options.url} failed: ${err.message}`)));
    });
  }

  get user(): string {
    return this.options.user;
  }

  /** REGISTER → 401 → REGISTER with Authorization → 200; resolves with the final status. */
  register(expires = 600): Promise<number> {
    const uri = `sip:${this.options.domain}`;
    const aor = `<sip:${this.user}@${this.options.domain}>`;
    const contact = `<sip:${this.instance}@${this.instance}.invalid;transport=ws>;expires=${expires}`;
    return this.transaction('REGISTER', uri, (cseq, auth) => [
      `REGISTER ${uri} SIP/2.0`,
      `Via: SIP/2.0/WS ${this.instance}.invalid;branch=z9hG4bK${randomBytes(8).toString('hex')}`,
      'Max-Forwards: 70',
      `To: ${aor}`,
      `From: ${aor};tag=${this.fromTag}`,
      `Call-ID: ${this.registerCallId}`,
      `CSeq: ${cseq} REGISTER`,
      `Contact: ${contact}`,
      ...auth,
      'Content-Length: 0',
      '',
      '',
    ]);
  }

  /** MESSAGE to `user` (407 → again with Proxy-Authorization → relayed → 200); resolves with the final status. */
  message(user: string, text: string): Promise<number> {
    const uri = `sip:${user}@${this.options.domain}`;
    const callId = randomBytes(10).toString('hex');
    const tag = randomBytes(5).toString('hex');
    const body = Buffer.byteLength(text);
    return this.transaction('MESSAGE', uri, (cseq, auth) => [
      `MESSAGE ${uri} SIP/2.0`,
      `Via: SIP/2.0/WS ${this.instance}.invalid;branch=z9hG4bK${randomBytes(8).toString('hex')}`,
      'Max-Forwards: 70',
      `To: <${uri}>`,
      `From: <sip:${this.user}@${this.options.domain}>;tag=${tag}`,
      `Call-ID: ${callId}`,
      `CSeq: ${cseq} MESSAGE`,
      ...auth,
      'Content-Type: text/plain',
      `Content-Length: ${body}`,
      '',
      text,
    ]);
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => (this.ws.terminate(), resolve()), 2000);
      this.ws.once('close', () => (clearTimeout(timer), resolve()));
      this.ws.close();
    });
  }

  /** Sends the request, answers one challenge, and resolves with the final status. */
  private async transaction(method: string, uri: string, build: (cseq: number, auth: string[]) => string[]): Promise<number> {
    let cseq = this.cseq++;
    let answer = await this.send(`${cseq} ${method}`, build(cseq, []).join(CRLF));
    if ((answer.status === 401 || answer.status === 407) && answer.challenge !== undefined) {
      this.challenges++;
      const header = answer.status === 401 ? 'Authorization' : 'Proxy-Authorization';
      const credentials = this.credentials(answer.challenge, method, uri);
      cseq = this.cseq++;
      answer = await this.send(`${cseq} ${method}`, build(cseq, [`${header}: ${credentials}`]).join(CRLF));
    }
    return answer.status;
  }

  private send(key: string, text: string): Promise<Received> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(key);
        reject(new Error(`${this.user}: no final answer to ${key} within ${this.options.timeoutMs ?? 10_000} ms`));
      }, this.options.timeoutMs ?? 10_000);
      this.pending.set(key, { resolve, reject, timer });
      this.ws.send(text);
    });
  }

  /** RFC 2617 digest with qop=auth when offered (the nonce count goes up per answer), else RFC 2069. */
  private credentials(challenge: string, method: string, uri: string): string {
    const realm = param(challenge, 'realm') ?? this.options.domain;
    const nonce = param(challenge, 'nonce') ?? '';
    const opaque = param(challenge, 'opaque');
    const qop = param(challenge, 'qop');
    const ha2 = md5(`${method}:${uri}`);
    const common = `Digest username="${this.user}", realm="${realm}", nonce="${nonce}", uri="${uri}", algorithm=MD5`;
    const tail = opaque !== undefined ? `, opaque="${opaque}"` : '';
    if (qop === undefined || !qop.split(',').some((q) => q.trim() === 'auth')) {
      return `${common}, response="${md5(`${this.ha1}:${nonce}:${ha2}`)}"${tail}`;
    }
    const nc = (++this.nc).toString(16).padStart(8, '0');
    const cnonce = randomBytes(8).toString('hex');
    const response = md5(`${this.ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`);
    return `${common}, response="${response}", qop=auth, nc=${nc}, cnonce="${cnonce}"${tail}`;
  }

  private onMessage(text: string): void {
    const m = read(text);
    if (m === undefined) return;
    if (m.status === 0) {
      if (m.method === 'MESSAGE') this.answerRequest(m);
      else if (m.method !== 'ACK') this.answerRequest(m, 501, 'Not Implemented');
      return;
    }
    if (m.status < 200) return; // provisional
    const p = this.pending.get(m.cseq);
    if (p === undefined) return; // a retransmission, or late
    this.pending.delete(m.cseq);
    clearTimeout(p.timer);
    p.resolve(m);
  }

  private answerRequest(m: Received, status = 200, reason = 'OK'): void {
    if (status === 200) this.received++;
    const to = m.to.includes(';tag=') ? m.to : `${m.to};tag=${this.fromTag}`;
    this.ws.send(
      [
        `SIP/2.0 ${status} ${reason}`,
        ...m.vias.map((v) => `Via: ${v}`),
        `From: ${m.from}`,
        `To: ${to}`,
        `Call-ID: ${m.callId}`,
        `CSeq: ${m.cseq}`,
        'Content-Length: 0',
        '',
        '',
      ].join(CRLF),
    );
  }

  private failAll(err: Error): void {
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }
}

function md5(s: string): string {
  return createHash('md5').update(s).digest('hex');
}

/** A parameter of a digest challenge, quoted or not. */
function param(challenge: string, name: string): string | undefined {
  const m = new RegExp(`(?:^|[\\s,])${name}\\s*=\\s*(?:"([^"]*)"|([^\\s,]+))`, 'i').exec(challenge.replace(/^\s*Digest\s+/i, ' '));
  return m ? (m[1] ?? m[2]) : undefined;
}

/** The start line and the few headers a phone needs; undefined for what is not a SIP message (a keepalive). */
function read(text: string): Received | undefined {
  const headEnd = text.indexOf('\r\n\r\n');
  const lines = (headEnd === -1 ? text : text.slice(0, headEnd)).split('\r\n');
  const first = lines[0]!;
  let status = 0;
  let method = '';
  if (first.startsWith('SIP/2.0 ')) status = Number(first.slice(8, 11));
  else if (first.endsWith(' SIP/2.0')) method = first.slice(0, first.indexOf(' '));
  else return undefined;
  const vias: string[] = [];
  let from = '', to = '', callId = '', cseq = '';
  let challenge: string | undefined;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    switch (name) {
      case 'via':
      case 'v':
        vias.push(value);
        break;
      case 'from':
      case 'f':
        from = value;
        break;
      case 'to':
      case 't':
        to = value;
        break;
      case 'call-id':
      case 'i':
        callId = value;
        break;
      case 'cseq':
        cseq = value.replace(/\s+/, ' ');
        break;
      case 'www-authenticate':
      case 'proxy-authenticate': {
        // One header per algorithm (RFC 8760): MD5 is the one both servers check, and what JsSIP answers.
        const algorithm = param(value, 'algorithm');
        if (algorithm === undefined || algorithm.toUpperCase() === 'MD5') challenge ??= value;
        break;
      }
    }
  }
  return { status, method, vias, from, to, callId, cseq, challenge };
}
