/** The event-route table: what `defineRoutes` accepts, and what the gateway resolves once per mount. */
import { describe, expect, it } from 'vitest';
import { eventRouteNames, eventRoutes, resolveEventRoutes } from './event-routes.js';
import { defineRoutes } from './routes.js';

describe('event routes', () => {
  it('refuses an unknown event route, naming every route of the table', () => {
    expect(eventRouteNames).toEqual(['http:request', 'websocket:open', 'websocket:message', 'websocket:closed', 'routes:close']);
    expect(() => defineRoutes({ 'websocket:mesage': () => undefined } as never)).toThrow(
      `defineRoutes: unknown event route "websocket:mesage"; known ones are ${eventRouteNames.join(', ')}`,
    );
    // Names of Object.prototype are not event routes either.
    expect(() => defineRoutes({ toString: () => 'x' } as never)).toThrow(/unknown event route "toString"/);
  });

  it('accepts every route of the table', () => {
    const handlers = Object.fromEntries(eventRouteNames.map((name) => [name, () => undefined]));
    expect(Object.keys(defineRoutes(handlers).handlers)).toEqual(Object.keys(eventRoutes));
  });

  it('resolves every route of the table into one array, in mount order, empty when nobody defined it', () => {
    const open = () => undefined;
    const a = defineRoutes({ 'websocket:open': open, 'websocket:closed': () => undefined }, 'a');
    const b = defineRoutes({ 'websocket:open': open }, 'b');
    const resolved = resolveEventRoutes([a, b]);
    expect(Object.keys(resolved)).toEqual(eventRouteNames);
    expect(resolved['websocket:open'].map((r) => r.name)).toEqual(['a', 'b']);
    expect(resolved['websocket:closed'].map((r) => r.name)).toEqual(['a']);
    expect(resolved['websocket:message']).toEqual([]);
    expect(resolved['http:request']).toEqual([]);
  });
});
