/* drain_test: static strings and constants: the status messages, the step names, the
 * version and the epoch. Part of drain_test.c, which #includes it (see there); not
 * compiled on its own. */

static void test_static_strings(void) {
    context = "static strings";
    const char *messages[14];
    for (uint32_t status = 0; status < 14; status++) {
        messages[status] = drain_status_message(status);
        CHECK(messages[status] != NULL && messages[status][0] != '\0');
        CHECK(strcmp(messages[status], "unknown status") != 0);
        for (uint32_t other = 0; other < status; other++) {
            CHECK(strcmp(messages[status], messages[other]) != 0);
        }
    }
    CHECK(strcmp(drain_status_message(14), "unknown status") == 0);
    CHECK(strcmp(drain_status_message(1000), "unknown status") == 0);
    CHECK(strcmp(drain_status_message(UINT32_MAX), "unknown status") == 0);
    CHECK(drain_status_message(DRAIN_STATUS_OK) == drain_status_message(0)); /* static */

    /* The steps' stable names, the same in every binding. */
    const char *steps[] = {"none", "check_payload", "create_home", "follow_link",
                           "create_temp", "keep_mode", "write_temp", "sync_temp",
                           "rename", "sync_folder", "remove", "lock"};
    for (uint32_t step = 0; step < sizeof steps / sizeof steps[0]; step++) {
        CHECK(strcmp(drain_step_name(step), steps[step]) == 0);
    }
    CHECK(strcmp(drain_step_name(DRAIN_STEP_CREATE_TEMP), "create_temp") == 0);
    CHECK(strcmp(drain_step_name(12), "unknown step") == 0);
    CHECK(strcmp(drain_step_name(UINT32_MAX), "unknown step") == 0);
    CHECK(drain_step_name(DRAIN_STEP_RENAME) == drain_step_name(8)); /* static */

    const char *version = drain_version();
    CHECK(version != NULL && strcmp(version, DRAIN_EXPECTED_VERSION) == 0);
    /* The header's version macros (checked against Cargo.toml when the crate compiles)
       agree with the library's. */
    CHECK(strcmp(version, DRAIN_CONTROL_VERSION) == 0);
    {
        char parts[64];
        snprintf(parts, sizeof parts, "%d.%d.%d", DRAIN_CONTROL_VERSION_MAJOR,
                 DRAIN_CONTROL_VERSION_MINOR, DRAIN_CONTROL_VERSION_PATCH);
        CHECK(strcmp(version, parts) == 0);
    }
    CHECK(drain_version() == version);

    /* The constants are the ones the classifier applies, to the microsecond. */
    CHECK(DRAIN_MAX_AGE_SECONDS == 3600.0);
    CHECK((int64_t)(DRAIN_MAX_AGE_SECONDS * 1e6) == DRAIN_MAX_AGE_MICROS);
    const char *old = "{\"requested_at\": \"1970-01-01T00:00:00+00:00\"}";
    drain_verdict verdict;
    CHECK_STATUS(drain_classify((const uint8_t *)old, strlen(old), "", DRAIN_MAX_AGE_MICROS,
                                &verdict),
                 DRAIN_STATUS_OK);
    CHECK(verdict.active && !verdict.expired);
    CHECK_STATUS(drain_classify((const uint8_t *)old, strlen(old), "", DRAIN_MAX_AGE_MICROS + 1,
                                &verdict),
                 DRAIN_STATUS_OK);
    CHECK(!verdict.active && verdict.expired);

    char *epoch = fetch_text(epoch_text, NULL);
    char *again = fetch_text(epoch_text, NULL);
    CHECK(strcmp(epoch, again) == 0); /* constant for the process */
    printf("epoch: \"%s\"\n", epoch);
    free(epoch);
    free(again);
}
