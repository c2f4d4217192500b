# Sourced by .ci/run (and usable by hand): a throwaway PostgreSQL cluster on 127.0.0.1:54329.
# Exports REGLAMENT_TEST_POSTGRES for the store tests.
start_postgres() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  if [ -z "$bin" ]; then
    echo "PostgreSQL is not installed" >&2
    return 1
  fi
  PGDIR=$(mktemp -d /tmp/reglament-pg.XXXXXX)
  chown postgres "$PGDIR" 2>/dev/null || true
  local as=()
  if [ "$(id -u)" = 0 ]; then as=(runuser -u postgres --); fi
  "${as[@]}" "$bin/initdb" -D "$PGDIR/data" -A trust -U postgres >/dev/null
  "${as[@]}" "$bin/pg_ctl" -D "$PGDIR/data" \
    -o "-p 54329 -k $PGDIR -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on" \
    -l "$PGDIR/log" -w start >/dev/null
  export REGLAMENT_TEST_POSTGRES="postgres://postgres@127.0.0.1:54329/postgres"
  echo "PostgreSQL ready at $REGLAMENT_TEST_POSTGRES"
}
