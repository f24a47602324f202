import { once } from 'node:events';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { endOnce } from './end-once.js';

/** A Writable whose class-level `end` counts the calls that reach it. */
class Counting extends Writable {
  calls = 0;
  override _write(_chunk: unknown, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    callback();
  }
  override end(...args: unknown[]): this {
    this.calls++;
    return (super.end as (...a: unknown[]) => this)(...args);
  }
}

async function finished(): Promise<Counting> {
  const stream = new Counting();
  endOnce(stream);
  stream.end();
  await once(stream, 'finish');
  return stream;
}

describe('endOnce', () => {
  it('lets the first end() through: the stream ends and finishes', async () => {
    const stream = await finished();
    expect(stream.calls).toBe(1);
    expect(stream.writableFinished).toBe(true);
  });

  it('skips a bare end() on a stream that has ended', async () => {
    const stream = await finished();
    expect(stream.end()).toBe(stream);
    expect(stream.end()).toBe(stream);
    expect(stream.calls).toBe(1);
  });

  it('still calls a callback with the error the stream gives it', async () => {
    const stream = await finished();
    const err = await new Promise<Error | null | undefined>((resolve) => stream.end(resolve));
    expect(err).toMatchObject({ code: 'ERR_STREAM_ALREADY_FINISHED' });
    expect(stream.calls).toBe(2);
  });

  it('still refuses a chunk after the end, as the stream does', async () => {
    const stream = await finished();
    const err = await new Promise<Error | null | undefined>((resolve) => stream.end('late', resolve));
    expect(err).toMatchObject({ code: 'ERR_STREAM_WRITE_AFTER_END' });
    expect(stream.calls).toBe(2);
  });

  it('passes a corked stream on: end() uncorks it', () => {
    const stream = new Counting();
    endOnce(stream);
    stream.end();
    stream.cork();
    stream.end();
    expect(stream.calls).toBe(2);
    expect(stream.writableCorked).toBe(0);
  });
});
