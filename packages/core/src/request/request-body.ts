import type { Readable } from 'node:stream';
import { HttpError } from '../errors.js';

/** What `req.body()` takes. */
export interface BodyOptions {
  /**
   * The most bytes the body may hold; past it, `req.body()` rejects with an `HttpError` 413 (which the route may
   * let through: the pipeline answers it). Required: there is no unlimited body.
   */
  readonly limit: number;
}

/**
 * Reads a request body into one Buffer, refusing it with 413 as soon as it is known to be too large: from
 * `Content-Length` before a byte is read, else when the bytes received pass `limit` (the rest is left unread,
 * and the reply closes the connection). A peer that goes away before the end is a 400.
 */
export function readBody(stream: Readable, declaredLength: string | undefined, limit: number): Promise<Buffer> {
  if (declaredLength !== undefined && /^\d+$/.test(declaredLength) && Number(declaredLength) > limit) {
    return Promise.reject(tooLarge(limit));
  }
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (err: Error | undefined, body?: Buffer): void => {
      stream.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      if (err) {
        stream.pause();
        reject(err);
      } else resolve(body!);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) finish(tooLarge(limit));
      else chunks.push(chunk);
    };
    const onEnd = (): void => finish(undefined, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    const onError = (): void => finish(new HttpError(400, 'Request body incomplete: the connection failed'));
    const onClose = (): void => finish(new HttpError(400, 'Request body incomplete: the client closed the connection'));
    if (stream.readableEnded) {
      resolve(Buffer.alloc(0));
      return;
    }
    stream.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/** The 413 of a body past `limit` (also for a later `req.body()` with a smaller limit). */
export function tooLarge(limit: number): HttpError {
  return new HttpError(413, `Request body larger than ${limit} bytes`);
}
