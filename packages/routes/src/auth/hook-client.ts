/**
 * The auth hook's HTTP client: one JSON POST with a deadline over the whole exchange and a bounded answer,
 * on kept-alive connections (a hook is called for every handshake).
 */
import http from 'node:http';
import https from 'node:https';

export interface HookAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** The most of a hook's answer that is read; a larger one is a failed call. */
const MAX_ANSWER = 64 * 1024;

export class HookClient {
  private readonly agent: http.Agent;

  constructor(
    private readonly url: URL,
    private readonly timeoutMs: number,
    private readonly headers: Readonly<Record<string, string>>,
    rejectUnauthorized: boolean,
  ) {
    this.agent = url.protocol === 'https:' ? new https.Agent({ keepAlive: true, rejectUnauthorized }) : new http.Agent({ keepAlive: true });
  }

  /** POSTs `json`; rejects on a timeout, a connection failure or an answer over 64 KiB. */
  post(json: string): Promise<HookAnswer> {
    const send = this.url.protocol === 'https:' ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const body = Buffer.from(json);
      const req = send(this.url, {
        method: 'POST',
        agent: this.agent,
        headers: { ...this.headers, 'Content-Type': 'application/json', 'Content-Length': body.length, Accept: 'application/json' },
      });
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        reject(err);
      };
      req.once('error', fail);
      req.once('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER) req.destroy(new Error(`answer larger than ${MAX_ANSWER} bytes`));
          else chunks.push(chunk);
        });
        res.once('error', fail);
        res.once('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
        });
      });
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
