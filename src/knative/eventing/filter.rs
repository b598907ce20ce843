//! Trigger attribute filters (`spec.filter.attributes`):
//! `pkg/eventfilter/attributes/filter.go` over the attribute lookup of
//! `pkg/eventfilter/lookup.go`, as `pkg/broker/filter/filter_handler.go`
//! applies them. Only this dialect is modelled; the SubscriptionsAPI
//! `filters` list is not.

use std::collections::BTreeMap;

/// The CloudEvent context attributes that are always present (possibly
/// empty); every other name is an extension, present only when set.
pub const CONTEXT_ATTRIBUTES: [&str; 11] = [
    "specversion",
    "type",
    "source",
    "subject",
    "id",
    "time",
    "dataschema",
    "schemaurl",
    "datacontenttype",
    "datamediatype",
    "datacontentencoding",
];

/// The attributes of one event the model carries: `type`, `source` and
/// extensions (other context attributes are treated as empty).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventAttributes {
    /// `type`.
    pub ce_type: String,
    /// `source`.
    pub ce_source: String,
    /// Extensions by name.
    pub extensions: BTreeMap<String, String>,
}

impl EventAttributes {
    /// `LookupAttribute`: `Some` for a context attribute (always) or a set
    /// extension.
    pub fn lookup(&self, name: &str) -> Option<&str> {
        match name {
            "type" => Some(&self.ce_type),
            "source" => Some(&self.ce_source),
            "specversion" => Some("1.0"),
            n if CONTEXT_ATTRIBUTES.contains(&n) => Some(""),
            n => self.extensions.get(n).map(String::as_str),
        }
    }
}

/// The result of a filter, as the filter handler tells them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterResult {
    /// No filter at all (dispatch).
    NoFilter,
    /// Matched (dispatch).
    Pass,
    /// Did not match: the filter answers 200 and nothing is delivered.
    Fail,
}

impl FilterResult {
    /// Whether the event goes on to the subscriber.
    pub fn dispatches(self) -> bool {
        self != FilterResult::Fail
    }
}

/// Evaluates `attributes` (`None`: the Trigger has no attributes map) on an
/// event. An empty value asks for a non-empty attribute; any other value
/// for an exact match.
pub fn attributes_filter(
    attributes: Option<&BTreeMap<String, String>>,
    event: &EventAttributes,
) -> FilterResult {
    let Some(attrs) = attributes else {
        return FilterResult::NoFilter;
    };
    for (k, want) in attrs {
        let Some(got) = event.lookup(k) else {
            return FilterResult::Fail;
        };
        let ok = if want.is_empty() {
            !got.is_empty()
        } else {
            got == want
        };
        if !ok {
            return FilterResult::Fail;
        }
    }
    FilterResult::Pass
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev() -> EventAttributes {
        EventAttributes {
            ce_type: "com.example.order".into(),
            ce_source: "/shop".into(),
            extensions: [("region".to_string(), "eu".to_string())].into(),
        }
    }

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn no_map_is_no_filter_and_empty_map_passes() {
        assert_eq!(attributes_filter(None, &ev()), FilterResult::NoFilter);
        assert_eq!(
            attributes_filter(Some(&map(&[])), &ev()),
            FilterResult::Pass
        );
        assert!(FilterResult::NoFilter.dispatches());
        assert!(!FilterResult::Fail.dispatches());
    }

    #[test]
    fn exact_match_on_type_source_and_extensions() {
        let f = map(&[("type", "com.example.order"), ("region", "eu")]);
        assert_eq!(attributes_filter(Some(&f), &ev()), FilterResult::Pass);
        let f = map(&[("type", "com.example.order"), ("region", "us")]);
        assert_eq!(attributes_filter(Some(&f), &ev()), FilterResult::Fail);
        let f = map(&[("source", "/shop/eu")]);
        assert_eq!(attributes_filter(Some(&f), &ev()), FilterResult::Fail);
    }

    #[test]
    fn empty_value_means_any_non_empty() {
        assert_eq!(
            attributes_filter(Some(&map(&[("region", "")])), &ev()),
            FilterResult::Pass
        );
        // A missing extension fails; a context attribute is present but empty.
        assert_eq!(
            attributes_filter(Some(&map(&[("tenant", "")])), &ev()),
            FilterResult::Fail
        );
        assert_eq!(
            attributes_filter(Some(&map(&[("subject", "")])), &ev()),
            FilterResult::Fail
        );
    }
}
