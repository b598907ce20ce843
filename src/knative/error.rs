//! The error type shared by every validation in this module: one broken rule
//! in one field, in the spirit of `knative.dev/pkg/apis.FieldError`.

/// One broken rule in one field of a config/annotation/traffic block.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{path}: {rule}")]
pub struct FieldError {
    /// Where the problem is: a ConfigMap key, a full annotation key or a
    /// path like `spec.traffic[1].percent`.
    pub path: String,
    /// What is wrong, worded as Knative words it where Knative has a rule.
    pub rule: String,
}

impl FieldError {
    /// Builds an error for `path`.
    pub fn new(path: impl Into<String>, rule: impl Into<String>) -> Self {
        FieldError {
            path: path.into(),
            rule: rule.into(),
        }
    }
}
