//! The queue-proxies' reporting ticks (one per pod per reporting period),
//! several pods to one event where that leaves the event order as it was.
//!
//! Each pod's queue-proxy closes its reporting period every second, so a
//! pod's tick re-arms itself one period after it fires. With one event per
//! pod, a run of 2,000 pods had as many tick events as requests at 10 req/s
//! per pod, and they made most of the event queue. Pods started together
//! tick at the same instants, and ticks that the queue hands out one right
//! after the other stay that way: each one re-arms only itself, so the
//! re-armed ticks get consecutive sequence numbers at the same time, and no
//! event can ever come between them (an event scheduled later gets a later
//! sequence number). Such a run is one event here, a group, whose members
//! report in the order their own events would have popped. Groups are only
//! ever joined when the queue popped them back to back at the same instant,
//! so the order of everything else, ties included, is what it was.

use super::event::{PodId, RevId};
use crate::sim::SimTime;

/// A pod whose queue-proxy reports: its revision and id.
pub(crate) type Member = (RevId, PodId);

/// The tick groups and which one the last popped event re-armed.
#[derive(Default)]
pub(crate) struct ReportGroups {
    groups: Vec<Vec<Member>>,
    /// Ids of emptied groups, for reuse (their allocations kept).
    free: Vec<u32>,
    /// The group re-armed by the event popped last: the engine's event
    /// count after that event, its time, and the group.
    last: Option<(u64, SimTime, u32)>,
}

impl ReportGroups {
    /// A group of one pod, for that pod's first tick.
    pub(crate) fn start(&mut self, m: Member) -> u32 {
        let g = match self.free.pop() {
            Some(g) => g,
            None => {
                self.groups.push(Vec::new());
                (self.groups.len() - 1) as u32
            }
        };
        self.groups[g as usize].push(m);
        g
    }

    /// Takes the members of group `g` out to report them; hand them back
    /// with [`ReportGroups::put_back`].
    pub(crate) fn take(&mut self, g: u32) -> Vec<Member> {
        std::mem::take(&mut self.groups[g as usize])
    }

    /// Group `g`'s event was popped as event number `events` at `now` and
    /// its members (those still reporting, in order) are `members`. Returns
    /// whether the caller must re-arm `g` one period later: not when it is
    /// empty, nor when it joined the group re-armed by the previous event
    /// (popped as number `events - 1` at the same instant), whose members it
    /// follows, as its own re-armed event would have followed that one's.
    /// `counted` is the event count once this group's members are counted.
    pub(crate) fn put_back(
        &mut self,
        g: u32,
        members: Vec<Member>,
        events: u64,
        now: SimTime,
        counted: u64,
    ) -> bool {
        let joins = match self.last {
            Some((n, t, prev)) if n + 1 == events && t == now => Some(prev),
            _ => None,
        };
        if let Some(prev) = joins {
            self.groups[prev as usize].extend_from_slice(&members);
            self.recycle(g, members);
            self.last = Some((counted, now, prev));
            return false;
        }
        if members.is_empty() {
            self.recycle(g, members);
            self.last = None;
            return false;
        }
        self.groups[g as usize] = members;
        self.last = Some((counted, now, g));
        true
    }

    fn recycle(&mut self, g: u32, mut members: Vec<Member>) {
        members.clear();
        self.groups[g as usize] = members;
        self.free.push(g);
    }

    /// Members of group `g` (for tests and assertions).
    #[cfg(test)]
    fn members(&self, g: u32) -> &[Member] {
        &self.groups[g as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::SimDuration;

    fn m(p: u32) -> Member {
        (RevId(0), PodId(p))
    }

    /// Pods 0, 1 and 2 in groups of their own, started in that order.
    fn three_pods() -> (ReportGroups, [u32; 3]) {
        let mut rg = ReportGroups::default();
        let groups = [m(0), m(1), m(2)].map(|p| rg.start(p));
        (rg, groups)
    }

    /// Pops `g` as event number `events` at `now` with every member still
    /// reporting; returns whether it is re-armed.
    fn pop(rg: &mut ReportGroups, g: u32, events: u64, now: SimTime) -> bool {
        let members = rg.take(g);
        let counted = events + members.len() as u64 - 1;
        rg.put_back(g, members, events, now, counted)
    }

    #[test]
    fn back_to_back_groups_at_one_instant_join_in_pop_order() {
        let (mut rg, [a, b, c]) = three_pods();
        let t = SimTime::from_secs(3);
        assert!(pop(&mut rg, a, 10, t));
        assert!(!pop(&mut rg, b, 11, t), "b follows a: joins it");
        assert!(!pop(&mut rg, c, 12, t), "c follows b's pop: joins a too");
        assert_eq!(rg.members(a), &[m(0), m(1), m(2)]);
        // The joined ids are free for new pods.
        let d = rg.start(m(3));
        assert!(d == b || d == c);
        assert_eq!(rg.members(d), &[m(3)]);
    }

    #[test]
    fn a_group_counts_as_its_members_when_the_next_one_joins() {
        let mut rg = ReportGroups::default();
        let a = rg.start(m(0));
        let b = rg.start(m(1));
        let t = SimTime::from_secs(1);
        assert!(pop(&mut rg, a, 1, t));
        assert!(!pop(&mut rg, b, 2, t));
        // Next period, a (two members) pops as event 5 and counts 5 and 6.
        let n = SimTime::from_secs(2);
        let c = rg.start(m(2));
        assert!(pop(&mut rg, a, 5, n));
        assert!(!pop(&mut rg, c, 7, n), "the next pop after a's two members");
        assert_eq!(rg.members(a), &[m(0), m(1), m(2)]);
    }

    #[test]
    fn anything_between_or_another_instant_keeps_groups_apart() {
        let (mut rg, [a, b, c]) = three_pods();
        let t = SimTime::from_secs(3);
        assert!(pop(&mut rg, a, 10, t));
        // Event 11 was something else.
        assert!(pop(&mut rg, b, 12, t));
        // Right after b, but one nanosecond later.
        assert!(pop(&mut rg, c, 13, t + SimDuration(1)));
        assert_eq!(rg.members(a), &[m(0)]);
        assert_eq!(rg.members(b), &[m(1)]);
        assert_eq!(rg.members(c), &[m(2)]);
    }

    #[test]
    fn an_emptied_group_is_not_rearmed_and_breaks_the_chain() {
        let (mut rg, [a, b, _]) = three_pods();
        let t = SimTime::from_secs(3);
        let members = rg.take(a);
        assert!(!rg.put_back(a, Vec::new(), 10, t, 10), "all gone");
        drop(members);
        assert!(pop(&mut rg, b, 11, t), "nothing re-armed to join");
        assert_eq!(rg.members(b), &[m(1)]);
    }

    #[test]
    fn an_emptied_group_right_after_another_keeps_the_chain() {
        let (mut rg, [a, b, c]) = three_pods();
        let t = SimTime::from_secs(3);
        assert!(pop(&mut rg, a, 10, t));
        rg.take(b);
        assert!(!rg.put_back(b, Vec::new(), 11, t, 11));
        // b re-armed nothing, so c's re-armed tick would follow a's.
        assert!(!pop(&mut rg, c, 12, t));
        assert_eq!(rg.members(a), &[m(0), m(2)]);
    }
}
