// The header compiles as C++17 (built by scripts/test-c with -fsyntax-only).
#include "drain_control.h"

#include <cstdint>
#include <type_traits>

static_assert(DRAIN_STATUS_OK == 0, "OK is 0");
static_assert(DRAIN_STATUS_INVALID_ARGUMENT == 6, "values never change");
static_assert(sizeof(drain_status) == sizeof(std::uint32_t), "drain_status is 32 bits");
static_assert(std::is_trivially_copyable<drain_verdict>::value, "plain data");
static_assert(DRAIN_STATUS_STOPPED == 8, "values never change");
static_assert(DRAIN_STATE_EXPIRED == 4, "values never change");
static_assert(sizeof(drain_state) == sizeof(std::uint32_t), "drain_state is 32 bits");
static_assert(std::is_trivially_copyable<drain_change>::value, "plain data");
static_assert(DRAIN_MAX_AGE_MICROS == INT64_C(3600000000), "one hour");
static_assert(DRAIN_STATUS_INVALID_PAYLOAD == 9, "values never change");
static_assert(DRAIN_STEP_REMOVE == 10, "values never change");
static_assert(sizeof(drain_step) == sizeof(std::uint32_t), "drain_step is 32 bits");
static_assert(std::is_trivially_copyable<drain_error>::value, "plain data");

int main() {
    drain_verdict verdict{};
    drain_status status = drain_inspect(nullptr, &verdict);
    drain_watcher *watcher = nullptr;
    drain_change change{};
    if (drain_watcher_new(nullptr, 0, false, &watcher, nullptr) == DRAIN_STATUS_OK) {
        (void)drain_watcher_next(watcher, 0, &change);
        drain_watcher_free(watcher);
    }
    drain_error error{};
    bool existed = false;
    (void)drain_clear_ex("/nonexistent-drain-home", &existed, &error);
    (void)drain_step_name(error.step);
    return status == DRAIN_STATUS_OK && drain_version() != nullptr ? 0 : 1;
}
