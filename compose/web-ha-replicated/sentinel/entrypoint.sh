#!/bin/sh
# Write a fresh sentinel.conf from the environment and start Sentinel.
# Sentinel rewrites its config file at run time (known peers, current primary),
# so it must be a writable file, created here on every start.
set -eu
name=${SENTINEL_MASTER_NAME:-mymaster}
host=${SENTINEL_MASTER_HOST:-redis-primary}
port=${SENTINEL_MASTER_PORT:-6379}
quorum=${SENTINEL_QUORUM:-2}
down_after=${SENTINEL_DOWN_AFTER_MS:-2000}
failover_timeout=${SENTINEL_FAILOVER_TIMEOUT_MS:-4000}
for n in "$port" "$quorum" "$down_after" "$failover_timeout"; do
  case $n in '' | *[!0-9]*) echo "sentinel: not a number: $n" >&2; exit 2 ;; esac
done
case $name$host in *[!A-Za-z0-9._-]*) echo "sentinel: bad name or host" >&2; exit 2 ;; esac
mkdir -p /var/lib/sentinel
conf=/var/lib/sentinel/sentinel.conf
cat >"$conf" <<CONF
port 26379
bind 0.0.0.0
protected-mode no
dir /var/lib/sentinel
sentinel resolve-hostnames yes
sentinel monitor $name $host $port $quorum
sentinel down-after-milliseconds $name $down_after
sentinel failover-timeout $name $failover_timeout
sentinel parallel-syncs $name 1
CONF
exec redis-sentinel "$conf"
