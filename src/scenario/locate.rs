//! Finding things in TOML text: byte offsets to line/column, dotted field
//! paths to the span of their key, and `--set` overrides applied in place.

use super::error::{Origin, Override, ScenarioError};
use toml_edit::{DocumentMut, ImDocument, Item, Value};

/// One step of a field path.
#[derive(Clone, Debug, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

/// Splits `a.b[2]."x.y/z".c` or `a.b.2.c` into segments. Digits-only keys are
/// indexes, so `revision.0.name` and `revision[0].name` are the same path.
fn segments(path: &str) -> Vec<Seg> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = path.chars().peekable();
    let push = |cur: &mut String, out: &mut Vec<Seg>| {
        if !cur.is_empty() {
            match cur.parse::<usize>() {
                Ok(i) => out.push(Seg::Index(i)),
                Err(_) => out.push(Seg::Key(std::mem::take(cur))),
            }
            cur.clear();
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                for q in chars.by_ref() {
                    if q == '"' {
                        break;
                    }
                    cur.push(q);
                }
                out.push(Seg::Key(std::mem::take(&mut cur)));
            }
            '.' => push(&mut cur, &mut out),
            '[' => {
                push(&mut cur, &mut out);
                let mut idx = String::new();
                for q in chars.by_ref() {
                    if q == ']' {
                        break;
                    }
                    idx.push(q);
                }
                if let Ok(i) = idx.trim().parse() {
                    out.push(Seg::Index(i));
                }
            }
            _ => cur.push(c),
        }
    }
    push(&mut cur, &mut out);
    out
}

/// True when an override key addresses `field` or one of its parents.
pub(super) fn same_path(override_key: &str, field: &str) -> bool {
    let a = segments(override_key);
    let b = segments(field);
    let star = Seg::Key("*".into());
    !a.is_empty() && b.len() >= a.len() && a.iter().zip(&b).all(|(x, y)| *x == star || x == y)
}

/// 1-based line and column of a byte offset.
pub(super) fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rsplit('\n')
        .next()
        .map(|s| s.chars().count())
        .unwrap_or(0)
        + 1;
    (line, col)
}

/// Where a dotted `field` of a scenario's TOML `text` came from: the `--set`
/// override that set it, else its line and column, else unknown.
pub fn locate_field(text: &str, overrides: &[Override], field: &str) -> Origin {
    match overrides.iter().find(|o| same_path(&o.key, field)) {
        Some(o) => Origin::Override(o.to_string()),
        None => match find(text, field) {
            Some((line, column)) => Origin::Position { line, column },
            None => Origin::Unknown,
        },
    }
}

/// Line and column of the key (or value) that `field` names, if present.
pub(super) fn find(text: &str, field: &str) -> Option<(usize, usize)> {
    let doc = ImDocument::parse(text.to_string()).ok()?;
    let segs = segments(field);
    let mut item: &Item = doc.as_item();
    let mut best: Option<std::ops::Range<usize>> = None;
    for (n, seg) in segs.iter().enumerate() {
        match seg {
            Seg::Key(k) => {
                let table = item.as_table_like()?;
                let (key, next) = table.get_key_value(k)?;
                best = key.span().or_else(|| span_of(next)).or(best);
                item = next;
            }
            Seg::Index(i) => {
                if let Some(arr) = item.as_array_of_tables() {
                    let t = arr.get(*i)?;
                    return locate_in_table(text, t, &segs[n + 1..])
                        .or_else(|| best.map(|r| line_col(text, r.start)));
                }
                let v = item.as_array()?.get(*i)?;
                return v.span().or(best).map(|r| line_col(text, r.start));
            }
        }
    }
    best.map(|r| line_col(text, r.start))
}

fn locate_in_table(text: &str, t: &toml_edit::Table, rest: &[Seg]) -> Option<(usize, usize)> {
    let mut best = t.span();
    let mut cur: &dyn toml_edit::TableLike = t;
    let mut it = rest.iter();
    while let Some(seg) = it.next() {
        let Seg::Key(k) = seg else { break };
        let (key, next) = cur.get_key_value(k)?;
        best = key.span().or_else(|| span_of(next)).or(best);
        match next.as_table_like() {
            Some(tl) => cur = tl,
            None => {
                if let (Some(Seg::Index(i)), Some(arr)) = (it.next(), next.as_array()) {
                    best = arr.get(*i).and_then(Value::span).or(best);
                }
                break;
            }
        }
    }
    best.map(|r| line_col(text, r.start))
}

fn span_of(item: &Item) -> Option<std::ops::Range<usize>> {
    match item {
        Item::Value(v) => v.span(),
        Item::Table(t) => t.span(),
        _ => None,
    }
}

/// The dotted path of the key whose span contains `offset` (for serde errors,
/// which point at a key or value but do not name the full path).
pub(super) fn key_at(text: &str, offset: Option<usize>) -> Option<String> {
    let offset = offset?;
    let doc = ImDocument::parse(text.to_string()).ok()?;
    let mut path = Vec::new();
    walk(doc.as_table(), offset, &mut path).then(|| path.join("."))
}

fn walk(t: &dyn toml_edit::TableLike, offset: usize, path: &mut Vec<String>) -> bool {
    for (k, item) in t.iter() {
        let key_span = t.key(k).and_then(|key| key.span());
        let hit = |r: Option<std::ops::Range<usize>>| r.is_some_and(|r| r.contains(&offset));
        let quoted = if k.contains(['.', '/']) {
            format!("\"{k}\"")
        } else {
            k.to_string()
        };
        match item {
            Item::Table(sub) => {
                path.push(quoted);
                if walk(sub, offset, path) || hit(key_span.clone()) {
                    return true;
                }
                path.pop();
            }
            Item::ArrayOfTables(arr) => {
                for (i, sub) in arr.iter().enumerate() {
                    path.push(format!("{quoted}[{i}]"));
                    if walk(sub, offset, path) {
                        return true;
                    }
                    path.pop();
                }
            }
            Item::Value(v) => {
                if let Some(inline) = v.as_inline_table() {
                    path.push(quoted.clone());
                    if walk(inline, offset, path) {
                        return true;
                    }
                    path.pop();
                }
                if hit(key_span.clone()) || hit(v.span()) {
                    path.push(quoted);
                    return true;
                }
            }
            Item::None => {}
        }
    }
    false
}

/// Applies `--set` overrides to the TOML text and returns the new text,
/// and the overrides of revisions the text does not list
/// (`revision.<name or index>.…` of a revision that a manifest or the
/// timeline creates), which validation applies when it creates them.
pub(super) fn apply_overrides(
    text: &str,
    overrides: &[Override],
) -> Result<(String, Vec<Override>), ScenarioError> {
    let mut deferred = Vec::new();
    let mut doc: DocumentMut =
        text.parse()
            .map_err(|e: toml_edit::TomlError| ScenarioError::Override {
                spec: String::new(),
                rule: e.to_string(),
            })?;
    for o in overrides {
        let fail = |rule: String| ScenarioError::Override {
            spec: o.to_string(),
            rule,
        };
        let all = segments(&o.key);
        if is_revision_elsewhere(&doc, &all) {
            deferred.push(o.clone());
            continue;
        }
        let paths = expand_wildcards(&doc, &all);
        if paths.is_empty() {
            return Err(fail(
                "`*` matches no entry: the list before it is empty or missing".into(),
            ));
        }
        for segs in paths {
            set_path(&mut doc, &segs, &o.value, &fail)?;
        }
    }
    Ok((doc.to_string(), deferred))
}

/// Every path that `segs` stands for: `*` after the key of a list of
/// tables (`service.*.…`, `revision.*.…`) means each of its entries.
fn expand_wildcards(doc: &DocumentMut, segs: &[Seg]) -> Vec<Vec<Seg>> {
    let star = Seg::Key("*".into());
    let Some(at) = segs.iter().position(|s| *s == star) else {
        return vec![segs.to_vec()];
    };
    // The list is found by walking the path before `*` (without wildcards).
    let mut item: Option<&Item> = None;
    let mut table: &dyn toml_edit::TableLike = doc.as_table();
    let mut i = 0;
    while i < at {
        let Seg::Key(k) = &segs[i] else {
            return vec![segs.to_vec()];
        };
        let Some(it) = table.get(k) else {
            return Vec::new();
        };
        item = Some(it);
        if i + 1 == at {
            break;
        }
        if let Some(arr) = it.as_array_of_tables() {
            let t = match &segs[i + 1] {
                Seg::Index(n) => arr.get(*n),
                Seg::Key(name) => arr
                    .iter()
                    .find(|t| t.get("name").and_then(|v| v.as_str()) == Some(name.as_str())),
            };
            let Some(t) = t else {
                return Vec::new();
            };
            table = t;
            i += 2;
        } else if let Some(t) = it.as_table_like() {
            table = t;
            i += 1;
        } else {
            return Vec::new();
        }
    }
    let Some(arr) = item.and_then(Item::as_array_of_tables) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for n in 0..arr.len() {
        let mut path = segs.to_vec();
        path[at] = Seg::Index(n);
        out.extend(expand_wildcards(doc, &path));
    }
    out
}

/// Sets the value at `segs` in `doc`, creating tables on the way.
fn set_path(
    doc: &mut DocumentMut,
    segs: &[Seg],
    raw_value: &str,
    fail: &dyn Fn(String) -> ScenarioError,
) -> Result<(), ScenarioError> {
    {
        let Some((last, parents)) = segs.split_last() else {
            return Err(fail("empty key".into()));
        };
        let Seg::Key(last) = last else {
            return Err(fail(
                "the last part of the key must be a name, not an index".into(),
            ));
        };
        let value = parse_value(raw_value);
        let mut table: &mut dyn toml_edit::TableLike = doc.as_table_mut();
        let mut i = 0;
        while i < parents.len() {
            let Seg::Key(k) = &parents[i] else {
                return Err(fail(format!("unexpected index at part {}", i + 1)));
            };
            if !table.contains_key(k) {
                table.insert(k, Item::Table(toml_edit::Table::new()));
            }
            let item = table.get_mut(k).expect("just ensured");
            if item.is_array_of_tables() {
                let arr = item.as_array_of_tables_mut().expect("checked");
                let len = arr.len();
                let elem = match parents.get(i + 1) {
                    Some(Seg::Index(n)) => arr.get_mut(*n).ok_or_else(|| {
                        fail(format!("{k} has {len} entries; index {n} does not exist"))
                    })?,
                    Some(Seg::Key(name)) => arr
                        .iter_mut()
                        .find(|t| t.get("name").and_then(|v| v.as_str()) == Some(name.as_str()))
                        .ok_or_else(|| fail(format!("no [[{k}]] entry has name {name:?}")))?,
                    None => {
                        return Err(fail(format!(
                            "{k} is a list: give an index or a name after it"
                        )))
                    }
                };
                table = elem;
                i += 2;
            } else if let Some(t) = item.as_table_like_mut() {
                table = t;
                i += 1;
            } else {
                return Err(fail(format!("{k} is a value, not a table")));
            }
        }
        table.insert(last, Item::Value(value));
    }
    Ok(())
}

/// Whether `segs` address a revision (`revision.<name or index>.…`) that
/// no `[[revision]]` of the document is.
fn is_revision_elsewhere(doc: &DocumentMut, segs: &[Seg]) -> bool {
    if segs.len() < 3 || segs[0] != Seg::Key("revision".into()) {
        return false;
    }
    let Some(arr) = doc.get("revision").and_then(Item::as_array_of_tables) else {
        return doc.get("revision").is_none();
    };
    match &segs[1] {
        Seg::Index(i) => *i >= arr.len(),
        Seg::Key(name) => !arr
            .iter()
            .any(|t| t.get("name").and_then(|v| v.as_str()) == Some(name.as_str())),
    }
}

/// The keys after `revision.<name or index>` when `key` addresses the
/// revision called `name` that was created `index`-th.
pub(super) fn revision_target(key: &str, name: &str, index: usize) -> Option<Vec<String>> {
    let segs = segments(key);
    let (head, rest) = segs.split_at_checked(2)?;
    let hit = head[0] == Seg::Key("revision".into())
        && match &head[1] {
            Seg::Index(i) => *i == index,
            Seg::Key(n) => n == name,
        };
    if !hit || rest.is_empty() {
        return None;
    }
    rest.iter()
        .map(|s| match s {
            Seg::Key(k) => Some(k.clone()),
            Seg::Index(_) => None,
        })
        .collect()
}

/// Sets `keys` (a path of tables) in `t` to `value`, read as a TOML value
/// when it is one and as a string otherwise.
pub(super) fn set_in_table(t: &mut toml::Table, keys: &[String], value: &str) {
    let Some((last, parents)) = keys.split_last() else {
        return;
    };
    let mut cur = t;
    for k in parents {
        let entry = cur
            .entry(k.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        cur = entry.as_table_mut().expect("made a table above");
    }
    let v = toml::from_str::<toml::Table>(&format!("v = {value}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(value.to_string()));
    cur.insert(last.clone(), v);
}

/// Takes the entry at the dotted `field` out of the document; false when
/// there is no such entry.
pub(super) fn remove(doc: &mut DocumentMut, field: &str) -> bool {
    let segs = segments(field);
    let Some((Seg::Key(last), parents)) = segs.split_last() else {
        return false;
    };
    let mut table: &mut dyn toml_edit::TableLike = doc.as_table_mut();
    let mut i = 0;
    while i < parents.len() {
        let Seg::Key(k) = &parents[i] else {
            return false;
        };
        let Some(item) = table.get_mut(k) else {
            return false;
        };
        if let Some(Seg::Index(n)) = parents.get(i + 1) {
            let Some(t) = item.as_array_of_tables_mut().and_then(|a| a.get_mut(*n)) else {
                return false;
            };
            table = t;
            i += 2;
        } else {
            let Some(t) = item.as_table_like_mut() else {
                return false;
            };
            table = t;
            i += 1;
        }
    }
    table.remove(last).is_some()
}

fn parse_value(s: &str) -> Value {
    s.parse::<Value>().unwrap_or_else(|_| Value::from(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_accept_both_index_styles() {
        assert_eq!(segments("revision.0.name"), segments("revision[0].name"));
        assert_eq!(
            segments("revision[1].annotations.\"autoscaling.knative.dev/window\""),
            vec![
                Seg::Key("revision".into()),
                Seg::Index(1),
                Seg::Key("annotations".into()),
                Seg::Key("autoscaling.knative.dev/window".into())
            ]
        );
    }

    #[test]
    fn finds_line_and_column_of_keys() {
        let t = "duration = \"1m\"\n[autoscaler]\nstable-window = \"5s\"\n[[revision]]\nname = \"a\"\n[revision.annotations]\n\"autoscaling.knative.dev/window\" = \"5s\"\n";
        assert_eq!(find(t, "autoscaler.stable-window"), Some((3, 1)));
        assert_eq!(find(t, "revision[0].name"), Some((5, 1)));
        assert_eq!(
            find(
                t,
                "revision[0].annotations.\"autoscaling.knative.dev/window\""
            ),
            Some((7, 1))
        );
        assert_eq!(
            key_at(t, Some(t.find("stable").unwrap())).as_deref(),
            Some("autoscaler.stable-window")
        );
    }

    #[test]
    fn overrides_set_nested_values_and_select_by_name() {
        let t = "[autoscaler]\n[[revision]]\nname = \"a\"\n[[revision]]\nname = \"b\"\n";
        let o = |k: &str, v: &str| Override {
            key: k.into(),
            value: v.into(),
        };
        let (out, _) = apply_overrides(
            t,
            &[
                o("autoscaler.stable-window", "30s"),
                o("revision.b.containerConcurrency", "10"),
                o("revision[0].timeoutSeconds", "60"),
            ],
        )
        .unwrap();
        let v: toml::Table = toml::from_str(&out).unwrap();
        assert_eq!(v["autoscaler"]["stable-window"].as_str(), Some("30s"));
        assert_eq!(
            v["revision"][1]["containerConcurrency"].as_integer(),
            Some(10)
        );
        assert_eq!(v["revision"][0]["timeoutSeconds"].as_integer(), Some(60));
        // Revisions the TOML does not list are left to validation, which
        // knows the revisions that manifests and the timeline create.
        let (_, deferred) = apply_overrides(t, &[o("revision.9.x", "1")]).unwrap();
        assert_eq!(deferred, vec![o("revision.9.x", "1")]);
        let (_, deferred) = apply_overrides("a = 1\n", &[o("revision.zz.x", "1")]).unwrap();
        assert_eq!(deferred.len(), 1);
        assert_eq!(
            revision_target("revision.greeter-v1.containerConcurrency", "greeter-v1", 3),
            Some(vec!["containerConcurrency".to_string()])
        );
        assert_eq!(
            revision_target("revision[1].annotations.\"a/b\"", "x", 1),
            Some(vec!["annotations".to_string(), "a/b".to_string()])
        );
        assert_eq!(revision_target("revision.0.x", "x", 1), None);
    }
}
