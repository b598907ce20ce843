//! The delivery spec of Brokers and Triggers and the retry configuration the
//! dispatcher builds from it:
//!
//! * `pkg/apis/duck/v1/delivery_types.go` (`DeliverySpec`, its `Validate`);
//! * `pkg/kncloudevents/retries.go` (`RetryConfigFromDeliverySpec`,
//!   `SelectiveRetry`);
//! * `hashicorp/go-retryablehttp` v0.7.7 `Client.Do`, the loop that calls the
//!   backoff with the number of retries already made (0 before the first);
//! * `config/core/configmaps/default-broker.yaml` (`config-br-defaults`) and
//!   `pkg/apis/eventing/v1/broker_defaults.go`;
//! * `pkg/reconciler/broker/trigger/trigger.go` and
//!   `pkg/reconciler/subscription/subscription.go` for which spec a Trigger
//!   ends up with.

use super::period::parse_period_nanos;
use crate::knative::error::FieldError;

/// `backoffPolicy`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackoffPolicy {
    /// `linear`: the delay times the retries already made.
    Linear,
    /// `exponential`: the delay times two to the retries already made.
    Exponential,
}

impl BackoffPolicy {
    /// Knative's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            BackoffPolicy::Linear => "linear",
            BackoffPolicy::Exponential => "exponential",
        }
    }
}

/// A `delivery` block as written (strings kept as text, so validation can
/// name the offending value as Knative does).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeliverySpec {
    /// `retry`: retries after the first attempt (not attempts).
    pub retry: Option<i64>,
    /// `backoffPolicy`.
    pub backoff_policy: Option<String>,
    /// `backoffDelay`, ISO-8601.
    pub backoff_delay: Option<String>,
    /// `timeout`, ISO-8601: a bound on each attempt.
    pub timeout: Option<String>,
    /// `deadLetterSink`: a name of the sink; the model only counts what
    /// reaches it.
    pub dead_letter_sink: Option<String>,
}

impl DeliverySpec {
    /// `DeliverySpec.Validate` with the shipped `config-features`
    /// (`delivery-timeout` enabled). `prefix` is the field path of the block.
    /// Negative durations parse upstream; the model rejects them because a
    /// negative wait or timeout has no meaning in simulated time.
    pub fn validate(&self, prefix: &str) -> Vec<FieldError> {
        let mut errs = Vec::new();
        let at = |f: &str| format!("{prefix}.{f}");
        if let Some(r) = self.retry {
            if r < 0 {
                errs.push(FieldError::new(
                    at("retry"),
                    format!("invalid value: {r}: must be >= 0 (retries after the first attempt)"),
                ));
            } else if r > i32::MAX as i64 {
                errs.push(FieldError::new(
                    at("retry"),
                    "invalid value: must fit an int32",
                ));
            }
        }
        if let Some(p) = &self.backoff_policy {
            if parse_policy(p).is_none() {
                errs.push(FieldError::new(
                    at("backoffPolicy"),
                    format!("invalid value: {p:?}: must be \"linear\" or \"exponential\""),
                ));
            }
        }
        if let Some(d) = &self.backoff_delay {
            match parse_period_nanos(d) {
                Err(e) => errs.push(FieldError::new(
                    at("backoffDelay"),
                    format!("invalid value: {e}"),
                )),
                Ok(n) if n < 0 => errs.push(FieldError::new(
                    at("backoffDelay"),
                    format!("invalid value: {d:?}: must not be negative"),
                )),
                Ok(_) => {}
            }
        }
        if let Some(t) = &self.timeout {
            match parse_period_nanos(t) {
                Err(e) => errs.push(FieldError::new(
                    at("timeout"),
                    format!("invalid value: {e}"),
                )),
                Ok(0) => errs.push(FieldError::new(
                    at("timeout"),
                    format!("invalid value: {t:?}: must not be zero"),
                )),
                Ok(n) if n < 0 => errs.push(FieldError::new(
                    at("timeout"),
                    format!("invalid value: {t:?}: must not be negative"),
                )),
                Ok(_) => {}
            }
        }
        if let Some(s) = &self.dead_letter_sink {
            if s.is_empty() {
                errs.push(FieldError::new(at("deadLetterSink"), "must not be empty"));
            }
        }
        errs
    }

    /// The cluster default of `config-br-defaults` as shipped: retry 10,
    /// exponential, `PT0.2S`, no dead-letter sink, no timeout.
    pub fn broker_default() -> Self {
        DeliverySpec {
            retry: Some(10),
            backoff_policy: Some("exponential".into()),
            backoff_delay: Some("PT0.2S".into()),
            timeout: None,
            dead_letter_sink: None,
        }
    }
}

fn parse_policy(p: &str) -> Option<BackoffPolicy> {
    match p {
        "linear" => Some(BackoffPolicy::Linear),
        "exponential" => Some(BackoffPolicy::Exponential),
        _ => None,
    }
}

/// What the dispatcher runs for one Trigger (`RetryConfig`), in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryConfig {
    /// `RetryMax`: retries after the first attempt.
    pub retry_max: u32,
    /// The backoff shape and base delay; `None` when the policy or the delay
    /// is unset, which makes every wait zero.
    pub backoff: Option<(BackoffPolicy, i64)>,
    /// `RequestTimeout`; 0 means none.
    pub request_timeout: i64,
}

impl RetryConfig {
    /// One attempt, no wait: what a subscriber with no delivery spec at all
    /// gets (`RetryConfig` nil upstream).
    pub const NONE: RetryConfig = RetryConfig {
        retry_max: 0,
        backoff: None,
        request_timeout: 0,
    };

    /// `RetryConfigFromDeliverySpec` for a spec that passed
    /// [`DeliverySpec::validate`].
    pub fn from_spec(spec: &DeliverySpec) -> Result<RetryConfig, FieldError> {
        let errs = spec.validate("delivery");
        if let Some(e) = errs.into_iter().next() {
            return Err(e);
        }
        let retry_max = spec.retry.unwrap_or(0).max(0) as u32;
        let backoff = match (&spec.backoff_policy, &spec.backoff_delay) {
            (Some(p), Some(d)) => Some((
                parse_policy(p).expect("validated"),
                parse_period_nanos(d).expect("validated"),
            )),
            _ => None,
        };
        let request_timeout = spec
            .timeout
            .as_deref()
            .map_or(0, |t| parse_period_nanos(t).expect("validated"));
        Ok(RetryConfig {
            retry_max,
            backoff,
            request_timeout,
        })
    }

    /// The `Backoff(attemptNum)` function: `delay · 2^n` (exponential, the
    /// power taken through a float and truncated to an integer as Go's
    /// `time.Duration(math.Exp2(n))` does) or `delay · n` (linear).
    /// Saturates where Go's int64 would overflow.
    pub fn backoff_fn(&self, n: u32) -> i64 {
        match self.backoff {
            None => 0,
            Some((BackoffPolicy::Linear, d)) => d.saturating_mul(n as i64),
            Some((BackoffPolicy::Exponential, d)) => {
                let factor = if n >= 63 { i64::MAX } else { 1i64 << n };
                d.saturating_mul(factor)
            }
        }
    }

    /// The wait before retry `k` (1-based): the retry loop passes the number
    /// of retries already made, so this is `Backoff(k - 1)`. The first linear
    /// retry therefore follows at once.
    pub fn wait_before_retry(&self, k: u32) -> i64 {
        self.backoff_fn(k.saturating_sub(1))
    }
}

/// What one attempt looked like to the dispatcher.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptResult {
    /// An HTTP status came back.
    Status(u16),
    /// No response: refused, reset, or the per-attempt timeout fired.
    TransportError,
}

/// `SelectiveRetry`: true when the outcome is worth another attempt (if any
/// remain). 5xx, 404, 408, 409, 429 and transport errors are; 1xx, 2xx, 3xx
/// and other 4xx are not.
pub fn selective_retry(r: AttemptResult) -> bool {
    match r {
        AttemptResult::TransportError => true,
        AttemptResult::Status(s) => s >= 500 || matches!(s, 404 | 408 | 409 | 429),
    }
}

/// Whether the dispatcher counts the outcome as delivered (2xx only).
pub fn is_success(r: AttemptResult) -> bool {
    matches!(r, AttemptResult::Status(s) if (200..300).contains(&s))
}

/// The spec a Trigger's subscription runs with: the Trigger's `delivery`
/// replaces the Broker's as a whole (no field-by-field merge), except that
/// the dead-letter sink falls back to the Broker's when the Trigger names
/// none. `None` means one attempt and no dead-letter sink.
pub fn effective_delivery(
    trigger: Option<&DeliverySpec>,
    broker: Option<&DeliverySpec>,
) -> Option<DeliverySpec> {
    match (trigger, broker) {
        (Some(t), b) => {
            let mut s = t.clone();
            if s.dead_letter_sink.is_none() {
                s.dead_letter_sink = b.and_then(|b| b.dead_letter_sink.clone());
            }
            Some(s)
        }
        (None, Some(b)) => Some(b.clone()),
        (None, None) => None,
    }
}

/// `BrokerSpec.SetDefaults`: a Broker admitted without `delivery` gets the
/// looked-up default's dead-letter sink, retry, policy and delay (not its
/// timeout); one with any `delivery` keeps it untouched.
pub fn default_broker_delivery(
    broker: Option<&DeliverySpec>,
    config_default: &DeliverySpec,
) -> DeliverySpec {
    match broker {
        Some(b) => b.clone(),
        None => DeliverySpec {
            timeout: None,
            ..config_default.clone()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: i64 = 1_000_000;
    const S: i64 = 1_000 * MS;

    fn spec(policy: &str, delay: &str, retry: i64) -> DeliverySpec {
        DeliverySpec {
            retry: Some(retry),
            backoff_policy: Some(policy.into()),
            backoff_delay: Some(delay.into()),
            ..Default::default()
        }
    }

    /// retries_test.go TestRetryConfigFromDeliverySpec: the function
    /// `Backoff(i)` for i = 1..5 in the table's three successful cases.
    #[test]
    fn backoff_fn_matches_upstream_table() {
        let cases: [(&str, &str, [i64; 5]); 3] = [
            (
                "linear",
                "PT2.5S",
                [2_500 * MS, 5_000 * MS, 7_500 * MS, 10_000 * MS, 12_500 * MS],
            ),
            (
                "exponential",
                "PT1.5S",
                [3 * S, 6 * S, 12 * S, 24 * S, 48 * S],
            ),
            ("exponential", "PT0.5S", [S, 2 * S, 4 * S, 8 * S, 16 * S]),
        ];
        for (policy, delay, want) in cases {
            let rc = RetryConfig::from_spec(&spec(policy, delay, 5)).unwrap();
            assert_eq!(rc.retry_max, 5);
            for (i, w) in want.iter().enumerate() {
                assert_eq!(
                    rc.backoff_fn(i as u32 + 1),
                    *w,
                    "{policy} {delay} i={}",
                    i + 1
                );
            }
        }
    }

    /// retries_test.go TestNoRetries: Backoff(1) and Backoff(100) are zero.
    #[test]
    fn no_backoff_without_policy_and_delay() {
        assert_eq!(RetryConfig::NONE.backoff_fn(1), 0);
        assert_eq!(RetryConfig::NONE.backoff_fn(100), 0);
        let only_policy = DeliverySpec {
            retry: Some(3),
            backoff_policy: Some("exponential".into()),
            ..Default::default()
        };
        let rc = RetryConfig::from_spec(&only_policy).unwrap();
        assert_eq!((rc.retry_max, rc.wait_before_retry(3)), (3, 0));
    }

    /// The loop's schedule: the wait before retry k is Backoff(k - 1). For
    /// the shipped broker default this is 0.2 s doubling, 204.6 s in all.
    #[test]
    fn schedule_of_the_shipped_broker_default() {
        let rc = RetryConfig::from_spec(&DeliverySpec::broker_default()).unwrap();
        let waits: Vec<i64> = (1..=rc.retry_max)
            .map(|k| rc.wait_before_retry(k))
            .collect();
        let want: Vec<i64> = [
            200, 400, 800, 1_600, 3_200, 6_400, 12_800, 25_600, 51_200, 102_400,
        ]
        .iter()
        .map(|ms| ms * MS)
        .collect();
        assert_eq!(waits, want);
        assert_eq!(waits.iter().sum::<i64>(), 204_600 * MS);
        // d·(2^R − 1) in closed form.
        assert_eq!(waits.iter().sum::<i64>(), 200 * MS * ((1 << 10) - 1));
    }

    #[test]
    fn linear_first_retry_is_immediate() {
        let rc = RetryConfig::from_spec(&spec("linear", "PT1S", 4)).unwrap();
        let waits: Vec<i64> = (1..=4).map(|k| rc.wait_before_retry(k)).collect();
        assert_eq!(waits, vec![0, S, 2 * S, 3 * S]);
        // d·R(R−1)/2.
        assert_eq!(waits.iter().sum::<i64>(), S * 4 * 3 / 2);
    }

    #[test]
    fn exponential_saturates_instead_of_wrapping() {
        let rc = RetryConfig::from_spec(&spec("exponential", "PT1S", 100)).unwrap();
        assert_eq!(rc.backoff_fn(80), i64::MAX);
        assert!(rc.backoff_fn(33) > 0);
    }

    /// retries_test.go TestSelectiveRetry, one row per case there.
    #[test]
    fn selective_retry_matches_upstream_table() {
        use AttemptResult::*;
        let rows = [
            (TransportError, true), // "Nil Response" and "Http Error"
            (Status(100), false),
            (Status(102), false),
            (Status(200), false),
            (Status(201), false),
            (Status(202), false),
            (Status(300), false),
            (Status(301), false),
            (Status(400), false),
            (Status(401), false),
            (Status(403), false),
            (Status(404), true),
            (Status(408), true),
            (Status(409), true),
            (Status(429), true),
            (Status(500), true),
            (Status(501), true),
        ];
        for (r, want) in rows {
            assert_eq!(selective_retry(r), want, "{r:?}");
        }
        assert!(is_success(Status(202)) && !is_success(Status(301)) && !is_success(TransportError));
    }

    #[test]
    fn validation_names_field_and_rule() {
        let bad = DeliverySpec {
            retry: Some(-1),
            backoff_policy: Some("fibonacci".into()),
            backoff_delay: Some("3s".into()),
            timeout: Some("PT0S".into()),
            dead_letter_sink: None,
        };
        let errs = bad.validate("spec.delivery");
        let paths: Vec<&str> = errs.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "spec.delivery.retry",
                "spec.delivery.backoffPolicy",
                "spec.delivery.backoffDelay",
                "spec.delivery.timeout"
            ]
        );
        assert!(
            errs[2].rule.contains("must start with 'P'"),
            "{}",
            errs[2].rule
        );
        assert!(RetryConfig::from_spec(&bad).is_err());
    }

    #[test]
    fn trigger_delivery_replaces_broker_delivery_but_dls_falls_back() {
        let broker = DeliverySpec {
            dead_letter_sink: Some("dls".into()),
            ..DeliverySpec::broker_default()
        };
        let trigger = DeliverySpec {
            retry: Some(3),
            ..Default::default()
        };
        let eff = effective_delivery(Some(&trigger), Some(&broker)).unwrap();
        assert_eq!(eff.retry, Some(3));
        assert_eq!(eff.backoff_policy, None, "no field-by-field inheritance");
        assert_eq!(eff.dead_letter_sink.as_deref(), Some("dls"));
        let only_dls = DeliverySpec {
            dead_letter_sink: Some("mine".into()),
            ..Default::default()
        };
        let eff = effective_delivery(Some(&only_dls), Some(&broker)).unwrap();
        assert_eq!(RetryConfig::from_spec(&eff).unwrap().retry_max, 0);
        assert_eq!(
            effective_delivery(None, Some(&broker)),
            Some(broker.clone())
        );
        assert_eq!(effective_delivery(None, None), None);
    }

    #[test]
    fn broker_defaulting_copies_four_fields_only_when_absent() {
        let cfg = DeliverySpec {
            timeout: Some("PT5S".into()),
            ..DeliverySpec::broker_default()
        };
        let d = default_broker_delivery(None, &cfg);
        assert_eq!(d.retry, Some(10));
        assert_eq!(d.timeout, None);
        let own = DeliverySpec {
            retry: Some(1),
            ..Default::default()
        };
        assert_eq!(default_broker_delivery(Some(&own), &cfg), own);
    }
}
