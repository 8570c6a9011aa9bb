#!/usr/bin/env bash
# Installs everything RaftStore needs to build and test from Debian packages.
# Idempotent: installs only what is missing, and does nothing (no apt-get at
# all) when everything is there. Needs root (or password-less sudo) only when
# something is missing; otherwise says exactly what to install.
set -euo pipefail

packages=(
  bazel-bootstrap       # Bazel 4.2.3
  libabsl-dev           # Abseil 20220623
  libprotobuf-dev       # Protobuf 3.21 runtime
  protobuf-compiler     # protoc, run by //proto at build time
  librapidcheck-dev     # property tests
  libgtest-dev          # GoogleTest
  libgmock-dev          # GoogleMock
  libbenchmark-dev      # Google Benchmark
  libuv1-dev            # libuv 1.44, for runtime/ and transport/
  libisal-dev           # ISA-L 2.30: hardware CRC32C for core/storage
  libjemalloc-dev       # jemalloc 5.3: the simulator's and node's allocator
  nlohmann-json3-dev    # JSON for sim histories and CLI --json output
  clang                 # clang 14, for --config=fuzz
  libclang-rt-14-dev    # libFuzzer and sanitizer runtimes
  clang-format          # tools/lint.sh
  clang-tidy            # tools/lint.sh
)
names=("${packages[@]%% *}")

missing=()
for package in "${names[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null |
      grep -q "install ok installed"; then
    missing+=("$package")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo=(sudo)
  else
    echo "setup: error: these Debian packages are missing and installing them" \
         "needs root: ${missing[*]}" >&2
    echo "setup: run as root, or: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q "${missing[@]}"
