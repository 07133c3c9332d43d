/* drain_test: error paths: NULL arguments, a home that is a regular file or whose
 * marker path is a folder, and a home the caller may not write. Part of drain_test.c,
 * which #includes it (see there); not compiled on its own. */

static void test_null_arguments(const char *root) {
    context = "NULL arguments";
    char *home = join(root, "/null-args");
    int err = -1;
    CHECK_STATUS(drain_write(home, NULL, false, &err), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK(err == -1);
    CHECK(!exists(home)); /* nothing was done, not even the folder */
    CHECK_STATUS(drain_inspect(home, NULL), DRAIN_STATUS_NULL_ARGUMENT);

    /* drain_classify: every pointer; outputs untouched on failure. */
    drain_verdict verdict;
    memset(&verdict, 0, sizeof verdict);
    verdict.expired = true;
    const uint8_t marker[] = "{}";
    CHECK_STATUS(drain_classify(marker, 2, "e:1", 0, NULL), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_classify(marker, 2, NULL, 0, &verdict), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_classify(NULL, 2, "e:1", 0, &verdict), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_classify(marker, 2, "e" "\xff", 0, &verdict), DRAIN_STATUS_INVALID_UTF8);
    CHECK_STATUS(drain_classify(marker, (size_t)PTRDIFF_MAX + 1, "", 0, &verdict),
                 DRAIN_STATUS_INVALID_ARGUMENT);
    CHECK(verdict.expired && !verdict.present);
    /* NULL with length 0 is the empty marker: present, contentless, hence active. */
    CHECK_STATUS(drain_classify(NULL, 0, "e:1", 0, &verdict), DRAIN_STATUS_OK);
    CHECK(verdict.present && verdict.active && !verdict.expired && !verdict.suppressed);
    struct bytes empty = {NULL, 0};
    CHECK(text_is(classify_read_text, &empty, "{}"));

    /* The text outputs: out_len is required; buf only when buf_len > 0. */
    size_t len = 12345;
    char buf[8];
    CHECK_STATUS(drain_read(home, buf, sizeof buf, NULL), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_read(home, NULL, 8, &len), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_epoch(buf, sizeof buf, NULL), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_epoch(NULL, 8, &len), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_marker_path(home, buf, sizeof buf, NULL), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_marker_path(home, NULL, 8, &len), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_classify_read(marker, 2, buf, sizeof buf, NULL),
                 DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_classify_read(marker, 2, NULL, 8, &len), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_classify_read(NULL, 2, buf, sizeof buf, &len),
                 DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_STATUS(drain_classify_read(marker, (size_t)PTRDIFF_MAX + 1, buf, sizeof buf, &len),
                 DRAIN_STATUS_INVALID_ARGUMENT);
    CHECK(len == 12345); /* no output on failure */
    CHECK(!exists(home));
    free(home);
}

/* A home that is a regular file, and a marker path that is a folder. */
static void test_unwritable_home(const char *root) {
    context = "unwritable home";
    char *file = join(root, "/a-file");
    CHECK(put_file(file, "x", 1) == 0);
    int err = -1;
    CHECK_IO_ERROR(drain_write(file, "c-test", false, &err), err, ENOTDIR, EEXIST);
    err = -1;
    char *below = join(file, "/sub");
    CHECK_IO_ERROR(drain_write(below, "c-test", false, &err), err, ENOTDIR, ENOTDIR);
    CHECK_STATUS(drain_write(file, "c-test", false, NULL), DRAIN_STATUS_IO_ERROR);
    bool existed = true;
    err = -1;
    CHECK_IO_ERROR(drain_clear(file, &existed, &err), err, ENOTDIR, ENOTDIR);
    CHECK(existed); /* not written on failure */
    CHECK_STATUS(drain_clear(file, NULL, NULL), DRAIN_STATUS_IO_ERROR);
    CHECK(!drain_requested(file));
    CHECK(text_is(read_text, file, "null"));
    size_t len = 0;
    char *content = slurp(file, &len);
    CHECK(content != NULL && len == 1 && content[0] == 'x'); /* untouched */
    free(content);

    /* The marker path is a folder: unreadable, so absent; a write cannot replace it. */
    char *home = join(root, "/dir-marker");
    char *marker_dir = marker_in(home);
    CHECK(mkdir(home, 0755) == 0 && mkdir(marker_dir, 0755) == 0);
    CHECK(!drain_requested(home));
    drain_verdict verdict;
    CHECK_STATUS(drain_inspect(home, &verdict), DRAIN_STATUS_OK);
    CHECK(!verdict.present);
    CHECK(text_is(read_text, home, "null"));
    err = 0;
    CHECK_STATUS(drain_write(home, "c-test", false, &err), DRAIN_STATUS_IO_ERROR);
    CHECK(err != 0);
    CHECK(count_entries(home) == 1); /* the temp file is gone */
    err = 0;
    CHECK_STATUS(drain_clear(home, NULL, &err), DRAIN_STATUS_IO_ERROR);
    CHECK(err != 0);
    free(marker_dir);
    free(home);
    free(below);
    free(file);
}

/* A home in a folder the caller may not write: as root, the check runs in a child that
 * drops to "nobody", since root ignores permission bits. */
static void read_only_checks(const char *home, const char *marker_file) {
    int err = -1;
    CHECK_IO_ERROR(drain_write(home, "c-test", false, &err), err, EACCES, EPERM);
    CHECK(drain_requested(home)); /* the old marker is untouched */
    err = -1;
    CHECK_IO_ERROR(drain_clear(home, NULL, &err), err, EACCES, EPERM);
    CHECK(exists(marker_file));
    char *below = join(home, "/sub");
    err = -1;
    CHECK_IO_ERROR(drain_write(below, "c-test", false, &err), err, EACCES, EPERM);
    /* What failed: the temporary file could not be made, the marker not removed. */
    drain_error details;
    CHECK_STATUS(drain_write_ex(home, "c-test", false, &details), DRAIN_STATUS_IO_ERROR);
    char *temp_prefix = join(home, "/..drain_request_");
    CHECK_ERROR(&details, DRAIN_STEP_CREATE_TEMP, EACCES, EPERM, marker_file, temp_prefix,
                ".tmp", true);
    CHECK_STATUS(drain_clear_ex(home, NULL, &details), DRAIN_STATUS_IO_ERROR);
    CHECK_ERROR(&details, DRAIN_STEP_REMOVE, EACCES, EPERM, marker_file, marker_file, NULL,
                true);
    CHECK_STATUS(drain_write_ex(below, "c-test", false, &details), DRAIN_STATUS_IO_ERROR);
    char *below_marker = marker_in(below);
    CHECK_ERROR(&details, DRAIN_STEP_CREATE_HOME, EACCES, EPERM, below_marker, below, NULL,
                true);
    CHECK(drain_requested(home));
    free(below_marker);
    free(temp_prefix);
    free(below);
}

static void test_read_only_home(const char *root) {
    context = "read-only home";
    char *home = join(root, "/ro");
    char *marker_file = marker_in(home);
    CHECK_STATUS(drain_write(home, "c-test", false, NULL), DRAIN_STATUS_OK);
    CHECK(chmod(root, 0755) == 0 && chmod(home, 0555) == 0);
    if (geteuid() != 0) {
        read_only_checks(home, marker_file);
    } else {
        fflush(stdout);
        pid_t child = fork();
        if (child == 0) {
            passed = failed = 0;
            if (setgid(65534) != 0 || setuid(65534) != 0) {
                printf("read-only home: skipped (cannot drop root privileges)\n");
                fflush(stdout);
                free(marker_file);
                free(home);
                _exit(0);
            }
            read_only_checks(home, marker_file);
            printf("read-only home, as uid 65534: %d passed, %d failed checks\n", passed, failed);
            fflush(stdout);
            free(marker_file); /* so that valgrind finds the child's heap clean too */
            free(home);
            _exit(failed > 100 ? 100 : failed);
        }
        int wstatus = 0;
        CHECK(child > 0 && waitpid(child, &wstatus, 0) == child);
        CHECK(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
    }
    CHECK(chmod(home, 0755) == 0 && chmod(root, 0700) == 0);
    CHECK_STATUS(drain_clear(home, NULL, NULL), DRAIN_STATUS_OK);
    free(marker_file);
    free(home);
}
