//! Failures and refused arguments: a clear error, the right exit code, nothing changed.

use super::*;

#[test]
fn json_errors_are_an_object_on_stdout_with_the_same_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home-is-a-file");
    fs::write(&home, "not a folder").unwrap();
    let marker = home.join(MARKER);
    for (args, step, errno, path) in [
        (&["status"][..], "read_marker", libc::ENOTDIR, &marker),
        (&["begin"], "create_home", libc::EEXIST, &home),
        (&["cancel"], "remove", libc::ENOTDIR, &marker),
    ] {
        let human = drainctl(&home, args);
        let out = drainctl(&home, &[&["--json"], args].concat());
        assert_eq!(code(&out), 2, "{args:?}");
        assert_eq!(code(&out), code(&human), "{args:?}");
        let error = json_error(&out);
        assert_eq!(error["step"], step, "{args:?}");
        assert_eq!(error["errno"], errno, "{args:?}");
        assert_eq!(error["path"], path.to_str().unwrap(), "{args:?}");
        assert_eq!(error["marker"], marker.to_str().unwrap(), "{args:?}");
        assert_eq!(
            stderr(&human),
            format!("drainctl: {}\n", error["message"].as_str().unwrap()),
            "{args:?}: the same words without --json"
        );
    }
}

#[test]
fn usage_errors_with_json_are_an_object_on_stdout_too() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["--json", "begin", "--bogus"][..],
        &["begin", "--json", "--principal", ""],
        &["--json", "frobnicate"],
        &["--json", "epoch"],
    ] {
        let out = drainctl(dir.path(), args);
        assert_eq!(code(&out), 2, "{args:?}");
        let error = &json_line(&out)["error"];
        assert_eq!(error["step"], "parse_arguments", "{args:?}");
        assert_eq!(error["errno"], Value::Null, "{args:?}");
        assert_eq!(error["path"], Value::Null, "{args:?}");
        let message = error["message"].as_str().unwrap();
        assert!(!message.is_empty() && !message.contains('\n'), "{message}");
        assert!(stderr(&out).contains(message), "{args:?}");
    }
    // Help is not an error, with --json or not.
    let out = drainctl_args(&["--json".as_ref(), "--help".as_ref()]);
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).starts_with("Ask a gateway to drain"));
}

#[test]
fn a_failed_write_names_the_marker_the_step_and_the_path_it_acted_on() {
    // /proc/self exists and refuses new files, to root too.
    let home = Path::new("/proc/self");
    let marker = home.join(MARKER);
    let out = drainctl(home, &["begin"]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!(
            "drainctl: drain marker {marker:?}: creating a temporary file \"/proc/self/..drain_request_"
        )),
        "{err}"
    );
    assert!(err.contains("(os error "), "{err}");
    let error = json_error(&drainctl(home, &["begin", "--json"]));
    assert_eq!(error["step"], "create_temp");
    assert_eq!(error["marker"], marker.to_str().unwrap());
    let path = error["path"].as_str().unwrap();
    assert!(path.starts_with("/proc/self/..drain_request_"), "{path}");
    assert!(error["errno"].is_i64(), "{error}");

    // A clear that fails names its step too.
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join(MARKER).join("inside")).unwrap();
    let out = drainctl(dir.path(), &["cancel"]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!(
            "drainctl: drain marker {:?}: removing the marker: ",
            dir.path().join(MARKER)
        )),
        "{err}"
    );
    let error = json_error(&drainctl(dir.path(), &["--json", "cancel"]));
    assert_eq!(error["step"], "remove");
    assert_eq!(error["errno"], libc::EISDIR);
}

#[test]
fn begin_into_a_home_that_does_not_exist_fails_unless_create_home() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("hermes-hoem");
    let out = drainctl(&typo, &["begin", "--principal", "dashboard"]);
    assert_eq!(code(&out), 2);
    assert!(stdout(&out).is_empty());
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "drainctl: the home folder {typo:?} does not exist"
        )),
        "{err}"
    );
    assert!(err.contains("--create-home"), "{err}");
    assert!(!typo.exists(), "no home, no marker");

    let error = json_error(&drainctl(&typo, &["begin", "--json"]));
    assert_eq!(error["step"], "check_home");
    assert_eq!(error["errno"], libc::ENOENT);
    assert_eq!(error["path"], typo.to_str().unwrap());
    assert!(!typo.exists());

    let nested = typo.join("and").join("deeper");
    let out = drainctl(&nested, &["begin", "--create-home"]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(nested.join(MARKER).is_file());
    assert_eq!(code(&drainctl(&nested, &["status"])), 0);
}

#[test]
fn cancel_in_a_home_that_does_not_exist_fails_saying_so() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("hermes-hoem");
    let out = drainctl(&typo, &["cancel"]);
    assert_eq!(code(&out), 2);
    assert!(stdout(&out).is_empty());
    let err = stderr(&out);
    assert!(
        err.starts_with(&format!(
            "drainctl: the home folder {typo:?} does not exist"
        )),
        "{err}"
    );
    assert!(!err.contains("cancelled"), "{err}");
    let error = json_error(&drainctl(&typo, &["cancel", "--json"]));
    assert_eq!(error["step"], "check_home");
    assert_eq!(error["errno"], libc::ENOENT);
    assert!(!typo.exists());
}

#[test]
fn status_in_a_home_that_does_not_exist_says_so_beside_not_draining() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("hermes-hoem");
    let out = drainctl(&typo, &["status"]);
    assert_eq!(code(&out), 1);
    assert_eq!(
        stdout(&out),
        format!("not draining (home {typo:?} does not exist)\n")
    );
    let report = json_line(&drainctl(&typo, &["status", "--json"]));
    assert_eq!(report["state"], "absent");
    assert_eq!(report["draining"], false);
    assert_eq!(report["home_exists"], false);
    assert_eq!(
        report["message"],
        format!("not draining (home {typo:?} does not exist)")
    );
    // A home that exists, without a marker, is plainly "no marker".
    let report = json_line(&drainctl(dir.path(), &["status", "--json"]));
    assert_eq!(report["home_exists"], true);
    assert_eq!(report["message"], "not draining: no marker");
}

#[test]
fn an_unreadable_marker_is_reported_as_unreadable_never_as_no_marker() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    fs::create_dir(home.join(MARKER)).unwrap();
    let out = drainctl(home, &["status"]);
    assert_eq!(code(&out), 2);
    assert!(stdout(&out).is_empty());
    let err = stderr(&out);
    assert!(
        err.starts_with("drainctl: marker unreadable: not a regular file (a folder)"),
        "{err}"
    );
    assert!(!err.contains("no marker"), "{err}");
    let error = json_error(&drainctl(home, &["status", "--json"]));
    assert_eq!(error["step"], "read_marker");
    assert_eq!(error["path"], home.join(MARKER).to_str().unwrap());

    let watching = Watching::start(home, &[]);
    let line = watching.line();
    assert!(
        line.contains(" marker unreadable: not a regular file (a folder)"),
        "{line}"
    );
    assert!(!line.contains("no marker"), "{line}");
    drop(watching);
    let watching = Watching::start(home, &["--json"]);
    let first: Value = serde_json::from_str(&watching.line()).unwrap();
    assert_eq!(first["draining"], false);
    assert_eq!(first["unreadable"], "not a regular file (a folder)");
    let message = first["message"].as_str().unwrap();
    assert!(message.starts_with("marker unreadable: "), "{message}");
}

#[test]
fn an_empty_principal_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for principal in ["", "  ", "\t\n"] {
        let out = drainctl(dir.path(), &["begin", "--principal", principal]);
        assert_eq!(code(&out), 2, "{principal:?}");
        assert!(stdout(&out).is_empty());
        let err = stderr(&out);
        assert!(err.contains("principal cannot be empty"), "{err}");
    }
    assert!(!dir.path().join(MARKER).exists(), "nothing written");
}

#[test]
fn human_output_shortens_a_very_long_principal_and_json_keeps_it_whole() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    // An escape sequence first (escaped, never sent to the terminal), then 2-byte and
    // 4-byte characters: the cut falls on a character, after 60 of them.
    let principal = format!("\u{1b}[31m{}{}", "é".repeat(200), "🦀".repeat(100));
    let shown = format!("requested by \\u{{1b}}[31m{}… (245 more);", "é".repeat(55));
    let out = drainctl(home, &["begin", "--principal", &principal]);
    assert_eq!(code(&out), 0);
    let line = stdout(&out);
    assert!(line.contains(&shown), "{line}");
    assert!(!line.contains('\u{1b}'), "{line}");
    let line = stdout(&drainctl(home, &["status"]));
    assert!(line.contains(&shown), "{line}");

    let begun = json_line(&drainctl(
        home,
        &["begin", "--json", "--principal", &principal],
    ));
    assert_eq!(begun["marker"]["principal"], principal.as_str());
    let report = json_line(&drainctl(home, &["status", "--json"]));
    assert_eq!(report["marker"]["principal"], principal.as_str());
    assert!(
        report["message"].as_str().unwrap().contains(&shown),
        "the message is prose"
    );
}

#[test]
fn every_principal_a_command_line_can_carry_reads_back_as_written() {
    // Every writer refuses a payload the reader would not read back (over 1 MiB).
    // One argument is at most 128 KiB on Linux, and JSON escapes a byte into at most
    // six: drainctl cannot reach the limit, and its longest marker reads back whole.
    let dir = tempfile::tempdir().unwrap();
    let principal = "\u{1}".repeat(128 * 1024 - 1);
    let out = drainctl(dir.path(), &["begin", "--principal", &principal]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(fs::metadata(dir.path().join(MARKER)).unwrap().len() > 6 * 128 * 1000);
    let out = drainctl(dir.path(), &["status", "--json"]);
    assert_eq!(code(&out), 0);
    let report = json_line(&out);
    assert_eq!(report["state"], "active");
    assert_eq!(report["marker"]["principal"], principal.as_str());
}

#[test]
fn epoch_takes_no_home() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().as_os_str();
    for args in [
        &["epoch".as_ref(), "--home".as_ref(), home][..],
        &["--home".as_ref(), home, "epoch".as_ref()],
    ] {
        let out = drainctl_args(args);
        assert_eq!(code(&out), 2, "{args:?}");
        assert!(stdout(&out).is_empty(), "{args:?}");
        assert!(stderr(&out).contains("--home"), "{args:?}");
    }
    let out = drainctl_args(&["--home".as_ref(), home, "epoch".as_ref()]);
    assert!(
        stderr(&out).contains("epoch takes no --home"),
        "{}",
        stderr(&out)
    );
    assert_eq!(code(&drainctl_args(&["epoch".as_ref()])), 0);
}

#[test]
fn an_empty_home_is_an_error_with_a_reason() {
    let cwd = tempfile::tempdir().unwrap();
    for args in [
        &["--home", "", "status"][..],
        &["status", "--home", ""],
        &["--home", "", "begin", "--create-home"],
        &["path", "--home", ""],
    ] {
        let out = Command::new(DRAINCTL)
            .args(args)
            .current_dir(cwd.path())
            .output()
            .unwrap();
        assert_eq!(code(&out), 2, "{args:?}");
        assert!(stdout(&out).is_empty(), "{args:?}");
        let err = stderr(&out);
        assert!(err.contains("the home folder cannot be empty"), "{err}");
    }
    assert!(
        !cwd.path().join(MARKER).exists(),
        "no marker in the current folder"
    );
}

#[test]
fn home_may_follow_the_command_but_comes_once() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().as_os_str();
    let out = drainctl_args(&["status".as_ref(), "--home".as_ref(), home]);
    assert_eq!(code(&out), 1);
    assert_eq!(stdout(&out), "not draining: no marker\n");
    let out = drainctl_args(&[
        "--home".as_ref(),
        home,
        "status".as_ref(),
        "--home".as_ref(),
        home,
    ]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("--home is given twice"));
}

#[test]
fn bad_arguments_exit_2_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    for args in [
        &["begin", "--principal"][..],
        &["begin", "--bogus"],
        &["begin", "--create-home", "--principal", ""],
        &["frobnicate"],
        &[],
        &["watch", "--fallback-interval", "0"],
        &["status", "extra"],
        &["epoch"],
        &["status", "--home", "elsewhere"],
    ] {
        let out = drainctl(&home, args);
        assert_eq!(code(&out), 2, "{args:?}");
        assert!(!stderr(&out).is_empty(), "{args:?}");
        assert!(stdout(&out).is_empty(), "{args:?}");
    }
    assert!(!home.exists(), "a bad command created the home");
}

#[test]
fn path_and_epoch_print_plain_lines() {
    let dir = tempfile::tempdir().unwrap();
    let out = drainctl(dir.path(), &["path"]);
    assert_eq!(code(&out), 0);
    assert_eq!(
        stdout(&out),
        format!("{}\n", dir.path().join(MARKER).display())
    );
    let out = drainctl_args(&["epoch".as_ref()]);
    assert_eq!(code(&out), 0);
    assert_eq!(
        stdout(&out),
        format!("{}\n", drain_control::epoch::current())
    );
}

#[test]
fn home_defaults_to_hermes_home() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(DRAINCTL)
        .arg("path")
        .env("HERMES_HOME", format!("  {}\n", dir.path().display()))
        .output()
        .unwrap();
    assert_eq!(
        stdout(&out),
        format!("{}\n", dir.path().join(MARKER).display())
    );
}
