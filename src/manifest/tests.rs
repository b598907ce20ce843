use super::*;

fn parse(text: &str) -> Result<Vec<Manifest>, Vec<ManifestError>> {
    parse_manifests(text, Path::new("m.yaml"))
}

const SERVICE: &str = r#"
apiVersion: serving.knative.dev/v1
kind: Service
metadata:
  name: greeter
  annotations:
    serving.knative.dev/rollout-duration: "120s"
spec:
  template:
    metadata:
      name: greeter-v1
      annotations:
        autoscaling.knative.dev/min-scale: "1"
    spec:
      containerConcurrency: 10
      containers:
        - image: quay.io/rhdevelopers/knative-tutorial-greeter:quarkus
          env:
            - name: MESSAGE_PREFIX
              value: Hi
          readinessProbe:
            httpGet:
              path: /healthz
  traffic:
    - tag: current
      revisionName: greeter-v1
      percent: 100
    - tag: latest
      latestRevision: true
      percent: 0
"#;

#[test]
fn service_fields_are_read_and_the_rest_ignored() {
    let m = parse(SERVICE).unwrap();
    assert_eq!(m.len(), 1);
    let Manifest::Service(s) = &m[0] else {
        panic!("expected a Service")
    };
    assert_eq!(s.name, "greeter");
    assert_eq!(s.rollout_duration, Some(SimDuration::from_secs(120)));
    assert_eq!(s.template.name.as_deref(), Some("greeter-v1"));
    assert_eq!(s.template.container_concurrency, Some(10));
    assert_eq!(s.template.timeout_seconds, None);
    assert_eq!(
        s.template.annotations["autoscaling.knative.dev/min-scale"],
        "1"
    );
    let t = s.traffic.as_ref().unwrap();
    assert_eq!(t.len(), 2);
    assert_eq!(t[1].latest_revision, Some(true));
    // The template content keeps the ignored fields (for change detection)
    // but not the name.
    assert!(s.template.content.to_string().contains("MESSAGE_PREFIX"));
    assert!(!s.template.content.to_string().contains("greeter-v1"));
}

#[test]
fn multi_document_files_and_config_maps() {
    let text = format!(
        "{SERVICE}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-autoscaler\n  \
         namespace: knative-serving\ndata:\n  _example: |\n    docs\n  stable-window: \"30s\"\n---\n"
    );
    let m = parse(&text).unwrap();
    assert_eq!(m.len(), 2);
    let Manifest::ConfigMap(c) = &m[1] else {
        panic!("expected a ConfigMap")
    };
    assert_eq!(c.kind, ConfigMapKind::Autoscaler);
    assert_eq!(c.doc.document, 2);
    assert_eq!(c.data.len(), 1);
    assert_eq!(c.data["stable-window"], "30s");
}

#[test]
fn unknown_kinds_and_api_versions_are_rejected() {
    let e = parse("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n").unwrap_err();
    assert_eq!(e[0].field, "kind");
    assert!(e[0].rule.contains("unsupported kind \"Deployment\""));
    let e = parse("apiVersion: serving.knative.dev/v1alpha1\nkind: Service\n").unwrap_err();
    assert_eq!(e[0].field, "apiVersion");
    let e = parse("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-gc\n").unwrap_err();
    assert_eq!(e[0].field, "metadata.name");
}

#[test]
fn traffic_errors_name_document_field_and_rule() {
    let bad = SERVICE.replace("percent: 100", "percent: 90");
    let text =
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: config-network\n---\n{bad}");
    let e = parse(&text).unwrap_err();
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].document, 2);
    assert_eq!(e[0].field, "spec.traffic");
    assert_eq!(e[0].rule, "Traffic targets sum to 90, want 100");
    let msg = e[0].to_string();
    assert!(
        msg.starts_with("m.yaml:29 (document 2): spec.traffic:"),
        "{msg}"
    );

    let dup = SERVICE.replace("tag: latest", "tag: current");
    let e = parse(&dup).unwrap_err();
    assert_eq!(e[0].field, "spec.traffic[1].tag");
    assert!(e[0]
        .rule
        .starts_with("Multiple definitions for \"current\""));

    let both = SERVICE.replace(
        "revisionName: greeter-v1\n",
        "revisionName: greeter-v1\n      latestRevision: true\n",
    );
    let e = parse(&both).unwrap_err();
    assert_eq!(e[0].field, "spec.traffic[0].latestRevision");
}

#[test]
fn template_name_needs_the_service_prefix_and_types_are_checked() {
    let e = parse(&SERVICE.replace("name: greeter-v1", "name: hello-v1")).unwrap_err();
    assert_eq!(e[0].field, "spec.template.metadata.name");
    assert!(e[0].rule.contains("must have prefix \"greeter-\""));
    let e = parse(&SERVICE.replace("containerConcurrency: 10", "containerConcurrency: many"))
        .unwrap_err();
    assert_eq!(e[0].field, "spec.template.spec.containerConcurrency");
}

#[test]
fn rollout_duration_annotation_rules() {
    let m = |v: &str| {
        let mut a = BTreeMap::new();
        a.insert(ROLLOUT_DURATION_KEYS[0].to_string(), v.to_string());
        parse_rollout_duration(&a)
    };
    assert_eq!(m("2m").unwrap(), Some(SimDuration::from_secs(120)));
    assert!(m("1500ms")
        .unwrap_err()
        .1
        .contains("not at second precision"));
    assert!(m("-5s").unwrap_err().1.contains("must be positive"));
    assert!(m("soon").is_err());
}

#[test]
fn invalid_utf8_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.yaml");
    std::fs::write(
        &f,
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \xff\n",
    )
    .unwrap();
    let e = load_manifests(&f).unwrap_err();
    assert_eq!((e[0].line, e[0].field.as_str()), (4, "(file)"));
    assert!(
        e[0].to_string()
            .contains("bad.yaml:4 (document 0): (file): invalid UTF-8"),
        "{}",
        e[0]
    );
}

#[test]
fn unknown_fields_at_read_levels_are_typos() {
    let e = parse(&SERVICE.replace("  template:", "  templat:")).unwrap_err();
    assert_eq!(e[0].field, "spec.templat");
    assert!(
        e[0].rule.contains("did you mean \"template\""),
        "{}",
        e[0].rule
    );
    assert_eq!(e[0].line, 9);
    // Kubernetes metadata fields are known.
    let ok = SERVICE.replace(
        "  name: greeter\n",
        "  name: greeter\n  namespace: default\n  labels: {app: g}\n",
    );
    assert!(parse(&ok).is_ok());
}
