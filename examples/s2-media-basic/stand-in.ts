/**
 * Story S2's upstreams on this machine, for the guide (docs/guides/s2-media-server.md):
 *
 *   node examples/dist/s2-media-basic/stand-in.js examples/s2-media-basic/wsgate.yaml
 *
 * starts the media server stand-in (wss, self-signed; answers each message `<message> from the media server,
 * client <X-Client-IP>`) at the config's `upstream`, and the REST hook (admits everyone, printing each session)
 * at its `hook`. The cookie variant's config names the same two addresses.
 */
import { hostPort, standInLogger, storyOptions, untilStopped } from '../stand-in.js';
import { startHookService, startMediaServer } from './media-peers.js';

const options = await storyOptions('examples/dist/s2-media-basic/stand-in.js');
if (typeof options.upstream !== 'string') throw new Error('script.options.upstream: the config names no media server to stand in for');

const log = standInLogger('s2-media');
const [media, hook] = await Promise.all([
  startMediaServer(hostPort(options.upstream)),
  typeof options.hook === 'string' ? startHookService(hostPort(options.hook)) : undefined,
]);
log.info({ name: 'media server', url: media.url, certificate: 'self-signed' }, 'listening');
if (hook) {
  hook.decide = (session) => {
    log.info({ client: session.session, path: session.path }, 'REST hook admitted');
    return 200;
  };
  log.info({ name: 'REST hook', url: hook.url, admits: 'everyone' }, 'listening');
}
untilStopped(() => Promise.all([media.close(), hook?.close()]));
