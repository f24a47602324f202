/**
 * A syntax fault in a SIP value (a URI, a Via, a header's parameters …), with the reason. The parsers of single
 * values throw it; `parseMessage()` and the message's typed views throw its subclass ParseError, which adds
 * what is needed to answer (message.ts).
 */
export class SipSyntaxError extends Error {
  override name = 'SipSyntaxError';
  /** The status RFC 3261 gives the fault: 400 malformed, 505 version not supported, 513 over a limit. */
  readonly status: 400 | 505 | 513;
  readonly reason: string;

  constructor(status: 400 | 505 | 513, reason: string) {
    super(reason);
    this.status = status;
    this.reason = reason;
  }
}

/** A fault in one value; whoever reads a whole header names it (`invalid Via header: …`). */
export function fault(reason: string): never {
  throw new SipSyntaxError(400, reason);
}
