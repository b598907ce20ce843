//! The validation table as Markdown.

use super::experiment::RowResult;

fn num(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let mag = x.abs().log10().floor() as i32;
    // Four significant digits.
    let decimals = (3 - mag).clamp(0, 8) as usize;
    format!("{x:.decimals$}")
}

/// One row per check: parameters, theory, simulated mean ± 95 % half-width,
/// relative error and whether the target is met.
pub fn markdown_table(rows: &[RowResult]) -> String {
    let mut s = String::new();
    s.push_str("| model | parameters | quantity | formula | theory | simulated (95 % CI) | rel. error | theory in CI | verdict |\n");
    s.push_str("|---|---|---|---|---:|---:|---:|:-:|:-:|\n");
    for r in rows {
        let e = &r.estimate;
        let verdict = match (r.check.expect_match, r.meets_target()) {
            (true, true) => "pass",
            (true, false) => "**FAIL**",
            (false, true) => "matches (reference)",
            (false, false) => "deviates (reference)",
        };
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} ± {} | {:.2} % | {} | {} |\n",
            r.model,
            r.params,
            r.check.measure.label(),
            r.check.formula,
            num(r.check.theory),
            num(e.mean),
            num(e.half_width),
            100.0 * r.relative_error(),
            if r.inside_ci() { "yes" } else { "no" },
            verdict
        ));
    }
    s
}
