//! `drainctl watch`: a line per change until a signal.

use super::*;

#[test]
fn watch_prints_a_line_per_change_and_exits_0_on_sigint() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let mut watching = Watching::start(&home, &[]);
    let first = watching.line();
    assert!(
        first.ends_with(&format!(" not draining (home {home:?} does not exist)")),
        "{first}"
    );
    assert_eq!(
        code(&drainctl(
            &home,
            &["begin", "--principal", "dashboard", "--create-home"]
        )),
        0
    );
    let line = watching.line();
    assert!(line.contains(" draining since "), "{line}");
    assert!(line.contains("requested by dashboard"), "{line}");
    assert_eq!(code(&drainctl(&home, &["cancel"])), 0);
    assert!(watching.line().ends_with(" not draining: no marker"));
    assert_eq!(watching.signal(libc::SIGINT), 0);
}

#[test]
fn watch_json_lines_and_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let mut watching = Watching::start(home, &["--json"]);
    let first: Value = serde_json::from_str(&watching.line()).unwrap();
    assert_eq!(first["state"], "absent");
    assert_eq!(first["initial"], true);
    assert_eq!(
        code(&drainctl(home, &["begin", "--suppress-notification"])),
        0
    );
    let begun: Value = serde_json::from_str(&watching.line()).unwrap();
    assert_eq!(begun["state"], "suppressed");
    assert_eq!(begun["initial"], false);
    assert_eq!(begun["marker"]["principal"], "drainctl");
    assert_eq!(watching.signal(libc::SIGTERM), 0);
}
