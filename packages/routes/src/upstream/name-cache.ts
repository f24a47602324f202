/**
 * An upstream's host name, resolved at most once per TTL. Node's `net.connect` looks a name up on every
 * connect — a round trip through the thread pool per handshake; nginx resolves its upstreams' names once, at
 * start. Here a node with a name keeps its addresses for {@link NAME_TTL_MS}, so a changed DNS record is
 * still followed. IP literals never come here: `net.connect` skips the lookup for them.
 */
import dns, { type LookupAddress } from 'node:dns';

/** How long resolved addresses are used before the name is looked up again. */
export const NAME_TTL_MS = 30_000;

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** node's `dns.lookup` with `all: true`, or a stand-in with its shape. */
export type Resolve = (hostname: string, options: { all: true }, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void;

export class NameCache {
  private addresses: LookupAddress[] | undefined;
  private expires = 0;

  constructor(private readonly resolve: Resolve = dns.lookup as unknown as Resolve) {}

  /** The addresses in use while they are fresh, for status pages and tests. */
  get cached(): readonly LookupAddress[] | undefined {
    return Date.now() < this.expires ? this.addresses : undefined;
  }

  /** The `lookup` option of `net.connect` / `tls.connect`: answers from the cache while it is fresh. */
  readonly lookup = (hostname: string, options: { family?: number | string; all?: boolean }, callback: LookupCallback): void => {
    if (this.addresses !== undefined && Date.now() < this.expires) {
      process.nextTick(answer, this.addresses, options, callback);
      return;
    }
    this.resolve(hostname, { all: true }, (err, addresses) => {
      if (err || addresses.length === 0) return callback(err ?? Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
      this.addresses = addresses;
      this.expires = Date.now() + NAME_TTL_MS;
      answer(addresses, options, callback);
    });
  };
}

/** Answers in the form net asked for: all addresses (happy eyeballs) or the first of the wanted family. */
function answer(addresses: LookupAddress[], options: { family?: number | string; all?: boolean }, callback: LookupCallback): void {
  const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : Number(options.family ?? 0);
  const fit = family === 4 || family === 6 ? addresses.filter((a) => a.family === family) : addresses;
  if (fit.length === 0) return callback(Object.assign(new Error(`no IPv${family} address`), { code: 'ENOTFOUND' }), []);
  if (options.all) callback(null, fit);
  else callback(null, fit[0]!.address, fit[0]!.family);
}
