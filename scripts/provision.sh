#!/usr/bin/env bash
# Installs the Debian packages lbcheck's lab needs (the tests, `npm run demo`,
# `npm run bench`) when they are missing; with --with-redis also Redis, and
# starts one on 127.0.0.1:6379 if none answers. Used by .ci/run and by
# `npm run demo`, so both provision a fresh machine the same way. Safe to run
# again on a provisioned machine: it then installs nothing.
set -euo pipefail

with_redis=0
for arg in "$@"; do
  case "$arg" in
    --with-redis) with_redis=1 ;;
    *) echo "usage: scripts/provision.sh [--with-redis]" >&2; exit 2 ;;
  esac
done

need_pkgs=()
need() { # need <command-path> <debian-package>
  [ -x "$1" ] || need_pkgs+=("$2")
}
need /usr/sbin/ip iproute2
need /usr/sbin/iptables iptables
need /usr/sbin/sshd openssh-server
need /usr/bin/ssh-keygen openssh-client
need /usr/bin/tcpdump tcpdump
need /usr/sbin/haproxy haproxy
need /usr/sbin/nginx nginx
need /usr/bin/setpriv util-linux
need /usr/bin/openssl openssl
# The busy-LB fault (thousands of SYNs a second) and the bench's shell procedure.
need /usr/sbin/hping3 hping3
need /usr/bin/curl curl
# The lab LB's HAProxy runtime API is read with socat, as on most HAProxy hosts.
need /usr/bin/socat socat
# An unprivileged LB account in the lab runs tcpdump and the LB view through sudo -n.
need /usr/bin/sudo sudo
# The evidence tests: tshark reads the merged two-vantage pcapng; headless Chromium renders each check's page.
need /usr/bin/tshark tshark
need /usr/bin/chromium chromium
if [ "$with_redis" = 1 ]; then
  need /usr/bin/redis-server redis-server
  need /usr/bin/redis-cli redis-tools
  # The alert receiver's lab test fires real alerts through a real Alertmanager (amtool comes with it).
  need /usr/bin/prometheus-alertmanager prometheus-alertmanager
  # The deploy tests check the systemd units with systemd-analyze verify (no running systemd needed).
  need /usr/bin/systemd-analyze systemd
fi

if [ "${#need_pkgs[@]}" -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "provision: missing Debian packages ${need_pkgs[*]}; run this as root (e.g. sudo npm run demo) to install them" >&2
    exit 1
  fi
  echo "provision: installing ${need_pkgs[*]}"
  # Packages must not start their services (sshd, nginx, haproxy, redis) on
  # the host: the lab starts its own inside network namespaces.
  added_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    added_policy=1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
  if [ "$added_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
fi

# The tests use the Redis on 127.0.0.1:6379; start one if none answers.
if [ "$with_redis" = 1 ] && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "provision: starting redis-server on 127.0.0.1:6379"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
