#!/usr/bin/env bash
# vLLM's request schema without a GPU: a venv with CPU torch and the vLLM wheel installed without
# its dependencies, plus the pure-Python packages its schema imports; then the schema tests.
# About 6.5 minutes and 2.4 GB on 2 cores; not part of .ci/run (the main venv's transformers is
# newer than vLLM 0.33 accepts). Usage: bash .ci/vllm_schema.sh [VENV_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-.venv-vllm}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q 'torch==2.13.0'
"$venv/bin/pip" install -q --no-deps 'vllm==0.33.0' xgrammar==0.2.8 apache-tvm-ffi==0.1.11 'llguidance>=1.7.0,<1.8.0'
"$venv/bin/pip" install -q 'transformers<5.21' pydantic fastapi openai pillow regex cachetools psutil numpy tqdm \
  msgspec pyyaml cloudpickle pyzmq blake3 py-cpuinfo partial-json-parser jsonschema orjson pybase64 cbor2 einops \
  prometheus_client 'mistral_common[image]' opencv-python-headless aiohttp tiktoken oss-harmony uvloop \
  pytest pytest-timeout
PYTHONPATH=$PWD "$venv/bin/python" -m pytest --noconftest -q tests/models/test_vllm_schema.py
