# Sourced by install.sh, start.sh and test.sh: which Python they install into and run, exported as PY (and PATH).
# Inside a virtual environment (or conda env): that one. Otherwise a project .venv (ignored by git), created on
# first use from $PYTHON (default python3) with access to that Python's packages; a distribution's Python (Debian,
# Ubuntu: "externally managed", PEP 668) refuses pip installs, a venv of it does not.
in_env=$("${PYTHON:-python3}" -c 'import sys; print(int(sys.prefix != sys.base_prefix))')
if [[ -n "${VIRTUAL_ENV:-}" && -x "$VIRTUAL_ENV/bin/python" ]]; then
  PY="$VIRTUAL_ENV/bin/python"
elif [[ -n "${CONDA_PREFIX:-}" && -x "$CONDA_PREFIX/bin/python" ]]; then
  PY="$CONDA_PREFIX/bin/python"
elif [[ "$in_env" == "1" ]]; then
  PY=$(command -v "${PYTHON:-python3}")
else
  if [[ ! -x .venv/bin/python ]]; then
    echo "augsbert: not in a virtual environment: creating .venv with ${PYTHON:-python3} (activate it with: source .venv/bin/activate)" >&2
    "${PYTHON:-python3}" -m venv --system-site-packages .venv
  else
    echo "augsbert: using the project's .venv" >&2
  fi
  PY="$PWD/.venv/bin/python"
  export VIRTUAL_ENV="$PWD/.venv"
fi
PATH="$(dirname "$PY"):$PATH"
export PY PATH
