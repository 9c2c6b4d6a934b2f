# Sourced by scripts/test and scripts/try: a real CloudFormation engine (LocalStack in host
# mode, no Docker) with this project's AWS::IAM::OIDCProvider plugin, on a free loopback port.
#
#   emulator_install   venv in tests/emulator/.venv with the pinned packages (skipped when current)
#   emulator_start     starts it, waits until healthy; sets EMULATOR_URL and EMULATOR_PID
#   emulator_stop      stops it by PID

EMULATOR_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
EMULATOR_VENV="$EMULATOR_DIR/.venv"

# A Python that really runs (a pyenv shim can exist for a version that is not selected).
emulator_python() {
    local candidate root
    root=$(pyenv root 2>/dev/null || echo "$HOME/.pyenv")
    for candidate in python3.13 "$root"/versions/3.13*/bin/python3.13; do
        if "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1; then
            echo "$candidate 313"; return
        fi
    done
    for candidate in python3.11 "$root"/versions/3.11*/bin/python3.11; do
        if "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 11)' >/dev/null 2>&1; then
            echo "$candidate 311"; return
        fi
    done
    echo "emulator: no Python 3.13 or 3.11 found; install one (e.g. pyenv install 3.13)" >&2
    return 1
}

emulator_install() {
    local found python flavour requirements stamp
    found=$(emulator_python) || return 1
    python=${found% *}
    flavour=${found#* }
    requirements="$EMULATOR_DIR/requirements-py$flavour.txt"
    # The stamp records what the venv was built from, so a changed pin or plugin rebuilds it.
    stamp=$(cat "$requirements" "$EMULATOR_DIR"/oidc_provider/pyproject.toml "$EMULATOR_DIR"/oidc_provider/gh_oidc_emulator/*.py "$EMULATOR_DIR"/oidc_provider/gh_oidc_emulator/*.json | sha256sum | cut -c1-16)
    if [ -f "$EMULATOR_VENV/.stamp" ] && [ "$(cat "$EMULATOR_VENV/.stamp")" = "$stamp" ]; then
        return 0
    fi
    echo "emulator: installing LocalStack and the test plugin into $EMULATOR_VENV (about a minute)" >&2
    rm -rf "$EMULATOR_VENV"
    "$python" -m venv "$EMULATOR_VENV" || return 1
    "$EMULATOR_VENV/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" || return 1
    rm -rf "$EMULATOR_DIR/oidc_provider/build"
    "$EMULATOR_VENV/bin/pip" install --quiet --disable-pip-version-check "$EMULATOR_DIR/oidc_provider" || return 1
    echo "$stamp" > "$EMULATOR_VENV/.stamp"
}

emulator_start() {
    local port state deadline
    port=$("$EMULATOR_VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    state=$(mktemp -d "${TMPDIR:-/tmp}/gh-oidc-emulator.XXXXXX")
    EMULATOR_LOG="$state/emulator.log"
    GATEWAY_LISTEN="127.0.0.1:$port" LOCALSTACK_HOST="127.0.0.1:$port" \
    SERVICES=cloudformation,iam,sts DISABLE_EVENTS=1 OVERRIDE_IN_DOCKER=0 SKIP_SSL_CERT_DOWNLOAD=1 \
    FILESYSTEM_ROOT="$state/fs" LOCALSTACK_VOLUME_DIR="$state/vol" \
        "$EMULATOR_VENV/bin/python" -m localstack.runtime.main >"$EMULATOR_LOG" 2>&1 &
    EMULATOR_PID=$!
    EMULATOR_URL="http://127.0.0.1:$port"
    deadline=$((SECONDS + 90))
    until curl -fsS "$EMULATOR_URL/_localstack/health" >/dev/null 2>&1; do
        if ! kill -0 "$EMULATOR_PID" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
            echo "emulator: did not become healthy; its log:" >&2
            tail -n 40 "$EMULATOR_LOG" >&2
            emulator_stop
            return 1
        fi
        sleep 0.2
    done
    export EMULATOR_URL EMULATOR_PID EMULATOR_LOG
}

# Safe under `set -e` and in an EXIT trap: it must never change the caller's exit status.
emulator_stop() {
    [ -n "${EMULATOR_PID:-}" ] || return 0
    kill -TERM "$EMULATOR_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 "$EMULATOR_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$EMULATOR_PID" 2>/dev/null || true
    wait "$EMULATOR_PID" 2>/dev/null || true
    EMULATOR_PID=
}
