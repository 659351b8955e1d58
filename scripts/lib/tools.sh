# Project-local tools, installed into .tools/ (git-ignored), never system-wide.
# Source this file; then call the ensure_* functions. Idempotent and quiet when up to date.

NOCTUNE_ROOT="${NOCTUNE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
TOOLS_DIR="$NOCTUNE_ROOT/.tools"
RUFF_VERSION="0.17.5"
RG_VERSION="15.1.0"
PYTEST_VERSION="8.3.4"

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

# A pinned pytest, as .tools/bin/pytest: the test command of the `require_tests` tests
# (crates/noctune-cli/tests/it/packs.rs), which fail without it.
ensure_pytest() {
  ensure_pip_tool pytest "$PYTEST_VERSION" pytest "pytest $PYTEST_VERSION"
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

# The MCP contract tests (crates/noctune-cli/tests/it/mcp.rs) drive `noctune studio mcp` with
# real clients: the official Python SDK and the MCP Inspector CLI, both pinned. The Python SDK
# also runs the external MCP server of the chat's tests (crates/noctune-studio/tests/it/chat_mcp.rs).
MCP_PYTHON_VERSION="2.3.0"
MCP_INSPECTOR_DIR_SRC="$NOCTUNE_ROOT/crates/noctune-cli/tests/mcp/inspector"

# The Python `mcp` SDK in .tools/mcp-venv; skipped when that venv already has the pinned version.
ensure_mcp_python() {
  local venv="$TOOLS_DIR/mcp-venv"
  if [ -x "$venv/bin/python" ] && [ "$("$venv/bin/python" -c \
      'import importlib.metadata as m; print(m.version("mcp"))' 2>/dev/null)" = "$MCP_PYTHON_VERSION" ]; then
    return 0
  fi
  echo "installing the Python mcp SDK $MCP_PYTHON_VERSION into $venv" >&2
  mkdir -p "$TOOLS_DIR"
  if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    "mcp==$MCP_PYTHON_VERSION" </dev/null
}

# The MCP Inspector CLI in .tools/mcp-inspector, from the committed package.json and
# package-lock.json (npm ci, no install scripts); run with the machine's node. Skipped when the
# installed lock file is the committed one.
ensure_mcp_inspector() {
  local dir="$TOOLS_DIR/mcp-inspector"
  if [ -f "$dir/node_modules/.package-lock.json" ] \
      && cmp -s "$dir/package-lock.json" "$MCP_INSPECTOR_DIR_SRC/package-lock.json" \
      && cmp -s "$dir/package.json" "$MCP_INSPECTOR_DIR_SRC/package.json"; then
    return 0
  fi
  echo "installing the MCP Inspector CLI into $dir" >&2
  mkdir -p "$dir"
  cp "$MCP_INSPECTOR_DIR_SRC/package.json" "$MCP_INSPECTOR_DIR_SRC/package-lock.json" "$dir/"
  (cd "$dir" && CI=true npm ci --no-audit --no-fund --ignore-scripts --loglevel=error </dev/null)
}
