import { describe, expect, it } from 'vitest';
import { MAX_PAGE, paginate } from './control.js';

const summaries = (n: number) => Array.from({ length: n }, (_, i) => ({ id: i + 1 }));

describe('paginate', () => {
  it('gives at most a page of 1,000 to the API, whatever limit it asks', () => {
    const page = paginate(summaries(2500), { offset: 100, limit: 5000 });
    expect([page.total, page.limit, page.connections.length, page.connections[0]!.id]).toEqual([2500, MAX_PAGE, MAX_PAGE, 101]);
  });

  it("gives a cluster primary a worker's first offset + limit even past a page, so pages beyond 1,000 per worker merge whole", () => {
    const page = paginate(summaries(2500), { offset: 0, limit: 2100, uncapped: true });
    expect([page.total, page.connections.length, page.connections.at(-1)!.id]).toEqual([2500, 2100, 2100]);
  });
});
