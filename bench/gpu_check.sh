#!/usr/bin/env bash
# GPU check for issue 25, one device call under 10 minutes. The device image has PyTorch,
# transformers and torchvision, but no Mitsuba/Dr.Jit: carry their cp312 wheels (and any other
# missing robostress dependency) in .whl, prepared once on a machine with pip (the versions this project is tested with):
#   echo /.whl/ >> .git/info/exclude
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 -d .whl mitsuba==3.9.1 drjit==1.5.0
# then: run(command="bash bench/gpu_check.sh", carry=[".whl"], timeout_s=590)
# On a CPU machine: bash bench/gpu_check.sh --dry-run   (checks the script, not the GPU)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -d .whl ] && ls .whl/*.whl >/dev/null 2>&1; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
PY=${PYTHON:-python3}
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || echo "no nvidia-smi"
exec timeout 570 "$PY" bench/gpu_check.py "$@"
