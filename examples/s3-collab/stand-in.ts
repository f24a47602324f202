/**
 * Story S3's cluster on this machine, for the guide (docs/guides/s3-collab-cluster.md):
 *
 *   node examples/dist/s3-collab/stand-in.js examples/s3-collab/wsgate.yaml
 *
 * starts one stand-in node (./collab-node.ts) per entry of the config's `nodes`, at its `https` and `udp`
 * addresses: `/ofmeet/` and `/pade/` pages, BOSH on `/http-bind/`, WebSockets on `/colibri-ws/` and `/ws/`
 * (a first message naming the node, then an echo), and a video bridge's UDP port answering `<node>:<datagram>`.
 * All over HTTPS with one self-signed certificate, as the nodes' own.
 */
import { hostPort, selfSigned, standInLogger, storyOptions, untilStopped } from '../stand-in.js';
import { startCollabNode } from './collab-node.js';

const options = await storyOptions('examples/dist/s3-collab/stand-in.js');
const nodes = options.nodes;
if (!Array.isArray(nodes) || nodes.length === 0) throw new Error('script.options.nodes: the config names no cluster nodes to stand in for');

const tls = selfSigned('node.internal');
const started = await Promise.all(
  (nodes as { name: string; https: string; udp?: string }[]).map((n) => {
    const https = hostPort(n.https);
    return startCollabNode(n.name, tls, { host: https.host, https: https.port, ...(n.udp !== undefined ? { udp: hostPort(n.udp).port } : {}) });
  }),
);
// Once all are up: whoever waits for the first `listening` line finds the whole cluster.
const log = standInLogger('s3-cluster');
for (const node of started) log.info({ name: node.name, url: node.httpsUrl, udp: node.udpAddress, certificate: 'self-signed' }, 'listening');
untilStopped(() => Promise.all(started.map((n) => n.close())));
