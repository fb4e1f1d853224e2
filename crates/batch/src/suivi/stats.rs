//! Confidence intervals for the follow-up: Wilson's score interval for a share, and
//! Newcombe's hybrid score interval for the difference of two independent shares
//! (Newcombe, R. G. (1998), « Interval estimation for the difference between independent
//! proportions: comparison of eleven methods », Statistics in Medicine 17, 873–890,
//! method 10). Both stay inside [0, 1] (resp. [−1, 1]) and behave at 0 % and 100 %, where
//! the textbook normal interval does not — a campaign's control group is often small.

/// The 97.5th percentile of the standard normal distribution.
pub const Z95: f64 = 1.959_963_984_540_054;

/// Wilson's score interval (95 %, no continuity correction) of `x` successes out of
/// `n`; `None` when `n` is 0.
pub fn wilson(x: u64, n: u64) -> Option<(f64, f64)> {
    if n == 0 {
        return None;
    }
    let (x, n) = (x as f64, n as f64);
    let p = x / n;
    let z2 = Z95 * Z95;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let demi = Z95 / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    Some(((centre - demi).max(0.0), (centre + demi).min(1.0)))
}

/// The difference `x1/n1 − x2/n2` and its 95 % interval by Newcombe's hybrid score
/// method; `None` when either group is empty.
pub fn newcombe(x1: u64, n1: u64, x2: u64, n2: u64) -> Option<(f64, f64, f64)> {
    let (l1, u1) = wilson(x1, n1)?;
    let (l2, u2) = wilson(x2, n2)?;
    let (p1, p2) = (x1 as f64 / n1 as f64, x2 as f64 / n2 as f64);
    let d = p1 - p2;
    let bas = d - ((p1 - l1).powi(2) + (u2 - p2).powi(2)).sqrt();
    let haut = d + ((u1 - p1).powi(2) + (p2 - l2).powi(2)).sqrt();
    Some((d, bas, haut))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 5e-5
    }

    /// Newcombe (1998), table II, method 10, his examples (a) 56/70 − 48/80,
    /// (b) 9/10 − 3/10 and (e) 0/10 − 0/20 (two shares of 0).
    #[test]
    fn newcombe_gives_the_papers_intervals() {
        let (d, bas, haut) = newcombe(56, 70, 48, 80).expect("groups");
        assert!(close(d, 0.2) && close(bas, 0.0524) && close(haut, 0.3339), "{d} {bas} {haut}");
        let (d, bas, haut) = newcombe(9, 10, 3, 10).expect("groups");
        assert!(close(d, 0.6) && close(bas, 0.1705) && close(haut, 0.8090), "{d} {bas} {haut}");
        let (d, bas, haut) = newcombe(0, 10, 0, 20).expect("groups");
        assert!(close(d, 0.0) && close(bas, -0.1611) && close(haut, 0.2775), "{bas} {haut}");
    }

    /// Wilson (1927) at the edges: 0 out of 10 is [0, 0.2775], never the empty [0, 0]
    /// of the normal approximation.
    #[test]
    fn wilson_holds_at_zero_and_one() {
        let (l, u) = wilson(0, 10).expect("n");
        assert!(close(l, 0.0) && close(u, 0.2775), "{l} {u}");
        let (l, u) = wilson(10, 10).expect("n");
        assert!(close(l, 0.7225) && close(u, 1.0), "{l} {u}");
        assert!(wilson(0, 0).is_none());
        assert!(newcombe(1, 2, 0, 0).is_none());
    }
}
