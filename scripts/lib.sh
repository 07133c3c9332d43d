# Shared set-up for the scripts: each function installs what it needs, once.

ensure_rust() {
  if ! command -v cargo >/dev/null 2>&1; then
    if [ -x "$HOME/.cargo/bin/cargo" ]; then
      export PATH="$HOME/.cargo/bin:$PATH"
    else
      echo "error: cargo is missing; install Rust (https://rustup.rs) and retry" >&2
      return 1
    fi
  fi
  local missing=()
  cargo fmt --version >/dev/null 2>&1 || missing+=(rustfmt)
  cargo clippy --version >/dev/null 2>&1 || missing+=(clippy)
  if [ ${#missing[@]} -gt 0 ]; then
    rustup component add "${missing[@]}"
  fi
}

# dev_build [ARGS...]: the development build every suite and the demo share, in
# target/release: the library (with the test-only entry points of the cargo feature
# test-hooks, which the C and Go tests call and nothing else sees) and drainctl, in one
# feature set so that it is built once. Optimised, but without the shipped build's fat
# LTO and single codegen unit (Cargo.toml), which take minutes on two cores and change
# only speed: what ships is built apart (scripts/dist.sh, the wheel), and the benchmarks
# build their own (scripts/bench).
dev_build() {
  (export_test_profile && cargo build --release --locked --lib --bin drainctl --features test-hooks "$@")
}

# The release profile without fat LTO and with parallel codegen, for builds that only
# tests use (see dev_build).
export_test_profile() {
  export CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16
}

# The Go toolchain on PATH (also where the official tarball puts it), else an error.
ensure_go() {
  command -v go >/dev/null 2>&1 || export PATH="/usr/local/go/bin:$PATH"
  command -v go >/dev/null 2>&1 || {
    echo "error: the Go toolchain is missing (no 'go' on PATH); install Go 1.22 or newer" \
      "(https://go.dev/dl/) and retry" >&2
    return 1
  }
}

# Go's build cache does not notice a changed static library or header
# (golang/go#24355): make their hash part of the cgo flags, so that a rebuilt library
# relinks every Go binary. Call after `cargo build --release --lib`.
export_cgo_inputs() {
  local inputs
  inputs=$(cat target/release/libdrain_control.a include/drain_control.h | sha256sum | cut -c1-16)
  export CGO_ENABLED=1
  export CGO_CPPFLAGS="${CGO_CPPFLAGS:+$CGO_CPPFLAGS }-DDRAIN_CONTROL_INPUTS=$inputs"
}

# build_c_program OUT SOURCE...: a C program linked with the static library (built
# first with `cargo build --release --lib`), with the flags of scripts/test-c.
build_c_program() {
  local out=$1
  shift
  gcc -std=c11 -Wall -Wextra -Wpedantic -Werror -O2 -Iinclude -o "$out" "$@" \
    target/release/libdrain_control.a -lm -ldl -lpthread
}

# The wheel's build environment: a venv with the pinned maturin and the pinned ziglang
# (PyPI's Zig, which maturin's --zig links with against an old glibc's symbols), kept
# between runs and rebuilt when a pin changes. Sets MATURIN. Honours $PYTHON (default
# python3).
MATURIN_VERSION=1.16.0
ZIGLANG_VERSION=0.17.1
ensure_maturin() {
  local venv=$PWD/.venv/build python=${PYTHON:-python3}
  local pins="maturin==$MATURIN_VERSION ziglang==$ZIGLANG_VERSION"
  MATURIN=$venv/bin/maturin
  if ! "$MATURIN" --version 2>/dev/null | grep -qx "maturin $MATURIN_VERSION" ||
    [ "$(cat "$venv/pins" 2>/dev/null)" != "$pins" ]; then
    echo "--> creating $venv with $pins" >&2
    rm -rf "$venv"
    "$python" -m venv "$venv"
    # shellcheck disable=SC2086 # one word per pin
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $pins
    echo "$pins" >"$venv/pins"
  fi
}

# build_wheel OUT_DIR: builds the shipped wheel into OUT_DIR, emptied first, and sets
# WHEEL to its path: release, abi3 (CPython 3.9+), manylinux2014 (manylinux_2_17: glibc
# 2.17 and newer, linked by Zig against 2.17's symbols, no container), stripped. The
# build has a target folder of its own (target/python), so it never waits on, or
# invalidates, the other cargo builds. maturin finds Zig through the build venv's
# python (`python -m ziglang`), hence that venv first on PATH.
build_wheel() {
  local out=$1
  ensure_maturin
  rm -rf "$out"
  PATH=$PWD/.venv/build/bin:$PATH CARGO_TARGET_DIR=$PWD/target/python "$MATURIN" build \
    --release --locked --quiet --zig --compatibility manylinux2014 --strip \
    --interpreter "$PWD/.venv/build/bin/python" --out "$out" >&2
  WHEEL=$(ls "$out"/drain_control-*.whl)
}

# install_wheel VENV [PIP ARGS...]: creates VENV if missing and installs $WHEEL in it
# (replacing an installed one), with any extra requirements given.
install_wheel() {
  local venv=$1
  shift
  [ -x "$venv/bin/python" ] || "${PYTHON:-python3}" -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    --force-reinstall --no-deps "$WHEEL"
  [ $# -eq 0 ] || "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
}
