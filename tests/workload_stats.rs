//! Statistical checks of the arrival processes and distributions, over
//! several seeds. Tolerances are several standard deviations wide (so the
//! checks do not depend on a lucky seed) yet narrower than a 5% error in a
//! rate or scale; each check also runs a negative control that a 5% error
//! would fail.

use knsim::sim::{RngStreams, SimTime, Stream};
use knsim::workload::{build_workloads, ArrivalGen, Dist, DistSpec, LoadOptionsSpec, WorkloadSpec};
use statrs::distribution::{
    ContinuousCDF, Exp, Gamma, LogNormal, Normal, Pareto, Uniform, Weibull,
};
use statrs::statistics::Distribution;
use std::path::Path;

const SEEDS: [u64; 3] = [1, 2, 3];

#[derive(serde::Deserialize)]
struct Doc {
    #[serde(default)]
    workload: Vec<WorkloadSpec>,
    #[serde(default)]
    load: LoadOptionsSpec,
}

/// Arrival times in seconds of the first workload in `toml_src`.
fn arrivals(toml_src: &str, horizon_s: u64, seed: u64) -> Vec<f64> {
    let d: Doc = toml::from_str(toml_src).expect("parses");
    let w = build_workloads(
        &d.workload,
        &d.load,
        Path::new("."),
        SimTime::from_secs(horizon_s),
    )
    .expect("valid");
    let rng = RngStreams::new(seed).get(Stream::Arrivals, 0);
    ArrivalGen::new(&w.sources[0], rng)
        .expect("open loop")
        .map(|a| a.time.as_secs_f64())
        .collect()
}

fn counts(times: &[f64], bin: f64, bins: usize) -> Vec<f64> {
    let mut c = vec![0.0; bins];
    for t in times {
        let i = (t / bin) as usize;
        if i < bins {
            c[i] += 1.0;
        }
    }
    c
}

/// Checks Poisson bin counts against expected values within `k` standard
/// deviations each.
fn within_poisson(got: &[f64], want: &[f64], k: f64) -> Result<(), String> {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        if (g - w).abs() > k * w.sqrt() {
            return Err(format!(
                "bin {i}: got {g}, expected {w:.1} ± {:.1}",
                k * w.sqrt()
            ));
        }
    }
    Ok(())
}

/// Kolmogorov–Smirnov test of `sample` against `cdf` at level 0.001
/// (critical value 1.949 / sqrt(n)).
fn ks(sample: &mut [f64], cdf: impl Fn(f64) -> f64) -> Result<f64, String> {
    sample.sort_by(f64::total_cmp);
    let n = sample.len() as f64;
    let mut d: f64 = 0.0;
    for (i, x) in sample.iter().enumerate() {
        let f = cdf(*x);
        d = d.max((i as f64 + 1.0) / n - f).max(f - i as f64 / n);
    }
    let crit = 1.949 / n.sqrt();
    if d < crit {
        Ok(d)
    } else {
        Err(format!("KS statistic {d:.5} exceeds {crit:.5}"))
    }
}

#[test]
fn poisson_inter_arrivals_are_exponential() {
    let rate = 50.0;
    for seed in SEEDS {
        let t = arrivals(
            &format!("[[workload]]\narrival = {{ process = \"poisson\", rate = {rate} }}"),
            2000,
            seed,
        );
        // 100k expected; 6 sd = 1.9%.
        let n = t.len() as f64;
        let want = rate * 2000.0;
        assert!(
            (n - want).abs() < 6.0 * want.sqrt(),
            "seed {seed}: {n} arrivals, expected {want}"
        );
        let mut gaps: Vec<f64> = std::iter::once(t[0])
            .chain(t.windows(2).map(|w| w[1] - w[0]))
            .collect();
        let exp = Exp::new(rate).unwrap();
        ks(&mut gaps, |x| exp.cdf(x)).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let wrong = Exp::new(rate * 1.05).unwrap();
        assert!(
            ks(&mut gaps, |x| wrong.cdf(x)).is_err(),
            "seed {seed}: KS cannot tell a 5% rate error"
        );
    }
}

#[test]
fn constant_rate_delivers_exactly_its_rate() {
    let t = arrivals(
        "[[workload]]\narrival = { process = \"constant\", rate = 7.5 }",
        400,
        1,
    );
    assert_eq!(t.len(), 3000);
    assert!(t
        .windows(2)
        .all(|w| ((w[1] - w[0]) - 1.0 / 7.5).abs() < 2e-9));
}

/// Integral of `f` over [a, b] by Simpson's rule (f is smooth here).
fn integral(f: impl Fn(f64) -> f64, a: f64, b: f64) -> f64 {
    let n = 200;
    let h = (b - a) / n as f64;
    let mut s = f(a) + f(b);
    for i in 1..n {
        s += f(a + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    s * h / 3.0
}

#[test]
fn sinusoid_hourly_counts_follow_the_curve() {
    let (mean, amp) = (20.0, 10.0);
    let curve =
        |t: f64, phase: f64| mean + amp * (std::f64::consts::TAU * (t + phase) / 86400.0).sin();
    let want: Vec<f64> = (0..24)
        .map(|h| {
            integral(
                |t| curve(t, 3.0 * 3600.0),
                h as f64 * 3600.0,
                (h + 1) as f64 * 3600.0,
            )
        })
        .collect();
    let shifted: Vec<f64> = (0..24)
        .map(|h| {
            integral(
                |t| curve(t, 4.0 * 3600.0),
                h as f64 * 3600.0,
                (h + 1) as f64 * 3600.0,
            )
        })
        .collect();
    let src = format!(
        "[[workload]]\narrival = {{ process = \"sinusoid\", mean = {mean}, amplitude = {amp}, period = \"24h\", phase = \"3h\" }}"
    );
    for seed in SEEDS {
        let got = counts(&arrivals(&src, 86400, seed), 3600.0, 24);
        within_poisson(&got, &want, 5.0).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        // Negative controls: the curve an hour off, or 5% more traffic.
        assert!(within_poisson(&got, &shifted, 5.0).is_err());
        let heavier: Vec<f64> = want.iter().map(|w| w * 1.05).collect();
        assert!(within_poisson(&got, &heavier, 5.0).is_err());
    }
    // Speedup 24 plays the same day in an hour: same counts per 1/24 of it.
    let fast = format!("[load]\nspeedup = 24\n{src}");
    for seed in SEEDS {
        let got = counts(&arrivals(&fast, 3600, seed), 150.0, 24);
        within_poisson(&got, &want, 5.0).unwrap_or_else(|e| panic!("speedup, seed {seed}: {e}"));
    }
}

#[test]
fn schedule_ramps_follow_the_rate_by_thinning() {
    // Ramp 10 -> 100/s over 10 min, hold 10 min, ramp down to 0 over 10 min.
    let rate = |t: f64| {
        if t < 600.0 {
            10.0 + 90.0 * t / 600.0
        } else if t < 1200.0 {
            100.0
        } else {
            (100.0 * (1800.0 - t) / 600.0).max(0.0)
        }
    };
    let want: Vec<f64> = (0..30)
        .map(|m| integral(rate, m as f64 * 60.0, (m + 1) as f64 * 60.0))
        .collect();
    let src = r#"
        [[workload]]
        arrival = { process = "schedule", points = [["0s", 10], ["10m", 100], ["20m", 100], ["30m", 0]] }
    "#;
    for seed in SEEDS {
        let t = arrivals(src, 2000, seed);
        assert!(
            t.iter().all(|x| *x < 1800.0),
            "no traffic after the rate reaches 0"
        );
        let got = counts(&t, 60.0, 30);
        // The last minute expects only ~83 requests; 5 sd is still tight
        // enough for the busy minutes to catch a 5% error.
        within_poisson(&got, &want, 5.0).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let lighter: Vec<f64> = want.iter().map(|w| w * 0.95).collect();
        assert!(within_poisson(&got, &lighter, 5.0).is_err());
    }
}

#[test]
fn step_schedule_with_deterministic_spacing_is_exact() {
    let src = r#"
        [[workload]]
        arrival = { process = "schedule", points = [["0s", 2], ["10s", 5], ["20s", 0], ["25s", 1]], interpolation = "step", poisson = false }
    "#;
    let t = arrivals(src, 30, 9);
    let got = counts(&t, 5.0, 6);
    assert_eq!(got, vec![10.0, 10.0, 25.0, 25.0, 0.0, 5.0]);
    // Evenly spaced within each step.
    assert!((t[11] - t[10] - 0.5).abs() < 1e-9);
    assert!((t[21] - t[20] - 0.2).abs() < 1e-9);
}

#[test]
fn on_off_bursts_average_the_two_rates_and_are_bursty() {
    // On 100/s for 0.1 s on average, off (0/s) for 0.3 s: 25/s long-run.
    let src = r#"
        [[workload]]
        arrival = { process = "on-off", on-rate = 100, off-rate = 0, mean-on-time = "100ms", mean-off-time = "300ms" }
    "#;
    let horizon = 4000.0;
    let mut total = 0.0;
    let seeds = [1, 2, 3, 4, 5];
    for seed in seeds {
        let t = arrivals(src, horizon as u64, seed);
        total += t.len() as f64;
        let c = counts(&t, 1.0, horizon as usize);
        let m = c.iter().sum::<f64>() / c.len() as f64;
        let var = c.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (c.len() - 1) as f64;
        // A Poisson stream has variance/mean 1; this MMPP has about 11.
        assert!(
            var / m > 3.0,
            "seed {seed}: dispersion {} is not bursty",
            var / m
        );
    }
    // Count variance per run is about 1.2M (mostly from the modulation), so
    // the 5-run mean has sd ~500 on 100k: 5 sd of 510 is 2.6%.
    let mean = total / seeds.len() as f64;
    let want = 25.0 * horizon;
    assert!(
        (mean - want).abs() < 5.0 * 510.0,
        "mean count {mean}, expected {want}"
    );
    assert!((mean - want * 1.05).abs() > 5.0 * 510.0);
}

/// Sample moments and quantiles of `dist` against a reference CDF.
fn check_dist(
    name: &str,
    dist: &Dist,
    mean: f64,
    sd: f64,
    cdf: &dyn Fn(f64) -> f64,
    quantile: &dyn Fn(f64) -> f64,
) -> Result<(), String> {
    let n = 200_000;
    let mut all = Vec::new();
    for seed in SEEDS {
        let mut rng = RngStreams::new(seed).get(Stream::ServiceTime, 0);
        let xs: Vec<f64> = (0..n).map(|_| dist.sample(&mut rng)).collect();
        if xs.iter().any(|x| !x.is_finite() || *x < 0.0) {
            return Err(format!("{name}: negative or non-finite sample"));
        }
        let m = xs.iter().sum::<f64>() / n as f64;
        let tol = 6.0 * sd / (n as f64).sqrt();
        if (m - mean).abs() > tol {
            return Err(format!(
                "{name} seed {seed}: sample mean {m} vs {mean} ± {tol}"
            ));
        }
        for p in [0.1, 0.5, 0.9, 0.99] {
            let q = quantile(p);
            let below = xs.iter().filter(|x| **x <= q).count() as f64 / n as f64;
            let tol = 5.0 * (p * (1.0 - p) / n as f64).sqrt();
            if (below - p).abs() > tol {
                return Err(format!(
                    "{name} seed {seed}: F({q}) = {below}, expected {p} ± {tol}"
                ));
            }
        }
        all.extend(xs);
    }
    ks(&mut all, cdf).map_err(|e| format!("{name}: {e}"))?;
    Ok(())
}

fn spec(src: &str) -> Dist {
    #[derive(serde::Deserialize)]
    struct W {
        d: DistSpec,
    }
    let w: W = toml::from_str(&format!("d = {src}")).expect("parses");
    w.d.build("d", Path::new(".")).expect("valid")
}

/// Runs `check_dist` on the distribution and on a control scaled by 1.05,
/// which must fail.
fn check_with_control<D>(name: &str, dist: Dist, reference: D)
where
    D: ContinuousCDF<f64, f64> + Distribution<f64>,
{
    let mean = reference.mean().unwrap();
    let sd = reference.std_dev().unwrap();
    assert!(
        (dist.mean() - mean).abs() < 1e-9 * mean.max(1.0),
        "{name}: Dist::mean {} vs {mean}",
        dist.mean()
    );
    check_dist(name, &dist, mean, sd, &|x| reference.cdf(x), &|p| {
        reference.inverse_cdf(p)
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let off = dist.scaled(1.05);
    assert!(
        check_dist(name, &off, mean, sd, &|x| reference.cdf(x), &|p| reference
            .inverse_cdf(p))
        .is_err(),
        "{name}: a 5% scale error passes"
    );
}

#[test]
fn exponential_and_uniform_match_their_parameters() {
    check_with_control(
        "exponential",
        spec(r#"{ distribution = "exponential", mean = "50ms" }"#),
        Exp::new(20.0).unwrap(),
    );
    check_with_control(
        "uniform",
        spec(r#"{ distribution = "uniform", min = "100ms", max = "300ms" }"#),
        Uniform::new(0.1, 0.3).unwrap(),
    );
}

#[test]
fn lognormal_matches_both_parameterisations() {
    // mean 200 ms, sd 100 ms: sigma^2 = ln(1.25), mu = ln(0.2) - sigma^2/2.
    let s2 = 1.25f64.ln();
    let reference = LogNormal::new(0.2f64.ln() - s2 / 2.0, s2.sqrt()).unwrap();
    check_with_control(
        "lognormal(mean, stddev)",
        spec(r#"{ distribution = "lognormal", mean = "200ms", stddev = "100ms" }"#),
        reference,
    );
    let d = spec(r#"{ distribution = "lognormal", median = "80ms", p99 = "900ms" }"#);
    let sigma = (900.0f64 / 80.0).ln() / Normal::standard().inverse_cdf(0.99);
    let reference = LogNormal::new(0.08f64.ln(), sigma).unwrap();
    assert!((reference.inverse_cdf(0.99) - 0.9).abs() < 1e-9);
    check_with_control("lognormal(median, p99)", d, reference);
}

#[test]
fn gamma_weibull_pareto_match_their_parameters() {
    // statrs' gamma takes a rate; shape 2, scale 0.1 s.
    check_with_control(
        "gamma(shape, scale)",
        spec(r#"{ distribution = "gamma", shape = 2, scale = "100ms" }"#),
        Gamma::new(2.0, 10.0).unwrap(),
    );
    // mean 0.3, sd 0.2: shape 2.25, scale 0.1333.
    check_with_control(
        "gamma(mean, stddev)",
        spec(r#"{ distribution = "gamma", mean = 0.3, stddev = 0.2 }"#),
        Gamma::new(2.25, 2.25 / 0.3).unwrap(),
    );
    check_with_control(
        "weibull",
        spec(r#"{ distribution = "weibull", shape = 1.5, scale = "200ms" }"#),
        Weibull::new(1.5, 0.2).unwrap(),
    );
    // Shape 4.5: finite variance and enough moments for the mean check.
    check_with_control(
        "pareto",
        spec(r#"{ distribution = "pareto", shape = 4.5, scale = "10ms" }"#),
        Pareto::new(0.01, 4.5).unwrap(),
    );
}

#[test]
fn truncated_normal_is_the_normal_conditioned_on_non_negative() {
    let (mu, sigma) = (0.1, 0.1);
    let n = Normal::new(mu, sigma).unwrap();
    let p0 = n.cdf(0.0);
    let cdf = |x: f64| {
        if x <= 0.0 {
            0.0
        } else {
            (n.cdf(x) - p0) / (1.0 - p0)
        }
    };
    let quantile = |p: f64| n.inverse_cdf(p0 + p * (1.0 - p0));
    let d = spec(r#"{ distribution = "normal", mean = "100ms", stddev = "100ms" }"#);
    // Mean of the truncated normal: mu + sigma * phi(a) / (1 - Phi(a)), a = -mu/sigma.
    let phi = (-0.5f64).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let mean = mu + sigma * phi / (1.0 - p0);
    assert!((d.mean() - mean).abs() < 1e-12, "{} vs {mean}", d.mean());
    // The truncated sd is below sigma; sigma is a safe bound for the check.
    check_dist("normal", &d, mean, sigma, &cdf, &quantile).unwrap();
    assert!(check_dist("normal", &d.scaled(1.05), mean, sigma, &cdf, &quantile).is_err());
}

#[test]
fn empirical_samples_interpolate_between_order_statistics() {
    let dir = tempfile::tempdir().unwrap();
    // 0, 10, ..., 1000 ms, shuffled: the interpolated distribution is
    // uniform on [0, 1] s.
    let mut rows: Vec<u32> = (0..=100).map(|i| i * 10).collect();
    rows.reverse();
    rows.swap(3, 70);
    let body: String = rows.iter().map(|r| format!("x,{r}\n")).collect();
    std::fs::write(
        dir.path().join("lat.csv"),
        format!("name,latency_ms\n{body}"),
    )
    .unwrap();
    let d = DistSpec::Empirical {
        file: "lat.csv".into(),
        column: Some("latency_ms".into()),
        unit: Some(knsim::workload::TimeUnit::Ms),
    }
    .build("svc.service-time", dir.path())
    .unwrap();
    check_with_control("empirical", d, Uniform::new(0.0, 1.0).unwrap());
}

#[test]
fn azure_uniform_spread_places_requests_uniformly_within_minutes() {
    let dir = tempfile::tempdir().unwrap();
    let mut body = String::from("HashOwner,HashApp,HashFunction,Trigger");
    for m in 1..=600 {
        body.push_str(&format!(",{m}"));
    }
    body.push_str("\no,a,f,http");
    for m in 0..600 {
        // Counts from 1 to 300 exercise both short and long runs of draws.
        body.push_str(&format!(",{}", 1 + (m * 37) % 300));
    }
    body.push('\n');
    std::fs::write(dir.path().join("az.csv"), body).unwrap();
    let d: Doc = toml::from_str(
        "[[workload]]\narrival = { process = \"azure-2019\", file = \"az.csv\", function = \"f\" }\n",
    )
    .unwrap();
    let w = build_workloads(&d.workload, &d.load, dir.path(), SimTime::from_secs(36_000)).unwrap();
    for seed in SEEDS {
        let rng = RngStreams::new(seed).get(Stream::Arrivals, 0);
        let mut pos: Vec<f64> = ArrivalGen::new(&w.sources[0], rng)
            .unwrap()
            .map(|a| (a.time.as_secs_f64() / 60.0).fract())
            .collect();
        ks(&mut pos, |x| x.clamp(0.0, 1.0)).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        // Control: positions squeezed by 5% towards the start are caught.
        let mut squeezed: Vec<f64> = pos.iter().map(|p| p * 0.95).collect();
        assert!(ks(&mut squeezed, |x| x.clamp(0.0, 1.0)).is_err());
    }
}
