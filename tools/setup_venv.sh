#!/usr/bin/env bash
# Creates the pinned Python environment the fixture generators, benchmarks and demo training need.
# It lives OUTSIDE the repository (it is ~5 GB): pass its folder, then point HATSCOPE_PYTHON at it.
#   tools/setup_venv.sh /some/where/hatscope-venv
#   export HATSCOPE_PYTHON=/some/where/hatscope-venv/bin/python
set -euo pipefail
dir="${1:-${HATSCOPE_VENV:-}}"
if [ -z "$dir" ]; then
    echo "usage: tools/setup_venv.sh VENV_DIR   (outside the repository)" >&2
    exit 2
fi
repo="$(cd "$(dirname "$0")/.." && pwd)"
case "$(cd "$(dirname "$dir")" 2>/dev/null && pwd)/" in
    "$repo"/*) echo "setup_venv.sh: keep the venv outside the repository ($repo)" >&2; exit 2 ;;
esac
python3 -m venv "$dir"
"$dir/bin/pip" install torch==2.5.1 timm==1.0.31 fastervit==1.0.0 safetensors scikit-image pillow matplotlib
echo "export HATSCOPE_PYTHON=$dir/bin/python"
