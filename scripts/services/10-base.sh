#!/usr/bin/env bash
# The services this kind of machine starts before a session: PostgreSQL, MariaDB, Redis, RabbitMQ.
# They are started again here if they stopped (CI runs after the session's processes were ended).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

if ! port_open 127.0.0.1 5432; then
  log "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start || true
fi
if ! port_open 127.0.0.1 6379; then
  log "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
fi
if ! port_open 127.0.0.1 3306; then
  log "starting MariaDB"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
fi
if ! port_open 127.0.0.1 5672; then
  log "starting RabbitMQ"
  rabbitmq-server -detached || true
fi

wait_for_port 127.0.0.1 5432 PostgreSQL 60
wait_for_port 127.0.0.1 6379 Redis 30
wait_for_port 127.0.0.1 3306 MariaDB 60
wait_for_port 127.0.0.1 5672 RabbitMQ 120

# The test database exists on this kind of machine; create it where it does not.
psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE test' >/dev/null
mariadb -uroot -e 'CREATE DATABASE IF NOT EXISTS test' 2>/dev/null || mysql -uroot -e 'CREATE DATABASE IF NOT EXISTS test'
