/* Test-only entry points of libdrain_control, present only in a library built with the
 * cargo feature "test-hooks" (scripts/test-c and scripts/test-go build it so). The
 * shipped library (scripts/install-c, scripts/release) neither exports nor declares
 * them. Hand-written: keep in step with src/ffi/watcher.rs and src/ffi/lease.rs. */
#ifndef DRAIN_CONTROL_TEST_HOOKS_H
#define DRAIN_CONTROL_TEST_HOOKS_H

#include "drain_control.h"

#ifdef __cplusplus
extern "C" {
#endif

/* drain_watcher_new, judging expiry against max_age_micros instead of the contract's
 * hour, so that a test can watch a marker expire without waiting an hour.
 * DRAIN_STATUS_INVALID_ARGUMENT when max_age_micros is negative. */
drain_status drain_watcher_new_with_max_age_for_tests(const char *home,
                                                      uint32_t fallback_interval_ms,
                                                      bool every_change,
                                                      int64_t max_age_micros,
                                                      struct drain_watcher **out,
                                                      int *out_errno);

/* drain_lease_begin, judging (and holding: a quarter of it between keep-alives) against
 * max_age_micros instead of the contract's hour, so that a test can see a held drain
 * outlive a short maximum age. */
drain_status drain_lease_begin_with_max_age_for_tests(const char *home,
                                                      const char *principal,
                                                      bool suppress_notification,
                                                      uint64_t wait_ms,
                                                      int64_t max_age_micros,
                                                      struct drain_lease **out,
                                                      struct drain_holder *out_holder,
                                                      struct drain_error *out_err);

#ifdef __cplusplus
}
#endif

#endif /* DRAIN_CONTROL_TEST_HOOKS_H */
