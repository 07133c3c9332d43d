//! The README's main command: one drain, start to finish, in a throw-away home.
//!
//! It plays both sides of the contract. As the dashboard it begins a drain, keeps it
//! alive and cancels it; as the gateway it reads the marker after each step and prints
//! what it sees. It also shows the two ways a marker is ignored: written before this
//! machine restarted (another epoch), and older than the maximum age.

use std::path::Path;
use std::process::ExitCode;

use drain_control::{Classified, Payload, Timestamp, epoch, fsio, marker_path};

fn main() -> ExitCode {
    let home = std::env::temp_dir().join(format!("drain-control-demo-{}", std::process::id()));
    let outcome = run(&home);
    let _ = std::fs::remove_dir_all(&home);
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("demo failed: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(home: &Path) -> Result<(), String> {
    let home = Some(home);
    println!("home:   {}", drain_control::resolve_home(home).display());
    println!("marker: {}", marker_path(home).display());
    println!("epoch:  {:?}\n", epoch::current());

    show("before anything", home, false)?;

    let payload = drain_control::write(home, "demo-dashboard", false).map_err(|e| e.to_string())?;
    println!(
        "dashboard: begin drain (requested_at {})",
        payload.requested_at
    );
    show("after begin", home, true)?;

    let payload = drain_control::write(home, "demo-dashboard", true).map_err(|e| e.to_string())?;
    println!(
        "dashboard: keep-alive re-write, asking to suppress the notice (requested_at {})",
        payload.requested_at
    );
    show("after re-write", home, true)?;

    let existed = drain_control::clear(home).map_err(|e| e.to_string())?;
    println!("dashboard: cancel drain (a marker existed: {existed})");
    show("after cancel", home, false)?;

    let from_before_restart = Payload::new(
        "old-dashboard",
        false,
        "some-other-boot:1",
        Timestamp::now(),
    );
    plant(home, &from_before_restart)?;
    println!("planted: a marker from a previous machine instantiation");
    show("stale epoch", home, false)?;

    let two_hours_ago = Timestamp::from_unix_micros(Timestamp::now().unix_micros() - 7_200_000_000);
    let expired = Payload::new(
        "forgotten-dashboard",
        false,
        epoch::current(),
        two_hours_ago,
    );
    plant(home, &expired)?;
    println!("planted: a marker written two hours ago");
    show("expired", home, false)?;

    drain_control::clear(home).map_err(|e| e.to_string())?;
    println!("\nall states as expected");
    Ok(())
}

fn plant(home: Option<&Path>, payload: &Payload) -> Result<(), String> {
    fsio::write_marker(&marker_path(home), &payload.to_bytes()).map_err(|e| e.to_string())
}

/// Prints what a gateway polling `home` now sees, and checks it is what the step expects.
fn show(step: &str, home: Option<&Path>, expect_active: bool) -> Result<(), String> {
    let Classified { read, verdict, .. } = drain_control::status(home);
    let body = read
        .to_json()
        .map_or("none".to_owned(), |body| body.to_string());
    println!(
        "gateway [{step}]: draining={} suppressed={} present={} epoch_stale={} expired={}\n         body: {body}",
        verdict.active, verdict.suppressed, verdict.present, verdict.epoch_stale, verdict.expired,
    );
    if verdict.active != expect_active {
        return Err(format!("{step}: expected draining={expect_active}"));
    }
    Ok(())
}
