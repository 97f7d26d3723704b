#!/usr/bin/env bash
# Waiting and ports, shared by the tests and the scripts that run them.
#   PA_TIME_SCALE   a whole number (default 1) that stretches every deadline a test waits against: tests/valgrind.sh
#                   sets it, because under valgrind the daemon runs ~20-50x slower. It only makes a test wait
#                   longer before it gives up; it never drops or loosens a check, and it is 1 in the normal and the
#                   ASan runs. Every deadline and window that depends on how fast pii-auditd is goes through it.
#   pa_scaled N     N x PA_TIME_SCALE (whole seconds, or any whole-number bound)
#   wait_for SECONDS COMMAND...   run COMMAND every 0.1 s until it succeeds; fails after SECONDS x PA_TIME_SCALE s
#                   of tries (the count of tries is fixed, so a slow COMMAND on a loaded machine stretches it)
#   pa_free_port [FIRST [LIMIT]]  the first port from FIRST (default: random in 20000-31999) up to LIMIT (default
#                   FIRST + 1000) where nothing on 127.0.0.1 accepts a connection and a bind succeeds

PA_TIME_SCALE=${PA_TIME_SCALE:-1}
if ! [[ $PA_TIME_SCALE =~ ^[1-9][0-9]*$ ]]; then
    echo "PA_TIME_SCALE must be a whole number >= 1, got '$PA_TIME_SCALE'" >&2
    exit 1
fi
export PA_TIME_SCALE

pa_scaled() { echo $(($1 * PA_TIME_SCALE)); }

wait_for() { # seconds command...
    local n=$(($1 * 10 * PA_TIME_SCALE))
    shift
    for _ in $(seq 1 "$n"); do "$@" && return 0; sleep 0.1; done
    return 1
}

# busy: something listens there, or the port cannot be bound (also the local port of a client connection: a
# listener that came after it would get "Address already in use")
pa_port_busy() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    ! python3 -c 'import socket, sys; socket.socket().bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
}
pa_free_port() { # [first [limit]]
    local port=${1:-$((20000 + RANDOM % 12000))} # below Linux's ephemeral ports (32768-60999): no client takes it
    local limit=${2:-$((port + 1000))}
    while pa_port_busy "$port"; do
        port=$((port + 1))
        [ "$port" -le "$limit" ] || { echo "pa_free_port: no free port up to $limit" >&2; return 1; }
    done
    echo "$port"
}
