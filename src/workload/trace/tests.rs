use super::*;

/// Header and (line, fields) of each record.
type Records = (Vec<String>, Vec<(u64, Vec<String>)>);

fn records(content: &str) -> Result<Records, WorkloadError> {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("t.csv");
    std::fs::write(&f, content).unwrap();
    let mut src = CsvSource::open(&f, "x")?;
    let mut out = Vec::new();
    while let Some(line) = src.next_record()? {
        out.push((
            line,
            (0..src.headers.len())
                .map(|i| src.get(i).to_string())
                .collect(),
        ));
    }
    Ok((src.headers.clone(), out))
}

#[test]
fn splitting_keeps_physical_line_numbers() {
    let (h, r) =
        records("\r\n a , b ,c\r\n1, 2 ,\r\n\r\n\"x,y\", \"q\"\"q\" ,\"multi\nline\"\n4,5,6")
            .unwrap();
    assert_eq!(h, ["a", "b", "c"]);
    let rows: Vec<(u64, Vec<&str>)> = r
        .iter()
        .map(|(l, v)| (*l, v.iter().map(String::as_str).collect()))
        .collect();
    assert_eq!(
        rows,
        [
            (3, vec!["1", "2", ""]),
            (5, vec!["x,y", "q\"q", "multi\nline"]),
            (7, vec!["4", "5", "6"]),
        ]
    );
    let e = records("a,b\n1,2\n3\n").unwrap_err();
    assert!(matches!(e, WorkloadError::Format { line: 3, .. }), "{e}");
    let e = records("").unwrap_err();
    assert!(e.to_string().contains("empty"), "{e}");
}

#[test]
fn decimal_seconds_parse_exactly() {
    assert_eq!(parse_secs_ns("0"), Ok(0));
    assert_eq!(parse_secs_ns("1.5"), Ok(1_500_000_000));
    assert_eq!(parse_secs_ns("123456.000000001"), Ok(123_456_000_000_001));
    assert_eq!(parse_secs_ns(".25"), Ok(250_000_000));
    assert_eq!(parse_secs_ns("2."), Ok(2_000_000_000));
    assert_eq!(parse_secs_ns("0.0000000015"), Ok(2));
    assert_eq!(parse_secs_ns("1e-3"), Ok(1_000_000));
    assert!(parse_secs_ns("-1").unwrap_err().contains("negative"));
    assert!(parse_secs_ns("abc").unwrap_err().contains("not a number"));
    assert!(parse_secs_ns(".").is_err());
    assert!(parse_secs_ns("").is_err());
    assert!(parse_secs_ns("nan").is_err());
    assert!(parse_secs_ns("99999999999999999999").is_err());
    assert_eq!(fmt_ns(1_500_000_000), "1.5");
    assert_eq!(fmt_ns(2_000_000_000), "2");
}
