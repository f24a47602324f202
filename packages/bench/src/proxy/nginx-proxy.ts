/**
 * The benchmark's nginx: `worker_processes auto`, every request proxied to the upstream with the Upgrade
 * headers; with `tls`, a second server on `tls.port` terminating TLS 1.3 with the given certificate (the one
 * wsgate's TLS listener has) and the session cache and tickets a production nginx would have.
 */
import { Nginx } from '@wsgate/test-kit';

export interface NginxTls {
  readonly port: number;
  /** PEM files. */
  readonly cert: string;
  readonly key: string;
}

export function startNginxProxy(listenPort: number, upstreamPort: number, tls?: NginxTls): Promise<Nginx> {
  const location = `
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $http_host;
      proxy_read_timeout 86400;
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
