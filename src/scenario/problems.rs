//! Collecting problems while a scenario is validated, with what later
//! checks must know about earlier failures so that one mistake is reported
//! once.

use super::error::{clip, clip_field, Origin, Override, Problem};
use super::locate::{self, locate_field};
use super::raw::RawRevision;
use super::spec::Limits;
use crate::knative::error::FieldError;
use crate::manifest::DocRef;
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::BTreeSet;

/// Collects problems with their locations, and what later checks need to
/// know about earlier failures so that one mistake is reported once.
pub(super) struct Problems<'a> {
    pub(super) text: &'a str,
    pub(super) overrides: &'a [Override],
    pub(super) list: Vec<Problem>,
    /// While set, problems belong to this manifest document.
    pub(super) doc: Option<DocRef>,
    /// The bounds of `[limits]`.
    pub(super) limits: Limits,
    /// Revisions whose definition failed: a reference to one would only
    /// repeat that problem.
    pub(super) failed_revisions: BTreeSet<String>,
    /// A manifest could not be read, so which revisions exist (and the
    /// Service's name) is unknown.
    pub(super) revisions_unknown: bool,
    /// `--set revision.<name or index>.…` overrides of revisions that the
    /// TOML does not list (they come from manifests or the timeline).
    pub(super) deferred: Vec<Override>,
    /// Whether each deferred override found its revision.
    pub(super) deferred_used: Vec<bool>,
    /// Names of the revisions created so far, in order.
    pub(super) created: Vec<String>,
    /// Put before every field path of the scenario file (`service[2].`
    /// while one of several Services is checked).
    pub(super) prefix: String,
}

impl Problems<'_> {
    pub(super) fn push(&mut self, field: impl Into<String>, rule: impl Into<String>) {
        let mut field = field.into();
        let rule = clip(&rule.into());
        if let Some(d) = &self.doc {
            self.list.push(Problem {
                field: clip_field(&field),
                rule,
                origin: Origin::Manifest {
                    file: d.file.clone(),
                    document: d.document,
                    line: d.line_of(&field),
                },
            });
            return;
        }
        if !self.prefix.is_empty() {
            field = format!("{}{field}", self.prefix);
        }
        let origin = locate_field(self.text, self.overrides, &field);
        self.list.push(Problem {
            field: clip_field(&field),
            rule,
            origin,
        });
    }

    /// Whether a reference to revision `name` that does not resolve is a
    /// problem of its own (and not the echo of an earlier one).
    pub(super) fn references_checked(&self, name: &str) -> bool {
        !self.revisions_unknown && !self.failed_revisions.contains(name)
    }

    /// Applies the deferred `--set revision.…` overrides that address this
    /// revision, by name or by its place in creation order.
    pub(super) fn patch_revision<'r>(
        &mut self,
        raw: &'r RawRevision,
        name: &str,
    ) -> Cow<'r, RawRevision> {
        let index = self.created.len();
        self.created.push(name.to_string());
        let mut table: Option<toml::Table> = None;
        let mut last = None;
        for (k, o) in self.deferred.iter().enumerate() {
            let Some(rest) = locate::revision_target(&o.key, name, index) else {
                continue;
            };
            self.deferred_used[k] = true;
            last = Some(o.to_string());
            let t = table.get_or_insert_with(|| match toml::Value::try_from(raw) {
                Ok(toml::Value::Table(t)) => t,
                _ => toml::Table::new(),
            });
            locate::set_in_table(t, &rest, &o.value);
        }
        let Some(t) = table else {
            return Cow::Borrowed(raw);
        };
        match RawRevision::deserialize(toml::Value::Table(t)) {
            Ok(r) => Cow::Owned(r),
            Err(e) => {
                self.list.push(Problem {
                    field: format!("revision.{name}"),
                    rule: clip(e.message().trim()),
                    origin: Origin::Override(last.unwrap_or_default()),
                });
                Cow::Borrowed(raw)
            }
        }
    }

    /// Deferred overrides that matched no revision.
    pub(super) fn unused_overrides(&mut self) {
        let names = self.created.join(", ");
        for (o, used) in self.deferred.iter().zip(&self.deferred_used) {
            if !used {
                self.list.push(Problem {
                    field: clip_field(&o.key),
                    rule: clip(&format!(
                        "no revision has this name or index; the revisions, in order from 0, are: {names}"
                    )),
                    origin: Origin::Override(o.to_string()),
                });
            }
        }
    }

    pub(super) fn extend(&mut self, prefix: &str, errs: Vec<FieldError>) {
        for e in errs {
            let field = if prefix.is_empty() {
                e.path
            } else if e.path.contains('/') {
                format!("{prefix}.\"{}\"", e.path)
            } else {
                format!("{prefix}.{}", e.path)
            };
            self.push(field, e.rule);
        }
    }
}
