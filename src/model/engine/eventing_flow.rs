//! The engine's side of eventing: like `timeline.rs`, an extension of the
//! event loop that calls across components. Events enter from their
//! sources, cross the Broker, reach the Service through the ingress as
//! ordinary requests, and come back to [`Eventing`] with a status that
//! decides between done and a retry.

use super::event::{Event, ReqId};
use super::eventing::{delivery_of, delivery_source, Eventing, Next};
use super::Sim;
use crate::knative::eventing::AttemptResult;
use crate::model::report::{RequestOutcome, RequestSender};
use crate::sim::RngStreams;

impl Sim<'_> {
    /// Sets up the eventing component and each source's first event.
    pub(super) fn start_eventing(&mut self, streams: &RngStreams) {
        let Some(spec) = &self.sc.eventing else {
            return;
        };
        let mut ev = Eventing::new(spec, self.sc.services.len(), streams);
        for s in 0..ev.source_count() {
            if let Some(t) = ev.next_emit(s, self.now, self.end) {
                self.q.schedule(t, Event::SourceEmits { src: s as u32 });
            }
        }
        self.eventing = Some(Box::new(ev));
    }

    pub(super) fn on_event_emit(&mut self, src: u32) {
        let (now, end) = (self.now, self.end);
        let ev = self
            .eventing
            .as_mut()
            .expect("eventing events need eventing");
        let s = src as usize;
        if let Some(t) = ev.next_emit(s, now, end) {
            self.q.schedule(t, Event::SourceEmits { src });
        }
        for d in ev.emit(s, now) {
            let at = now + ev.broker_latency();
            self.q.schedule(at, Event::DeliveryAttempt { delivery: d });
        }
    }

    /// An attempt reaches its subscriber Service's route.
    pub(super) fn on_event_attempt(&mut self, d: u32) {
        let now = self.now;
        let ev = self
            .eventing
            .as_mut()
            .expect("eventing events need eventing");
        let Some((attempt, timeout, svc)) = ev.begin_attempt(d) else {
            return;
        };
        if let Some(t) = timeout {
            self.q.schedule(
                now + t,
                Event::DeliveryTimeout {
                    delivery: d,
                    attempt,
                },
            );
        }
        match self.ingress.route_service(svc) {
            Some(r) => {
                if let Some(ev) = self.eventing.as_mut() {
                    ev.routed(d, r.idx());
                }
                let id = self.admit(r, delivery_source(d), 0);
                let gen = self.reqs.get(id).gen;
                if let Some(ev) = self.eventing.as_mut() {
                    ev.bind(d, id, gen);
                }
            }
            None => {
                self.answer_404(svc, self.delivery_sender(d));
                // The 404 has no request behind it.
                self.event_result(d, None, AttemptResult::Status(404));
            }
        }
    }

    /// Who sends delivery `d`'s requests, for their `requests.csv` rows.
    pub(super) fn delivery_sender(&self, d: u32) -> RequestSender {
        let trigger = self.eventing.as_ref().and_then(|e| e.trigger_of(d));
        RequestSender::Delivery(trigger.map(u32::from))
    }

    pub(super) fn on_event_attempt_timeout(&mut self, d: u32, attempt: u32) {
        let now = self.now;
        let ev = self
            .eventing
            .as_mut()
            .expect("eventing events need eventing");
        let next = ev.attempt_timeout(d, attempt, now);
        self.after_attempt(d, next);
    }

    /// A request ended: if it was an event's attempt, tells the dispatcher
    /// and returns true.
    pub(super) fn event_request_done(
        &mut self,
        source: super::event::SourceId,
        id: ReqId,
        gen: u32,
        outcome: RequestOutcome,
    ) -> bool {
        let Some(d) = delivery_of(source) else {
            return false;
        };
        let status = match outcome {
            RequestOutcome::Ok => 200,
            RequestOutcome::AppError => 500,
            RequestOutcome::Overflow => 503,
            RequestOutcome::Timeout => 504,
        };
        self.event_result(d, Some((id, gen)), AttemptResult::Status(status));
        true
    }

    fn event_result(&mut self, d: u32, req: Option<(ReqId, u32)>, result: AttemptResult) {
        let now = self.now;
        let ev = self
            .eventing
            .as_mut()
            .expect("eventing events need eventing");
        let next = match req {
            Some((id, gen)) => ev.request_done(d, id, gen, result, now),
            None => ev.attempt_404(d, result, now),
        };
        self.after_attempt(d, next);
    }

    fn after_attempt(&mut self, d: u32, next: Next) {
        if let Next::RetryAt(t) = next {
            let ev = self
                .eventing
                .as_mut()
                .expect("eventing events need eventing");
            let at = t + ev.broker_latency();
            self.q.schedule(at, Event::DeliveryAttempt { delivery: d });
        }
    }
}
