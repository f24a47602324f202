/**
 * Finds where a chunked body ends (RFC 9112 §7.1) without decoding it: an upstream's refusal is relayed
 * byte for byte, and the relay must know when the answer is over even if the upstream keeps the connection.
 */
export class ChunkedEnd {
  /** 'size': reading a chunk-size line; 'data': skipping chunk data and its CRLF; 'trailer': after the last chunk. */
  private state: 'size' | 'data' | 'trailer' = 'size';
  private line = '';
  private remaining = 0;
  done = false;

  /** Feeds bytes; returns how many of them belong to the body (all of them until the end is found). */
  push(chunk: Buffer): number {
    let i = 0;
    while (i < chunk.length && !this.done) {
      if (this.state === 'data') {
        const skip = Math.min(this.remaining, chunk.length - i);
        this.remaining -= skip;
        i += skip;
        if (this.remaining === 0) {
          this.state = 'size';
          this.line = '';
        }
        continue;
      }
      const byte = chunk[i++]!;
      if (byte !== 0x0a) {
        if (this.line.length > 4096) throw new Error('chunk-size or trailer line too long');
        this.line += String.fromCharCode(byte);
        continue;
      }
      const line = this.line.replace(/\r$/, '');
      this.line = '';
      if (this.state === 'trailer') {
        if (line === '') this.done = true;
        continue;
      }
      // The CRLF that ends a chunk's data arrives here as an empty size line.
      if (line === '') continue;
      const size = Number.parseInt(line.split(';')[0]!.trim(), 16);
      if (!Number.isFinite(size) || size < 0) throw new Error(`bad chunk size ${JSON.stringify(line.slice(0, 40))}`);
      if (size === 0) this.state = 'trailer';
      else {
        this.state = 'data';
        this.remaining = size;
      }
    }
    return i;
  }
}
