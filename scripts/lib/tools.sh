# Project-local tools, installed into .tools/ (git-ignored), never system-wide.
# Source this file; then call the ensure_* functions. Idempotent and quiet when up to date.

NOCTUNE_ROOT="${NOCTUNE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
TOOLS_DIR="$NOCTUNE_ROOT/.tools"
RUFF_VERSION="0.17.5"
RG_VERSION="15.1.0"

# The pinned ruff from PyPI in .tools/venv, linked as .tools/bin/ruff.
ensure_ruff() {
  local ruff="$TOOLS_DIR/bin/ruff"
  if [ -x "$ruff" ] && [ "$("$ruff" --version 2>/dev/null)" = "ruff $RUFF_VERSION" ]; then
    return 0
  fi
  echo "installing ruff $RUFF_VERSION into $TOOLS_DIR" >&2
  mkdir -p "$TOOLS_DIR/bin"
  if [ ! -x "$TOOLS_DIR/venv/bin/python" ]; then
    python3 -m venv "$TOOLS_DIR/venv"
  fi
  "$TOOLS_DIR/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "ruff==$RUFF_VERSION"
  ln -sf "$TOOLS_DIR/venv/bin/ruff" "$ruff"
  "$ruff" --version >&2
}

# A pinned ripgrep from PyPI (the `ripgrep` package ships the binary) in .tools/venv, linked as
# .tools/bin/rg. The callsite tests compare it with the in-process search and fail without it.
ensure_rg() {
  local rg="$TOOLS_DIR/bin/rg"
  if [ -x "$rg" ] && "$rg" --version 2>/dev/null | head -n1 | grep -qx "ripgrep $RG_VERSION"; then
    return 0
  fi
  echo "installing ripgrep $RG_VERSION into $TOOLS_DIR" >&2
  mkdir -p "$TOOLS_DIR/bin"
  if [ ! -x "$TOOLS_DIR/venv/bin/python" ]; then
    python3 -m venv "$TOOLS_DIR/venv"
  fi
  "$TOOLS_DIR/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "ripgrep==$RG_VERSION"
  ln -sf "$TOOLS_DIR/venv/bin/rg" "$rg"
  "$rg" --version | head -n1 >&2
}

# The real local model for the LLM end-to-end tests: scripts/llm-server (xllamacpp and
# Qwen2.5-Coder-0.5B from PyPI, the model cached in ~/.cache/noctune/models) on a free port.
# Exports NOCTUNE_TEST_LLM_URL for the tests; stop it with stop_test_llm (trap it on EXIT).
start_test_llm() {
  local port
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
  "$NOCTUNE_ROOT/scripts/llm-server" start --port "$port" --background
  export NOCTUNE_TEST_LLM_PORT="$port"
  export NOCTUNE_TEST_LLM_URL="http://127.0.0.1:$port/v1"
}

stop_test_llm() {
  if [ -n "${NOCTUNE_TEST_LLM_PORT:-}" ]; then
    "$NOCTUNE_ROOT/scripts/llm-server" stop --port "$NOCTUNE_TEST_LLM_PORT" || true
  fi
}
