/** The benchmark's nginx: `worker_processes auto`, every request proxied to the upstream with the Upgrade headers. */
import { Nginx } from '@wsgate/test-kit';

export function startNginxProxy(listenPort: number, upstreamPort: number): Promise<Nginx> {
  return Nginx.start({
    workers: 'auto',
    waitPorts: [listenPort],
    http: `
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  upstream backend { server 127.0.0.1:${upstreamPort}; }
  server {
    listen 127.0.0.1:${listenPort} backlog=4096;
    location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $http_host;
      proxy_read_timeout 86400;
    }
  }`,
  });
}
