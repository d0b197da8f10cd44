#!/bin/sh
# Writes PgBouncer's user list from the environment, so the password is in neither the image nor
# the repository, then runs PgBouncer in the foreground (logging to stderr).
set -eu
: "${PGBOUNCER_USER:?}" "${PGBOUNCER_PASSWORD:?}"
umask 077
printf '"%s" "%s"\n' "$PGBOUNCER_USER" "$PGBOUNCER_PASSWORD" >/run/pgbouncer/userlist.txt
exec pgbouncer /etc/pgbouncer/pgbouncer.ini
