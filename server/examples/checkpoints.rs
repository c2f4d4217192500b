//! What a signed checkpoint costs on a large database.
//!
//! ```sh
//! cargo run --release -p reglament-server --example checkpoints -- DB_URL
//! ```
//!
//! `DB_URL` is an existing database with many cases, e.g. the one the store benchmark seeds
//! (`store inbox --rows 1000000 --keep`). With a throwaway key it signs the first checkpoint
//! (every head is new), a second one with nothing changed, and then checks the database
//! against them as `reglament audit verify` does. For each it prints wall time and the
//! process's CPU time; at the end the peak resident memory. Nothing is written to the database
//! but the two checkpoints... which is why it wants a copy, not a real database.

use std::time::Instant;

use reglament_server::checkpoints::Signer;
use reglament_store::{Store, StoreOptions};
use reglament_testkit::cpu::process_cpu;

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let url = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: checkpoints DB_URL"))?;
    let store = Store::open_with(&url, StoreOptions::default()).await?;
    let dir = std::env::temp_dir().join(format!("reglament-ckpt-{}", std::process::id()));
    let signer = Signer::open(&dir.join("checkpoint.key"))?;
    let heads_before = peak_rss_kib();

    let measure = async |label: &str, signer: &Signer| -> anyhow::Result<()> {
        let (wall, cpu) = (Instant::now(), process_cpu());
        let c = signer.checkpoint(&store, chrono::Utc::now()).await?;
        println!(
            "{label}: {:.2} s wall, {:.2} s CPU; {}",
            wall.elapsed().as_secs_f64(),
            (process_cpu() - cpu).as_secs_f64(),
            match c {
                Some(c) => format!(
                    "checkpoint {} over {} cases, {} changed",
                    c.number,
                    c.cases,
                    c.changed.len()
                ),
                None => "nothing changed, nothing signed".to_string(),
            }
        );
        Ok(())
    };
    measure("first checkpoint", &signer).await?;
    measure("second checkpoint", &signer).await?;

    let (wall, cpu) = (Instant::now(), process_cpu());
    let all = reglament_audit::checkpoint::stored(&store).await?;
    let report = reglament_audit::checkpoint::verify(&store, &all, None).await?;
    println!(
        "verify against the checkpoints: {:.2} s wall, {:.2} s CPU; {} cases, {} problems",
        wall.elapsed().as_secs_f64(),
        (process_cpu() - cpu).as_secs_f64(),
        report.cases,
        report.problems.len()
    );
    println!(
        "peak resident memory: {} MiB (before: {} MiB)",
        peak_rss_kib() / 1024,
        heads_before / 1024
    );
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
