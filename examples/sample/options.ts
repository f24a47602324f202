/**
 * The sample route's options (`script.options` in wsgate.yaml), read once at start: a mistake stops the
 * gateway with a line naming the option and what it expects.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WsgateError } from '@wsgate/core';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface SampleOptions {
  /** the ports served (Kamailio's `$Rp != 80 && $Rp != 443`); every listener's when absent */
  readonly ports: readonly number[] | undefined;
  readonly sip: {
    /** the SIP domain of the registrar and proxy, also the digest realm */
    readonly domain: string;
    /** the htdigest file of its users, absolute */
    readonly htdigest: string;
  };
}

const invalid = (name: string, expected: string) => new WsgateError('WSGATE_SCRIPT_INVALID', `script.options.${name}: ${expected}`);

export function sampleOptions(options: Readonly<Record<string, unknown>>): SampleOptions {
  const { ports, sip = {} } = options;
  if (ports !== undefined && !(Array.isArray(ports) && ports.every((p) => Number.isInteger(p) && p > 0 && p < 65536))) {
    throw invalid('ports', 'must be a list of port numbers, e.g. [8080, 8443]');
  }
  if (typeof sip !== 'object' || sip === null || Array.isArray(sip)) throw invalid('sip', 'expected { domain, htdigest }');
  const { domain = 'example.com', htdigest = '../s1-kamailio/htdigest' } = sip as Record<string, unknown>;
  if (typeof domain !== 'string' || !/^[a-z0-9.-]+$/i.test(domain)) throw invalid('sip.domain', 'expected a domain name, e.g. example.com');
  if (typeof htdigest !== 'string' || htdigest === '') throw invalid('sip.htdigest', 'expected the path of an htdigest file (user:realm:HA1 lines)');
  // Relative to this folder, as the sample's wsgate.yaml is.
  return { ports: ports as number[] | undefined, sip: { domain, htdigest: path.resolve(here, htdigest) } };
}
