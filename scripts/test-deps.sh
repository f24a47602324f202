#!/usr/bin/env bash
# What the tests meet as real peers, from Debian's packages: nginx (the proxy and TLS stories side by side),
# openssl (test certificates), chromium (the browser stories), curl (the guides' commands, run as written), kamailio
# with its websocket module (the SIP benchmark's peer and its test), iproute2 (the browser phones' Chromium runs in
# a network namespace with loopback only, so their media can use no other interface), redis-server (the Redis store's
# tests, on loopback ports of their own), haproxy (the L4 balancer, TCP mode with the PROXY protocol, in front of
# several gateways). Installs the missing ones when this user may
# (root with apt-get); otherwise stops at once, naming them. `npm test` runs it first, and so does CI.
set -euo pipefail
needed=(/usr/sbin/nginx:nginx /usr/bin/openssl:openssl /usr/bin/chromium:chromium /usr/bin/curl:curl /usr/sbin/kamailio:kamailio
  '/usr/lib/*/kamailio/modules/websocket.so:kamailio-websocket-modules' /usr/sbin/ip:iproute2
  /usr/bin/redis-server:redis-server /usr/sbin/haproxy:haproxy)
missing=()
for entry in "${needed[@]}"; do
  # A path may be a pattern (a module under the architecture's lib folder): any match will do.
  compgen -G "${entry%%:*}" >/dev/null || missing+=("${entry#*:}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "test-deps: installing ${missing[*]} (Debian packages the tests run against)" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  exit 0
fi
echo "test-deps: the tests need these Debian packages: ${missing[*]}" >&2
echo "test-deps: install them (as root: apt-get install ${missing[*]}) and run the tests again" >&2
exit 1
