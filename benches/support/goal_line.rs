//! The bench's goal lines: which cases meet a ratio and which do not.

/// The cases that meet a goal's ratio and those that do not, each with
/// its ratio, printed as a goal line.
pub struct GoalLine {
    goal: f64,
    met: Vec<String>,
    short: Vec<String>,
}

impl GoalLine {
    pub fn new(goal: f64) -> Self {
        GoalLine {
            goal,
            met: Vec::new(),
            short: Vec::new(),
        }
    }

    pub fn add(&mut self, label: &str, ratio: f64) {
        let cases = if ratio >= self.goal {
            &mut self.met
        } else {
            &mut self.short
        };
        cases.push(format!("{} ({ratio:.2})", label.trim()));
    }

    pub fn print(&self, title: &str) {
        let list = |cases: &[String]| {
            if cases.is_empty() {
                "none".to_string()
            } else {
                cases.join(", ")
            }
        };
        println!("{title}");
        println!("  met: {}", list(&self.met));
        println!("  not met: {}", list(&self.short));
    }
}
