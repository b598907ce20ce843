//! Closed forms of the textbook queues that knsim's request path reduces to
//! under the configurations in `scenarios/validation/`. Rates are per second,
//! times in seconds.

/// Erlang C: the probability that an arrival to an M/M/c queue with offered
/// load `a = λ/μ` has to wait. Requires `a < c`.
pub fn erlang_c(c: u32, a: f64) -> f64 {
    assert!(c >= 1 && a >= 0.0 && a < c as f64, "unstable M/M/c");
    // Erlang B by its recursion, which stays in [0, 1] for any c.
    let mut b = 1.0;
    for k in 1..=c {
        b = a * b / (k as f64 + a * b);
    }
    let c = c as f64;
    c * b / (c - a * (1.0 - b))
}

/// Mean time in queue of M/M/c: `C(c, λ/μ) / (cμ − λ)`.
pub fn mmc_mean_wait(lambda: f64, mu: f64, c: u32) -> f64 {
    erlang_c(c, lambda / mu) / (c as f64 * mu - lambda)
}

/// Tail of the M/M/c queueing time: `P(W > t) = C(c, λ/μ) · e^{−(cμ−λ)t}`.
pub fn mmc_wait_tail(lambda: f64, mu: f64, c: u32, t: f64) -> f64 {
    erlang_c(c, lambda / mu) * (-(c as f64 * mu - lambda) * t).exp()
}

/// Pollaczek–Khinchine mean time in queue of M/G/1:
/// `λ E[S²] / (2 (1 − ρ))`; for M/D/1 `E[S²] = D²`.
pub fn mg1_mean_wait(lambda: f64, mean_s: f64, second_moment_s: f64) -> f64 {
    let rho = lambda * mean_s;
    assert!(rho < 1.0, "unstable M/G/1");
    lambda * second_moment_s / (2.0 * (1.0 - rho))
}

/// M/D/1 mean time in queue for a constant service time `d`:
/// `ρ d / (2 (1 − ρ))`.
pub fn md1_mean_wait(lambda: f64, d: f64) -> f64 {
    mg1_mean_wait(lambda, d, d * d)
}

/// M/G/∞ mean number in system: `λ E[S]` (any service distribution).
pub fn mginf_mean_in_system(lambda: f64, mean_s: f64) -> f64 {
    lambda * mean_s
}

/// M/M/1/K blocking probability (K places in all, one of them in service):
/// `(1 − ρ) ρ^K / (1 − ρ^{K+1})`, `1/(K+1)` at ρ = 1.
pub fn mm1k_blocking(lambda: f64, mu: f64, k: u32) -> f64 {
    let rho = lambda / mu;
    if (rho - 1.0).abs() < 1e-12 {
        return 1.0 / (k as f64 + 1.0);
    }
    (1.0 - rho) * rho.powi(k as i32) / (1.0 - rho.powi(k as i32 + 1))
}

/// The root σ in (0, 1) of `σ = A*(μ(1 − σ))` for a GI/M/1 queue whose
/// interarrival time is Erlang with `k` phases of rate `lambda` each (mean
/// `k/λ`), i.e. `σ = (λ / (λ + μ(1 − σ)))^k`. Requires `λ/k < μ`.
pub fn erlang_k_m1_sigma(lambda: f64, mu: f64, k: u32) -> f64 {
    assert!(lambda / (k as f64) < mu, "unstable E_k/M/1");
    // The iteration from 0 increases monotonically to the smallest root.
    let mut s = 0.0f64;
    for _ in 0..100_000 {
        let next = (lambda / (lambda + mu * (1.0 - s))).powi(k as i32);
        if (next - s).abs() < 1e-15 {
            return next;
        }
        s = next;
    }
    s
}

/// Mean time in queue of E_k/M/1 (see [`erlang_k_m1_sigma`]):
/// `σ / (μ (1 − σ))`.
pub fn erlang_k_m1_mean_wait(lambda: f64, mu: f64, k: u32) -> f64 {
    let s = erlang_k_m1_sigma(lambda, mu, k);
    s / (mu * (1.0 - s))
}

/// Mean time in queue of E_k/M/c (FCFS): `c` exponential servers of rate
/// `mu` fed by every k-th arrival of a Poisson stream of rate `lambda` (an
/// Erlang interarrival time of `k` phases of rate `lambda`). Solved
/// numerically: the (number in system, arrival phase) chain is a CTMC,
/// truncated at `max_n` customers and solved by Gauss–Seidel; an arrival that
/// finds `n ≥ c` customers waits `(n − c + 1)/(cμ)`. With `k = 1` this is
/// Erlang C, with `c = 1` [`erlang_k_m1_mean_wait`].
pub fn erlang_k_m_c_mean_wait(lambda: f64, mu: f64, c: u32, k: u32, max_n: usize) -> f64 {
    assert!(lambda / (k as f64) < c as f64 * mu, "unstable E_k/M/c");
    let k = k as usize;
    let n_max = max_n;
    let idx = |n: usize, p: usize| n * k + p;
    let mut pi = vec![1.0 / ((n_max + 1) * k) as f64; (n_max + 1) * k];
    let dep = |n: usize| (n.min(c as usize)) as f64 * mu;
    for _ in 0..1_000_000 {
        let mut change = 0.0f64;
        for n in 0..=n_max {
            for p in 0..k {
                let mut inflow = 0.0;
                if p >= 1 {
                    inflow += pi[idx(n, p - 1)] * lambda;
                } else {
                    if n >= 1 {
                        inflow += pi[idx(n - 1, k - 1)] * lambda;
                    }
                    if n == n_max {
                        // Arrivals lost at the truncation level.
                        inflow += pi[idx(n, k - 1)] * lambda;
                    }
                }
                if n < n_max {
                    inflow += pi[idx(n + 1, p)] * dep(n + 1);
                }
                let out = lambda + dep(n);
                let new = inflow / out;
                let old = pi[idx(n, p)];
                change = change.max((new - old).abs());
                pi[idx(n, p)] = new;
            }
        }
        let total: f64 = pi.iter().sum();
        pi.iter_mut().for_each(|x| *x /= total);
        if change < 1e-15 {
            break;
        }
    }
    let arrivals: f64 = (0..=n_max).map(|n| pi[idx(n, k - 1)]).sum();
    let c_us = c as usize;
    (c_us..=n_max)
        .map(|n| pi[idx(n, k - 1)] / arrivals * (n - c_us + 1) as f64 / (c as f64 * mu))
        .sum()
}

/// Parameters of the scale-to-zero cold-start model (see
/// [`cold_start_fraction`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScaleToZeroParams {
    /// Poisson arrival rate, per second.
    pub lambda: f64,
    /// Stable window, seconds.
    pub stable_window: f64,
    /// Time from the pod's creation until it is ready and routable, seconds.
    pub startup: f64,
    /// Service time (constant), seconds.
    pub service: f64,
    /// Metric bucket width (Knative: 1 s), seconds.
    pub bucket: f64,
    /// Decider tick period (Knative: 2 s), seconds.
    pub tick: f64,
}

/// Probability that the next request meets a cold start after a warm
/// request: the idle gap, measured from that request's end, exceeds
/// `W − S − U(0, bucket) + U(0, tick)`, the gap is Exp(λ), hence
/// `e^{−λ(W−S)} · E[e^{λU₁}] · E[e^{−λU₂}]`.
pub fn p_cold_after_warm(p: &ScaleToZeroParams) -> f64 {
    let l = p.lambda;
    let bucket = (l * p.bucket).exp_m1() / (l * p.bucket);
    let tick = -(-l * p.tick).exp_m1() / (l * p.tick);
    (-l * (p.stable_window - p.service)).exp() * bucket * tick
}

/// Probability that the first request after a cold start's backlog is
/// served meets a new cold start. The backlog ends at τ; its last non-zero
/// activator bucket is `floor(r)` with `r` the first report after τ, so the
/// pod goes at `τ + W + max(0, X)` with `X = U(0,1) − Φ + U(0, tick)` (U the
/// report's delay after τ, Φ the activator's report phase, the second term
/// the tick wait), and never before τ + W because the PodAutoscaler must
/// have been active for a stable window.
pub fn p_cold_after_cold(p: &ScaleToZeroParams) -> f64 {
    let l = p.lambda;
    // E[e^{−λ max(0, X)}] by the midpoint rule over the three uniforms'
    // convolution: the bucket offset D = U − Φ has the triangular density
    // on (−bucket, bucket).
    let n = 600;
    let mut acc = 0.0;
    for i in 0..n {
        let d = -p.bucket + (i as f64 + 0.5) * 2.0 * p.bucket / n as f64;
        let w_d = (p.bucket - d.abs()) / (p.bucket * p.bucket) * (2.0 * p.bucket / n as f64);
        for j in 0..n {
            let v = (j as f64 + 0.5) * p.tick / n as f64;
            let x = (d + v).max(0.0);
            acc += w_d * (1.0 / n as f64) * (-l * x).exp();
        }
    }
    (-l * p.stable_window).exp() * acc
}

/// Fraction of requests that meet a cold start (wait for a pod) under
/// Poisson traffic at rate λ to a revision that scales to zero, with the
/// activator always in the path.
///
/// A cycle starts with a request that finds no pod (a trigger); those
/// arriving while its pod starts ride on the same cold start, λ(startup + S)
/// of them on average. The next request is a new trigger with probability
/// [`p_cold_after_cold`], otherwise warm; after a warm request each next one
/// is a trigger with probability [`p_cold_after_warm`]. By renewal–reward,
/// the cold fraction is `(1 + λ(D+S)) / (1 + λ(D+S) + (1 − q_c)/p_w)`.
pub fn cold_start_fraction(p: &ScaleToZeroParams) -> f64 {
    let riders = p.lambda * (p.startup + p.service);
    let q_c = p_cold_after_cold(p);
    let p_w = p_cold_after_warm(p);
    (1.0 + riders) / (1.0 + riders + (1.0 - q_c) / p_w)
}

/// Expected attempts per event when each attempt fails independently with
/// probability `p` and at most `r` retries follow the first attempt: the
/// mean of a geometric count truncated at `r + 1`, (1 − p^(r+1)) / (1 − p).
pub fn retry_attempts_per_event(p: f64, r: u32) -> f64 {
    if p >= 1.0 {
        return (r + 1) as f64;
    }
    (1.0 - p.powi(r as i32 + 1)) / (1.0 - p)
}

/// Probability that all `r + 1` attempts fail: p^(r+1).
pub fn dead_letter_probability(p: f64, r: u32) -> f64 {
    p.powi(r as i32 + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol * b.abs().max(1e-300)
    }

    #[test]
    fn erlang_c_matches_textbook_values() {
        // c = 1: C = ρ.
        assert!(close(erlang_c(1, 0.7), 0.7, 1e-12));
        // c = 2, a = 1: C = 1/3 (Kleinrock, M/M/2 at ρ = 0.5).
        assert!(close(erlang_c(2, 1.0), 1.0 / 3.0, 1e-12));
        // c = 2: C = (a²/2)/(1 − a/2) / (1 + a + (a²/2)/(1 − a/2)); 0.7111 at a = 1.6.
        let a: f64 = 1.6;
        let top = a * a / 2.0 / (1.0 - a / 2.0);
        assert!(close(erlang_c(2, a), top / (1.0 + a + top), 1e-12));
        assert!((erlang_c(2, a) - 0.7111).abs() < 1e-4);
    }

    #[test]
    fn mm1_special_cases() {
        // M/M/1: Wq = ρ/(μ−λ).
        assert!(close(mmc_mean_wait(8.0, 10.0, 1), 0.8 / 2.0, 1e-12));
        // M/D/1 is half the M/M/1 queueing time.
        assert!(close(md1_mean_wait(8.0, 0.1), 0.2, 1e-12));
        // E_1/M/1 is M/M/1: σ = ρ.
        assert!(close(erlang_k_m1_sigma(8.0, 10.0, 1), 0.8, 1e-9));
        assert!(close(erlang_k_m1_mean_wait(8.0, 10.0, 1), 0.4, 1e-9));
    }

    #[test]
    fn erlang_arrivals_wait_less_than_poisson() {
        // Every other arrival of a 16/s Poisson stream into one 10/s server.
        let w2 = erlang_k_m1_mean_wait(16.0, 10.0, 2);
        let w1 = mmc_mean_wait(8.0, 10.0, 1);
        assert!(w2 < w1 && w2 > 0.0);
    }

    #[test]
    fn erlang_k_m_c_reduces_to_the_closed_forms() {
        // k = 1 is M/M/c.
        for (c, l) in [(1, 7.0), (2, 16.0), (4, 30.0)] {
            let w = erlang_k_m_c_mean_wait(l, 10.0, c, 1, 400);
            assert!(close(w, mmc_mean_wait(l, 10.0, c), 1e-6), "c={c}: {w}");
        }
        // c = 1 is the GI/M/1 σ formula.
        let w = erlang_k_m_c_mean_wait(16.0, 10.0, 1, 2, 400);
        assert!(close(w, erlang_k_m1_mean_wait(16.0, 10.0, 2), 1e-6), "{w}");
        // Regular arrivals wait less than Poisson ones at the same load.
        let e2 = erlang_k_m_c_mean_wait(30.0, 10.0, 2, 2, 400);
        assert!(e2 < mmc_mean_wait(15.0, 10.0, 2) && e2 > 0.0);
    }

    #[test]
    fn mm1k_blocking_limits() {
        assert!(close(mm1k_blocking(10.0, 10.0, 11), 1.0 / 12.0, 1e-12));
        // K = 1: Erlang loss with one server, ρ/(1+ρ).
        assert!(close(mm1k_blocking(5.0, 10.0, 1), 0.5 / 1.5, 1e-12));
    }

    #[test]
    fn cold_start_fraction_brackets() {
        let p = ScaleToZeroParams {
            lambda: 1.0 / 60.0,
            stable_window: 60.0,
            startup: 2.0,
            service: 0.001,
            bucket: 1.0,
            tick: 2.0,
        };
        let f = cold_start_fraction(&p);
        let naive = (-1.0f64).exp();
        // Close to e^{−λW}, within the few-second corrections.
        assert!((f - naive).abs() < 0.03, "{f}");
        // Vanishing discretisation and startup give back e^{−λW}.
        let q = ScaleToZeroParams {
            startup: 0.0,
            service: 0.0,
            bucket: 1e-6,
            tick: 1e-6,
            ..p
        };
        assert!(close(cold_start_fraction(&q), naive, 1e-4));
    }

    #[test]
    fn retry_closed_forms_sum_the_geometric_series() {
        // Direct sum: attempt k+1 happens iff the first k failed.
        for (p, r) in [(0.3f64, 3u32), (0.5, 2), (0.0, 4), (0.9, 0)] {
            let direct: f64 = (0..=r).map(|k| p.powi(k as i32)).sum();
            assert!((retry_attempts_per_event(p, r) - direct).abs() < 1e-12);
        }
        assert_eq!(retry_attempts_per_event(1.0, 3), 4.0);
        assert!((dead_letter_probability(0.3, 3) - 0.0081).abs() < 1e-15);
    }
}
