#!/usr/bin/env bash
# The metrics endpoint driven by curl, as Prometheus and an operator would: basic auth, TLS (openssl-made CA, server
# and client certificates), mutual TLS, routes and methods, /ready toggling, a 64 KB header, 200 concurrent
# connections, promtool on the output, start-up errors. Runs tests/unit/http_serve (a test helper around
# pa_http_start). No database: tests/lib/itest.sh would skip (exit 77) without the test cluster, so only its check
# helpers (tests/lib/tap.sh) are used.
set -uo pipefail

PA_SOURCE_ROOT=${PA_SOURCE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
PA_BUILD_ROOT=${PA_BUILD_ROOT:-$PA_SOURCE_ROOT/build}
SERVE=${PA_HTTP_SERVE:-$PA_BUILD_ROOT/tests/http_serve}

source "$PA_SOURCE_ROOT/tests/lib/tap.sh"
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/pa-${T_NAME}.XXXXXX")
SERVE_PID=

cleanup() {
    [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null
    if [ "$T_FAILS" -eq 0 ] && [ -z "${PA_KEEP:-}" ]; then rm -rf "$T_DIR"; fi
}
trap cleanup EXIT

t_fail_context() { echo "  --- server stderr:"; sed 's/^/  | /' "$T_DIR/serve.err" 2>/dev/null | tail -20; }

for tool in curl openssl; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is needed" >&2; exit 1; }
done
[ -x "$SERVE" ] || { echo "FAIL: $SERVE is not built (set PA_HTTP_SERVE)" >&2; exit 1; }

# --- fixtures -------------------------------------------------------------------------------------------------------
D=$T_DIR
PW='s3cret pass:with colon'
HASH=$("$SERVE" --bcrypt "$PW" 10) || { echo "FAIL: cannot make a bcrypt hash" >&2; exit 1; }

certs() {
    local o=(-days 2 -nodes -sha256) # short-lived, unencrypted test keys
    openssl req -x509 -newkey rsa:2048 "${o[@]}" -keyout "$D/ca.key" -out "$D/ca.crt" -subj "/CN=pa test CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    openssl req -x509 -newkey rsa:2048 "${o[@]}" -keyout "$D/rogue.key" -out "$D/rogue.crt" -subj "/CN=rogue CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    openssl req -newkey rsa:2048 -nodes -keyout "$D/server.key" -out "$D/server.csr" -subj "/CN=localhost"
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$D/server.ext"
    openssl x509 -req -in "$D/server.csr" -CA "$D/ca.crt" -CAkey "$D/ca.key" -CAcreateserial -days 2 -sha256 \
        -extfile "$D/server.ext" -out "$D/server.crt"
    printf 'extendedKeyUsage=clientAuth\n' >"$D/client.ext"
    openssl req -newkey rsa:2048 -nodes -keyout "$D/client.key" -out "$D/client.csr" -subj "/CN=prometheus"
    openssl x509 -req -in "$D/client.csr" -CA "$D/ca.crt" -CAkey "$D/ca.key" -CAcreateserial -days 2 -sha256 \
        -extfile "$D/client.ext" -out "$D/client.crt"
    openssl req -newkey rsa:2048 -nodes -keyout "$D/evil.key" -out "$D/evil.csr" -subj "/CN=prometheus"
    openssl x509 -req -in "$D/evil.csr" -CA "$D/rogue.crt" -CAkey "$D/rogue.key" -CAcreateserial -days 2 -sha256 \
        -extfile "$D/client.ext" -out "$D/evil.crt"
}
certs >"$D/openssl.log" 2>&1 || { cat "$D/openssl.log" >&2; echo "FAIL: openssl" >&2; exit 1; }

# A configuration with the given metrics section (the database is never contacted by the helper).
config() {
    cat >"$D/pa.yaml" <<YAML
database:
  conninfo: "dbname=unused"
surfaces:
  - {table: t, column: c}
scan:
  interval: 15m
$1
YAML
}

# Start the helper; PORT is its first port.
serve() {
    : >"$D/serve.out"
    PA_HTTP_LISTEN=${LISTEN:-127.0.0.1:0} "$SERVE" "$D/pa.yaml" >"$D/serve.out" 2>"$D/serve.err" &
    SERVE_PID=$!
    for _ in $(seq 100); do
        grep -q '^port ' "$D/serve.out" && break
        kill -0 "$SERVE_PID" 2>/dev/null || break
        sleep 0.05
    done
    PORT=$(awk '/^port /{print $2; exit}' "$D/serve.out")
    [ -n "$PORT" ] || { not_ok "the helper started"; t_done; }
}

stop() {
    kill -TERM "$SERVE_PID"
    wait "$SERVE_PID"
    t_eq "$?" 0 "$1: SIGTERM stops the endpoint cleanly"
    SERVE_PID=
}

code() { curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@"; }

# --- plain HTTP with basic auth ---------------------------------------------------------------------------------------
config "metrics:
  basic_auth_users:
    prometheus: \"$HASH\"
    other: '\$2y\$04\$abcdefghijklmnopqrstuu5CmRbJQzu3EfGKz4cSTXqtAJY2hOp7a'"
serve
U="http://127.0.0.1:$PORT"
t_eq "$(code "$U/metrics")" 401 "auth: no credentials is 401"
curl -s -D "$D/h401" -o /dev/null "$U/metrics"
t_grep '^WWW-Authenticate: Basic realm="pii-auditd"' "$D/h401" "auth: 401 carries the Basic challenge"
t_eq "$(code -u "prometheus:wrong" "$U/metrics")" 401 "auth: wrong password is 401"
t_eq "$(code -u "nobody:$PW" "$U/metrics")" 401 "auth: unknown user is 401"
t_eq "$(code -u "prometheus:$PW" "$U/metrics")" 200 "auth: right credentials are 200"
t_eq "$(code "$U/healthz")" 200 "auth: /healthz needs no credentials"
t_eq "$(code "$U/ready")" 401 "auth: /ready needs credentials"
t_eq "$(code "$U/")" 401 "auth: / needs credentials"

A=(-u "prometheus:$PW")
curl -s "${A[@]}" -D "$D/hm" -o "$D/metrics.txt" "$U/metrics"
t_grep '^Content-Type: text/plain; version=0.0.4; charset=utf-8' "$D/hm" "/metrics content type"
t_grep '^pii_auditd_scans_total 2$' "$D/metrics.txt" "/metrics renders the registry"
t_grep '^process_start_time_seconds ' "$D/metrics.txt" "/metrics has the process metrics"
if command -v promtool >/dev/null; then
    if promtool check metrics <"$D/metrics.txt" >"$D/promtool.out" 2>&1; then ok "promtool check metrics"
    else not_ok "promtool check metrics: $(head -5 "$D/promtool.out")"; fi
else
    echo "# promtool not installed: skipped"
fi
t_eq "$(code "${A[@]}" -I "$U/metrics")" 200 "HEAD /metrics"
t_eq "$(curl -s "${A[@]}" "$U/healthz")" ok "/healthz says ok"
t_eq "$(code "${A[@]}" "$U/nothing")" 404 "unknown path is 404"
t_eq "$(code "${A[@]}" "$U/metrics/../metrics")" 200 "curl normalizes dot segments itself"
t_eq "$(code "${A[@]}" --path-as-is "$U/metrics/../../etc/passwd")" 404 "no traversal"
t_eq "$(code "${A[@]}" "$U/metrics?format=x")" 200 "query strings are ignored"
t_eq "$(code "${A[@]}" -X POST -d x=1 "$U/metrics")" 405 "POST /metrics is 405"
curl -s "${A[@]}" -X DELETE -D "$D/h405" -o /dev/null "$U/ready"
t_grep '^Allow: GET, HEAD' "$D/h405" "405 carries Allow: GET, HEAD"
t_eq "$(code "${A[@]}" -X GET --data-binary @"$D/ca.crt" "$U/metrics")" 413 "a request body is refused"
t_eq "$(code "${A[@]}" "$U/ready")" 503 "/ready is 503 while not ready"
kill -USR1 "$SERVE_PID"; sleep 0.2
t_eq "$(curl -s "${A[@]}" "$U/ready")" ready "/ready is 200 once ready"
kill -USR1 "$SERVE_PID"; sleep 0.2
t_eq "$(code "${A[@]}" "$U/ready")" 503 "/ready follows the flag back"

BIG=$(head -c 65536 /dev/zero | tr '\0' a)
c=$(code "${A[@]}" -H "X-Big: $BIG" "$U/metrics")
case $c in 413 | 431 | 400 | 000) ok "a 64 KB header is refused ($c)" ;; *) not_ok "a 64 KB header got $c" ;; esac
t_eq "$(code "${A[@]}" "$U/metrics")" 200 "the server is still up after it"

# 200 concurrent clients (past max_connections and the per-IP limit some are refused); then a scrape answers
for i in $(seq 200); do
    code "${A[@]}" "$U/metrics" >"$D/conc.$i" &
done
wait $(jobs -p | grep -v "^$SERVE_PID$") 2>/dev/null
n200=$(grep -l '^200$' "$D"/conc.* | wc -l)
echo "# 200 concurrent requests: $n200 answered 200"
t_ne "$n200" 0 "some of 200 concurrent requests are served"
t_eq "$(code "${A[@]}" "$U/metrics")" 200 "/metrics answers after 200 concurrent connections"
t_eq "$(kill -0 "$SERVE_PID" 2>&1; echo $?)" 0 "the server survived"

# the address in use: the error names it
LISTEN=127.0.0.1:$PORT PA_HTTP_LISTEN=127.0.0.1:$PORT "$SERVE" "$D/pa.yaml" >/dev/null 2>"$D/inuse.err"
t_eq "$?" 1 "a second server on the same port fails"
t_grep "^metrics.listen 127.0.0.1:$PORT: Address already in use$" "$D/inuse.err" "the error names the address"
stop "http"
for f in "$D/serve.err" "$D/inuse.err"; do
    t_nogrep 's3cret|\$2b\$|\$2y\$|prometheus' "$f" "no user, password or hash in $(basename "$f")"
done

# --- HTTPS ------------------------------------------------------------------------------------------------------------
config "metrics:
  tls:
    cert_file: $D/server.crt
    key_file: $D/server.key
  basic_auth_users: {prometheus: \"$HASH\"}"
serve
S="https://localhost:$PORT"
t_eq "$(code --cacert "$D/ca.crt" "${A[@]}" "$S/metrics")" 200 "https with --cacert works"
t_eq "$(code --cacert "$D/ca.crt" "$S/metrics")" 401 "https still needs the password"
curl -s --max-time 10 "$S/metrics" >/dev/null 2>&1
t_eq "$?" 60 "https without the CA: the certificate is not trusted"
t_ne "$(code "${A[@]}" "http://127.0.0.1:$PORT/metrics")" 200 "plain http to the TLS port fails"
t_eq "$(code --cacert "$D/ca.crt" "${A[@]}" "$S/metrics")" 200 "TLS port still serves after a plain request"
curl -s --cacert "$D/ca.crt" "${A[@]}" -o "$D/metrics-tls.txt" "$S/metrics"
if command -v promtool >/dev/null; then
    if promtool check metrics <"$D/metrics-tls.txt" >"$D/promtool.out" 2>&1; then ok "promtool check metrics over https"
    else not_ok "promtool over https: $(head -5 "$D/promtool.out")"; fi
fi
stop "https"

# --- mutual TLS -------------------------------------------------------------------------------------------------------
config "metrics:
  tls:
    cert_file: $D/server.crt
    key_file: $D/server.key
    client_ca_file: $D/ca.crt"
serve
S="https://localhost:$PORT"
c=$(code --cacert "$D/ca.crt" "$S/metrics")
case $c in 403 | 000) ok "mTLS: no client certificate is refused ($c)" ;; *) not_ok "mTLS: no client certificate got $c" ;; esac
t_eq "$(code --cacert "$D/ca.crt" --cert "$D/client.crt" --key "$D/client.key" "$S/metrics")" 200 \
    "mTLS: a client certificate from the CA is 200"
c=$(code --cacert "$D/ca.crt" --cert "$D/evil.crt" --key "$D/evil.key" "$S/metrics")
case $c in 403 | 000) ok "mTLS: a certificate from another CA is refused ($c)" ;; *) not_ok "mTLS: rogue certificate got $c" ;; esac
c=$(code --cacert "$D/ca.crt" "$S/healthz")
case $c in 403 | 000) ok "mTLS: /healthz needs the certificate too ($c)" ;; *) not_ok "mTLS: /healthz got $c" ;; esac
stop "mtls"

# --- start-up and configuration errors --------------------------------------------------------------------------------
config "metrics:
  tls:
    cert_file: $D/server.crt
    key_file: $D/missing.key"
"$SERVE" "$D/pa.yaml" >/dev/null 2>"$D/e1"
t_eq "$?" 1 "a missing key file fails the start"
t_grep "^metrics.tls.key_file $D/missing.key: cannot read: No such file or directory$" "$D/e1" "the error names the file"
config "metrics:
  tls:
    cert_file: $D/server.crt
    key_file: $D/evil.key"
"$SERVE" "$D/pa.yaml" >/dev/null 2>"$D/e2"
t_eq "$?" 1 "a key that does not match the certificate fails the start"
t_grep "^metrics.tls.cert_file $D/server.crt / key_file $D/evil.key: " "$D/e2" "the error names both files"
t_nogrep "BEGIN|PRIVATE" "$D/e2" "no key material in the error"
config "metrics:
  listen: \":0\""
"$SERVE" "$D/pa.yaml" >/dev/null 2>"$D/e3"
t_eq "$?" 1 "port 0 is refused by the configuration"
t_grep 'pa.yaml:8:11: metrics.listen: expected host:port, \[ipv6\]:port or :port such as "127.0.0.1:10187", got ":0": the port must be a number from 1 to 65535' "$D/e3" "the config error has file:line:col"
config "metrics:
  basic_auth_users: {prometheus: plaintext-password}"
"$SERVE" "$D/pa.yaml" >/dev/null 2>"$D/e4"
t_grep 'metrics.basic_auth_users.prometheus: expected a bcrypt hash' "$D/e4" "a plaintext password is refused"
t_nogrep 'plaintext-password' "$D/e4" "and not echoed"

t_done
