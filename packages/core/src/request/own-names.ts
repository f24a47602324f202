import { hostname, networkInterfaces } from 'node:os';
import type { GatewayConfig } from '../config/types.js';

/** The names `isMyself()` accepts: configured ones, the per-host certificates' (SNI), the machine's, and the listeners' addresses. */
export function ownNames(config: GatewayConfig, hosts: readonly string[]): string[] {
  const names = new Set<string>(config.names);
  for (const listener of config.listeners) for (const name of Object.keys(listener.tls?.sni ?? {})) names.add(name);
  names.add('localhost');
  names.add(hostname());
  for (const host of hosts) {
    if (host === '0.0.0.0' || host === '::' || host === '') {
      for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) names.add(a.address);
    } else {
      names.add(host);
    }
  }
  return [...names];
}
