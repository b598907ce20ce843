//! Scraper sample size: a port of `pkg/autoscaler/metrics/sample_size.go`.

/// `populationMeanSampleSize`: how many of `population` ready pods the
/// scraper samples (95 % confidence, variance 100, margin of error 5):
/// all of them up to 3, else `ceil(N·X / (N + X − 1))` with
/// `X = 1.96² · 100 / 5²`.
pub fn population_mean_sample_size(population: usize) -> usize {
    if population <= 3 {
        return population;
    }
    // Go evaluates 1.96² · 100 / 5² exactly at compile time.
    const X: f64 = 15.3664;
    let x = X;
    let n = population as f64;
    (n * x / (n + x - 1.0)).ceil() as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_populations_are_sampled_whole_and_large_ones_approach_16() {
        assert_eq!(population_mean_sample_size(3), 3);
        assert_eq!(population_mean_sample_size(4), 4);
        assert_eq!(population_mean_sample_size(5), 4);
        assert_eq!(population_mean_sample_size(1_000_000), 16);
    }
}
