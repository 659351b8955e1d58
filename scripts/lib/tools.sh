# Project-local tools, installed into .tools/ (git-ignored), never system-wide.
# Source this file; then call the ensure_* functions. Idempotent and quiet when up to date.

NOCTUNE_ROOT="${NOCTUNE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
TOOLS_DIR="$NOCTUNE_ROOT/.tools"
RUFF_VERSION="0.17.5"

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
