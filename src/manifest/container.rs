//! The user container of a revision template, reduced to what the simulator
//! models of it: its resource requests and limits.

use std::collections::BTreeMap;

/// `resources.requests` and `resources.limits` of the user container, as
/// written (quantity strings; YAML numbers are kept as their text).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ContainerResourceText {
    /// `requests`.
    pub requests: BTreeMap<String, String>,
    /// `limits`.
    pub limits: BTreeMap<String, String>,
}

/// Finds the user container in `spec.template.spec` and reads its
/// resources. With several containers Knative serves the one that declares
/// `ports`; with one, that one. Returns the field path and rule of a
/// malformed block.
pub fn user_container_resources(
    template_spec: Option<&serde_json::Value>,
) -> Result<ContainerResourceText, (String, String)> {
    let Some(containers) = template_spec.and_then(|s| s.get("containers")) else {
        return Ok(ContainerResourceText::default());
    };
    let Some(list) = containers.as_array() else {
        return Err((
            "spec.template.spec.containers".into(),
            "expected a list of containers".into(),
        ));
    };
    let index = if list.len() <= 1 {
        0
    } else {
        list.iter()
            .position(|c| c.get("ports").is_some())
            .unwrap_or(0)
    };
    let Some(c) = list.get(index) else {
        return Ok(ContainerResourceText::default());
    };
    let base = format!("spec.template.spec.containers[{index}].resources");
    let Some(res) = c.get("resources") else {
        return Ok(ContainerResourceText::default());
    };
    let read = |which: &str| -> Result<BTreeMap<String, String>, (String, String)> {
        let mut out = BTreeMap::new();
        let Some(v) = res.get(which) else {
            return Ok(out);
        };
        let Some(obj) = v.as_object() else {
            return Err((
                format!("{base}.{which}"),
                "expected a mapping of resource names to quantities".into(),
            ));
        };
        for (k, q) in obj {
            let text = match q {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Number(n) => n.to_string(),
                _ => {
                    return Err((
                        format!("{base}.{which}.{k}"),
                        "expected a quantity such as \"500m\" or \"256Mi\"".into(),
                    ))
                }
            };
            out.insert(k.clone(), text);
        }
        Ok(out)
    };
    Ok(ContainerResourceText {
        requests: read("requests")?,
        limits: read("limits")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_container_with_ports_is_the_user_container() {
        let spec = json!({"containers": [
            {"name": "sidecar", "resources": {"requests": {"cpu": "1"}}},
            {"name": "app", "ports": [{"containerPort": 8080}],
             "resources": {"requests": {"cpu": "250m", "memory": 128}, "limits": {"cpu": 1}}}
        ]});
        let r = user_container_resources(Some(&spec)).unwrap();
        assert_eq!(r.requests["cpu"], "250m");
        assert_eq!(r.requests["memory"], "128");
        assert_eq!(r.limits["cpu"], "1");
    }

    #[test]
    fn no_containers_or_no_resources_means_nothing_requested() {
        assert_eq!(
            user_container_resources(None).unwrap(),
            ContainerResourceText::default()
        );
        let spec = json!({"containers": [{"image": "x"}]});
        assert_eq!(
            user_container_resources(Some(&spec)).unwrap(),
            ContainerResourceText::default()
        );
    }

    #[test]
    fn malformed_blocks_name_their_field() {
        let spec = json!({"containers": [{"resources": {"limits": {"cpu": [1]}}}]});
        let (field, _) = user_container_resources(Some(&spec)).unwrap_err();
        assert_eq!(
            field,
            "spec.template.spec.containers[0].resources.limits.cpu"
        );
    }
}
