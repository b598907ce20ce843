//! Parsers for numeric flags that give a clear message for a negative or
//! malformed value. Flags using them also accept a leading `-`, because clap
//! would otherwise read `-1` as an unknown option and say "unexpected
//! argument '-1'".

/// A seed: a whole number from 0 to 2^64 − 1.
pub fn seed(s: &str) -> Result<u64, String> {
    whole(s, "a seed", 0).map(|v| v as u64)
}

/// A count of at least one (replications, threads, runs).
pub fn count(s: &str) -> Result<usize, String> {
    whole(s, "a count", 1).and_then(|v| {
        usize::try_from(v).map_err(|_| format!("{s} is too large for a count on this machine"))
    })
}

/// A whole number of at least zero (`--jobs 0` means one thread per core,
/// `--max-runs 0` runs nothing).
pub fn number(s: &str) -> Result<usize, String> {
    whole(s, "this value", 0)
        .and_then(|v| usize::try_from(v).map_err(|_| format!("{s} is too large on this machine")))
}

/// A replication count of at least two (an interval needs two values).
pub fn replications(s: &str) -> Result<u64, String> {
    whole(s, "a replication count", 2).map(|v| v as u64)
}

/// A probability in (0, 1], e.g. a sampling fraction.
pub fn fraction(s: &str) -> Result<f64, String> {
    let t = s.trim();
    match t.parse::<f64>() {
        Ok(p) if p > 0.0 && p <= 1.0 => Ok(p),
        Ok(_) => Err(format!(
            "{t} is out of range; a fraction is greater than 0 and at most 1, e.g. 0.01"
        )),
        Err(_) => Err(format!(
            "{t:?} is not a number; a fraction is greater than 0 and at most 1, e.g. 0.01"
        )),
    }
}

fn whole(s: &str, what: &str, min: u128) -> Result<u128, String> {
    let t = s.trim();
    if t.starts_with('-') {
        return Err(format!(
            "{t} is negative; {what} is a whole number of at least {min}"
        ));
    }
    let v: u128 = t.parse().map_err(|_| {
        format!("{t:?} is not a whole number; {what} is a whole number of at least {min}")
    })?;
    if v > u64::MAX as u128 {
        return Err(format!("{t} is too large; {what} is at most {}", u64::MAX));
    }
    if v < min {
        return Err(format!("{what} must be at least {min}"));
    }
    Ok(v)
}

/// The message for an argument clap took for an unknown option although it
/// looks like a negative number (a flag without a numeric parser, or a
/// positional argument): name it and say how to pass it.
pub fn negative_number_hint(arg: &str) -> Option<String> {
    let rest = arg.strip_prefix('-')?;
    rest.parse::<f64>().ok()?;
    Some(format!(
        "{arg} is not an option; it looks like a negative number, and no option of this command takes one there. \
         If it is meant as an option's value, write the option as --name={arg}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_and_malformed_values_are_explained() {
        assert_eq!(seed("7"), Ok(7));
        assert!(seed("-1").unwrap_err().contains("-1 is negative"));
        assert!(count("0").unwrap_err().contains("at least 1"));
        assert!(count("x").unwrap_err().contains("not a whole number"));
        assert!(replications("1").unwrap_err().contains("at least 2"));
        assert!(seed("18446744073709551616")
            .unwrap_err()
            .contains("too large"));
        assert!(negative_number_hint("-3").is_some());
        assert!(negative_number_hint("--x").is_none());
    }
}
