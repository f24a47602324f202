import type { Gateway, ViewHandle, ViewRow } from '@wsgate/core';
import type { Registrar, RegistrationFilter } from '../registrar/registrar.js';

/**
 * `wsgate ctl registrations [--aor sip:alice@example.com] [--user alice] [--connection 42]`, as Kamailio's
 * `kamcmd ul.dump`: this node's bindings, one a row — AOR, contact, the connection of its flow, that
 * connection's client address, and the seconds until it lapses. In a cluster each worker lists its own and
 * the primary joins them. Call `remove()` on the handle from `routes:close`.
 */
export function registrationsView(gateway: Pick<Gateway, 'views' | 'connections'>, registrar: Pick<Registrar, 'list'>): ViewHandle {
  return gateway.views.add({
    name: 'registrations',
    help: 'SIP bindings held for flows on this gateway: AOR, contact, connection, client, seconds left',
    filters: ['aor', 'user', 'connection'],
    async list(filter) {
      const wanted: { -readonly [K in keyof RegistrationFilter]: RegistrationFilter[K] } = {};
      if (filter.aor !== undefined) wanted.aor = filter.aor;
      if (filter.user !== undefined) wanted.user = filter.user;
      if (filter.connection !== undefined) {
        // A RangeError is the management API's 400.
        if (!/^\d{1,15}$/.test(filter.connection)) throw new RangeError(`connection must be a connection id such as 42, got "${filter.connection}"`);
        wanted.connectionId = Number(filter.connection);
      }
      const now = Date.now();
      const rows: ViewRow[] = [];
      for (const r of await registrar.list(wanted)) {
        const conn = r.connectionId === undefined ? undefined : await gateway.connections.get(r.connectionId);
        rows.push({
          aor: r.aor,
          contact: r.contact,
          connection: r.connectionId ?? null,
          client: conn ? `${conn.remoteAddress}:${conn.remotePort}` : null,
          expiresIn: Math.max(0, Math.round((r.expiresAt - now) / 1000)),
        });
      }
      return rows;
    },
  });
}
