#!/usr/bin/env bash
# Set up memoview on a fresh Debian/Ubuntu machine (or any machine with Python >= 3.10).
#   bash tools/install.sh          # the app, the demo model and the llama.cpp engine, in ./.venv
#   bash tools/install.sh --test   # also the test tools
# The llama.cpp engine (llama-cpp-python) is compiled from source: it needs a C++ compiler
# (build-essential) and cmake, installed below with apt-get when possible. If it cannot be
# built, memoview is still installed and works with the transformers engine; the message says why.
# System packages (Qt's X11 libraries, Xvfb, poppler) are installed with apt-get
# when it is available and we are root; elsewhere install them yourself.
set -euo pipefail
cd "$(dirname "$0")/.."
extras="demo"
if [ "${1:-}" = "--test" ]; then extras="demo,test"; fi

if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  need=""
  for pkg in poppler-utils xvfb libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 \
             libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 \
             libxkbcommon-x11-0 libgl1 libegl1 libfontconfig1 libdbus-1-3 build-essential g++ cmake; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need="$need $pkg"
  done
  if [ -n "$need" ]; then
    echo "installing system packages:$need"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
  fi
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
# torch is pinned below 2.14 in pyproject.toml: pip takes the CPU build that lies on this
# machine's disk. Elsewhere, install the torch build you want (CPU or CUDA) before this line.
.venv/bin/python -m pip install -q -e ".[${extras}]"
# The llama.cpp engine: compiled here (minutes). A failed build must not fail the install.
# AMX kernels are left out: some virtual machines report AMX in CPUID without enabling its
# register state, and a native build then dies with SIGILL on its first forward pass.
# The built wheel is kept in a cache keyed by version and build flags, so a reinstall (or CI
# on the same machine) does not compile again; a different flag set builds a new wheel.
llama_spec="llama-cpp-python==0.3.36"
llama_flags="${MEMOVIEW_LLAMA_CFLAGS:--mno-amx-tile -mno-amx-int8 -mno-amx-bf16}"
llama_cmake="-DCMAKE_C_FLAGS='${llama_flags}' -DCMAKE_CXX_FLAGS='${llama_flags}'"
llama_key=$(printf '%s|%s' "$llama_spec" "$llama_cmake" | sha256sum | cut -c1-16)
llama_cache="${XDG_CACHE_HOME:-$HOME/.cache}/memoview/llama-wheels/${llama_key}"
if ! ls "$llama_cache"/llama_cpp_python-*.whl >/dev/null 2>&1; then
  if command -v c++ >/dev/null 2>&1 || command -v g++ >/dev/null 2>&1; then
    echo "building the llama.cpp engine ($llama_spec; this compiles C++ and takes 10-20 minutes on 2 cores)"
    rm -rf "$llama_cache.tmp"
    if CMAKE_ARGS="$llama_cmake" .venv/bin/python -m pip wheel -q --no-deps --no-cache-dir \
         --no-binary llama-cpp-python -w "$llama_cache.tmp" "$llama_spec"; then
      mkdir -p "$llama_cache" && mv "$llama_cache.tmp"/llama_cpp_python-*.whl "$llama_cache"/
    fi
    rm -rf "$llama_cache.tmp"
  else
    echo "note: no C++ compiler found, so the llama.cpp engine was not built." >&2
  fi
fi
llama_wheel=$(ls "$llama_cache"/llama_cpp_python-*.whl 2>/dev/null | head -n 1 || true)
if [ -n "$llama_wheel" ] && .venv/bin/python -m pip install -q "${llama_wheel}[server]"; then
  .venv/bin/python -m pip install -q -e ".[${extras},llama]"
else
  echo "warning: the llama.cpp engine is not installed; memoview works with the transformers engine." >&2
  echo "         Install a C++ compiler and cmake (build-essential), then run: bash tools/install.sh" >&2
fi
echo "memoview installed in .venv ($(.venv/bin/memoview --version))"
.venv/bin/memoview engines || true
