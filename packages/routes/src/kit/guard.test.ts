import { defineRoutes, inject, type RequestContext } from '@wsgate/core';
import { describe, expect, it } from 'vitest';
import { allOf, whenAdmitted, type Guard } from './guard.js';

/** A guard that answers `answer` at once, or through a promise with `later`, recording that it ran. */
function fake(name: string, answer: boolean, ran: string[], later = false): Guard {
  return {
    name,
    check(req: RequestContext<any>) {
      ran.push(name);
      if (!answer) req.refuse(403, name, `${name} says no`);
      return later ? Promise.resolve(answer) : answer;
    },
    close: async () => {},
  };
}

const UPGRADE = { url: '/ws', headers: { upgrade: 'websocket', connection: 'Upgrade' } };

describe('allOf() and whenAdmitted()', () => {
  it('stay synchronous while every guard answers at once, and run the next step', () => {
    const ran: string[] = [];
    const guard = allOf(fake('a', true, ran), fake('b', true, ran));
    let answer: unknown;
    const routes = defineRoutes({ 'http:request': (req) => (answer = whenAdmitted(guard, req, () => req.handshake())) });
    return inject(routes, UPGRADE).then((result) => {
      expect(result.kind).toBe('handshake');
      // The route returned the action itself, not a promise of it.
      expect(answer).toMatchObject({ kind: 'handshake' });
      expect(ran).toEqual(['a', 'b']);
    });
  });

  it('go on through a promise from the first guard that needs one, in order', async () => {
    const ran: string[] = [];
    const guard = allOf(fake('a', true, ran), fake('b', true, ran, true), fake('c', true, ran));
    let answer: unknown;
    const result = await inject(defineRoutes({ 'http:request': (req) => (answer = whenAdmitted(guard, req, () => req.handshake())) }), UPGRADE);
    expect(result.kind).toBe('handshake');
    expect(answer).toBeInstanceOf(Promise);
    expect(ran).toEqual(['a', 'b', 'c']);
  });

  it("start the later guards' reads (prefetch) when one answers through a promise, before it settles; none while all answer at once", async () => {
    const ran: string[] = [];
    const prefetching = (name: string, later = false): Guard => ({ ...fake(name, true, ran, later), prefetch: () => void ran.push(`prefetch ${name}`) });
    const run = (guard: Guard) => inject(defineRoutes({ 'http:request': (req) => whenAdmitted(guard, req, () => req.handshake()) }), UPGRADE);
    expect((await run(allOf(fake('a', true, ran), fake('b', true, ran, true), prefetching('c'), prefetching('d')))).kind).toBe('handshake');
    expect(ran).toEqual(['a', 'b', 'prefetch c', 'prefetch d', 'c', 'd']);
    ran.length = 0;
    expect((await run(allOf(fake('a', true, ran), prefetching('c')))).kind).toBe('handshake');
    expect(ran).toEqual(['a', 'c']);
  });

  it.each([
    ['at once', false],
    ['through a promise', true],
  ])('stop at the first refusal (answered %s): its answer is the reply, later guards and the next step do not run', async (_, later) => {
    const ran: string[] = [];
    const guard = allOf(fake('a', true, ran), fake('b', false, ran, later), fake('c', true, ran));
    let stepped = false;
    const result = await inject(
      defineRoutes({
        'http:request': (req) =>
          whenAdmitted(guard, req, () => {
            stepped = true;
            return req.handshake();
          }),
      }),
      UPGRADE,
    );
    expect(result).toMatchObject({ kind: 'reply', status: 403, body: 'b says no\n' });
    expect(ran).toEqual(['a', 'b']);
    expect(stepped).toBe(false);
  });
});
