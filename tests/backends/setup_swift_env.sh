#!/usr/bin/env bash
# Builds the separate ms-swift environment the real `swift infer` test uses
# (tests/backends/test_swift_real.py). ms-swift pins its own transformers, so it never shares
# the project's venv. About 2 minutes and 2.2 GB on a CPU machine; does nothing if present.
# Usage: tests/backends/setup_swift_env.sh [VENV_DIR]   (default .venv-swift)
set -euo pipefail
venv="${1:-.venv-swift}"
py="${PYTHON:-python3.11}"
if [ ! -x "$venv/bin/swift" ]; then
    "$py" -m venv "$venv"
    # The CPU torch pin comes from local disk; a bare `torch` would pull GBs of CUDA.
    "$venv/bin/pip" install --quiet torch==2.13.0 ms-swift==4.6.0 librosa soundfile
    # swift's qwen2_audio template (the synthetic test model's) needs transformers <4.49:
    # under 5.x it reaches Qwen2-Audio's legacy merge path without an attention mask.
    # Installed after ms-swift because trl declares >=4.56.2; swift infer does not use trl.
    "$venv/bin/pip" install --quiet "transformers==4.48.3"
fi
"$venv/bin/swift" infer --help >/dev/null
echo "swift env ready: $venv"
