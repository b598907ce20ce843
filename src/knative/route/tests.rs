use super::*;

fn rev(name: &str, pct: i64) -> TrafficTarget {
    TrafficTarget {
        revision_name: Some(name.into()),
        percent: Some(pct),
        ..TrafficTarget::default()
    }
}

fn latest(pct: i64) -> TrafficTarget {
    TrafficTarget {
        latest_revision: Some(true),
        percent: Some(pct),
        ..TrafficTarget::default()
    }
}

fn tagged(mut t: TrafficTarget, tag: &str) -> TrafficTarget {
    t.tag = Some(tag.into());
    t
}

#[test]
fn valid_blocks() {
    assert!(validate_traffic(&[], "spec.traffic").is_empty());
    assert!(validate_traffic(&[rev("a-1", 60), tagged(latest(40), "next")], "traffic").is_empty());
    assert!(validate_traffic(
        &[rev("a-1", 100), tagged(rev("b-2", 0), "canary")],
        "traffic"
    )
    .is_empty());
}

#[test]
fn sum_must_be_100() {
    let e = validate_traffic(&[rev("a", 50), rev("b", 40)], "spec.traffic");
    assert_eq!(
        e,
        vec![FieldError::new(
            "spec.traffic",
            "Traffic targets sum to 90, want 100"
        )]
    );
}

#[test]
fn duplicate_and_bad_tags() {
    let e = validate_traffic(
        &[tagged(rev("a", 50), "x"), tagged(rev("b", 50), "x")],
        "traffic",
    );
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].path, "traffic[1].tag");
    assert!(e[0].rule.starts_with("Multiple definitions for \"x\""));
    let e = validate_traffic(&[tagged(rev("a", 100), "Foo_bar")], "traffic");
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].path, "traffic[0].tag");
    assert!(e[0].rule.starts_with("invalid value: not a DNS 1035 label"));
    assert!(is_dns1035_label("canary-2"));
    assert!(!is_dns1035_label("2canary"));
    assert!(!is_dns1035_label("canary-"));
    assert!(!is_dns1035_label(&"a".repeat(64)));
}

#[test]
fn revision_name_and_latest_revision() {
    let mut t = rev("a", 100);
    t.latest_revision = Some(true);
    let e = validate_traffic(&[t], "traffic");
    assert_eq!(
        e,
        vec![FieldError::new(
            "traffic[0].latestRevision",
            "may not set revisionName \"a\" when latestRevision is true"
        )]
    );
    let mut t = latest(100);
    t.latest_revision = Some(false);
    let e = validate_traffic(&[t], "traffic");
    assert_eq!(
        e[0].rule,
        "may not set revisionName \"\" when latestRevision is false"
    );
}

#[test]
fn percent_range_configuration_and_url() {
    let e = validate_traffic(&[rev("a", 150), rev("b", -50)], "traffic");
    let paths: Vec<&str> = e.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["traffic[0].percent", "traffic[1].percent"]);
    assert_eq!(e[0].rule, "expected 0 <= 150 <= 100");
    let mut t = latest(100);
    t.configuration_name = Some("cfg".into());
    t.url = Some("http://x".into());
    let e = validate_traffic(&[t], "traffic");
    let paths: Vec<&str> = e.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["traffic[0].configurationName", "traffic[0].url"]);
}

#[test]
fn splits_merge_omit_zero_and_force_single_to_100() {
    let c = compute_traffic(
        &[
            rev("a", 30),
            tagged(latest(50), "next"),
            rev("a", 20),
            tagged(rev("c", 0), "old"),
        ],
        Some("b"),
    )
    .unwrap();
    assert_eq!(
        c.default,
        vec![("a".to_string(), 50), ("b".to_string(), 50)]
    );
    assert_eq!(c.tags["next"], "b");
    assert_eq!(c.tags["old"], "c");
    // latest and a pin to the same revision merge into one entry → 100.
    let c = compute_traffic(&[latest(70), rev("b", 30)], Some("b")).unwrap();
    assert_eq!(c.default, vec![("b".to_string(), 100)]);
    let c = compute_traffic(&[], Some("r1")).unwrap();
    assert_eq!(c.default, vec![("r1".to_string(), 100)]);
    assert!(compute_traffic(&[latest(100)], None).is_err());
}

#[test]
fn serde_is_camel_case_and_strict() {
    let t: TrafficTarget =
        serde_json::from_str(r#"{"revisionName":"a","percent":10,"latestRevision":false}"#)
            .unwrap();
    assert_eq!(t.revision_name.as_deref(), Some("a"));
    assert!(serde_json::from_str::<TrafficTarget>(r#"{"revision":"a"}"#).is_err());
}

fn cr(tag: &str, percent: u32, revs: &[(&str, u32)]) -> ConfigurationRollout {
    ConfigurationRollout {
        tag: tag.into(),
        percent,
        revisions: revs
            .iter()
            .map(|(r, p)| RevisionRollout {
                revision: r.to_string(),
                percent: *p,
            })
            .collect(),
        start_time: None,
        step_duration: SimDuration::ZERO,
        step_size: 0,
        next_step_time: None,
    }
}

fn shares(c: &ConfigurationRollout) -> Vec<u32> {
    c.revisions.iter().map(|r| r.percent).collect()
}

/// Knative's TestObserveReady, with its nanosecond timestamps.
#[test]
fn observe_ready_matches_knative() {
    let now = SimTime(200_620_092_020 + 1982);
    let olden = SimTime(198_219_841_988);
    let ancient = SimTime(14_921_812);
    let mk = |p: u32, start: Option<SimTime>| {
        let mut c = cr("", p, &[]);
        c.start_time = start;
        c
    };
    let mut has_step = mk(100, None);
    has_step.step_duration = SimDuration(11);
    let mut ro = Rollout {
        configurations: vec![
            has_step.clone(),
            mk(100, None),
            mk(100, Some(SimTime(200_620_092_020))),
            mk(100, Some(olden)),
            mk(75, Some(olden)),
            mk(50, Some(olden)),
            mk(13, Some(ancient)),
        ],
    };
    ro.observe_ready(now, 120.0);
    let c = &ro.configurations;
    assert_eq!(c[0], has_step);
    assert_eq!(c[1], mk(100, None));
    let got = |i: usize| {
        (
            c[i].step_duration.as_nanos(),
            c[i].step_size,
            c[i].next_step_time,
        )
    };
    let sec = 1_000_000_000u64;
    assert_eq!(
        got(2),
        (
            1_202_020_202,
            1,
            Some(SimTime(now.as_nanos() + 1_202_020_202))
        )
    );
    assert_eq!(
        got(3),
        (3 * sec, 3, Some(SimTime(now.as_nanos() + 3 * sec)))
    );
    assert_eq!(
        got(4),
        (
            3 * sec,
            75 / 40 + 1,
            Some(SimTime(now.as_nanos() + 3 * sec))
        )
    );
    assert_eq!(
        got(5),
        (3 * sec, 50 / 40, Some(SimTime(now.as_nanos() + 3 * sec)))
    );
    assert_eq!(got(6), (sec, 12, Some(SimTime(now.as_nanos() + sec))));
}

/// Knative's TestStepRevisions.
#[test]
fn step_revisions_matches_knative() {
    let with = |mut c: ConfigurationRollout, next: u64, size: u32, dur: u64| {
        c.next_step_time = Some(SimTime(next));
        c.step_size = size;
        c.step_duration = SimDuration(dur);
        c
    };
    // Too soon: nothing moves.
    let mut c = with(cr("", 75, &[("a", 10), ("b", 5), ("c", 60)]), 1984, 10, 0);
    c.step_revisions(SimTime(1982));
    assert_eq!(shares(&c), [10, 5, 60]);
    // Exact time.
    let mut c = with(cr("", 90, &[("a", 30), ("b", 60)]), 1984, 10, 55);
    c.step_revisions(SimTime(1984));
    assert_eq!(shares(&c), [20, 70]);
    assert_eq!(c.next_step_time, Some(SimTime(1984 + 55)));
    // Older revisions drained newest first, emptied ones dropped.
    let mut c = with(
        cr("", 90, &[("a", 22), ("b", 5), ("c", 3), ("d", 60)]),
        1984,
        10,
        55,
    );
    c.step_revisions(SimTime(1988));
    assert_eq!(shares(&c), [20, 70]);
    assert_eq!(c.revisions[1].revision, "d");
    assert_eq!(c.next_step_time, Some(SimTime(1988 + 55)));
    // Over the target: capped, and the rollout is over.
    let mut c = with(
        cr("", 15, &[("a", 5), ("b", 1), ("c", 1), ("d", 8)]),
        1984,
        10,
        77,
    );
    c.step_revisions(SimTime(1988));
    assert_eq!(shares(&c), [15]);
    assert_eq!((c.step_size, c.next_step_time), (0, None));
}

#[test]
fn a_new_latest_revision_starts_at_one_percent_and_steps() {
    let groups = |newest: &str| traffic_groups(&[latest(100)], Some(newest)).unwrap();
    let prev = Rollout::build(&groups("r1"));
    assert_eq!(shares(&prev.configurations[0]), [100]);
    // r2 becomes ready at t = 10 s.
    let t0 = SimTime::from_secs(10);
    let (ro, next) = Rollout::build(&groups("r2")).step(Some(&prev), t0);
    assert_eq!(next, None);
    let c = &ro.configurations[0];
    assert_eq!(shares(c), [99, 1]);
    assert_eq!(c.start_time, Some(t0));
    let split = effective_splits(&groups("r2"), &ro);
    assert_eq!(
        split[""],
        vec![("r1".to_string(), 99), ("r2".to_string(), 1)]
    );
    // The ingress is ready a second later: 200 s → 99 steps of 1 %
    // every 199/99 s.
    let mut prev = ro;
    let t1 = SimTime::from_secs(11);
    prev.observe_ready(t1, 200.0);
    let c = &prev.configurations[0];
    assert_eq!(c.step_size, 1);
    assert_eq!(c.step_duration.as_nanos(), (199.0f64 / 99.0 * 1e9) as u64);
    let (ro, next) = Rollout::build(&groups("r2")).step(Some(&prev), t1);
    assert_eq!(shares(&ro.configurations[0]), [99, 1]);
    let t2 = next.expect("a step is due");
    let (ro, _) = Rollout::build(&groups("r2")).step(Some(&ro), t2);
    assert_eq!(shares(&ro.configurations[0]), [98, 2]);
    // A tag that follows the latest revision rolls out in its own group.
    let t = [tagged(latest(100), "latest")];
    let g1 = traffic_groups(&t, Some("r1")).unwrap();
    let g2 = traffic_groups(&t, Some("r2")).unwrap();
    let (ro, _) = Rollout::build(&g2).step(Some(&Rollout::build(&g1)), t0);
    let split = effective_splits(&g2, &ro);
    assert_eq!(split["latest"], split[""]);
    assert_eq!(split["latest"].len(), 2);
}

#[test]
fn percent_changes_are_immediate_and_taken_from_the_oldest() {
    let mut c = cr("", 50, &[("a", 20), ("b", 30)]);
    adjust_percentage(80, &mut c);
    assert_eq!(shares(&c), [20, 60]);
    let mut c = cr("", 50, &[("a", 20), ("b", 30)]);
    adjust_percentage(25, &mut c);
    assert_eq!(shares(&c), [25]);
    assert_eq!(c.revisions[0].revision, "b");
    let mut c = cr("", 50, &[("a", 20), ("b", 30)]);
    adjust_percentage(0, &mut c);
    assert!(c.revisions.is_empty());
}
