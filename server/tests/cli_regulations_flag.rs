//! The command line names the regulations folder one way everywhere: `--regulations DIR` (or
//! `REGLAMENT_REGULATIONS`). `--root`, which some commands used to take, is still understood.

use std::process::Command;

fn reglament(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_reglament"))
        .args(args)
        .env_remove("REGLAMENT_REGULATIONS")
        .output()
        .expect("runs")
}

#[test]
fn every_command_that_reads_the_regulations_folder_calls_it_regulations() {
    let commands: &[&[&str]] = &[
        &["validate"],
        &["inspect"],
        &["render"],
        &["simulate"],
        &["migrate"],
        &["calendar", "due"],
        &["calendar", "elapsed"],
        &["calendar", "list"],
        &["calendar", "check"],
        &["calendar", "impact"],
        &["serve"],
        &["db", "migrate"],
        &["db", "rebuild"],
        &["report", "compliance"],
    ];
    let mut seen = 0;
    for cmd in commands {
        let mut args = cmd.to_vec();
        args.push("--help");
        let out = reglament(&args);
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{cmd:?}: {help}");
        assert!(
            !help.contains("--root"),
            "{cmd:?} still says --root:\n{help}"
        );
        if help.contains("--regulations <") {
            seen += 1;
        }
    }
    assert!(seen >= 10, "only {seen} commands take --regulations");
}

#[test]
fn the_old_flag_still_works() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../regulations");
    let new = reglament(&["calendar", "check", "--regulations", root]);
    let old = reglament(&["calendar", "check", "--root", root]);
    assert_eq!(new.status.code(), old.status.code());
    assert_eq!(new.stdout, old.stdout);
}
