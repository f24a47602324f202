/**
 * The S1 route script's options (`script.options` in wsgate.yaml), read once at start: a mistake stops the
 * gateway with a line naming the option and what it expects, never a request later.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WsgateError } from '@wsgate/core';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface KamailioOptions {
  /** The ports WebSockets are served on: Kamailio's `$Rp != 80 && $Rp != 443`. */
  readonly ports: readonly number[];
  /** The digest realm (`www_authorize("example.com", …)`). */
  readonly realm: string;
  /** The htdigest file of the realm's users, absolute. */
  readonly htdigest: string;
  /** Page origins allowed to open a WebSocket (web phones); SIP user agents send none and are let through. */
  readonly origins: readonly string[];
  /** Signs digest nonces; give every gateway behind one name the same one. Random per process when absent. */
  readonly digestSecret: string | undefined;
}

const invalid = (name: string, expected: string) => new WsgateError('WSGATE_SCRIPT_INVALID', `s1-kamailio: script.options.${name}: ${expected}`);

export function readOptions(options: Readonly<Record<string, unknown>>): KamailioOptions {
  const { ports, realm = 'example.com', htdigest = './htdigest', origins, digestSecret } = options;
  if (!Array.isArray(ports) || ports.length === 0 || !ports.every((p) => Number.isInteger(p) && p > 0 && p < 65536)) {
    throw invalid('ports', 'list the ports WebSockets are served on, e.g. [8080, 8443]');
  }
  if (typeof realm !== 'string' || realm === '') throw invalid('realm', 'expected the digest realm, e.g. example.com');
  if (typeof htdigest !== 'string' || htdigest === '') throw invalid('htdigest', 'expected the path of an htdigest file');
  if (!Array.isArray(origins) || origins.length === 0 || !origins.every((o) => typeof o === 'string')) {
    throw invalid('origins', 'list the page origins allowed to connect, e.g. [https://phone.example.com]');
  }
  if (digestSecret !== undefined && typeof digestSecret !== 'string') throw invalid('digestSecret', 'expected a string of at least 32 bytes');
  // Relative to this folder, as the example's wsgate.yaml is.
  return { ports, realm, htdigest: path.resolve(here, htdigest), origins, digestSecret };
}
