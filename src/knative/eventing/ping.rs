//! What a PingSource sends (`pkg/adapter/mtping/runner.go`,
//! `pkg/apis/sources/v1/ping_defaults.go`, `ping_lifecycle.go`).

/// `schedule` when none is given.
pub const DEFAULT_SCHEDULE: &str = "* * * * *";

/// The CloudEvent `type` of every PingSource event.
pub const EVENT_TYPE: &str = "dev.knative.sources.ping";

/// Each fire sleeps a uniform whole number of milliseconds below this before
/// sending, so that many sources on one schedule do not send at once.
pub const JITTER_MS: u64 = 500;

/// The CloudEvent `source` of a PingSource's events.
pub fn event_source(namespace: &str, name: &str) -> String {
    format!("/apis/v1/namespaces/{namespace}/pingsources/{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_names_namespace_and_name() {
        assert_eq!(
            event_source("default", "morning"),
            "/apis/v1/namespaces/default/pingsources/morning"
        );
        assert!(super::super::CronSchedule::parse(DEFAULT_SCHEDULE).is_ok());
    }
}
