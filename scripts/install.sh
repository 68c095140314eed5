#!/usr/bin/env bash
# Installs Satchel and everything it needs into .venv/ in the checkout.
#   scripts/install.sh          the application
#   scripts/install.sh --test   the application and the test tools
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
PIP=(.venv/bin/python -m pip --disable-pip-version-check)

# llama-cpp-python compiles llama.cpp from source (about 9 minutes on 2 cores).
# A portable x86-64 build (AVX2/FMA/F16C): llama.cpp's -march=native build enables
# Intel AMX, which crashes on prompt batches on machines (VMs) that report AMX but
# do not grant its tile state. The flags are recorded so the build is redone only
# when they change.
LLAMA_VERSION=0.3.36
LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF"
stamp=.venv/llama-build-flags
wanted="$LLAMA_VERSION $LLAMA_CMAKE_ARGS"
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ] || ! .venv/bin/python -c "import llama_cpp" 2>/dev/null; then
    echo "building llama-cpp-python $LLAMA_VERSION (about 9 minutes on 2 cores)…" >&2
    # --no-cache-dir: pip's wheel cache ignores CMAKE_ARGS and could hand back a
    # wheel built with other flags
    CMAKE_ARGS="$LLAMA_CMAKE_ARGS" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
        "${PIP[@]}" install --quiet --no-cache-dir --force-reinstall --no-deps "llama-cpp-python==$LLAMA_VERSION"
    echo "$wanted" > "$stamp"
fi

# torch first and pinned: the machine's local CPU wheel, not gigabytes of CUDA
"${PIP[@]}" install --quiet "torch==2.13.0"
if [ "${1:-}" = "--test" ]; then
    "${PIP[@]}" install --quiet -e ".[test]"
else
    "${PIP[@]}" install --quiet -e .
fi
