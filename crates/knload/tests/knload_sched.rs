//! The policy knload's load threads run under (`--sched`). A file of its own:
//! the test finds the loop thread by name in /proc/self/task, and runs of
//! other tests in the same process would have threads of that name too.

mod common;
use common::run;
use knload::{ServeConfig, Server};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// The scheduling policy of this process's thread named `name`, read from
/// /proc while it runs (field 41 of its stat line); `None` while no thread
/// of that name exists.
#[cfg(target_os = "linux")]
fn policy_of_thread(name: &str) -> Option<u32> {
    for task in std::fs::read_dir("/proc/self/task").ok()? {
        let dir = task.ok()?.path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if comm.trim_end() != name {
            continue;
        }
        let stat = std::fs::read_to_string(dir.join("stat")).ok()?;
        // The name in parentheses may hold spaces; fields after it start at 3.
        let rest = &stat[stat.rfind(')')? + 1..];
        return rest.split_whitespace().nth(41 - 3)?.parse().ok();
    }
    None
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_loop_runs_under_sched_batch_and_a_timed_one_does_not() {
    const SCHED_OTHER: u32 = 0;
    const SCHED_BATCH: u32 = 3;
    let server = Server::start(ServeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..ServeConfig::default()
    })
    .await
    .unwrap();
    let u = server.url();
    // (options, policy of the loop thread)
    let cases: [(&[&str], u32); 5] = [
        (&[], SCHED_BATCH),
        (&["--sched", "normal"], SCHED_OTHER),
        (&["-q", "200"], SCHED_OTHER),
        (&["-q", "200", "--sched", "batch"], SCHED_BATCH),
        (&["--sched", "auto", "-q", "200"], SCHED_OTHER),
    ];
    for (extra, want) in cases {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let watcher = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut seen = None;
                while seen.is_none() && !stop.load(Ordering::SeqCst) {
                    seen = policy_of_thread("knload-loop-0");
                    std::thread::sleep(Duration::from_millis(5));
                }
                seen
            })
        };
        let mut args = vec!["-z", "1s", "-c", "2", "--threads", "1"];
        args.extend_from_slice(extra);
        args.push(&u);
        let r = run(&args).await;
        stop.store(true, Ordering::SeqCst);
        assert!(r.responses > 0, "{:?}", r.error_examples);
        let seen = watcher.join().unwrap();
        assert_eq!(seen, Some(want), "{extra:?}");
    }
}
