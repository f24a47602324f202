/**
 * The head reader's header record: names an object inherits elsewhere (`__proto__`, `constructor`,
 * `toString`) are headers like any other, read and relayed as sent, never a prototype's members.
 */
import { describe, expect, it } from 'vitest';
import { ResponseHeadReader } from './response-head.js';

function read(head: string) {
  const answer = new ResponseHeadReader().push(Buffer.from(head, 'latin1'));
  if (answer === undefined) throw new Error('head not complete');
  return answer.head;
}

describe('ResponseHeadReader headers', () => {
  it('reads __proto__, constructor and toString as headers, and inherits nothing', () => {
    const head = read('HTTP/1.1 101 Switching Protocols\r\n__proto__: a\r\nConstructor: b\r\nconstructor: c\r\nUpgrade: websocket\r\n\r\n');
    expect(head.headers.__proto__).toBe('a');
    expect(head.headers.constructor).toBe('b, c');
    expect(head.headers.upgrade).toBe('websocket');
    expect(head.headers.toString).toBeUndefined();
    expect(Object.keys(head.headers)).toEqual(['__proto__', 'constructor', 'upgrade']);
    expect(head.names).toEqual(['__proto__', 'constructor', 'constructor', 'upgrade']);
  });

  it('joins repeated headers with ", " in the order received', () => {
    const head = read('HTTP/1.1 101 Switching Protocols\r\nSec-WebSocket-Extensions: a\r\nsec-websocket-extensions: b\r\n\r\n');
    expect(head.headers['sec-websocket-extensions']).toBe('a, b');
  });
});
