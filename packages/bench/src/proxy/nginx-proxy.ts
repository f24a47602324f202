/**
 * The benchmark's nginx: `worker_processes auto`, every request proxied to the upstream with the Upgrade
 * headers; with `tls`, a second server on `tls.port` terminating TLS 1.3 with the given certificate (the one
 * wsgate's TLS listener has) and the session cache and tickets a production nginx would have. With `tuned`,
 * the 16k proxy buffers issue 17 compares throughput with (TUNED_BUFFERS).
 */
import { Nginx } from '@wsgate/test-kit';

export interface NginxTls {
  readonly port: number;
  /** PEM files. */
  readonly cert: string;
  readonly key: string;
}

/**
 * nginx's tuned configuration for a WebSocket tunnel: an upgraded connection is copied through two buffers of
 * `proxy_buffer_size` (one each way; the default is one memory page, 4k here), so 16k moves four times as much
 * per read and write; `proxy_buffers` sizes buffered responses only and is set to match, as commonly paired.
 */
export const TUNED_BUFFERS = ['proxy_buffer_size 16k;', 'proxy_buffers 4 16k;'] as const;

export function startNginxProxy(listenPort: number, upstreamPort: number, tls?: NginxTls, tuned = false): Promise<Nginx> {
  const buffers = tuned ? TUNED_BUFFERS.map((line) => `\n      ${line}`).join('') : '';
  const location = `
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $http_host;
      proxy_read_timeout 86400;${buffers}
    }`;
  const secure = tls
    ? `
  server {
    listen 127.0.0.1:${tls.port} ssl backlog=4096;
    ssl_certificate ${tls.cert};
    ssl_certificate_key ${tls.key};
    ssl_protocols TLSv1.3;
    ssl_session_cache shared:SSL:10m;
    ssl_session_tickets on;${location}
  }`
    : '';
  return Nginx.start({
    workers: 'auto',
    waitPorts: tls ? [listenPort, tls.port] : [listenPort],
    http: `
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream backend { server 127.0.0.1:${upstreamPort}; }
  server {
    listen 127.0.0.1:${listenPort} backlog=4096;${location}
  }${secure}`,
  });
}
