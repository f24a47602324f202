/**
 * Source addresses for the load generator: each phase and server gets its own loopback address
 * (127.0.0.2, .3, …), so ephemeral ports and TIME_WAIT left by one phase never starve the next.
 */
let next = 1; // 127.0.0.2 first: 127.0.0.1 is where the servers listen

export function nextSourceAddress(): string {
  const n = next++;
  if (n > 250 * 254) throw new Error('out of loopback source addresses');
  return `127.0.${Math.floor(n / 254)}.${(n % 254) + 1}`;
}
