//! The split check: classify responses (by a header or the body), then test
//! the observed counts per class against the weights of a traffic block with
//! Pearson's chi-square goodness-of-fit test.

use super::error::{clip, clip_in, KnloadError};
use hyper::header::HeaderName;
use hyper::HeaderMap;
use regex::bytes::Regex;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};
use std::collections::BTreeMap;

/// How a response is mapped to a class (usually a revision).
#[derive(Debug, Clone)]
pub enum Classifier {
    /// The value of this response header (trimmed).
    Header(HeaderName),
    /// The first capture group of this regex on the body, or the whole match
    /// when it has no group.
    Body(Regex),
}

impl Classifier {
    /// Parses `header:NAME` or `body:REGEX`.
    pub fn parse(s: &str) -> Result<Self, KnloadError> {
        let bad = |d: String| KnloadError::usage("--classify", d);
        match s.split_once(':') {
            Some(("header", name)) => HeaderName::from_bytes(name.trim().as_bytes())
                .map(Classifier::Header)
                .map_err(|_| bad(format!("`{}` is not a header name", clip(name)))),
            Some(("body", re)) => Regex::new(re)
                .map(Classifier::Body)
                .map_err(|e| bad(format!("bad regex: {}", clip_in(e, re)))),
            _ => Err(bad(format!(
                "`{}` is neither header:NAME nor body:REGEX",
                clip(s)
            ))),
        }
    }

    /// Whether the body must be kept to classify a response.
    pub fn needs_body(&self) -> bool {
        matches!(self, Classifier::Body(_))
    }

    /// The class of a response, `None` when it has none.
    pub fn classify(&self, headers: &HeaderMap, body: &[u8]) -> Option<String> {
        match self {
            Classifier::Header(name) => headers
                .get(name)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).trim().to_string()),
            Classifier::Body(re) => re.captures(body).map(|c| {
                let m = c
                    .get(1)
                    .or_else(|| c.get(0))
                    .expect("group 0 always matches");
                String::from_utf8_lossy(m.as_bytes()).into_owned()
            }),
        }
    }
}

/// The expected split: class name to weight, as in a Knative traffic block.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    weights: BTreeMap<String, f64>,
}

impl Expectation {
    /// Parses `CLASS=WEIGHT,...` (e.g. `v1=90,v2=10`). Weights are
    /// non-negative numbers with a positive sum; they need not add up to 100.
    pub fn parse(s: &str) -> Result<Self, KnloadError> {
        let bad = |d: String| KnloadError::usage("--expect", d);
        let mut weights = BTreeMap::new();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (class, w) = part
                .rsplit_once('=')
                .ok_or_else(|| bad(format!("`{}` is not CLASS=WEIGHT", clip(part))))?;
            let w: f64 = w
                .trim()
                .parse()
                .map_err(|_| bad(format!("weight `{}` is not a number", clip(w))))?;
            if !(w.is_finite() && w >= 0.0) {
                return Err(bad(format!("weight {w} is negative")));
            }
            if weights.insert(class.trim().to_string(), w).is_some() {
                return Err(bad(format!("class `{}` listed twice", clip(class))));
            }
        }
        Self::new(weights)
    }

    /// Validates weights: at least one positive.
    pub fn new(weights: BTreeMap<String, f64>) -> Result<Self, KnloadError> {
        if weights.values().sum::<f64>() <= 0.0 {
            return Err(KnloadError::usage(
                "--expect",
                "at least one class needs a positive weight",
            ));
        }
        Ok(Expectation { weights })
    }

    /// The weights as given.
    pub fn weights(&self) -> &BTreeMap<String, f64> {
        &self.weights
    }

    /// Expected share (0..1) of each class with a positive weight.
    pub fn shares(&self) -> BTreeMap<String, f64> {
        let total: f64 = self.weights.values().sum();
        self.weights
            .iter()
            .filter(|(_, &w)| w > 0.0)
            .map(|(c, &w)| (c.clone(), w / total))
            .collect()
    }

    /// Requests needed so that a shift of `min_effect_points` percentage
    /// points between the two largest classes is detected with `power` at
    /// significance `alpha`. `None` with fewer than two weighted classes
    /// (there is nothing to compare; any stray class fails anyway).
    pub fn required_requests(&self, alpha: f64, power: f64, min_effect_points: f64) -> Option<u64> {
        let mut shares: Vec<f64> = self.shares().into_values().collect();
        if shares.len() < 2 || min_effect_points <= 0.0 {
            return None;
        }
        shares.sort_by(|a, b| b.total_cmp(a));
        let d = min_effect_points / 100.0;
        // Cohen's effect size w^2 of moving d from one class to the other;
        // the two largest classes give the smallest w, the hardest case.
        let w2 = d * d * (1.0 / shares[0] + 1.0 / shares[1]);
        let df = (shares.len() - 1) as f64;
        let lambda = noncentrality_for_power(df, alpha, power)?;
        Some((lambda / w2).ceil() as u64)
    }
}

/// Noncentrality at which a chi-square test with `df` degrees of freedom at
/// level `alpha` reaches `power`, by bisection on the noncentral CDF.
fn noncentrality_for_power(df: f64, alpha: f64, power: f64) -> Option<f64> {
    let critical = ChiSquared::new(df).ok()?.inverse_cdf(1.0 - alpha);
    let power_at = |lambda: f64| 1.0 - noncentral_chi2_cdf(critical, df, lambda);
    let (mut lo, mut hi) = (0.0, 1.0);
    while power_at(hi) < power {
        hi *= 2.0;
        if hi > 1e7 {
            return None;
        }
    }
    for _ in 0..100 {
        let mid = 0.5 * (lo + hi);
        if power_at(mid) < power {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(hi)
}

/// CDF of the noncentral chi-square distribution as a Poisson mixture of
/// central ones.
fn noncentral_chi2_cdf(x: f64, df: f64, lambda: f64) -> f64 {
    let half = lambda / 2.0;
    let terms = (half + 12.0 * half.sqrt() + 60.0) as u32;
    let mut log_weight = -half; // log of e^{-h} h^j / j!, j = 0
    let mut sum = 0.0;
    for j in 0..=terms {
        if j > 0 {
            log_weight += half.ln() - f64::from(j).ln();
        }
        let central = ChiSquared::new(df + 2.0 * f64::from(j)).expect("df > 0");
        sum += log_weight.exp() * central.cdf(x);
    }
    sum.min(1.0)
}

/// 95% Wilson score interval of a binomial proportion, as (low, high).
pub fn wilson_interval(successes: u64, n: u64) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let z = Normal::standard().inverse_cdf(0.975);
    let n = n as f64;
    let p = successes as f64 / n;
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let center = (p + z2 / (2.0 * n)) / denom;
    let half = z / denom * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    ((center - half).max(0.0), (center + half).min(1.0))
}

/// Verdict of a split check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    /// The observed split is consistent with the weights.
    #[serde(rename = "PASS")]
    Pass,
    /// It is not (or responses came from unexpected or unknown classes).
    #[serde(rename = "FAIL")]
    Fail,
}

/// One expected class in a split check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassCheck {
    /// Weight as given in `--expect`.
    pub weight: f64,
    /// Expected share of the classified responses, 0..1.
    pub expected_share: f64,
    /// Responses observed in this class.
    pub observed: u64,
    /// Observed share of the classified responses, 0..1.
    pub observed_share: f64,
    /// Lower end of the 95% Wilson interval of the observed share.
    pub wilson_low: f64,
    /// Upper end of the 95% Wilson interval of the observed share.
    pub wilson_high: f64,
}

/// The outcome of a split check, as reported and written to JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitCheck {
    /// PASS or FAIL.
    pub verdict: Verdict,
    /// Why it failed (empty on PASS).
    pub reasons: Vec<String>,
    /// Significance level of the test.
    pub alpha: f64,
    /// Smallest deviation (percentage points) the run is sized to detect.
    pub min_effect_points: f64,
    /// Requests needed to detect `min_effect_points` with 90% power.
    pub required_requests: Option<u64>,
    /// Responses in classes with a positive weight (the test's sample).
    pub tested_responses: u64,
    /// Pearson's chi-square statistic.
    pub chi_square: f64,
    /// Degrees of freedom (weighted classes minus one).
    pub degrees_of_freedom: u64,
    /// Probability of a statistic at least this large if the weights hold.
    pub p_value: f64,
    /// Per expected class (every class listed in `--expect`).
    pub classes: BTreeMap<String, ClassCheck>,
    /// Responses from classes that are not listed or have weight 0.
    pub unexpected: BTreeMap<String, u64>,
    /// Responses that could not be classified.
    pub unclassified: u64,
}

/// Power at which `required_requests` is computed.
pub const POWER: f64 = 0.9;

impl SplitCheck {
    /// Tests `observed` class counts (plus `unclassified` responses) against
    /// `expect` at level `alpha`.
    pub fn evaluate(
        expect: &Expectation,
        observed: &BTreeMap<String, u64>,
        unclassified: u64,
        alpha: f64,
        min_effect_points: f64,
    ) -> Self {
        let shares = expect.shares();
        let tested: u64 = shares
            .keys()
            .map(|c| observed.get(c).copied().unwrap_or(0))
            .sum();
        let mut reasons = Vec::new();
        let mut chi_square = 0.0;
        let mut classes = BTreeMap::new();
        for (class, &weight) in expect.weights() {
            let share = shares.get(class).copied().unwrap_or(0.0);
            let o = observed.get(class).copied().unwrap_or(0);
            if share > 0.0 && tested > 0 {
                let e = share * tested as f64;
                chi_square += (o as f64 - e).powi(2) / e;
            }
            let (lo, hi) = wilson_interval(o, tested);
            classes.insert(
                class.clone(),
                ClassCheck {
                    weight,
                    expected_share: share,
                    observed: o,
                    observed_share: if tested > 0 {
                        o as f64 / tested as f64
                    } else {
                        0.0
                    },
                    wilson_low: lo,
                    wilson_high: hi,
                },
            );
        }
        let df = shares.len().saturating_sub(1) as u64;
        let p_value = if df == 0 {
            1.0
        } else {
            let d = ChiSquared::new(df as f64).expect("df >= 1");
            d.sf(chi_square)
        };
        if tested == 0 {
            reasons.push("no response from any expected class".to_string());
        } else if p_value < alpha {
            reasons.push(format!(
                "observed split differs from the weights: chi-square {chi_square:.2}, df {df}, p = {p_value:.3e} < alpha {alpha}"
            ));
        }
        let unexpected: BTreeMap<String, u64> = observed
            .iter()
            .filter(|(c, &n)| n > 0 && !shares.contains_key(*c))
            .map(|(c, &n)| (c.clone(), n))
            .collect();
        for (c, n) in &unexpected {
            reasons.push(format!(
                "{n} responses from class `{c}`, which has no weight"
            ));
        }
        if unclassified > 0 {
            reasons.push(format!("{unclassified} responses could not be classified"));
        }
        SplitCheck {
            verdict: if reasons.is_empty() {
                Verdict::Pass
            } else {
                Verdict::Fail
            },
            reasons,
            alpha,
            min_effect_points,
            required_requests: expect.required_requests(alpha, POWER, min_effect_points),
            tested_responses: tested,
            chi_square,
            degrees_of_freedom: df,
            p_value,
            classes,
            unexpected,
            unclassified,
        }
    }

    /// The weights this check was made against.
    pub fn expectation(&self) -> Result<Expectation, KnloadError> {
        Expectation::new(
            self.classes
                .iter()
                .map(|(c, k)| (c.clone(), k.weight))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
        pairs.iter().map(|(c, n)| (c.to_string(), *n)).collect()
    }

    #[test]
    fn parses_expectations() {
        let e = Expectation::parse("v1=90, v2=10,v3=0").unwrap();
        let s = e.shares();
        assert_eq!(s.len(), 2);
        assert!((s["v1"] - 0.9).abs() < 1e-12);
        for bad in ["", "v1", "v1=x", "v1=-1", "v1=0", "v1=1,v1=2"] {
            assert!(Expectation::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn wilson_interval_matches_a_hand_computed_value() {
        // 50 of 100: center 0.5, half-width 1.96*sqrt(0.25/100+0.96/40000)/1.0384 = 0.0962.
        let (lo, hi) = wilson_interval(50, 100);
        assert!(
            (lo - 0.4038).abs() < 1e-3 && (hi - 0.5962).abs() < 1e-3,
            "{lo} {hi}"
        );
        let (lo, hi) = wilson_interval(0, 10);
        assert!(lo.abs() < 1e-12);
        assert!((hi - 0.2775).abs() < 1e-3);
    }

    #[test]
    fn chi_square_of_a_known_table() {
        // 430 vs 570 against 50/50: chi2 = (70^2 + 70^2)/500 = 19.6, p = 9.5e-6.
        let e = Expectation::parse("a=50,b=50").unwrap();
        let c = SplitCheck::evaluate(&e, &counts(&[("a", 430), ("b", 570)]), 0, 0.001, 2.5);
        assert!((c.chi_square - 19.6).abs() < 1e-9);
        assert!((c.p_value - 9.55e-6).abs() < 0.1e-6, "{}", c.p_value);
        assert_eq!(c.verdict, Verdict::Fail);
        let c = SplitCheck::evaluate(&e, &counts(&[("a", 490), ("b", 510)]), 0, 0.001, 2.5);
        assert!((c.chi_square - 0.4).abs() < 1e-9);
        assert_eq!(c.verdict, Verdict::Pass);
        assert!((c.classes["a"].observed_share - 0.49).abs() < 1e-12);
    }

    #[test]
    fn stray_and_unclassified_responses_fail() {
        let e = Expectation::parse("a=100,b=0").unwrap();
        let c = SplitCheck::evaluate(&e, &counts(&[("a", 100)]), 0, 0.001, 2.5);
        assert_eq!(c.verdict, Verdict::Pass);
        assert_eq!(c.degrees_of_freedom, 0);
        let c = SplitCheck::evaluate(&e, &counts(&[("a", 100), ("b", 1)]), 0, 0.001, 2.5);
        assert_eq!(c.verdict, Verdict::Fail);
        let c = SplitCheck::evaluate(&e, &counts(&[("a", 100), ("zz", 1)]), 0, 0.001, 2.5);
        assert_eq!(c.unexpected["zz"], 1);
        assert_eq!(c.verdict, Verdict::Fail);
        let c = SplitCheck::evaluate(&e, &counts(&[("a", 100)]), 3, 0.001, 2.5);
        assert_eq!(c.verdict, Verdict::Fail);
    }

    #[test]
    fn required_requests_match_the_normal_approximation() {
        // df = 1: lambda = (z_{1-alpha/2} + z_power)^2 exactly; at 50/50 and
        // 2.5 points w^2 = 0.0025, so n = (3.2905 + 1.2816)^2 / 0.0025 = 8362.
        let e = Expectation::parse("a=50,b=50").unwrap();
        let n = e.required_requests(0.001, 0.9, 2.5).unwrap();
        assert!((8355..=8370).contains(&n), "{n}");
        // A 90/10 split: w^2 = 0.000625 * (1/0.9 + 1/0.1) = 0.006944.
        let e = Expectation::parse("a=90,b=10").unwrap();
        let n = e.required_requests(0.001, 0.9, 2.5).unwrap();
        assert!((3000..=3020).contains(&n), "{n}");
        assert_eq!(
            Expectation::parse("a=1")
                .unwrap()
                .required_requests(0.001, 0.9, 2.5),
            None
        );
    }

    #[test]
    fn classifies_by_header_and_body() {
        let mut h = HeaderMap::new();
        h.insert("x-revision", " v2 ".parse().unwrap());
        let c = Classifier::parse("header:X-Revision").unwrap();
        assert_eq!(c.classify(&h, b""), Some("v2".into()));
        assert_eq!(c.classify(&HeaderMap::new(), b""), None);
        let c = Classifier::parse("body:^(Hi|Namaste)").unwrap();
        assert_eq!(
            c.classify(&h, b"Namaste from pod-1"),
            Some("Namaste".into())
        );
        assert_eq!(c.classify(&h, b"Hello"), None);
        let c = Classifier::parse("body:v[0-9]+").unwrap();
        assert_eq!(c.classify(&h, b"rev v12 here"), Some("v12".into()));
        assert!(Classifier::parse("cookie:x").is_err());
        assert!(Classifier::parse("body:(").is_err());
    }
}
