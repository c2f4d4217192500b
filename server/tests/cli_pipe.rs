//! A command whose reader goes away (`reglament calendar list ... | head -1`) stops quietly, as `cat`
//! does, instead of panicking with "failed printing to stdout: Broken pipe".

#![cfg(unix)]

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::process::{Command, Stdio};

#[test]
fn a_closed_pipe_ends_the_command_without_a_panic() {
    let bundled = reglament_testkit::regulations_dir();
    let mut child = Command::new(env!("CARGO_BIN_EXE_reglament"))
        .args([
            "calendar",
            "list",
            "--from",
            "2012-01-01",
            "--to",
            "2027-12-31",
            "--regulations",
        ])
        .arg(&bundled)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run reglament");
    // Read one byte, then close our end: sixteen years of dates (about 390 KB) are far more
    // than a pipe's buffer, so the command is still writing when the reader leaves.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut first = [0u8; 1];
    stdout.read_exact(&mut first).expect("some output");
    assert_eq!(&first, b"2", "the list starts with the first date");
    drop(stdout);
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("panicked"),
        "the command panicked on a closed pipe:\n{stderr}"
    );
    // Ended by SIGPIPE, as `cat` would be.
    assert!(
        out.status.signal() == Some(libc_sigpipe()),
        "unexpected end: {:?}\n{stderr}",
        out.status
    );
}

/// SIGPIPE is 13 on every Unix this runs on (Linux, the BSDs, macOS).
fn libc_sigpipe() -> i32 {
    13
}
