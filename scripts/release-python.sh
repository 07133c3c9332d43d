# The Python part of scripts/release, which sources this file (after scripts/lib.sh and
# scripts/dist.sh) and calls release_python DIST. scripts/test-wheel tests the same
# steps (build_wheel, maturin sdist) and their products, as users install them.

# release_python DIST: writes into DIST
#   drain_control-<version>-cp39-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl
#       the wheel: abi3 (CPython 3.9 and newer), glibc 2.17 and newer, stripped
#       (scripts/lib.sh build_wheel: maturin --zig, its own target folder target/python)
#   drain_control-<version>.tar.gz
#       the sdist, which pip builds where a Rust toolchain is (maturin from PyPI)
release_python() {
  local dist=$1 version wheel sdist
  version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
  build_wheel "$PWD/target/python/wheels" || return 1
  wheel=$dist/drain_control-$version-cp39-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl
  [ "$WHEEL" = "$PWD/target/python/wheels/$(basename "$wheel")" ] || {
    echo "error: the wheel is $WHEEL, want $(basename "$wheel")" >&2
    return 1
  }
  install -m 0644 "$WHEEL" "$wheel" || return 1
  sdist=$dist/drain_control-$version.tar.gz
  rm -f "$sdist"
  "$MATURIN" sdist --manifest-path "$PWD/Cargo.toml" --out "$dist" >&2 || return 1
  [ -f "$sdist" ] || { echo "error: maturin sdist did not write $sdist" >&2; return 1; }
}
