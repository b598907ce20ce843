//! Sweep axes (`--vary`), shards (`--shard`) and the expanded plan of runs.
//!
//! Range steps are exact: `0.1..0.5:0.1` is computed on scaled integers, so it
//! gives `0.1, 0.2, 0.3, 0.4, 0.5` and never `0.30000000000000004`.

use super::SweepError;
use crate::scenario::Override;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// Most values one axis may expand to (guards against a mistyped step).
pub const MAX_AXIS_VALUES: usize = 10_000;

/// Most runs one sweep may plan.
pub const MAX_RUNS: usize = 1_000_000;

/// One `--vary` axis: a scenario key (a dotted path, as for `--set`) and the
/// values it takes, in order.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Axis {
    /// Dotted path, e.g. `autoscaler.stable-window`.
    pub key: String,
    /// Values as text, each applied like `--set KEY=VALUE`.
    pub values: Vec<String>,
}

impl FromStr for Axis {
    type Err = SweepError;

    /// Parses `KEY=V1,V2,...` or `KEY=START..END:STEP` (END included when a
    /// step lands on it; the three may share a unit suffix such as `s`).
    fn from_str(spec: &str) -> Result<Self, SweepError> {
        let bad = |rule: String| SweepError::BadVary {
            spec: spec.to_string(),
            rule,
        };
        let (key, values) = spec
            .split_once('=')
            .ok_or_else(|| bad("expected KEY=V1,V2,... or KEY=START..END:STEP".into()))?;
        let key = key.trim();
        if key.is_empty() {
            return Err(bad("empty key".into()));
        }
        let values = values.trim();
        let list = if values.contains("..") && !values.contains(',') {
            expand_range(values).map_err(bad)?
        } else {
            values
                .split(',')
                .map(|v| v.trim().to_string())
                .collect::<Vec<_>>()
        };
        if list.iter().any(String::is_empty) {
            return Err(bad("empty value in the list".into()));
        }
        if list.len() > MAX_AXIS_VALUES {
            return Err(bad(format!(
                "{} values; at most {MAX_AXIS_VALUES} per axis",
                list.len()
            )));
        }
        let mut seen = std::collections::BTreeSet::new();
        for v in &list {
            if !seen.insert(v.as_str()) {
                return Err(bad(format!("value {v:?} is listed twice")));
            }
        }
        Ok(Axis {
            key: key.to_string(),
            values: list,
        })
    }
}

impl fmt::Display for Axis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.key, self.values.join(","))
    }
}

/// An exact decimal number: `mantissa / 10^scale`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Decimal {
    mantissa: i128,
    scale: u32,
}

/// Longest fractional part accepted in a range.
const MAX_SCALE: u32 = 18;

impl Decimal {
    fn parse(s: &str) -> Option<Decimal> {
        let (neg, digits) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let scale = u32::try_from(frac.len()).ok().filter(|s| *s <= MAX_SCALE)?;
        let mut mantissa: i128 = 0;
        for b in int.bytes().chain(frac.bytes()) {
            mantissa = mantissa
                .checked_mul(10)?
                .checked_add(i128::from(b - b'0'))?;
        }
        Some(Decimal {
            mantissa: if neg { -mantissa } else { mantissa },
            scale,
        })
    }

    fn rescale(self, scale: u32) -> Option<Decimal> {
        let factor = 10i128.checked_pow(scale.checked_sub(self.scale)?)?;
        Some(Decimal {
            mantissa: self.mantissa.checked_mul(factor)?,
            scale,
        })
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.mantissa < 0 { "-" } else { "" };
        let abs = self.mantissa.unsigned_abs();
        if self.scale == 0 {
            return write!(f, "{sign}{abs}");
        }
        let unit = 10u128.pow(self.scale);
        write!(
            f,
            "{sign}{}.{:0width$}",
            abs / unit,
            abs % unit,
            width = self.scale as usize
        )
    }
}

/// Splits `12.5ms` into the number and its unit suffix.
fn split_unit(s: &str) -> (&str, &str) {
    let end = s
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || c == '.' || (i == 0 && (c == '-' || c == '+'))))
        .map(|(i, _)| i)
        .unwrap_or(s.len());
    (&s[..end], &s[end..])
}

/// Expands `START..END:STEP` into exact decimal strings, every value written
/// with as many decimals as the most precise of the three.
fn expand_range(spec: &str) -> Result<Vec<String>, String> {
    let shape = "a range is START..END:STEP, e.g. 0.1..0.5:0.1 or 30s..120s:30s";
    let (start, rest) = spec.split_once("..").ok_or_else(|| shape.to_string())?;
    let (end, step) = rest
        .rsplit_once(':')
        .ok_or_else(|| format!("{shape} (the step is missing)"))?;
    let parts = [start.trim(), end.trim(), step.trim()];
    let mut nums = [Decimal {
        mantissa: 0,
        scale: 0,
    }; 3];
    let mut unit = None;
    for (i, p) in parts.iter().enumerate() {
        let (n, u) = split_unit(p);
        nums[i] =
            Decimal::parse(n).ok_or_else(|| format!("{p:?} is not a decimal number; {shape}"))?;
        match unit {
            None => unit = Some(u),
            Some(prev) if prev == u => {}
            Some(prev) => {
                return Err(format!(
                    "START, END and STEP must use the same unit ({prev:?} and {u:?})"
                ))
            }
        }
    }
    let unit = unit.unwrap_or("");
    let scale = nums.iter().map(|d| d.scale).max().unwrap_or(0);
    let overflow = || "numbers too large".to_string();
    let [start, end, step] = nums.map(|d| d.rescale(scale));
    let (start, end, step) = (
        start.ok_or_else(overflow)?,
        end.ok_or_else(overflow)?,
        step.ok_or_else(overflow)?,
    );
    if step.mantissa <= 0 {
        return Err("STEP must be greater than 0".into());
    }
    if end.mantissa < start.mantissa {
        return Err("END must not be less than START".into());
    }
    let count = (end.mantissa - start.mantissa) / step.mantissa + 1;
    if count > MAX_AXIS_VALUES as i128 {
        return Err(format!(
            "{count} values; at most {MAX_AXIS_VALUES} per axis"
        ));
    }
    Ok((0..count)
        .map(|i| {
            let d = Decimal {
                mantissa: start.mantissa + i * step.mantissa,
                scale,
            };
            format!("{d}{unit}")
        })
        .collect())
}

/// `--shard K/N`: the runs whose index is K modulo N (K counts from 0, as a
/// Kubernetes Indexed Job's completion index does).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    /// This shard, `0..count`.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl Shard {
    /// True when run `run` belongs to this shard.
    pub fn contains(&self, run: usize) -> bool {
        run % self.count == self.index
    }
}

impl FromStr for Shard {
    type Err = SweepError;
    fn from_str(s: &str) -> Result<Self, SweepError> {
        let bad = |rule: &str| SweepError::BadShard {
            spec: s.to_string(),
            rule: rule.to_string(),
        };
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| bad("expected K/N, e.g. 0/4"))?;
        let index: usize = k.trim().parse().map_err(|_| bad("K is not a number"))?;
        let count: usize = n.trim().parse().map_err(|_| bad("N is not a number"))?;
        if count == 0 {
            return Err(bad("N must be at least 1"));
        }
        if index >= count {
            return Err(bad("K counts from 0 and must be less than N"));
        }
        Ok(Shard { index, count })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// One run of a sweep: a configuration and a replication.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunSpec {
    /// Run index: `config * reps + rep`.
    pub run: usize,
    /// Configuration index (grid order, first axis slowest).
    pub config: usize,
    /// Replication, `0..reps`.
    pub rep: usize,
    /// Seed of this replication (the same for every configuration).
    pub seed: u64,
    /// The configuration's values as overrides, one per axis.
    pub overrides: Vec<Override>,
}

/// The full grid: every combination of the axes' values, each replicated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    axes: Vec<Axis>,
    reps: usize,
    base_seed: u64,
    configs: usize,
}

impl Plan {
    /// Checks the axes (distinct keys, a grid of at most [`MAX_RUNS`] runs)
    /// and builds the plan. With no axes there is one configuration.
    pub fn new(axes: Vec<Axis>, reps: usize, base_seed: u64) -> Result<Plan, SweepError> {
        if reps == 0 {
            return Err(SweepError::BadPlan {
                rule: "--reps must be at least 1".into(),
            });
        }
        let mut keys = std::collections::BTreeSet::new();
        for a in &axes {
            if a.values.is_empty() {
                return Err(SweepError::BadPlan {
                    rule: format!("--vary {} has no values", a.key),
                });
            }
            if !keys.insert(a.key.as_str()) {
                return Err(SweepError::BadPlan {
                    rule: format!("--vary {} is given twice", a.key),
                });
            }
        }
        let too_many = || SweepError::BadPlan {
            rule: format!("the grid has more than {MAX_RUNS} runs"),
        };
        let configs = axes
            .iter()
            .try_fold(1usize, |n, a| n.checked_mul(a.values.len()))
            .ok_or_else(too_many)?;
        if configs.checked_mul(reps).is_none_or(|n| n > MAX_RUNS) {
            return Err(too_many());
        }
        Ok(Plan {
            axes,
            reps,
            base_seed,
            configs,
        })
    }

    /// The axes, in `--vary` order.
    pub fn axes(&self) -> &[Axis] {
        &self.axes
    }

    /// Replications per configuration.
    pub fn reps(&self) -> usize {
        self.reps
    }

    /// Seed of replication 0.
    pub fn base_seed(&self) -> u64 {
        self.base_seed
    }

    /// Number of configurations.
    pub fn configs(&self) -> usize {
        self.configs
    }

    /// Number of runs (configurations × replications).
    pub fn runs(&self) -> usize {
        self.configs * self.reps
    }

    /// Seed of replication `rep`: the base seed plus `rep`, for every
    /// configuration alike (common random numbers).
    pub fn seed(&self, rep: usize) -> u64 {
        self.base_seed.wrapping_add(rep as u64)
    }

    /// The values of configuration `config`, one per axis. The first axis
    /// changes slowest, like nested loops in `--vary` order.
    pub fn values(&self, config: usize) -> Vec<&str> {
        let mut rest = config;
        let mut out = vec![""; self.axes.len()];
        for (i, a) in self.axes.iter().enumerate().rev() {
            out[i] = &a.values[rest % a.values.len()];
            rest /= a.values.len();
        }
        out
    }

    /// The run with index `run`.
    pub fn spec(&self, run: usize) -> RunSpec {
        let config = run / self.reps;
        let rep = run % self.reps;
        RunSpec {
            run,
            config,
            rep,
            seed: self.seed(rep),
            overrides: self
                .axes
                .iter()
                .zip(self.values(config))
                .map(|(a, v)| Override {
                    key: a.key.clone(),
                    value: v.to_string(),
                })
                .collect(),
        }
    }

    /// Every run, in index order.
    pub fn specs(&self) -> impl Iterator<Item = RunSpec> + '_ {
        (0..self.runs()).map(|r| self.spec(r))
    }

    /// Maps each configuration's values to its index.
    pub fn config_index(&self) -> BTreeMap<Vec<String>, usize> {
        (0..self.configs)
            .map(|c| (self.values(c).into_iter().map(String::from).collect(), c))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn axis(s: &str) -> Axis {
        s.parse().unwrap()
    }

    #[test]
    fn decimal_steps_are_exact() {
        assert_eq!(
            axis("k=0.1..0.5:0.1").values,
            ["0.1", "0.2", "0.3", "0.4", "0.5"]
        );
        // 0.1 + 0.2 in floating point is 0.30000000000000004; thirty steps of
        // 0.1 drift further. Here the tenth value is exactly 1.0.
        let v = axis("k=0..3:0.1").values;
        assert_eq!(v.len(), 31);
        assert_eq!(v[3], "0.3");
        assert_eq!(v[10], "1.0");
        assert_eq!(v[30], "3.0");
        assert_eq!(
            axis("k=-1..1:0.5").values,
            ["-1.0", "-0.5", "0.0", "0.5", "1.0"]
        );
        assert_eq!(axis("k=1..10:4").values, ["1", "5", "9"]);
    }

    #[test]
    fn ranges_keep_a_shared_unit() {
        assert_eq!(
            axis("autoscaler.stable-window=30s..90s:30s").values,
            ["30s", "60s", "90s"]
        );
        assert_eq!(axis("k=1.5s..2.5s:0.5s").values, ["1.5s", "2.0s", "2.5s"]);
        assert!("k=1m..3m:30s".parse::<Axis>().is_err());
    }

    #[test]
    fn lists_keep_their_text() {
        let a = axis(r#"revision.0.annotations."autoscaling.knative.dev/target"=10, 50,100"#);
        assert_eq!(
            a.key,
            r#"revision.0.annotations."autoscaling.knative.dev/target""#
        );
        assert_eq!(a.values, ["10", "50", "100"]);
        assert_eq!(axis("k=5").values, ["5"]);
    }

    #[test]
    fn bad_axes_are_errors() {
        for s in [
            "novalue",
            "=1,2",
            "k=",
            "k=1,,2",
            "k=1,1",
            "k=1..5",
            "k=5..1:1",
            "k=1..5:0",
            "k=1..5:-1",
            "k=a..b:c",
            "k=0..1:0.00001",
        ] {
            assert!(s.parse::<Axis>().is_err(), "{s} should be rejected");
        }
    }

    #[test]
    fn grid_order_is_nested_loops_first_axis_slowest() {
        let p = Plan::new(vec![axis("a=1,2"), axis("b=x,y,z")], 2, 10).unwrap();
        assert_eq!(p.configs(), 6);
        assert_eq!(p.runs(), 12);
        assert_eq!(p.values(0), ["1", "x"]);
        assert_eq!(p.values(1), ["1", "y"]);
        assert_eq!(p.values(3), ["2", "x"]);
        let s = p.spec(7);
        assert_eq!((s.config, s.rep, s.seed), (3, 1, 11));
        assert_eq!(s.overrides[1].to_string(), "b=x");
        // Common random numbers: replication r has one seed for all configurations.
        assert!(p.specs().filter(|s| s.rep == 1).all(|s| s.seed == 11));
        assert_eq!(p.config_index()[&vec!["2".to_string(), "z".to_string()]], 5);
    }

    #[test]
    fn plans_without_axes_have_one_configuration() {
        let p = Plan::new(vec![], 3, 0).unwrap();
        assert_eq!((p.configs(), p.runs()), (1, 3));
        assert!(p.values(0).is_empty());
    }

    #[test]
    fn bad_plans_are_errors() {
        assert!(Plan::new(vec![axis("a=1")], 0, 0).is_err());
        assert!(Plan::new(vec![axis("a=1"), axis("a=2")], 1, 0).is_err());
        let big = axis("a=1..9999:1");
        assert!(Plan::new(vec![big.clone(), big], 1, 0).is_err());
    }

    #[test]
    fn shards_partition_the_runs() {
        let shards: Vec<Shard> = (0..3).map(|k| format!("{k}/3").parse().unwrap()).collect();
        for run in 0..20 {
            assert_eq!(shards.iter().filter(|s| s.contains(run)).count(), 1);
        }
        for bad in ["3/3", "1/0", "x/2", "1", "-1/2"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
