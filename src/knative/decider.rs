//! The scaling decision: a port of `Scale()` and `newAutoscaler` in
//! `pkg/autoscaler/scaling/autoscaler.go`, plus the status helpers of
//! `pkg/autoscaler/scaling/multiscaler.go`.

use super::delay_window::MaxTimeWindow;
use crate::sim::{SimDuration, SimTime};

/// `tickInterval`: the decider runs every 2 s; also the delay window's
/// granularity.
pub const TICK_INTERVAL: SimDuration = SimDuration::from_secs(2);

/// Which metric a revision scales on (`autoscaling.knative.dev/metric`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum ScalingMetric {
    /// In-flight requests; the default.
    #[default]
    Concurrency,
    /// Requests per second.
    Rps,
}

/// `DeciderSpec`: everything `Scale` needs besides the observations.
#[derive(Clone, Debug, PartialEq)]
pub struct DeciderSpec {
    /// Per-pod target (after utilization).
    pub target_value: f64,
    /// Per-pod total capacity (before utilization); used for EBC.
    pub total_value: f64,
    /// Target burst capacity (−1 = unlimited, 0 = none).
    pub target_burst_capacity: f64,
    /// Panic threshold as a ratio (200 % → 2.0).
    pub panic_threshold: f64,
    /// Maximum factor of growth per decision.
    pub max_scale_up_rate: f64,
    /// Maximum factor of shrinkage per decision.
    pub max_scale_down_rate: f64,
    /// Stable window (panic lasts at least this long).
    pub stable_window: SimDuration,
    /// Scale-down delay (window exists only if > 0 at creation).
    pub scale_down_delay: SimDuration,
    /// False for revisions no route references.
    pub reachable: bool,
    /// Minimum non-zero scale (only acts when > 1).
    pub activation_scale: i32,
    /// Concurrency or RPS.
    pub scaling_metric: ScalingMetric,
}

/// `ScaleResult`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ScaleResult {
    /// Desired pods.
    pub desired_pod_count: i32,
    /// Excess burst capacity (negative = activator should stay in path).
    pub excess_burst_capacity: i32,
    /// False when the decision must be ignored (no data, pod count error).
    pub scale_valid: bool,
}

/// `invalidSR`.
const INVALID: ScaleResult = ScaleResult {
    desired_pod_count: 0,
    excess_burst_capacity: 0,
    scale_valid: false,
};

/// One revision's autoscaler state (`autoscaler` in Knative).
#[derive(Clone, Debug)]
pub struct Decider {
    spec: DeciderSpec,
    /// `None` is Go's zero time: not panicking.
    panic_time: Option<SimTime>,
    max_panic_pods: i32,
    delay_window: Option<MaxTimeWindow>,
}

impl Decider {
    /// newAutoscaler: starts in panic if ready > 1; delay window created only
    /// if scale_down_delay > 0 now. Pass 0 for a pod-count error, as
    /// Knative does.
    pub fn new(spec: DeciderSpec, ready_pods_at_creation: i32, now: SimTime) -> Self {
        let delay_window = (spec.scale_down_delay > SimDuration::ZERO)
            .then(|| MaxTimeWindow::new(spec.scale_down_delay, TICK_INTERVAL));
        Decider {
            spec,
            // An autoscaler restart loses history; holding the current scale
            // in panic mode avoids scaling down before data accumulates.
            panic_time: (ready_pods_at_creation > 1).then_some(now),
            max_panic_pods: ready_pods_at_creation,
            delay_window,
        }
    }

    /// Update(): replaces spec, never creates/destroys the window.
    pub fn update(&mut self, spec: DeciderSpec) {
        self.spec = spec;
    }

    /// The current spec.
    pub fn spec(&self) -> &DeciderSpec {
        &self.spec
    }

    /// ready: None = pod counter error (→ invalid). observed: None = metric
    /// error/ErrNoData (→ invalid, ScaleResult{0,0,false}). Some((stable,
    /// panic)) are the window averages of the spec's metric.
    pub fn scale(
        &mut self,
        now: SimTime,
        ready: Option<i32>,
        observed: Option<(f64, f64)>,
    ) -> ScaleResult {
        let Some(original_ready) = ready else {
            return INVALID;
        };
        let Some((observed_stable, observed_panic)) = observed else {
            return INVALID;
        };
        let spec = &self.spec;
        // All rates and the panic test divide by at least one pod.
        let ready_f = f64::max(1.0, original_ready as f64);

        // The ceil lets a conservative up-rate still add a pod.
        let max_scale_up = (spec.max_scale_up_rate * ready_f).ceil();
        let max_scale_down = if spec.reachable {
            (ready_f / spec.max_scale_down_rate).floor()
        } else {
            0.0
        };

        let dspc = (observed_stable / spec.target_value).ceil();
        let dppc = (observed_panic / spec.target_value).ceil();

        let mut desired_stable = dspc.max(max_scale_down).min(max_scale_up) as i32;
        let mut desired_panic = dppc.max(max_scale_down).min(max_scale_up) as i32;

        if spec.activation_scale > 1 {
            if dspc > 0.0 && spec.activation_scale > desired_stable {
                desired_stable = spec.activation_scale;
            }
            if dppc > 0.0 && spec.activation_scale > desired_panic {
                desired_panic = spec.activation_scale;
            }
        }

        // Uses the unclamped panic pod count.
        let is_over = dppc / ready_f >= spec.panic_threshold;
        match self.panic_time {
            None if is_over => self.panic_time = Some(now),
            Some(_) if is_over => self.panic_time = Some(now),
            Some(pt) if pt + spec.stable_window < now => {
                self.panic_time = None;
                self.max_panic_pods = 0;
            }
            _ => {}
        }

        let mut desired = desired_stable;
        if self.panic_time.is_some() {
            // Provision for whichever window asks more.
            desired = desired.max(desired_panic);
            // Never scale down while panicking.
            if desired > self.max_panic_pods {
                self.max_panic_pods = desired;
            }
            desired = self.max_panic_pods;
        }

        if spec.reachable {
            if let Some(w) = &mut self.delay_window {
                w.record(now, desired);
                desired = w.current();
            }
        }

        // Burst capacity uses the panic value and the raw ready count.
        let ebc = if spec.target_burst_capacity == 0.0 {
            0.0
        } else if spec.target_burst_capacity > 0.0 {
            (original_ready as f64 * spec.total_value - spec.target_burst_capacity - observed_panic)
                .floor()
        } else {
            -1.0
        };

        ScaleResult {
            desired_pod_count: desired,
            excess_burst_capacity: ebc as i32,
            scale_valid: true,
        }
    }

    /// Whether the decider is in panic mode.
    pub fn in_panic(&self) -> bool {
        self.panic_time.is_some()
    }

    /// When panic mode was last entered or extended.
    pub fn panic_time(&self) -> Option<SimTime> {
        self.panic_time
    }

    /// The pod count panic mode holds on to.
    pub fn max_panic_pods(&self) -> i32 {
        self.max_panic_pods
    }

    /// For tests: force panic state (panic_time, max_panic_pods) as upstream
    /// tests do.
    pub fn set_panic_state(&mut self, panic_time: Option<SimTime>, max_panic_pods: i32) {
        self.panic_time = panic_time;
        self.max_panic_pods = max_panic_pods;
    }
}

/// Status.ExcessBurstCapacity at decider creation (§2.5): TBC itself for
/// −1 and 0, else `int32(initialScale × TotalValue − TBC)` (truncated).
pub fn initial_excess_burst_capacity(spec: &DeciderSpec, initial_scale: i32) -> i32 {
    let tbc = spec.target_burst_capacity;
    if tbc == -1.0 || tbc == 0.0 {
        tbc as i32
    } else {
        (initial_scale as f64 * spec.total_value - tbc) as i32
    }
}

/// sameSign (0 counts as positive).
pub fn same_sign(a: i32, b: i32) -> bool {
    (a < 0) == (b < 0)
}

/// The multiscaler's view of a decider (`Decider.Status`): the last valid
/// decision, which the KPA reconciler reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeciderStatus {
    /// Last desired scale; −1 until the first valid decision.
    pub desired_scale: i32,
    /// Last excess burst capacity.
    pub excess_burst_capacity: i32,
}

impl DeciderStatus {
    /// The status at decider creation: desired −1 and
    /// [`initial_excess_burst_capacity`].
    pub fn initial(spec: &DeciderSpec, initial_scale: i32) -> Self {
        DeciderStatus {
            desired_scale: -1,
            excess_burst_capacity: initial_excess_burst_capacity(spec, initial_scale),
        }
    }

    /// `tickScaler` + `updateLatestScale`: invalid results are ignored;
    /// otherwise the status takes the result, and the return value says
    /// whether the KPA must be told (desired changed or the EBC sign flipped).
    pub fn apply(&mut self, r: &ScaleResult) -> bool {
        if !r.scale_valid {
            return false;
        }
        let changed = self.desired_scale != r.desired_pod_count
            || !same_sign(self.excess_burst_capacity, r.excess_burst_capacity);
        self.desired_scale = r.desired_pod_count;
        self.excess_burst_capacity = r.excess_burst_capacity;
        changed
    }

    /// `Poke`: an activator stat triggers an immediate `Scale` only when the
    /// revision is at desired 0 (not −1) and the stat shows concurrency.
    pub fn should_poke(&self, average_concurrent_requests: f64) -> bool {
        self.desired_scale == 0 && average_concurrent_requests != 0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> DeciderSpec {
        DeciderSpec {
            target_value: 10.0,
            total_value: 10.0 / 0.75,
            target_burst_capacity: 100.0,
            panic_threshold: 2.0,
            max_scale_up_rate: 10.0,
            max_scale_down_rate: 10.0,
            stable_window: SimDuration::from_secs(60),
            scale_down_delay: SimDuration::ZERO,
            reachable: true,
            activation_scale: 0,
            scaling_metric: ScalingMetric::Concurrency,
        }
    }

    #[test]
    fn starts_in_panic_only_above_one_pod() {
        let now = SimTime::from_secs(0);
        assert!(!Decider::new(spec(), 1, now).in_panic());
        let d = Decider::new(spec(), 3, now);
        assert!(d.in_panic());
        assert_eq!(d.max_panic_pods(), 3);
        assert_eq!(d.panic_time(), Some(now));
    }

    #[test]
    fn scale_down_delay_holds_the_maximum() {
        let mut s = spec();
        s.scale_down_delay = SimDuration::from_secs(10);
        s.max_scale_down_rate = 1000.0;
        let mut d = Decider::new(s, 1, SimTime::ZERO);
        let r = d.scale(SimTime::from_secs(2), Some(1), Some((50.0, 10.0)));
        assert_eq!(r.desired_pod_count, 5);
        // Load drops; the delay window keeps 5 until index 1 ages out.
        for (sec, want) in [(4, 5), (8, 5), (10, 5), (12, 1)] {
            let r = d.scale(SimTime::from_secs(sec), Some(5), Some((1.0, 1.0)));
            assert_eq!(r.desired_pod_count, want, "at {sec}s");
        }
    }

    #[test]
    fn unreachable_bypasses_the_delay_window() {
        let mut s = spec();
        s.scale_down_delay = SimDuration::from_secs(10);
        let mut d = Decider::new(s.clone(), 1, SimTime::ZERO);
        d.scale(SimTime::from_secs(2), Some(1), Some((50.0, 10.0)));
        s.reachable = false;
        d.update(s);
        let r = d.scale(SimTime::from_secs(4), Some(5), Some((0.0, 0.0)));
        assert_eq!(r.desired_pod_count, 0);
    }

    #[test]
    fn update_never_creates_a_window() {
        let mut d = Decider::new(spec(), 1, SimTime::ZERO);
        let mut s = spec();
        s.scale_down_delay = SimDuration::from_secs(60);
        d.update(s);
        d.scale(SimTime::from_secs(2), Some(1), Some((50.0, 10.0)));
        let r = d.scale(SimTime::from_secs(4), Some(5), Some((1.0, 1.0)));
        assert_eq!(r.desired_pod_count, 1);
    }

    #[test]
    fn initial_ebc_and_signs() {
        let mut s = spec();
        s.total_value = 25.0;
        s.target_burst_capacity = 42.0;
        assert_eq!(initial_excess_burst_capacity(&s, 2), 8);
        s.total_value = 100.0;
        s.target_burst_capacity = 211.0;
        assert_eq!(initial_excess_burst_capacity(&s, 1), -111);
        s.target_burst_capacity = -1.0;
        assert_eq!(initial_excess_burst_capacity(&s, 1), -1);
        s.target_burst_capacity = 0.0;
        assert_eq!(initial_excess_burst_capacity(&s, 5), 0);
        let mut st = DeciderStatus::initial(&s, 1);
        assert_eq!(
            st,
            DeciderStatus {
                desired_scale: -1,
                excess_burst_capacity: 0
            }
        );
        assert!(!st.should_poke(1.0));
        let r = |d, e| ScaleResult {
            desired_pod_count: d,
            excess_burst_capacity: e,
            scale_valid: true,
        };
        assert!(st.apply(&r(0, 0)));
        assert!(st.should_poke(1.0));
        assert!(!st.should_poke(0.0));
        assert!(!st.apply(&r(0, 5)));
        assert!(st.apply(&r(0, -5)), "EBC sign flip notifies");
        assert!(!st.apply(&INVALID));
        assert_eq!(st.excess_burst_capacity, -5);
        assert!(same_sign(0, 5));
        assert!(same_sign(-1, -7));
        assert!(!same_sign(0, -1));
    }
}
