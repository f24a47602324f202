/**
 * Story S4's service on this machine, for the guide (docs/guides/s4-tls-terminator.md):
 *
 *   node examples/dist/s4-tls-terminator/stand-in.js examples/s4-tls-terminator/wsgate.yaml
 *
 * a plain `ws` echo service at the config's `upstream` (ws://127.0.0.1:9000), standing in for yours: it never
 * sees TLS. A plain GET gets the `ws` library's own `426 Upgrade Required`.
 */
import { once } from 'node:events';
import { WebSocketServer } from 'ws';
import { hostPort, standInLogger, storyOptions, untilStopped } from '../stand-in.js';

const options = await storyOptions('examples/dist/s4-tls-terminator/stand-in.js');
const upstream = typeof options.upstream === 'string' ? options.upstream : 'ws://127.0.0.1:9000'; // the script's own default

const server = new WebSocketServer(hostPort(upstream));
server.on('connection', (ws) => {
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
await once(server, 'listening');
standInLogger('s4-service').info({ name: 'ws echo service', url: upstream }, 'listening');
untilStopped(async () => {
  for (const ws of server.clients) ws.terminate();
  await new Promise((resolve) => server.close(resolve));
});
