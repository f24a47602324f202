/**
 * Why a pool or relay is retired: the argument of core's `routes:close` route, passed on as is
 * (`'routes:close': (reason) => pool.retire(reason)`).
 *
 * - `'reload'`: a new route set has taken over. Timers stop (health checks), ports go to the new set's relays,
 *   idle kept connections close; open tunnels and requests in flight carry on — a reload drops nothing.
 * - `'shutdown'`: the gateway is closing. Tunnels end now: 1001 Going Away both ways (raw mode: at a frame
 *   boundary of each direction), then the closing handshake, at most `SHUTDOWN_CUT_MS`.
 */
export type RetireReason = 'reload' | 'shutdown';

/** How long a tunnel or session may take to close cleanly on shutdown before it is cut. */
export const SHUTDOWN_CUT_MS = 2000;
