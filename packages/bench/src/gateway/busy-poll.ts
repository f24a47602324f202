/**
 * Keeps the load generator's event loop from sleeping while a load runs: libuv polls with a zero timeout
 * between turns instead of blocking in epoll_wait.
 *
 * Why: on loopback, the kernel charges a server's send to the server, including waking the client's
 * thread when it sleeps on the other core. A slower server leaves the client idle more often, so each of
 * its sends costs more: a cost that clients on other machines never put on a server, and one that grows
 * any difference between two servers (measured: 4.5 µs of extra route work per handshake showed as
 * 12.4 µs more server CPU with a sleeping client). Only for a client with a core of its own (pinned): on a
 * shared core, spinning would take CPU from the server.
 */
export function busyPoll(): () => void {
  let on = true;
  const turn = (): void => {
    if (on) setImmediate(turn);
  };
  setImmediate(turn);
  return () => {
    on = false;
  };
}
