/* drain_test: what a failed write or clear reports (drain_write_ex, drain_clear_ex): a
 * payload refused before anything is touched, and the step, path and message of each
 * failure. Part of drain_test.c, which #includes it (see there); not compiled on its
 * own. */

/* A principal so long that the marker would be over the 1 MiB a reader reads would
 * read back as contentless, a drain nothing could age out: refused before anything is
 * touched, with a status of its own and a message naming the argument and the limit. */
static void test_refused_payload(const char *root) {
    context = "refused payload";
    char *home = join(root, "/refused");
    char *marker_file = marker_in(home);
    size_t big = 2u << 20;
    char *principal = must_malloc(big + 1);
    memset(principal, 'p', big);
    principal[big] = '\0';
    drain_error err;
    int errno_out = -1;

    /* No home yet: not even the folder is made. */
    CHECK_STATUS(drain_write(home, principal, false, &errno_out),
                 DRAIN_STATUS_INVALID_PAYLOAD);
    CHECK(errno_out == -1); /* out_errno is for IO_ERROR only */
    CHECK(!exists(home));
    CHECK_STATUS(drain_write(home, principal, false, NULL), DRAIN_STATUS_INVALID_PAYLOAD);
    CHECK_STATUS(drain_write_ex(home, principal, false, NULL), DRAIN_STATUS_INVALID_PAYLOAD);
    CHECK(!exists(home));

    /* An old marker stays byte for byte; no temporary file appears. */
    CHECK_STATUS(drain_write(home, "before", false, NULL), DRAIN_STATUS_OK);
    size_t before_len = 0, after_len = 0;
    char *before = slurp(marker_file, &before_len);
    scribble(&err);
    CHECK_STATUS(drain_write_ex(home, principal, true, &err), DRAIN_STATUS_INVALID_PAYLOAD);
    CHECK_ERROR(&err, DRAIN_STEP_CHECK_PAYLOAD, 0, 0, marker_file, marker_file, NULL, true);
    CHECK(strstr(err.message, "principal") != NULL);
    CHECK(strstr(err.message, "1048576") != NULL);
    char *after = slurp(marker_file, &after_len);
    CHECK(before != NULL && after != NULL && before_len == after_len &&
          memcmp(before, after, before_len) == 0);
    CHECK(count_entries(home) == 1);
    CHECK(drain_requested(home));
    printf("refused payload: %s\n", err.message);

    /* Just under the limit is written, and reads back as written. */
    size_t fits = (1u << 20) - 200;
    principal[fits] = '\0';
    CHECK_STATUS(drain_write_ex(home, principal, false, &err), DRAIN_STATUS_OK);
    char *read = fetch_text(read_text, home);
    CHECK(strstr(read, principal) != NULL && strlen(read) > fits);
    free(read);
    CHECK_STATUS(drain_clear(home, NULL, NULL), DRAIN_STATUS_OK);

    free(after);
    free(before);
    free(principal);
    free(marker_file);
    free(home);
}

/* Failed writes and clears name the step, the path the failing call acted on and the
 * marker; drain_error is written on every failure, and only then. */
static void test_error_details(const char *root) {
    context = "error details";
    drain_error err;

    /* /proc/self exists and refuses new files, to root too: the temporary file. */
    scribble(&err);
    CHECK_STATUS(drain_write_ex("/proc/self", "c-test", false, &err), DRAIN_STATUS_IO_ERROR);
    CHECK(err.os_error != 0);
    CHECK_ERROR(&err, DRAIN_STEP_CREATE_TEMP, err.os_error, err.os_error,
                "/proc/self/.drain_request.json", "/proc/self/..drain_request_", ".tmp", true);
    CHECK(strstr(err.message, "creating a temporary file") != NULL);
    printf("create_temp: %s\n", err.message);
    int errno_out = -1;
    CHECK_STATUS(drain_write("/proc/self", "c-test", false, &errno_out), DRAIN_STATUS_IO_ERROR);
    CHECK(errno_out == err.os_error); /* the same errno through the plain call */

    /* A home that is a regular file: the home folder cannot be made. */
    char *file = join(root, "/err-file");
    char *file_marker = marker_in(file);
    CHECK(put_file(file, "x", 1) == 0);
    scribble(&err);
    CHECK_STATUS(drain_write_ex(file, "c-test", false, &err), DRAIN_STATUS_IO_ERROR);
    CHECK_ERROR(&err, DRAIN_STEP_CREATE_HOME, EEXIST, ENOTDIR, file_marker, file, NULL, true);
    bool existed = true;
    scribble(&err);
    CHECK_STATUS(drain_clear_ex(file, &existed, &err), DRAIN_STATUS_IO_ERROR);
    CHECK_ERROR(&err, DRAIN_STEP_REMOVE, ENOTDIR, ENOTDIR, file_marker, file_marker, NULL,
                true);
    CHECK(existed); /* not written on failure */
    CHECK_STATUS(drain_clear_ex(file, NULL, NULL), DRAIN_STATUS_IO_ERROR);

    /* The marker path is a folder: the rename over it fails, and no temporary file
     * stays; removing it fails too. */
    char *home = join(root, "/err-dir-marker");
    char *marker_dir = marker_in(home);
    CHECK(mkdir(home, 0755) == 0 && mkdir(marker_dir, 0755) == 0);
    scribble(&err);
    CHECK_STATUS(drain_write_ex(home, "c-test", false, &err), DRAIN_STATUS_IO_ERROR);
    CHECK_ERROR(&err, DRAIN_STEP_RENAME, EISDIR, EEXIST, marker_dir, marker_dir, NULL, true);
    CHECK(count_entries(home) == 1);
    scribble(&err);
    CHECK_STATUS(drain_clear_ex(home, NULL, &err), DRAIN_STATUS_IO_ERROR);
    CHECK_ERROR(&err, DRAIN_STEP_REMOVE, EISDIR, EPERM, marker_dir, marker_dir, NULL, true);

    /* A home too long for any system call: the whole lengths are reported and the
     * texts cut to fit, NUL-terminated. */
    size_t long_len = 5000;
    char *long_home = must_malloc(long_len + 1);
    memset(long_home, 'd', long_len);
    long_home[0] = '/';
    long_home[long_len] = '\0';
    scribble(&err);
    CHECK_STATUS(drain_write_ex(long_home, "c-test", false, &err), DRAIN_STATUS_IO_ERROR);
    CHECK(err.step == DRAIN_STEP_CREATE_HOME && err.os_error == ENAMETOOLONG);
    CHECK(err.path_len == long_len);
    CHECK(err.marker_len == long_len + strlen("/.drain_request.json"));
    CHECK(err.message_len > DRAIN_ERROR_MESSAGE_CAPACITY);
    CHECK(strlen(err.path) == DRAIN_ERROR_PATH_CAPACITY - 1);
    CHECK(strncmp(err.path, long_home, DRAIN_ERROR_PATH_CAPACITY - 1) == 0);
    CHECK(strlen(err.marker) == DRAIN_ERROR_PATH_CAPACITY - 1);
    CHECK(strlen(err.message) == DRAIN_ERROR_MESSAGE_CAPACITY - 1);
    CHECK(starts_with(err.message, "drain marker \"/ddd"));

    /* Every failure writes it: a refused argument with no step, naming the argument. */
    char *fine = join(root, "/err-fine");
    char *fine_marker = marker_in(fine);
    scribble(&err);
    CHECK_STATUS(drain_write_ex(fine, NULL, false, &err), DRAIN_STATUS_NULL_ARGUMENT);
    CHECK_ERROR(&err, DRAIN_STEP_NONE, 0, 0, fine_marker, "", NULL, true);
    CHECK(strstr(err.message, "principal is NULL") != NULL);
    scribble(&err);
    CHECK_STATUS(drain_write_ex(fine, "\xc3", false, &err), DRAIN_STATUS_INVALID_UTF8);
    CHECK_ERROR(&err, DRAIN_STEP_NONE, 0, 0, fine_marker, "", NULL, true);
    CHECK(strstr(err.message, "principal is not valid UTF-8") != NULL);
    CHECK(!exists(fine));

    /* Success leaves it as it was. */
    scribble(&err);
    CHECK_STATUS(drain_write_ex(fine, "c-test", false, &err), DRAIN_STATUS_OK);
    existed = false;
    CHECK_STATUS(drain_clear_ex(fine, &existed, &err), DRAIN_STATUS_OK);
    CHECK(existed);
    CHECK_STATUS(drain_clear_ex(fine, &existed, &err), DRAIN_STATUS_OK);
    CHECK(!existed);
    CHECK(scribbled(&err));
    CHECK(rmdir(fine) == 0);

    free(fine_marker);
    free(fine);
    free(long_home);
    free(marker_dir);
    free(home);
    free(file_marker);
    free(file);
}
