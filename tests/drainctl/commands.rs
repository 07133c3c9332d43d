//! status, begin and cancel: what each says about each kind of marker.

use super::*;

#[test]
fn status_without_marker_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let out = drainctl(dir.path(), &["status"]);
    assert_eq!(code(&out), 1);
    assert_eq!(stdout(&out), "not draining: no marker\n");
    let out = drainctl(&dir.path().join("missing"), &["status", "--json"]);
    assert_eq!(code(&out), 1);
    let report = json_line(&out);
    assert_eq!(report["state"], "absent");
    assert_eq!(report["draining"], false);
    assert_eq!(report["marker"], Value::Null);
}

#[test]
fn begin_then_status_exits_0_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("new-home");
    let out = drainctl(
        &home,
        &["begin", "--principal", "dashboard", "--create-home"],
    );
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(stdout(&out).starts_with("draining since "));
    assert!(home.join(MARKER).is_file());

    let out = drainctl(&home, &["status"]);
    assert_eq!(code(&out), 0);
    let line = stdout(&out);
    assert!(line.starts_with("draining since 20"), "{line}");
    assert!(
        line.contains("requested by dashboard; expires in 1 h"),
        "{line}"
    );
    assert!(!line.contains("suppressed"));

    let out = drainctl(&home, &["begin", "--suppress-notification"]);
    assert_eq!(code(&out), 0);
    let out = drainctl(&home, &["status"]);
    assert_eq!(code(&out), 0);
    let line = stdout(&out);
    assert!(line.contains("requested by drainctl;"), "{line}");
    assert!(
        line.trim_end().ends_with("; notification suppressed"),
        "{line}"
    );
}

#[test]
fn json_shapes() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let out = drainctl(home, &["--json", "begin", "--principal", "ops"]);
    assert_eq!(code(&out), 0);
    let begun = json_line(&out);
    assert_eq!(begun["state"], "active");
    assert_eq!(begun["marker"]["principal"], "ops");

    let out = drainctl(home, &["status", "--json"]);
    assert_eq!(code(&out), 0);
    let report = json_line(&out);
    for key in [
        "state",
        "draining",
        "suppressed",
        "present",
        "epoch_stale",
        "expired",
        "marker",
        "expires_at",
        "at",
        "epoch",
        "home",
        "home_exists",
        "path",
        "unreadable",
        "message",
    ] {
        assert!(report.get(key).is_some(), "missing {key}: {report}");
    }
    assert_eq!(report["draining"], true);
    assert_eq!(report["home_exists"], true);
    assert_eq!(report["unreadable"], Value::Null);
    assert_eq!(report["marker"]["action"], "drain");
    assert_eq!(report["marker"]["epoch"], drain_control::epoch::current());
    assert_eq!(report["path"], home.join(MARKER).to_str().unwrap());
    let expires = drain_control::Timestamp::parse(report["expires_at"].as_str().unwrap());
    let requested =
        drain_control::Timestamp::parse(report["marker"]["requested_at"].as_str().unwrap());
    assert_eq!(
        expires.unwrap().unix_micros() - requested.unwrap().unix_micros(),
        3_600_000_001
    );

    let out = drainctl(home, &["cancel", "--json"]);
    assert_eq!(json_line(&out)["removed"], true);
    let out = drainctl(home, &["cancel", "--json"]);
    assert_eq!(json_line(&out)["removed"], false);

    let out = drainctl(home, &["path", "--json"]);
    let paths = json_line(&out);
    assert_eq!(paths["home"], home.to_str().unwrap());
    assert_eq!(paths["path"], home.join(MARKER).to_str().unwrap());

    let out = drainctl_args(&["epoch".as_ref(), "--json".as_ref()]);
    assert_eq!(json_line(&out)["epoch"], drain_control::epoch::current());
}

#[test]
fn cancel_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(code(&drainctl(dir.path(), &["begin"])), 0);
    let out = drainctl(dir.path(), &["cancel"]);
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).starts_with("cancelled: marker "));
    assert!(!dir.path().join(MARKER).exists());
    let out = drainctl(dir.path(), &["cancel"]);
    assert_eq!(code(&out), 0);
    assert!(stdout(&out).starts_with("not draining: there was no marker"));
    assert_eq!(code(&drainctl(dir.path(), &["status"])), 1);
}

#[test]
fn expired_marker_is_ignored_and_says_how_long_ago() {
    let dir = tempfile::tempdir().unwrap();
    let epoch = drain_control::epoch::current();
    write_raw_marker(
        dir.path(),
        &format!(
            r#"{{"action": "drain", "requested_at": "2000-01-01T00:00:00+00:00",
                "principal": "dashboard", "epoch": "{epoch}"}}"#
        ),
    );
    let out = drainctl(dir.path(), &["status"]);
    assert_eq!(code(&out), 1);
    let line = stdout(&out);
    assert!(line.starts_with("ignored: expired "), "{line}");
    assert!(line.contains(" ago"), "{line}");
    let report = json_line(&drainctl(dir.path(), &["status", "--json"]));
    assert_eq!(report["state"], "expired");
    assert_eq!(report["expires_at"], Value::Null);
}

#[test]
fn marker_from_before_a_restart_is_ignored() {
    if drain_control::epoch::current().is_empty() {
        return; // no epoch on this machine: nothing is ever stale
    }
    let dir = tempfile::tempdir().unwrap();
    write_raw_marker(
        dir.path(),
        r#"{"action": "drain", "requested_at": "2999-01-01T00:00:00+00:00",
            "principal": "dashboard", "epoch": "an-older-boot:1"}"#,
    );
    let out = drainctl(dir.path(), &["status"]);
    assert_eq!(code(&out), 1);
    let line = stdout(&out);
    assert!(
        line.starts_with(
            "ignored: written before this machine restarted (epoch an-older-boot:1, this machine "
        ),
        "{line}"
    );
    assert_eq!(
        json_line(&drainctl(dir.path(), &["--json", "status"]))["state"],
        "epoch-stale"
    );
}

#[test]
fn contentless_marker_drains_fail_safe() {
    let dir = tempfile::tempdir().unwrap();
    write_raw_marker(dir.path(), "{ torn");
    let out = drainctl(dir.path(), &["status"]);
    assert_eq!(code(&out), 0);
    assert_eq!(
        stdout(&out),
        "draining: the marker is unreadable as JSON (fail-safe)\n"
    );
    assert_eq!(
        json_line(&drainctl(dir.path(), &["status", "--json"]))["marker"],
        serde_json::json!({})
    );
}

#[test]
fn home_that_is_a_file_is_an_error_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home-is-a-file");
    fs::write(&home, "not a folder").unwrap();
    let marker = format!("{:?}", home.join(MARKER));
    for args in [&["status"][..], &["begin"], &["cancel"]] {
        let out = drainctl(&home, args);
        assert_eq!(code(&out), 2, "{args:?}");
        assert!(stdout(&out).is_empty(), "{args:?}: {}", stdout(&out));
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("drainctl: "), "{args:?}: {err}");
        assert!(err.contains(&marker), "{args:?}: {err}");
        assert!(err.contains("os error"), "{args:?}: {err}");
    }
    let err = stderr(&drainctl(&home, &["begin"]));
    assert!(
        err.starts_with(&format!(
            "drainctl: drain marker {marker}: creating the home folder {home:?}: "
        )),
        "{err}"
    );
    assert!(err.trim_end().ends_with("(os error 17)"), "{err}");
    assert_eq!(fs::read_to_string(&home).unwrap(), "not a folder");
}
