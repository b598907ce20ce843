//! Maximum-likelihood estimates of the candidate service-time families.
//! Lognormal and exponential have closed forms; gamma and Weibull shapes
//! solve a one-dimensional score equation, which is monotone in the shape,
//! so bisection in log space finds the root without a derivative.

use statrs::function::gamma::digamma;

/// Bisection in log space for the root of a function that is decreasing in
/// `k` on `[lo, hi]`.
fn solve_decreasing(mut lo: f64, mut hi: f64, f: impl Fn(f64) -> f64) -> f64 {
    for _ in 0..200 {
        let mid = (lo * hi).sqrt();
        if f(mid) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi / lo < 1.0 + 1e-13 {
            break;
        }
    }
    (lo * hi).sqrt()
}

/// Lognormal (μ, σ) of the logarithms' mean and (biased, ML) deviation.
pub fn lognormal(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mu = x.iter().map(|v| v.ln()).sum::<f64>() / n;
    let var = x.iter().map(|v| (v.ln() - mu).powi(2)).sum::<f64>() / n;
    (mu, var.sqrt())
}

/// Exponential mean.
pub fn exponential(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Gamma (shape k, scale θ): k solves ln k − ψ(k) = ln(mean) − mean(ln x),
/// then θ = mean / k.
pub fn gamma(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let mean_ln = x.iter().map(|v| v.ln()).sum::<f64>() / n;
    // s ≥ 0 by Jensen; 0 only for identical samples (infinite shape).
    let s = (mean.ln() - mean_ln).max(1e-12);
    let k = solve_decreasing(1e-4, 1e8, |k| k.ln() - digamma(k) - s);
    (k, mean / k)
}

/// Weibull (shape k, scale λ): k solves
/// Σ xᵏ ln x / Σ xᵏ − 1/k − mean(ln x) = 0 (increasing in k), then
/// λ = (mean xᵏ)^(1/k). Samples are divided by their largest first so that
/// xᵏ cannot overflow for large shapes.
pub fn weibull(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let top = x.iter().cloned().fold(0.0, f64::max);
    let y: Vec<f64> = x.iter().map(|v| v / top).collect();
    let mean_ln = y.iter().map(|v| v.ln()).sum::<f64>() / n;
    let score = |k: f64| {
        let (mut a, mut b) = (0.0, 0.0);
        for &v in &y {
            let p = v.powf(k);
            a += p * v.ln();
            b += p;
        }
        a / b - 1.0 / k - mean_ln
    };
    let k = solve_decreasing(1e-3, 1e4, |k| -score(k));
    let scale = (y.iter().map(|v| v.powf(k)).sum::<f64>() / n).powf(1.0 / k) * top;
    (k, scale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_distr::Distribution;
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn draw<D: Distribution<f64>>(d: D, n: usize, seed: u64) -> Vec<f64> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        (0..n).map(|_| d.sample(&mut rng)).collect()
    }

    fn close(got: f64, want: f64, rel: f64) {
        assert!(
            ((got - want) / want).abs() < rel,
            "got {got}, want {want} within {rel}"
        );
    }

    #[test]
    fn gamma_recovers_known_parameters() {
        for (k, theta) in [(0.7, 0.05), (2.0, 0.01), (9.0, 0.002)] {
            let x = draw(rand_distr::Gamma::new(k, theta).unwrap(), 20_000, 3);
            let (kh, th) = gamma(&x);
            close(kh, k, 0.04);
            close(th, theta, 0.05);
        }
    }

    #[test]
    fn weibull_recovers_known_parameters() {
        for (k, lambda) in [(0.8, 0.2), (1.5, 0.02), (4.0, 1.0)] {
            let x = draw(rand_distr::Weibull::new(lambda, k).unwrap(), 20_000, 5);
            let (kh, lh) = weibull(&x);
            close(kh, k, 0.03);
            close(lh, lambda, 0.03);
        }
    }

    #[test]
    fn lognormal_and_exponential_recover_known_parameters() {
        let x = draw(rand_distr::LogNormal::new(-4.0, 0.5).unwrap(), 20_000, 7);
        let (mu, sigma) = lognormal(&x);
        assert!((mu + 4.0).abs() < 0.02, "{mu}");
        close(sigma, 0.5, 0.03);
        let x = draw(rand_distr::Exp::new(50.0).unwrap(), 20_000, 9);
        close(exponential(&x), 0.02, 0.03);
    }

    #[test]
    fn gamma_shape_one_is_the_exponential() {
        let x = draw(rand_distr::Exp::new(10.0).unwrap(), 20_000, 11);
        let (k, _) = gamma(&x);
        close(k, 1.0, 0.04);
        let (k, _) = weibull(&x);
        close(k, 1.0, 0.03);
    }
}
