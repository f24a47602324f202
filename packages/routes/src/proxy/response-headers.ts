/** What of an upstream's response head goes back to the client, for every kind of relay. */

/** Framing and connection management belong to each hop: the gateway's own side sets them. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

/**
 * The upstream's headers as a flat list (`[name, value, …]`, names as received, repeats kept: `Set-Cookie`),
 * without hop-by-hop headers, those the upstream's `Connection` names, and any in `omit` (lower case).
 */
export function relayedResponseHeaders(rawHeaders: readonly string[], omit?: ReadonlySet<string>): string[] {
  let named: Set<string> | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() !== 'connection') continue;
    for (const t of rawHeaders[i + 1]!.split(',')) (named ??= new Set()).add(t.trim().toLowerCase());
  }
  const out: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const lower = rawHeaders[i]!.toLowerCase();
    if (HOP_BY_HOP.has(lower) || named?.has(lower) || omit?.has(lower)) continue;
    out.push(rawHeaders[i]!, rawHeaders[i + 1]!);
  }
  return out;
}

/** A response head for a raw socket: status line, the headers, then the blank line. */
export function formatHead(status: number, statusText: string, headers: readonly string[]): string {
  let head = `HTTP/1.1 ${status} ${statusText}\r\n`;
  for (let i = 0; i + 1 < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${head}\r\n`;
}
