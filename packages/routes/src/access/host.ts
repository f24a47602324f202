/**
 * Host check, as the Kamailio route's `if ($hdr(Host) == $null || !is_myself($hdr(Host)))`: a request for
 * a name that is not the gateway's is refused (DNS rebinding, and requests that reached the wrong place).
 */
import { parseHost } from '@wsgate/core';
import { invalidOption, knownKeys } from '../kit/option-checks.js';
import { nothingToClose, shown, type Guard } from '../kit/guard.js';

export interface HostOptions {
  /**
   * Names accepted besides the gateway's own (core's `isMyself()`: the listeners' addresses, `localhost`,
   * the machine's name and the config's `names`). `sip.example.com` accepts any port, `sip.example.com:443`
   * only that one.
   */
  readonly aliases?: readonly string[];
}

/**
 * Refuses (403) requests with no `Host`, or one that is neither the gateway's nor an alias.
 * @example const ownHost = host({ aliases: ['sip.example.com'] });
 * @throws {WsgateError} `WSGATE_CONFIG_INVALID` for an alias that is not a host name.
 */
export function host(options: HostOptions = {}): Guard {
  const o = knownKeys('host()', options, ['aliases']);
  const anyPort = new Set<string>();
  const withPort = new Set<string>();
  const aliases: unknown = o.aliases ?? [];
  if (!Array.isArray(aliases)) throw invalidOption('host().aliases', 'expected a list of host names, e.g. ["sip.example.com"]');
  aliases.forEach((alias: unknown, i) => {
    const parsed = typeof alias === 'string' ? parseHost(alias) : undefined;
    if (!parsed) throw invalidOption(`host().aliases[${i}]`, `${JSON.stringify(alias)} is not a host name, e.g. sip.example.com or sip.example.com:443`);
    if (parsed.port === undefined) anyPort.add(parsed.name);
    else withPort.add(`${parsed.name}:${parsed.port}`);
  });

  const isAlias = (value: string): boolean => {
    const parsed = parseHost(value);
    if (!parsed) return false;
    return anyPort.has(parsed.name) || (parsed.port !== undefined && withPort.has(`${parsed.name}:${parsed.port}`));
  };

  return {
    name: 'host',
    check(req) {
      const value = req.host;
      if (value === undefined) {
        req.refuse(403, 'host', 'no Host header');
        return false;
      }
      if (req.isMyself(value) || isAlias(value)) return true;
      req.refuse(403, 'host', `Host ${shown(value)} is not this gateway`);
      return false;
    },
    close: nothingToClose,
  };
}
