# The shipped products' build steps, shared by scripts/install-c, scripts/gen-go-lib,
# scripts/release and scripts/test-packaging (which tests exactly these steps). Source
# it from the repository root, after scripts/lib.sh.
#
# The shipped library is built in a target folder of its own, target/dist: release
# profile, default features only (no test-hooks, no python), so it never replaces the
# development build in target/release (which scripts/test-c and scripts/test-go build
# with the test-only entry points) nor the wheel's build in target/python, and they
# never replace it.

DIST_TARGET_DIR=$PWD/target/dist
DIST_BUILD=$DIST_TARGET_DIR/release
# What the static library needs besides libc (rustc --print native-static-libs gives
# -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc; gcc adds libgcc_s and libc itself, and
# glibc 2.34+ keeps util and rt in libc, but older glibc needs them listed).
DIST_LIBS_PRIVATE="-lm -ldl -lpthread -lrt -lutil"

crate_version() { sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1; }

# GNU binutils, explicitly: the static library is prelinked with GNU ld -r and
# objcopy; an LLVM ar/nm on PATH may choke on rustc's objects (embedded bitcode).
ensure_binutils() {
  local tool
  for tool in ld.bfd objcopy strip readelf ar; do
    command -v "$tool" >/dev/null 2>&1 || {
      echo "error: $tool (GNU binutils) is missing; install binutils and retry" >&2
      return 1
    }
  done
  [[ "$(ar --version 2>/dev/null)" == *"GNU ar"* ]] || {
    echo "error: 'ar' is not GNU ar ($(ar --version 2>&1 | head -n 1)); put GNU binutils first on PATH" >&2
    return 1
  }
}

# sources_hash: a digest of everything the shipped library is built from (not the
# Python extension's src/python/), to tell a stale bundled Go library.
sources_hash() {
  {
    find src -name '*.rs' ! -path 'src/python/*' | LC_ALL=C sort
    echo build.rs Cargo.toml Cargo.lock include/drain_control.h | tr ' ' '\n'
  } | while read -r file; do
    printf '%s  %s\n' "$(sha256sum <"$file" | cut -c1-64)" "$file"
  done | sha256sum | cut -c1-64
}

# build_dist: the shipped shared and static library and drainctl, in target/dist; then
# the slim static library (slim_static_lib) beside them as libdrain_control-dist.a.
build_dist() {
  ensure_binutils || return 1
  CARGO_TARGET_DIR=$DIST_TARGET_DIR cargo build --release --locked --lib --bin drainctl >&2 ||
    return 1
  local soname
  soname=$(readelf -d "$DIST_BUILD/libdrain_control.so" | sed -n 's/.*(SONAME).*\[\(.*\)\]$/\1/p')
  [ "$soname" = "libdrain_control.so.$(crate_version | cut -d. -f1)" ] || {
    echo "error: $DIST_BUILD/libdrain_control.so has SONAME '$soname'" >&2
    return 1
  }
  if [ ! "$DIST_BUILD/libdrain_control-dist.a" -nt "$DIST_BUILD/libdrain_control.a" ]; then
    slim_static_lib "$DIST_BUILD/libdrain_control.a" "$DIST_BUILD/libdrain_control-dist.a" || return 1
  fi
}

# slim_static_lib IN OUT: the static library as one prelinked object (GNU ld -r) that
# keeps only what the drain_ functions reach (--gc-sections rooted at them), with every
# other global symbol made local (so Rust's std inside cannot clash with another Rust
# static library in the same program), no debug information and no embedded LLVM
# bitcode (.llvmbc, 10 MB of the 25 MB that cargo writes). About 1.4 MB.
slim_static_lib() {
  local in=$1 out=$2 work roots
  work=$(mktemp -d)
  roots=$(readelf -sW "$in" 2>/dev/null |
    awk '$5 == "GLOBAL" && $7 != "UND" && $8 ~ /^drain_/ {print "-u " $8}' | sort -u)
  [ -n "$roots" ] || { echo "error: no drain_ symbols in $in" >&2; rm -rf "$work"; return 1; }
  # shellcheck disable=SC2086 # one -u per root symbol
  ld.bfd -r --gc-sections $roots --whole-archive "$in" -o "$work/all.o" &&
    objcopy --wildcard --keep-global-symbol='drain_*' --strip-debug \
      --remove-section=.llvmbc --remove-section=.llvmcmd "$work/all.o" "$work/drain_control.o" &&
    strip --strip-unneeded "$work/drain_control.o" &&
    rm -f "$out.tmp" && ar rcs "$out.tmp" "$work/drain_control.o" && mv "$out.tmp" "$out"
  local status=$?
  rm -rf "$work"
  return $status
}

# install_c_tree PREFIX: the C library as a user installs it (after build_dist):
# lib/libdrain_control.so.VERSION (SONAME libdrain_control.so.MAJOR) with its
# .so.MAJOR and .so links, lib/libdrain_control.a, include/drain_control.h and
# lib/pkgconfig/drain_control.pc, which finds the rest relative to itself.
install_c_tree() {
  local prefix=$1 version major
  version=$(crate_version)
  major=${version%%.*}
  mkdir -p "$prefix/lib/pkgconfig" "$prefix/include" || return 1
  install -m 0755 "$DIST_BUILD/libdrain_control.so" "$prefix/lib/libdrain_control.so.$version" &&
    strip --strip-debug "$prefix/lib/libdrain_control.so.$version" &&
    ln -sfn "libdrain_control.so.$version" "$prefix/lib/libdrain_control.so.$major" &&
    ln -sfn "libdrain_control.so.$major" "$prefix/lib/libdrain_control.so" &&
    install -m 0644 "$DIST_BUILD/libdrain_control-dist.a" "$prefix/lib/libdrain_control.a" &&
    install -m 0644 include/drain_control.h "$prefix/include/drain_control.h" || return 1
  cat >"$prefix/lib/pkgconfig/drain_control.pc" <<EOF
# Relative to this file, so the tree works wherever it is installed or unpacked.
prefix=\${pcfiledir}/../..
exec_prefix=\${prefix}
libdir=\${exec_prefix}/lib
includedir=\${prefix}/include

Name: drain_control
Description: The drain-marker contract between a dashboard and a gateway (C ABI)
URL: https://github.com/hermes-agent/drain-control
Version: $version
Libs: -L\${libdir} -ldrain_control
Libs.private: $DIST_LIBS_PRIVATE
Cflags: -I\${includedir}
EOF
}

# make_c_tarball OUT_DIR: OUT_DIR/drain-control-<version>-linux-x86_64.tar.gz, the C
# install tree (install_c_tree) under one top folder of that name; sets C_TARBALL.
make_c_tarball() {
  local out=$1 name tree
  name=drain-control-$(crate_version)-linux-x86_64
  tree=$(mktemp -d)
  install_c_tree "$tree/$name" &&
    tar -C "$tree" --owner=0 --group=0 --numeric-owner --sort=name \
      --mtime="@$(git log -1 --format=%ct 2>/dev/null || echo 0)" -cf - "$name" |
    gzip -n >"$out/$name.tar.gz"
  local status=$?
  rm -rf "$tree"
  C_TARBALL=$out/$name.tar.gz
  return $status
}

# gen_go_module DIR: DIR becomes the Go module as published: go.mod, the package's
# non-test sources and its examples, and the bundled library (gen_go_lib). DIR is
# emptied first.
gen_go_module() {
  local dir=$1
  rm -rf "$dir" && mkdir -p "$dir" || return 1
  cp go/go.mod go/*.go go/drain_control_go.h "$dir/" || return 1
  # Tests that need the repository (vectors, xlang, test hooks) stay behind, and so do
  # the repository's own ways of linking (-tags drain_dev: ../target/release); the
  # examples, which need nothing else, go along (they document the API).
  find "$dir" -name '*_test.go' ! -name '*example_test.go' -delete
  rm -f "$dir/link_dev.go" "$dir/link_testhooks.go" "$dir/testhooks_on.go"
  gen_go_lib "$dir"
}

# gen_go_lib DIR: writes the bundled library of the Go module in DIR (after build_dist):
# lib/linux_amd64/libdrain_control.a, lib/drain_control.h, and bundled_lib.go, which
# records the sources' digest (sources_hash) and, being a Go file, makes Go's build
# cache rebuild the package when the library changes.
gen_go_lib() {
  local dir=$1
  mkdir -p "$dir/lib/linux_amd64" || return 1
  install -m 0644 "$DIST_BUILD/libdrain_control-dist.a" "$dir/lib/linux_amd64/libdrain_control.a" &&
    install -m 0644 include/drain_control.h "$dir/lib/drain_control.h" || return 1
  local lib_hash
  lib_hash=$(cat "$dir/lib/linux_amd64/libdrain_control.a" "$dir/lib/drain_control.h" | sha256sum | cut -c1-64)
  cat >"$dir/bundled_lib.go" <<EOF
// Code generated by scripts/gen-go-lib; DO NOT EDIT.

//go:build !drain_pkgconfig && !drain_dev

package draincontrol

// The bundled library (lib/) of drain-control $(crate_version), built from sources with
// this digest (scripts/dist.sh sources_hash); its own digest, so that Go's build cache,
// which does not hash libraries, rebuilds the package when the library changes.
const (
	bundledSourcesSHA256 = "$(sources_hash)"
	bundledLibrarySHA256 = "$lib_hash"
)
EOF
}
