#!/bin/sh
# First start: create the cluster with the `app` role whose password comes from
# a compose secret (a file, never an environment variable). Later starts reuse it.
set -eu
: "${PGDATA:=/var/lib/postgresql/data}"
PASSWORD_FILE="${POSTGRES_PASSWORD_FILE:-/run/secrets/db_password}"
DONE="$PGDATA/.hachaos-initialised"
if [ ! -e "$DONE" ]; then
    # An interrupted first start leaves a cluster without the app role: start over.
    find "$PGDATA" -mindepth 1 -delete
    initdb -D "$PGDATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
        --encoding=UTF8 --no-instructions >/dev/null
    {
        echo "listen_addresses = '*'"
        echo "unix_socket_directories = '/tmp'"  # a tmpfs: the root fs is read-only
        echo "fsync = on"
        echo "synchronous_commit = on"
    } >>"$PGDATA/postgresql.conf"
    echo "host all all 0.0.0.0/0 scram-sha-256" >>"$PGDATA/pg_hba.conf"
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    # psql reads the password file itself (\set with backquotes): it never reaches argv.
    psql -v ON_ERROR_STOP=1 -U postgres -d postgres -q <<SQL
\\set pw \`cat $PASSWORD_FILE\`
CREATE ROLE app LOGIN PASSWORD :'pw';
CREATE DATABASE app OWNER app;
SQL
    psql -v ON_ERROR_STOP=1 -U postgres -d app -q <<'SQL'
SET ROLE app;
CREATE TABLE items (id text PRIMARY KEY, body text NOT NULL);
CREATE TABLE hits (k int PRIMARY KEY, n bigint NOT NULL);
CREATE TABLE kv (k text PRIMARY KEY, v text NOT NULL);
CREATE TABLE lists (k text PRIMARY KEY, elements text[] NOT NULL);
INSERT INTO hits VALUES (1, 0);
SQL
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
    touch "$DONE"
fi
exec postgres -D "$PGDATA"
