//! The epoch on this machine, computed independently of the library.

use drain_control::epoch;

/// Field 22 (`starttime`) of a `/proc/<pid>/stat` text, found by walking the text by
/// hand: past the command name, which ends at the *last* `)`, then counting fields.
fn field_22(stat: &str) -> String {
    let bytes = stat.as_bytes();
    let mut end_of_comm = None;
    for (index, &byte) in bytes.iter().enumerate() {
        if byte == b')' {
            end_of_comm = Some(index);
        }
    }
    let mut field = 2; // the command name was field 2
    let mut current = String::new();
    let mut in_field = false;
    for &byte in &bytes[end_of_comm.expect("a command name") + 1..] {
        if byte.is_ascii_whitespace() {
            if in_field && field == 22 {
                return current;
            }
            in_field = false;
        } else {
            if !in_field {
                field += 1;
                in_field = true;
            }
            if field == 22 {
                current.push(char::from(byte));
            }
        }
    }
    assert_eq!(field, 22, "the text ends at field 22 at the earliest");
    current
}

#[test]
fn field_22_helper_counts_fields_past_a_tricky_command_name() {
    let stat = "1 (a) b (c) d) S 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 4242 7 8\n";
    assert_eq!(field_22(stat), "4242");
    assert_eq!(
        field_22("1 (x) S 0 1 1 0 -1 4 1 2 3 4 5 6 7 8 20 0 1 0 99"),
        "99"
    );
}

#[test]
fn the_epoch_on_this_machine_is_boot_id_colon_pid1_starttime() {
    let Ok(boot_id) = std::fs::read_to_string("/proc/sys/kernel/random/boot_id") else {
        println!("SKIPPED: no /proc/sys/kernel/random/boot_id on this machine");
        return;
    };
    let stat = std::fs::read_to_string("/proc/1/stat").unwrap();
    let expected = format!("{}:{}", boot_id.trim(), field_22(&stat));
    assert_eq!(epoch::current(), expected);
    // Both parts are really there, and it is constant for the process.
    let (id, start) = expected.split_once(':').unwrap();
    assert_eq!(id.len(), 36, "{id}");
    assert!(start.parse::<u64>().is_ok(), "{start}");
    assert!(std::ptr::eq(epoch::current(), epoch::current()), "memoised");
}

#[test]
fn compose_gives_the_same_epoch_from_the_same_sources() {
    let boot_id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok();
    let stat = std::fs::read_to_string("/proc/1/stat").ok();
    let composed = epoch::compose(boot_id.as_deref(), stat.as_deref(), || None);
    assert_eq!(composed, epoch::current());
}

#[test]
fn compose_follows_the_contract_table() {
    let stat = "1 (init) S 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 777 1 2";
    let never = || -> Option<f64> { panic!("not asked while /proc answers") };
    assert_eq!(epoch::compose(Some("id\n"), Some(stat), never), "id:777");
    // A docker restart: same boot id, a new PID 1.
    let restarted = stat.replace(" 777 ", " 901 ");
    assert_ne!(
        epoch::compose(Some("id"), Some(stat), || None),
        epoch::compose(Some("id"), Some(&restarted), || None)
    );
    // Nothing readable anywhere: "", which disables the check.
    assert_eq!(epoch::compose(None, None, || None), "");
    assert_eq!(epoch::compose(Some(""), Some("1 (x) S"), || None), "");
    // macOS: whole seconds of a positive boot time.
    assert_eq!(
        epoch::compose(None, None, || Some(1_700_000_000.75)),
        "1700000000"
    );
    assert_eq!(epoch::pid1_starttime(stat), Some("777"));
}
