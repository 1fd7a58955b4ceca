#!/usr/bin/env bash
# Builds the separate ms-swift environment the real `swift infer` test uses.
# ms-swift pins its own transformers, so it never shares the project's venv.
# Usage: tests/backends/setup_swift_env.sh [VENV_DIR]   (default .venv-swift; ~70 s, ~2 GB)
set -euo pipefail
venv="${1:-.venv-swift}"
py="${PYTHON:-python3.11}"
if [ ! -x "$venv/bin/swift" ]; then
    "$py" -m venv "$venv"
    # The CPU torch pin comes from local disk; a bare `torch` would pull GBs of CUDA.
    "$venv/bin/pip" install --quiet torch==2.13.0 ms-swift==4.6.0 librosa soundfile
fi
"$venv/bin/swift" --help >/dev/null
echo "swift env ready: $venv"
