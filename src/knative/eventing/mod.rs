//! Knative Eventing delivery as pure functions (knative/eventing at
//! `knative-v1.22.0-20-g8cf4c4b67`): what a Broker's dispatcher does with a
//! Trigger's delivery spec, which events a Trigger's filter lets through and
//! when a PingSource fires. Each submodule names the upstream file it
//! follows:
//!
//! * [`period`]: ISO-8601 durations (`rickb777/date/period` v1.13.0);
//! * [`delivery`]: `DeliverySpec`, `RetryConfig`, backoff and the retry
//!   decision (`pkg/apis/duck/v1/delivery_types.go`,
//!   `pkg/kncloudevents/retries.go`, `go-retryablehttp` v0.7.7), the Broker
//!   default of `config-br-defaults`;
//! * [`defaults`]: `config-br-defaults` and `Defaults.GetBrokerConfig`
//!   (`pkg/apis/config/defaults.go`);
//! * [`filter`]: Trigger attribute filters (`pkg/eventfilter/attributes/`);
//! * [`cron`]: PingSource schedules (`robfig/cron/v3` with the options of
//!   `pkg/adapter/mtping/`);
//! * [`ping`]: the PingSource's event attributes and send jitter.

pub mod cron;
pub mod defaults;
pub mod delivery;
pub mod filter;
pub mod period;
pub mod ping;

pub use cron::CronSchedule;
pub use delivery::{
    effective_delivery, is_success, selective_retry, AttemptResult, BackoffPolicy, DeliverySpec,
    RetryConfig,
};
pub use filter::{attributes_filter, EventAttributes, FilterResult};
pub use period::{parse_period_nanos, PeriodError};
