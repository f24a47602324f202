/**
 * How many of each command a Redis has run (`INFO commandstats`), read over a plain socket in RESP: what the
 * benchmark's gateways cost Redis per handshake or message, a count that the machine's load does not blur.
 * With them, under {@link ROUND_TRIPS}, the reads Redis made from its clients' sockets (`total_reads_processed`
 * of `INFO stats`): one per batch of commands a client wrote, so the round trips; and under {@link REDIS_CPU} the
 * CPU time redis-server used (`used_cpu_sys` + `used_cpu_user` of `INFO cpu`, µs): on a shared machine, what
 * Redis takes from the cores the gateway and the load generator also run on.
 */
import net from 'node:net';

const TIMEOUT_MS = 5000;
/** The pseudo-command under which `commandCounts` answers Redis's reads from its clients. */
export const ROUND_TRIPS = 'round-trips';
/** The pseudo-command under which `commandCounts` answers redis-server's CPU time, µs. */
export const REDIS_CPU = 'redis-cpu-µs';

/** Calls by command name (lower case: `get`, `multi`, …), {@link ROUND_TRIPS} and {@link REDIS_CPU} since the server started. */
export function commandCounts(port: number): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = Buffer.alloc(0);
    const fail = (err: Error) => (socket.destroy(), reject(err));
    socket.setTimeout(TIMEOUT_MS, () => fail(new Error(`redis :${port}: no INFO answer in ${TIMEOUT_MS} ms`)));
    socket.once('error', fail);
    socket.once('connect', () => socket.write('*4\r\n$4\r\nINFO\r\n$12\r\ncommandstats\r\n$5\r\nstats\r\n$3\r\ncpu\r\n'));
    socket.on('data', (chunk: Buffer) => {
      reply = Buffer.concat([reply, chunk]);
      // A bulk string: `$<length>\r\n<text>\r\n`.
      const head = reply.indexOf('\r\n');
      if (head === -1) return;
      if (reply[0] !== 0x24) return fail(new Error(`redis :${port}: INFO answered ${reply.toString('latin1', 0, head)}`));
      const length = Number(reply.toString('latin1', 1, head));
      if (reply.length < head + 2 + length) return;
      socket.end();
      const counts: Record<string, number> = {};
      for (const line of reply.toString('latin1', head + 2, head + 2 + length).split('\r\n')) {
        const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
        if (m) counts[m[1]!] = Number(m[2]);
        const reads = /^total_reads_processed:(\d+)/.exec(line);
        if (reads) counts[ROUND_TRIPS] = Number(reads[1]);
        const cpu = /^used_cpu_(?:sys|user):([\d.]+)$/.exec(line);
        if (cpu) counts[REDIS_CPU] = (counts[REDIS_CPU] ?? 0) + Math.round(Number(cpu[1]) * 1e6);
      }
      resolve(counts);
    });
  });
}

/** What was run between two counts, per `per` (handshakes, messages), commands with none left out. */
export function commandsPer(before: Record<string, number>, after: Record<string, number>, per: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, calls] of Object.entries(after)) {
    const n = (calls - (before[name] ?? 0)) / Math.max(1, per);
    if (n >= 0.005) out[name] = Number(n.toFixed(2));
  }
  return out;
}
