//! Every connection scenario through the sse-proto `Connection`, under every body
//! chunking, and checks that the runner itself is sound.

use conformance::connection::{
    self, Input, Output, Scenario, StepRun, check_scenarios, proto_layer, scenarios,
};
use conformance::{assert_lists_every_file, assert_unique_names};

#[test]
fn scenario_names_are_unique_and_numerous() {
    let all = scenarios();
    assert_unique_names(all.iter().map(|s| s.name.as_str()), 30, "scenario");
}

#[test]
fn every_scenario_file_is_listed() {
    assert_lists_every_file(
        concat!(env!("CARGO_MANIFEST_DIR"), "/vectors/connection"),
        connection::FILES,
        "conformance::connection::FILES must list every scenario file",
    );
}

#[test]
fn connection() {
    connection::assert_conformance("sse-proto Connection", proto_layer);
}

/// The topics the task requires are all covered.
#[test]
fn required_topics_are_covered() {
    let all = scenarios();
    let has = |pred: &dyn Fn(&Scenario) -> bool| all.iter().any(pred);
    let responds = |s: &Scenario, status: u16| {
        s.steps
            .iter()
            .any(|st| matches!(&st.input, Input::Response { status: x, .. } if *x == status))
    };
    let expects = |s: &Scenario, f: &dyn Fn(&Output) -> bool| {
        s.steps.iter().any(|st| st.expect.iter().any(f))
    };
    let failed = |code: &'static str| move |o: &Output| matches!(o, Output::Failed { error, .. } if error == code);
    assert!(has(&|s| expects(s, &|o| *o == Output::Open)));
    assert!(has(&|s| responds(s, 204)));
    assert!(has(&|s| responds(s, 500)));
    assert!(has(&|s| expects(s, &failed("content_type"))));
    assert!(has(&|s| expects(s, &failed("too_many_redirects"))));
    assert!(has(&|s| expects(s, &failed("status 302"))));
    assert!(has(&|s| s.config.idle_timeout.is_some()));
    assert!(has(&|s| s
        .config
        .backoff
        .is_some_and(|b| b.jitter_percent > 0)));
    assert!(has(&|s| s.config.max_retries.is_some()));
    assert!(has(&|s| s.config.retry_policy.retries(503)));
    assert!(has(&|s| s.steps.iter().any(|st| st.input == Input::Close)));
}

/// A wrong layer must fail: the runner is not vacuous.
#[test]
fn runner_reports_wrong_layers() {
    let all = scenarios();
    // A layer that sends Last-Event-ID even when empty.
    let empty_id = |s: &Scenario| -> Vec<StepRun> {
        let mut runs = proto_layer(s);
        for run in &mut runs {
            for output in &mut run.outputs {
                if let Output::Request(r) = output {
                    if !r.headers.iter().any(|(n, _)| n == "last-event-id") {
                        r.headers.push(("last-event-id".into(), String::new()));
                        r.headers.sort();
                    }
                }
            }
        }
        runs
    };
    let failures = check_scenarios(&all, empty_id);
    assert!(failures.len() > all.len() / 2, "{}", failures.len());
    assert!(failures[0].report.contains("expected | actual"));

    // A layer that never reports a deadline.
    let no_timer = |s: &Scenario| -> Vec<StepRun> {
        let mut runs = proto_layer(s);
        for run in &mut runs {
            run.timeout = None;
        }
        runs
    };
    let failures = check_scenarios(&all, no_timer);
    assert!(
        failures
            .iter()
            .any(|f| f.report.contains("timeout: expected"))
    );

    // A layer that loses the item at a chunk boundary.
    let lossy = |s: &Scenario| -> Vec<StepRun> {
        let mut runs = proto_layer(s);
        for (step, run) in s.steps.iter().zip(&mut runs) {
            if matches!(&step.input, Input::Body(chunks) if chunks.len() > 1) {
                run.outputs.retain(|o| !matches!(o, Output::Item(_)));
            }
        }
        runs
    };
    let failures = check_scenarios(&all, lossy);
    assert!(!failures.is_empty());
    assert!(
        failures
            .iter()
            .all(|f| f.chunking != conformance::Chunking::Whole)
    );
}
