//! The simulator against closed forms of queueing theory (short runs of the
//! `knsim validate-model --quick` profile). Seeds are fixed, so these tests
//! are deterministic; the tolerances are a 99.9 % Student-t interval and a
//! relative error bound, each tight enough that a broken request path (a
//! LIFO activator queue, no queue-proxy limit, service times drawn twice)
//! fails them.

use knsim::model::{simulate, RequestOutcome};
use knsim::sim::SimTime;
use knsim::validation::{
    experiments, markdown_table, run_experiments, t_quantile, Experiment, Profile, RecordSink,
    RowResult,
};

fn quick(prefix: &str) -> Vec<Experiment> {
    let v: Vec<Experiment> = experiments(Profile::Quick)
        .into_iter()
        .filter(|e| e.id.starts_with(prefix))
        .collect();
    assert!(!v.is_empty(), "no quick experiment {prefix}");
    v
}

/// Every row expected to match must have the theory inside the 99.9 %
/// interval and within `rel_tol` of the simulated mean.
fn assert_matches(rows: &[RowResult], rel_tol: f64) {
    let bad: Vec<String> = rows
        .iter()
        .filter(|r| r.check.expect_match)
        .filter_map(|r| {
            let e = &r.estimate;
            let t = t_quantile(e.n - 1, 0.999);
            let dev = (e.mean - r.check.theory).abs();
            let ok = dev <= t * e.std_error && r.relative_error() <= rel_tol;
            (!ok).then(|| {
                format!(
                    "{} {}: theory {} sim {} ± {} (99.9 %: ± {}), rel. error {:.2} %",
                    r.experiment,
                    r.check.measure.label(),
                    r.check.theory,
                    e.mean,
                    e.half_width,
                    t * e.std_error,
                    100.0 * r.relative_error()
                )
            })
        })
        .collect();
    assert!(
        bad.is_empty(),
        "{}\n{}",
        bad.join("\n"),
        markdown_table(rows)
    );
}

#[test]
fn mmc_through_the_activator_matches_erlang_c_and_its_wait_tail() {
    let rows = run_experiments(&quick("mmc-c2-rho0.80-act1")).unwrap();
    assert_eq!(rows.len(), 4);
    assert_matches(&rows, 0.06);
}

#[test]
fn md1_matches_pollaczek_khinchine() {
    let rows = run_experiments(&quick("md1")).unwrap();
    assert_matches(&rows, 0.06);
}

#[test]
fn cc0_is_mginf_with_mean_in_flight_lambda_es() {
    let rows = run_experiments(&quick("mginf")).unwrap();
    assert_matches(&rows, 0.03);
}

#[test]
fn queue_proxy_overflow_matches_mm1k_blocking() {
    let rows = run_experiments(&quick("mm1k")).unwrap();
    assert_matches(&rows, 0.05);
}

#[test]
fn mm1k_setup_takes_the_direct_path_after_warm_up() {
    let e = &quick("mm1k")[0];
    let sc = e.load().unwrap();
    let mut sink = RecordSink::default();
    simulate(&sc, 1, &mut sink);
    let measured: Vec<_> = sink
        .records
        .iter()
        .filter(|r| r.arrival >= SimTime::from_secs(30))
        .collect();
    assert!(measured.len() > 5_000);
    assert!(measured.iter().all(|r| r.activator.is_none()));
    assert!(measured
        .iter()
        .any(|r| r.outcome == RequestOutcome::Overflow));
}

#[test]
fn scale_to_zero_cold_fraction_follows_the_idle_gap_rule() {
    let rows = run_experiments(&quick("s2z")).unwrap();
    assert_matches(&rows, 0.05);
}

#[test]
fn several_activators_split_mmc_into_erlang2_m1_queues() {
    let rows = run_experiments(&quick("mmc-c2-rho0.80-act2")).unwrap();
    assert_matches(&rows, 0.06);
    // Subsetting is measurably not M/M/c: the wait is far above Erlang C.
    let erlang_c = rows.iter().find(|r| !r.check.expect_match).unwrap();
    assert!(
        erlang_c.estimate.mean > 1.3 * erlang_c.check.theory,
        "{}",
        markdown_table(&rows)
    );
}

#[test]
fn replications_are_reproducible() {
    let mut e = quick("md1").remove(0);
    e.seeds.truncate(2);
    let a = run_experiments(std::slice::from_ref(&e)).unwrap();
    let b = run_experiments(std::slice::from_ref(&e)).unwrap();
    assert_eq!(a, b);
}

#[test]
fn results_do_not_depend_on_the_number_of_threads() {
    let mut e = quick("mm1k").remove(0);
    e.seeds.truncate(3);
    let exps = [e];
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| run_experiments(&exps).unwrap());
    let many = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap()
        .install(|| run_experiments(&exps).unwrap());
    assert_eq!(one, many);
}

/// The HPA class at a constant CPU load holds ceil(λ·c/(u·R)) pods and its
/// pods' utilization sits at λ·c/(n·R), inside the tolerance band.
#[test]
fn hpa_settles_at_the_closed_form_replicas_and_utilization() {
    let rows = run_experiments(&quick("hpa-steady")).unwrap();
    assert_eq!(rows.len(), 2);
    assert_matches(&rows, 0.02);
    let util = rows[1].estimate.mean;
    assert!(
        (45.0..=55.0).contains(&util),
        "{util} % outside 50 % ± 10 %"
    );
}
