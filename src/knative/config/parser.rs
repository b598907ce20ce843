//! Key-by-key parsing shared by every ConfigMap: unknown keys, Go-grammar
//! values, and one error per bad key.

use std::collections::BTreeMap;

use crate::knative::error::FieldError;
use crate::knative::gofmt;
use crate::sim::SimDuration;

/// Key present in every ConfigMap Knative ships, holding documentation only.
pub(super) const EXAMPLE_KEY: &str = "_example";

/// Collects parse errors for one ConfigMap so every bad key is reported.
pub(super) struct MapParser<'a> {
    pub(super) map: &'a BTreeMap<String, String>,
    pub(super) errors: Vec<FieldError>,
}

impl<'a> MapParser<'a> {
    pub(super) fn new(map: &'a BTreeMap<String, String>, known: &[&str], cm_name: &str) -> Self {
        let mut errors = Vec::new();
        for key in map.keys() {
            if key != EXAMPLE_KEY && !known.contains(&key.as_str()) {
                errors.push(FieldError::new(
                    key.clone(),
                    format!(
                        "unknown {cm_name} key; valid keys are: {}",
                        known.join(", ")
                    ),
                ));
            }
        }
        MapParser { map, errors }
    }

    pub(super) fn fail(&mut self, key: &str, what: &str, raw: &str) {
        self.errors.push(FieldError::new(
            key,
            format!("failed to parse {key:?}: {raw:?} is not a valid {what}"),
        ));
    }

    pub(super) fn bool(&mut self, key: &str, target: &mut bool) {
        if let Some(raw) = self.map.get(key) {
            match gofmt::parse_bool(raw) {
                Some(v) => *target = v,
                None => self.fail(key, "boolean", raw),
            }
        }
    }

    pub(super) fn float(&mut self, key: &str, target: &mut f64) {
        if let Some(raw) = self.map.get(key) {
            match gofmt::parse_float(raw) {
                Some(v) => *target = v,
                None => self.fail(key, "float", raw),
            }
        }
    }

    pub(super) fn i32(&mut self, key: &str, target: &mut i32) {
        if let Some(raw) = self.map.get(key) {
            match gofmt::parse_i32(raw) {
                Ok(v) => *target = v,
                Err(_) => self.fail(key, "32-bit integer", raw),
            }
        }
    }

    pub(super) fn i64(&mut self, key: &str, target: &mut i64) -> bool {
        if let Some(raw) = self.map.get(key) {
            match gofmt::parse_i64(raw) {
                Ok(v) => {
                    *target = v;
                    return true;
                }
                Err(_) => self.fail(key, "64-bit integer", raw),
            }
        }
        false
    }

    pub(super) fn duration(&mut self, key: &str, target: &mut SimDuration) {
        if let Some(raw) = self.map.get(key) {
            match gofmt::parse_duration(raw) {
                Ok(v) => *target = v,
                Err(e) => self.errors.push(FieldError::new(
                    key,
                    format!("failed to parse {key:?}: {e}"),
                )),
            }
        }
    }
}
