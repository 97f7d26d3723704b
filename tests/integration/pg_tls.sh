#!/usr/bin/env bash
# TLS to PostgreSQL: the test makes its own CA and server certificate with openssl, starts its own cluster with
# ssl=on that accepts only hostssl connections, and shows that sslmode=verify-full with the right sslrootcert
# scans (and --init-db works over it), that a wrong CA is refused with reason connect and a clear error, and that
# no secret (password, conninfo) appears in any message.
source "$(dirname "$0")/../lib/itest.sh"
command -v openssl >/dev/null || { echo "not ok - openssl is missing (tests/lib/deps.sh installs it)"; exit 1; }
D=$T_DIR/tls
mkdir -p "$D"
cd "$D" || exit 1

# --- certificates: a CA, a server cert for localhost/127.0.0.1 signed by it, and an unrelated CA ---
mkca() { # name
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=pii-auditd test $1" -keyout "$1.key" \
        -out "$1.crt" -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
        2>/dev/null
}
mkca ca
mkca wrong-ca
openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >ext.cnf
openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile ext.cnf \
    -out server.crt 2>/dev/null
[ -s server.crt ] && ok "CA and server certificate made with openssl" || not_ok "certificate generation failed"

# --- a TLS-only cluster on a free port ---
port=$(pa_free_port $((PA_PGPORT + 40)))
if [ "$(id -u)" = 0 ]; then chown postgres: "$D"; fi
pa__as_pg "$PA_PG_BIN/initdb" -D "$D/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$D/initdb.log" 2>&1 ||
    { cat "$D/initdb.log"; not_ok "initdb"; t_done; }
cp server.crt server.key ca.crt "$D/data/"
if [ "$(id -u)" = 0 ]; then chown postgres: "$D/data/server.crt" "$D/data/server.key" "$D/data/ca.crt"; fi
chmod 600 "$D/data/server.key"
cat >>"$D/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$D'
fsync = off
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
ssl_min_protocol_version = 'TLSv1.2'
log_connections = on
CONF
# TCP only over TLS; the Unix socket (for this test's own psql) stays trusted
cat >"$D/data/pg_hba.conf" <<HBA
local   all all                trust
hostssl all all 127.0.0.1/32   trust
hostnossl all all 0.0.0.0/0    reject
HBA
stop_tls() { pa__as_pg "$PA_PG_BIN/pg_ctl" -D "$D/data" -m immediate -w stop >/dev/null 2>&1; }
trap 'stop_tls; t_cleanup' EXIT
pa__as_pg "$PA_PG_BIN/pg_ctl" -D "$D/data" -l "$D/server.log" -w -t 60 start >/dev/null ||
    { tail -20 "$D/server.log"; not_ok "TLS cluster start"; t_done; }
ok "TLS-only cluster on 127.0.0.1:$port"
tpsql() { psql -X -q -v ON_ERROR_STOP=1 -h "$D" -p "$port" -U postgres -d postgres "$@"; }
tpsql -c "CREATE TABLE hooks (id bigint PRIMARY KEY, payload jsonb);
          INSERT INTO hooks VALUES (1, '{\"email\": \"tls.canary@example.org\"}'), (2, '{\"n\": 1}');"

SECRET=TlsS3cretCanary
conf() { # sslmode rootcert -> config path
    cat >"$T_DIR/tls-$1-$(basename "$2").yaml" <<YAML
database:
  conninfo: "host=localhost port=$port dbname=postgres user=postgres password=$SECRET sslmode=$1 sslrootcert=$2"
scan:
  batch_size: 100
surfaces:
  - {table: hooks, column: payload}
YAML
    echo "$T_DIR/tls-$1-$(basename "$2").yaml"
}

GOOD=$(conf verify-full "$D/ca.crt")
t_run --config "$GOOD" --init-db
t_rc 0 "--init-db over verify-full"
t_run --config "$GOOD" --scan-once --full --output json
t_rc 1 "scan over sslmode=verify-full with the right CA: findings"
t_eq "$(jq -r '.surfaces[0].status' "$T_DIR/out")" "ok" "the surface was read"
t_eq "$(tpsql -A -t -c "SELECT count(*) FROM pii_audit.findings WHERE category = 'email'")" "1" "the finding is stored"
t_grep "connection authorized: user=postgres database=postgres application_name=pii-auditd SSL enabled" "$D/server.log" \
    "the server log shows pii-auditd connected with SSL"

# plain TCP is refused by this server, so the success above was TLS
PLAIN=$(conf disable "$D/ca.crt")
t_run --config "$PLAIN" --scan-once --output json
t_rc 3 "sslmode=disable against the TLS-only server: refused"
t_eq "$(jq -r '.error.reason' "$T_DIR/out")" "connect" "reason connect"

BAD=$(conf verify-full "$D/wrong-ca.crt")
t_run --config "$BAD" --scan-once --output json
t_rc 3 "verify-full with a wrong CA: refused"
t_eq "$(jq -r '.error.reason' "$T_DIR/out")" "connect" "reason connect"
t_grep "certificate verify failed" "$T_DIR/err" "the error says the certificate could not be verified"
t_run --config "$BAD" --print-grants
t_grep "certificate verify failed" "$T_DIR/err" "--print-grants says so too"
MISSING=$(conf verify-full "$D/no-such-ca.crt")
t_run --config "$MISSING" --scan-once --output json
t_rc 3 "verify-full with a missing root certificate file: refused"
t_grep "root certificate file .*no-such-ca.crt.* does not exist" "$T_DIR/err" "the error names the missing file"

for f in "$T_DIR/all-out" "$T_DIR/all-err"; do
    t_nogrep "$SECRET" "$f" "the password is in no output ($(basename "$f"))"
    t_nogrep "password=" "$f" "no conninfo in any output ($(basename "$f"))"
    t_nogrep "tls.canary" "$f" "the scanned value is in no output ($(basename "$f"))"
done
t_done
