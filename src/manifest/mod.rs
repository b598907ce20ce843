//! Knative YAML as input: the `serving.knative.dev/v1` Service and the
//! ConfigMaps `config-autoscaler`, `config-defaults`, `config-network` and
//! `config-deployment`, read from (multi-document) YAML files.
//!
//! This module only reads and checks what does not depend on cluster
//! configuration (kinds, names, traffic blocks, the rollout-duration
//! annotation); rules that need the ConfigMaps in effect (annotation values,
//! containerConcurrency and timeoutSeconds limits) are checked where the
//! manifest is applied, in [`crate::scenario`]. Fields the simulator does not
//! model (images, env, probes, resources, ...) are accepted and ignored, but
//! still count when deciding whether a template changed, as they do in
//! Knative.

mod container;
pub mod eventing;

use crate::knative::config::parse_knative_duration;
use crate::knative::route::{is_dns1035_label, validate_traffic, TrafficTarget};
use crate::sim::SimDuration;
pub use container::ContainerResourceText;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// The annotation (on a Service or Route) that overrides config-network's
/// `rollout-duration`; the camel-case spelling is the legacy one.
pub const ROLLOUT_DURATION_KEYS: [&str; 2] = [
    "serving.knative.dev/rollout-duration",
    "serving.knative.dev/rolloutDuration",
];

/// One broken rule in one manifest document.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{}{} (document {document}): {field}: {rule}", file.display(), at_line(*line))]
pub struct ManifestError {
    /// The YAML file.
    pub file: PathBuf,
    /// 1-based index of the document in the file.
    pub document: usize,
    /// 1-based line of the file where the problem is, 0 when not known.
    pub line: usize,
    /// Field path inside the document, e.g. `spec.traffic[1].percent`.
    pub field: String,
    /// The rule that was broken.
    pub rule: String,
}

/// `:LINE` when the line is known.
pub fn at_line(line: usize) -> String {
    if line > 0 {
        format!(":{line}")
    } else {
        String::new()
    }
}

/// Deepest `[`/`{` nesting accepted in a manifest. Knative objects nest a
/// handful of levels; the YAML parser's cost grows with the square of the
/// depth before it gives up, so deeper input is refused before parsing.
pub const MAX_NESTING: usize = 64;

/// Which ConfigMap a manifest holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ConfigMapKind {
    /// `config-autoscaler`.
    Autoscaler,
    /// `config-defaults`.
    Defaults,
    /// `config-network`.
    Network,
    /// `config-deployment`.
    Deployment,
}

impl ConfigMapKind {
    /// The ConfigMap's name in `knative-serving`.
    pub fn name(self) -> &'static str {
        match self {
            ConfigMapKind::Autoscaler => "config-autoscaler",
            ConfigMapKind::Defaults => "config-defaults",
            ConfigMapKind::Network => "config-network",
            ConfigMapKind::Deployment => "config-deployment",
        }
    }

    fn from_name(s: &str) -> Option<Self> {
        [
            ConfigMapKind::Autoscaler,
            ConfigMapKind::Defaults,
            ConfigMapKind::Network,
            ConfigMapKind::Deployment,
        ]
        .into_iter()
        .find(|k| k.name() == s)
    }
}

/// Where a manifest came from, for messages.
#[derive(Clone, Debug, PartialEq)]
pub struct DocRef {
    /// The YAML file.
    pub file: PathBuf,
    /// 1-based document index.
    pub document: usize,
    /// 1-based lines of the fields knsim reports on, by field path (as
    /// messages write them, e.g. `spec.template.metadata.annotations."a/b"`).
    pub lines: BTreeMap<String, usize>,
}

impl DocRef {
    /// An error about `field` of this document.
    pub fn error(&self, field: impl Into<String>, rule: impl Into<String>) -> ManifestError {
        let field = field.into();
        ManifestError {
            file: self.file.clone(),
            document: self.document,
            line: self.line_of(&field),
            field,
            rule: rule.into(),
        }
    }

    /// The line of `field`, or of the nearest enclosing field whose line is
    /// known; 0 when none is.
    pub fn line_of(&self, field: &str) -> usize {
        let mut f = field;
        loop {
            if let Some(l) = self.lines.get(f) {
                return *l;
            }
            match f.rfind(['.', '[']) {
                Some(i) => f = &f[..i],
                None => return 0,
            }
        }
    }

    /// An error about `field` of this document at a known line.
    pub fn error_at(
        &self,
        line: usize,
        field: impl Into<String>,
        rule: impl Into<String>,
    ) -> ManifestError {
        ManifestError {
            line,
            ..self.error(field, rule)
        }
    }
}

impl fmt::Display for DocRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (document {})", self.file.display(), self.document)
    }
}

/// A ConfigMap's data.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigMapManifest {
    /// Which one.
    pub kind: ConfigMapKind,
    /// `data`, as Knative reads it (`_example` dropped).
    pub data: BTreeMap<String, String>,
    /// Origin.
    pub doc: DocRef,
}

/// The revision template of a Service (`spec.template`).
#[derive(Clone, Debug, PartialEq)]
pub struct RevisionTemplate {
    /// `metadata.name`, when the user names revisions.
    pub name: Option<String>,
    /// `metadata.annotations`.
    pub annotations: BTreeMap<String, String>,
    /// `spec.containerConcurrency`.
    pub container_concurrency: Option<i64>,
    /// `spec.timeoutSeconds`.
    pub timeout_seconds: Option<i64>,
    /// The user container's `resources`.
    pub resources: ContainerResourceText,
    /// The whole template as written (without its name), to tell whether an
    /// apply changes it: any change, even to an ignored field, makes Knative
    /// stamp a new revision.
    pub content: serde_json::Value,
}

/// A `serving.knative.dev/v1` Service.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceManifest {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.annotations` of the Service.
    pub annotations: BTreeMap<String, String>,
    /// The rollout-duration annotation, if set.
    pub rollout_duration: Option<SimDuration>,
    /// `spec.template`.
    pub template: RevisionTemplate,
    /// `spec.traffic` (absent = 100 % to the latest ready revision).
    pub traffic: Option<Vec<TrafficTarget>>,
    /// Origin.
    pub doc: DocRef,
}

/// One supported document.
#[derive(Clone, Debug, PartialEq)]
pub enum Manifest {
    /// A Knative Service.
    Service(Box<ServiceManifest>),
    /// A Knative ConfigMap.
    ConfigMap(ConfigMapManifest),
    /// A Knative Eventing object.
    Eventing(Box<eventing::EventingManifest>),
}

/// Reads every document of a YAML file.
pub fn load_manifests(path: &Path) -> Result<Vec<Manifest>, Vec<ManifestError>> {
    let fail = |line: usize, rule: String| {
        vec![ManifestError {
            file: path.to_path_buf(),
            document: 0,
            line,
            field: "(file)".into(),
            rule,
        }]
    };
    let bytes = std::fs::read(path).map_err(|e| fail(0, format!("cannot read: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = good.iter().filter(|b| **b == b'\n').count() + 1;
        fail(line, "invalid UTF-8: a manifest must be UTF-8 text".into())
    })?;
    parse_manifests(&text, path)
}

/// Parses every document of `text` (`path` is for messages). Empty documents
/// are skipped, as kubectl does.
pub fn parse_manifests(text: &str, path: &Path) -> Result<Vec<Manifest>, Vec<ManifestError>> {
    if let Some((line, column)) = too_deep(text) {
        let document = document_starts(text)
            .iter()
            .filter(|&&start| start < line)
            .count();
        return Err(vec![ManifestError {
            file: path.to_path_buf(),
            document,
            line,
            field: "(document)".into(),
            rule: format!(
                "nesting deeper than {MAX_NESTING} levels of [ and {{ at column {column}; \
                 a Knative manifest never nests this deep"
            ),
        }]);
    }
    let starts = document_starts(text);
    let mut out = Vec::new();
    let mut errs = Vec::new();
    for (i, de) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
        let mut doc = DocRef {
            file: path.to_path_buf(),
            document: i + 1,
            lines: BTreeMap::new(),
        };
        let value = match serde_json::Value::deserialize(de) {
            Ok(v) => v,
            Err(e) => {
                let line = e.location().map(|l| l.line()).unwrap_or(0);
                errs.push(doc.error_at(line, "(document)", format!("invalid YAML: {e}")));
                // The parser cannot resynchronise after a syntax error.
                break;
            }
        };
        if value.is_null() {
            continue;
        }
        let lines = DocLines {
            text,
            first: starts.get(i).copied().unwrap_or(0),
            end: starts.get(i + 1).copied().unwrap_or(usize::MAX),
        };
        doc.lines = field_lines(&value, &lines);
        if let Some(e) = unknown_field(&value, &doc, &lines) {
            errs.push(e);
            continue;
        }
        match parse_document(value, &doc, &lines) {
            Ok(m) => out.push(m),
            Err(mut e) => errs.append(&mut e),
        }
    }
    if errs.is_empty() {
        Ok(out)
    } else {
        Err(errs)
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawMeta {
    name: Option<String>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct RawConfigMap {
    metadata: RawMeta,
    #[serde(default)]
    data: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct RawService {
    metadata: RawMeta,
    #[serde(default)]
    spec: RawServiceSpec,
}

#[derive(Deserialize, Default)]
struct RawServiceSpec {
    #[serde(default)]
    template: RawTemplate,
    traffic: Option<Vec<TrafficTarget>>,
}

#[derive(Deserialize, Default)]
struct RawTemplate {
    #[serde(default)]
    metadata: Option<RawMeta>,
    #[serde(default)]
    spec: RawRevisionSpec,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawRevisionSpec {
    container_concurrency: Option<i64>,
    timeout_seconds: Option<i64>,
}

fn typed<T: for<'de> Deserialize<'de>>(
    v: &serde_json::Value,
    doc: &DocRef,
    lines: &DocLines,
) -> Result<T, Vec<ManifestError>> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let field = e.path().to_string();
        let field = if field == "." {
            "(document)".to_string()
        } else {
            field
        };
        // serde names the Rust type it wanted; the user wrote YAML.
        let rule = e.into_inner().to_string();
        let rule = match rule.find("expected struct ") {
            Some(i) => format!("{}expected a mapping of fields", &rule[..i]),
            None => rule,
        };
        vec![doc.error_at(lines.line_of(&field), field, rule)]
    })
}

/// The lines of one document of a multi-document file.
struct DocLines<'a> {
    text: &'a str,
    /// 0-based line where the document starts.
    first: usize,
    /// 0-based line where the next document starts.
    end: usize,
}

impl DocLines<'_> {
    /// 1-based line of the key that a dotted `field` path ends with (list
    /// indexes are skipped), found by indentation; 0 when not found.
    fn line_of(&self, field: &str) -> usize {
        let keys: Vec<&str> = field
            .split('.')
            .map(|k| k.split('[').next().unwrap_or(k))
            .filter(|k| !k.is_empty() && *k != "(document)")
            .collect();
        let mut found = 0;
        let mut indent: Option<usize> = None;
        let mut from = self.first;
        for key in keys {
            let hit = self
                .text
                .lines()
                .enumerate()
                .skip(from)
                .take(self.end.saturating_sub(from))
                .find(|(_, l)| {
                    let body = l.trim_start_matches([' ', '-']);
                    let ind = l.len() - body.len();
                    indent.is_none_or(|i| ind > i)
                        && body
                            .strip_prefix(key)
                            .is_some_and(|r| r.trim_start().starts_with(':'))
                });
            let Some((n, l)) = hit else { break };
            found = n + 1;
            indent = Some(l.len() - l.trim_start_matches([' ', '-']).len());
            from = n + 1;
        }
        found
    }

    /// 1-based line of `key` (possibly quoted) after the 1-based line
    /// `start`, within the document; 0 when not found.
    fn key_line_after(&self, start: usize, key: &str) -> usize {
        self.text
            .lines()
            .enumerate()
            .skip(start)
            .take(self.end.saturating_sub(start))
            .find(|(_, l)| {
                let t = l.trim_start().trim_start_matches(['"', '\'']);
                t.strip_prefix(key).is_some_and(|r| {
                    r.trim_start_matches(['"', '\''])
                        .trim_start()
                        .starts_with(':')
                })
            })
            .map_or(0, |(n, _)| n + 1)
    }
}

/// Lines of the fields whose problems knsim reports: the names, the
/// template's limits, the traffic block, and each annotation and data key.
fn field_lines(v: &serde_json::Value, lines: &DocLines) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for f in [
        "metadata.name",
        "metadata.annotations",
        "spec.template.metadata.name",
        "spec.template.metadata.annotations",
        "spec.template.spec.containerConcurrency",
        "spec.template.spec.timeoutSeconds",
        "spec.traffic",
        "data",
    ] {
        let l = lines.line_of(f);
        if l > 0 {
            m.insert(f.to_string(), l);
        }
    }
    for (prefix, pointer) in [
        ("metadata.annotations", "/metadata/annotations"),
        (
            "spec.template.metadata.annotations",
            "/spec/template/metadata/annotations",
        ),
        ("data", "/data"),
    ] {
        let (Some(&start), Some(obj)) = (
            m.get(prefix),
            v.pointer(pointer).and_then(|o| o.as_object()),
        ) else {
            continue;
        };
        for k in obj.keys() {
            let l = lines.key_line_after(start, k);
            if l > 0 {
                let field = if k.contains(['.', '/']) {
                    format!("{prefix}.\"{k}\"")
                } else {
                    format!("{prefix}.{k}")
                };
                m.insert(field, l);
            }
        }
    }
    m
}

/// 0-based first line of each document (a `---` line starts a new one,
/// except at the very top of the file).
fn document_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    let mut content = false;
    for (n, l) in text.lines().enumerate() {
        let t = l.trim_end();
        if t == "---" || t.starts_with("--- ") {
            if content {
                starts.push(n + 1);
            } else {
                starts[0] = n + 1;
            }
            content = false;
        } else if !t.trim_start().is_empty() && !t.trim_start().starts_with('#') {
            content = true;
        }
    }
    starts
}

/// Line and column (1-based) where `[`/`{` nesting first exceeds
/// [`MAX_NESTING`], skipping quoted text and comments. Linear in the text.
fn too_deep(text: &str) -> Option<(usize, usize)> {
    let mut depth = 0usize;
    for (n, line) in text.lines().enumerate() {
        let mut quote: Option<char> = None;
        let mut prev = ' ';
        for (col, c) in line.chars().enumerate() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '"' | '\'') if prev.is_whitespace() || "[{,:".contains(prev) => {
                    quote = Some(c)
                }
                (None, '#') if prev.is_whitespace() => break,
                (None, '[' | '{') => {
                    depth += 1;
                    if depth > MAX_NESTING {
                        return Some((n + 1, col + 1));
                    }
                }
                (None, ']' | '}') => depth = depth.saturating_sub(1),
                _ => {}
            }
            prev = c;
        }
    }
    None
}

/// Fields a Kubernetes object may have at its top level, and fields of the
/// parts of a Service that knsim reads. The API server refuses unknown
/// fields, so a typo there is an error rather than a silently ignored key.
const OBJECT_FIELDS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "spec",
    "status",
    "data",
    "binaryData",
    "immutable",
];
const META_FIELDS: &[&str] = &[
    "name",
    "generateName",
    "namespace",
    "labels",
    "annotations",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "ownerReferences",
    "finalizers",
    "managedFields",
    "selfLink",
];
const SERVICE_SPEC_FIELDS: &[&str] = &["template", "traffic"];
const TEMPLATE_FIELDS: &[&str] = &["metadata", "spec"];

/// The first key of a known part of the document that Kubernetes would
/// refuse as unknown.
fn unknown_field(v: &serde_json::Value, doc: &DocRef, lines: &DocLines) -> Option<ManifestError> {
    let service = v.get("kind").and_then(|k| k.as_str()) == Some("Service");
    let mut parts: Vec<(&str, Option<&serde_json::Value>, &[&str])> = vec![
        ("", Some(v), OBJECT_FIELDS),
        ("metadata", v.get("metadata"), META_FIELDS),
    ];
    if service {
        let spec = v.get("spec");
        let template = spec.and_then(|s| s.get("template"));
        parts.push(("spec", spec, SERVICE_SPEC_FIELDS));
        parts.push(("spec.template", template, TEMPLATE_FIELDS));
        parts.push((
            "spec.template.metadata",
            template.and_then(|t| t.get("metadata")),
            META_FIELDS,
        ));
    }
    for (prefix, part, known) in parts {
        let Some(obj) = part.and_then(|p| p.as_object()) else {
            continue;
        };
        if let Some(k) = obj.keys().find(|k| !known.contains(&k.as_str())) {
            let field = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            let near = known
                .iter()
                .find(|c| close(c, k))
                .map(|c| format!(" (did you mean {c:?}?)"))
                .unwrap_or_default();
            return Some(doc.error_at(
                lines.line_of(&field),
                field,
                format!(
                    "unknown field {k:?}{near}; known fields here: {}",
                    known.join(", ")
                ),
            ));
        }
    }
    None
}

/// Whether two keys differ by at most one inserted, deleted or changed
/// character (a likely typo).
fn close(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if long.len() - short.len() > 1 {
        return false;
    }
    let prefix = short.iter().zip(&long).take_while(|(x, y)| x == y).count();
    let rest_short = &short[prefix.min(short.len())..];
    if short.len() == long.len() {
        rest_short.get(1..) == long.get(prefix + 1..)
    } else {
        rest_short == &long[prefix + 1..]
    }
}

fn parse_document(
    v: serde_json::Value,
    doc: &DocRef,
    lines: &DocLines,
) -> Result<Manifest, Vec<ManifestError>> {
    let s = |k: &str| v.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
    let (api, kind) = (s("apiVersion"), s("kind"));
    let name = v
        .pointer("/metadata/name")
        .and_then(|x| x.as_str())
        .unwrap_or("");
    if eventing::is_eventing(&api, &kind, name) {
        return eventing::parse(&v, doc, lines);
    }
    match (api.as_str(), kind.as_str()) {
        ("serving.knative.dev/v1", "Service") => parse_service(&v, doc, lines),
        ("v1", "ConfigMap") => parse_config_map(&v, doc, lines),
        (_, "Service") if api.starts_with("serving.knative.dev/") => Err(vec![doc.error(
            "apiVersion",
            format!("unsupported apiVersion {api:?} for a Knative Service; use serving.knative.dev/v1"),
        )]),
        ("", _) | (_, "") => Err(vec![doc.error(
            if api.is_empty() { "apiVersion" } else { "kind" },
            "is required (knsim reads serving.knative.dev/v1 Service, v1 ConfigMap and Eventing documents)",
        )]),
        _ => Err(vec![doc.error(
            "kind",
            format!(
                "unsupported kind {kind:?} (apiVersion {api:?}); knsim reads serving.knative.dev/v1 \
                 Service, eventing.knative.dev/v1 Broker and Trigger, sources.knative.dev/v1 \
                 PingSource and v1 ConfigMap (config-autoscaler, config-defaults, config-network, \
                 config-deployment, config-br-defaults)"
            ),
        )]),
    }
}

fn parse_config_map(
    v: &serde_json::Value,
    doc: &DocRef,
    lines: &DocLines,
) -> Result<Manifest, Vec<ManifestError>> {
    let raw: RawConfigMap = typed(v, doc, lines)?;
    let name = raw.metadata.name.unwrap_or_default();
    let kind = ConfigMapKind::from_name(&name).ok_or_else(|| {
        vec![doc.error(
            "metadata.name",
            format!(
                "unsupported ConfigMap {name:?}; knsim reads config-autoscaler, config-defaults, \
                 config-network, config-deployment and config-br-defaults"
            ),
        )]
    })?;
    let mut data = raw.data;
    // Knative ignores the documentation block of its shipped ConfigMaps.
    data.remove("_example");
    Ok(Manifest::ConfigMap(ConfigMapManifest {
        kind,
        data,
        doc: doc.clone(),
    }))
}

/// `ValidateRolloutDurationAnnotation`: a Go duration at second precision,
/// not negative.
pub fn parse_rollout_duration(
    annotations: &BTreeMap<String, String>,
) -> Result<Option<SimDuration>, (String, String)> {
    let Some((k, v)) = ROLLOUT_DURATION_KEYS
        .iter()
        .find_map(|k| annotations.get(*k).map(|v| (*k, v)))
    else {
        return Ok(None);
    };
    if v.is_empty() {
        return Ok(None);
    }
    if v.trim_start().starts_with('-') {
        return Err((k.into(), format!("rollout-duration={v} must be positive")));
    }
    let d =
        parse_knative_duration(v).map_err(|_| (k.to_string(), format!("invalid value: {v}")))?;
    if d.as_nanos() % 1_000_000_000 != 0 {
        return Err((
            k.into(),
            format!("rollout-duration={v} is not at second precision"),
        ));
    }
    Ok(Some(d))
}

fn parse_service(
    v: &serde_json::Value,
    doc: &DocRef,
    lines: &DocLines,
) -> Result<Manifest, Vec<ManifestError>> {
    let raw: RawService = typed(v, doc, lines)?;
    let mut errs = Vec::new();
    let name = raw.metadata.name.clone().unwrap_or_default();
    if name.is_empty() {
        errs.push(doc.error("metadata.name", "missing field(s)"));
    } else if !is_dns1035_label(&name) {
        errs.push(doc.error(
            "metadata.name",
            format!("not a DNS 1035 label: {name:?} (lower-case letters, digits and '-', starting with a letter)"),
        ));
    }
    let rollout_duration = match parse_rollout_duration(&raw.metadata.annotations) {
        Ok(d) => d,
        Err((k, rule)) => {
            errs.push(doc.error(format!("metadata.annotations.{k}"), rule));
            None
        }
    };
    let tmeta = raw.spec.template.metadata.as_ref();
    let tname = tmeta.and_then(|m| m.name.clone()).filter(|n| !n.is_empty());
    if let Some(t) = &tname {
        // Knative: a named template must be prefixed by the Service's name.
        if !name.is_empty() && !t.starts_with(&format!("{name}-")) {
            errs.push(doc.error(
                "spec.template.metadata.name",
                format!("invalid value: {t:?} must have prefix \"{name}-\""),
            ));
        } else if !is_dns1035_label(t) {
            errs.push(doc.error(
                "spec.template.metadata.name",
                format!("not a DNS 1035 label: {t:?}"),
            ));
        }
    }
    if let Some(traffic) = &raw.spec.traffic {
        for e in validate_traffic(traffic, "spec.traffic") {
            errs.push(doc.error(e.path, e.rule));
        }
    }
    let resources = match container::user_container_resources(
        v.get("spec")
            .and_then(|s| s.get("template"))
            .and_then(|t| t.get("spec")),
    ) {
        Ok(r) => r,
        Err((field, rule)) => {
            errs.push(doc.error_at(lines.line_of(&field), field, rule));
            ContainerResourceText::default()
        }
    };
    let mut content = v
        .get("spec")
        .and_then(|s| s.get("template"))
        .cloned()
        .unwrap_or(serde_json::Value::Null);
    if let Some(m) = content.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        m.remove("name");
    }
    if !errs.is_empty() {
        return Err(errs);
    }
    Ok(Manifest::Service(Box::new(ServiceManifest {
        name,
        annotations: raw.metadata.annotations,
        rollout_duration,
        template: RevisionTemplate {
            name: tname,
            annotations: tmeta.map(|m| m.annotations.clone()).unwrap_or_default(),
            container_concurrency: raw.spec.template.spec.container_concurrency,
            timeout_seconds: raw.spec.template.spec.timeout_seconds,
            resources,
            content,
        },
        traffic: raw.spec.traffic,
        doc: doc.clone(),
    })))
}

#[cfg(test)]
mod tests;
