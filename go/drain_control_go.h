/* What the Go package includes: the library's header, after checking that the library
 * the chosen build tags link is there, so that a missing one is reported with what to
 * run instead of a bare linker error. See the package documentation (draincontrol.go). */
#ifndef DRAIN_CONTROL_GO_H
#define DRAIN_CONTROL_GO_H

#if defined(DRAIN_GO_BUNDLED)
#  if defined(__linux__) && defined(__x86_64__)
#    if !__has_include("lib/linux_amd64/libdrain_control.a") || !__has_include("lib/drain_control.h")
#      define DRAIN_GO_MISSING 1
#      error "draincontrol: this copy of the module has no bundled library (lib/linux_amd64/libdrain_control.a). In the drain-control repository run scripts/gen-go-lib (or build with -tags drain_dev after cargo build --release --lib); elsewhere use the released module, or install the C library (scripts/install-c) and build with -tags drain_pkgconfig."
#    endif
#  else
#    define DRAIN_GO_MISSING 1
#    error "draincontrol: no bundled library for this platform (only linux/amd64 is bundled); install the C library (scripts/install-c) and build with -tags drain_pkgconfig."
#  endif
#endif

#if defined(DRAIN_GO_DEV)
#  if !__has_include("../target/release/libdrain_control.a")
#    define DRAIN_GO_MISSING 1
#    error "draincontrol: -tags drain_dev links ../target/release/libdrain_control.a, which is missing: run cargo build --release --locked --lib in the repository root."
#  endif
#endif

#if defined(DRAIN_GO_TESTHOOKS)
#  if !__has_include("../target/testhooks/libdrain_control.a")
#    define DRAIN_GO_MISSING 1
#    error "draincontrol: -tags drain_dev,drain_testhooks links ../target/testhooks/libdrain_control.a, which is missing: run scripts/test-go (it builds target/release with --features test-hooks and copies the library there)."
#  endif
#endif

#if !defined(DRAIN_GO_MISSING)
#  include "drain_control.h"
#endif

#endif /* DRAIN_CONTROL_GO_H */
