#!/usr/bin/env bash
# Installs Satchel and everything it needs into .venv/ in the checkout.
#   scripts/install.sh                the application
#   scripts/install.sh --test         the application and the test tools
#   scripts/install.sh --model 0.5b   also the smaller, faster answer model (0.5 GB;
#                                     then `satchel models use qwen2.5-coder-0.5b`)
set -euo pipefail
cd "$(dirname "$0")/.."

extras=()
while [ $# -gt 0 ]; do
    case "$1" in
        --test) extras+=(test) ;;
        --model)
            [ "${2:-}" = "0.5b" ] || { echo "install.sh: --model takes 0.5b (the default is the 1.5b)" >&2; exit 2; }
            extras+=(model-0-5b)
            shift ;;
        *) echo "install.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
PIP=(.venv/bin/python -m pip --disable-pip-version-check)

# llama-cpp-python compiles llama.cpp from source (about 10 minutes on 2 cores).
# We pick the CPU features ourselves instead of -march=native: llama.cpp's native
# build turns on Intel AMX, which crashes on prompt batches on machines (VMs) that
# report AMX; every other vector extension this CPU has is used. The chosen flags
# are recorded, so the build is redone only when they change.
LLAMA_VERSION=0.3.36
LLAMA_CMAKE_ARGS="-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_HTTPLIB=OFF"
if [ -r /proc/cpuinfo ] && grep -qw avx2 /proc/cpuinfo; then
    cpu_flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
    LLAMA_CMAKE_ARGS="-DGGML_NATIVE=OFF $LLAMA_CMAKE_ARGS"
    for pair in avx:AVX avx2:AVX2 fma:FMA f16c:F16C bmi2:BMI2 avx_vnni:AVX_VNNI avx512f:AVX512 \
                avx512_vbmi:AVX512_VBMI avx512_vnni:AVX512_VNNI avx512_bf16:AVX512_BF16; do
        if [[ "$cpu_flags" == *" ${pair%%:*} "* ]]; then
            LLAMA_CMAKE_ARGS="$LLAMA_CMAKE_ARGS -DGGML_${pair##*:}=ON"
        else
            LLAMA_CMAKE_ARGS="$LLAMA_CMAKE_ARGS -DGGML_${pair##*:}=OFF"
        fi
    done
fi
# A GPU: where the CUDA toolkit (nvcc) and an NVIDIA GPU are both here, llama.cpp is
# built with its CUDA backend as well, so `n_gpu_layers` can offload the model; should
# that build fail, the CPU build is made instead. SATCHEL_CUDA=1 insists (a failed
# build stops the install), SATCHEL_CUDA=0 keeps a CPU build. The flag is in the
# stamp: switching it rebuilds. (A toolkit without a GPU, as on build machines, is
# not enough: its build would fail or be of no use.)
cuda_mode="${SATCHEL_CUDA:-auto}"
if [ "$cuda_mode" = "auto" ] && command -v nvcc >/dev/null 2>&1 \
    && { [ -e /dev/nvidia0 ] || nvidia-smi -L >/dev/null 2>&1; }; then
    cuda_mode=1
fi
if [ "$cuda_mode" = "1" ]; then
    LLAMA_CMAKE_ARGS="$LLAMA_CMAKE_ARGS -DGGML_CUDA=ON"
fi
build_llama() {
    # --no-cache-dir: pip's wheel cache ignores CMAKE_ARGS and could hand back a
    # wheel built with other flags
    CMAKE_ARGS="$1" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
        "${PIP[@]}" install --quiet --no-cache-dir --force-reinstall --no-deps "llama-cpp-python==$LLAMA_VERSION"
}
stamp=.venv/llama-build-flags
wanted="$LLAMA_VERSION $LLAMA_CMAKE_ARGS"
if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ] || ! .venv/bin/python -c "import llama_cpp" 2>/dev/null; then
    echo "building llama-cpp-python $LLAMA_VERSION (about 9 minutes on 2 cores)…" >&2
    if ! build_llama "$LLAMA_CMAKE_ARGS"; then
        if [ "${SATCHEL_CUDA:-auto}" = "1" ] || [ "$cuda_mode" != "1" ]; then
            exit 1
        fi
        echo "the CUDA build of llama.cpp failed: building it for the CPU (answers run on the CPU)" >&2
        LLAMA_CMAKE_ARGS="${LLAMA_CMAKE_ARGS/ -DGGML_CUDA=ON/}"
        wanted="$LLAMA_VERSION $LLAMA_CMAKE_ARGS"
        build_llama "$LLAMA_CMAKE_ARGS"
    fi
    echo "$wanted" > "$stamp"
fi

# OCR (docs/files.md): Tesseract with English, French, Italian, German and Spanish,
# from Debian's packages (about 30 MB), installed when we are root and apt-get
# exists; elsewhere Satchel runs without OCR and `satchel doctor` says how to add it.
OCR_PACKAGES="tesseract-ocr tesseract-ocr-eng tesseract-ocr-fra tesseract-ocr-ita tesseract-ocr-deu tesseract-ocr-spa"
missing_ocr=""
for package in $OCR_PACKAGES; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing_ocr="$missing_ocr $package"
done
if [ -n "$missing_ocr" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing Tesseract for OCR:$missing_ocr" >&2
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing_ocr; } >/dev/null
    else
        echo "OCR is off until Tesseract is installed (as root: apt-get install$missing_ocr)" >&2
    fi
fi

# torch first and pinned: the machine's local CPU wheel, not gigabytes of CUDA
"${PIP[@]}" install --quiet "torch==2.13.0"
if [ ${#extras[@]} -gt 0 ]; then
    "${PIP[@]}" install --quiet -e ".[$(IFS=,; echo "${extras[*]}")]"
else
    "${PIP[@]}" install --quiet -e .
fi
