import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * RFC 5626 §5.2 flow tokens: the flow a Record-Route stands for (`<node>/<connection id>`), written in the
 * Route URI's user part and signed, so that an in-dialog request reaches the WebSocket of the dialog's other
 * end and a phone cannot steer requests into a connection it never shared a dialog with.
 *
 * Token = hex(flow) "." first 16 hex digits of HMAC-SHA-256(secret, flow): only URI user characters.
 */
export class FlowTokens {
  private readonly secret: Buffer;

  /** `secret`: shared by every gateway that may receive a dialog's requests; default random per process. */
  constructor(secret?: string | Buffer) {
    this.secret = secret === undefined ? randomBytes(32) : Buffer.from(secret);
  }

  sign(flow: string): string {
    return `${Buffer.from(flow, 'utf8').toString('hex')}.${this.mac(flow)}`;
  }

  /** The flow a token stands for, or undefined when it is not one of ours (malformed or a wrong signature). */
  verify(token: string): string | undefined {
    const dot = token.indexOf('.');
    if (dot <= 0 || dot % 2 !== 0 || token.length - dot - 1 !== 16 || !/^[0-9a-f]+\.[0-9a-f]+$/.test(token)) return undefined;
    const flow = Buffer.from(token.slice(0, dot), 'hex').toString('utf8');
    const given = Buffer.from(token.slice(dot + 1), 'latin1');
    return timingSafeEqual(given, Buffer.from(this.mac(flow), 'latin1')) ? flow : undefined;
  }

  private mac(flow: string): string {
    return createHmac('sha256', this.secret).update(flow).digest('hex').slice(0, 16);
  }
}
