//! The run pipeline the CLI, the language server and the debug adapter share, driven from
//! sources held by the engine.

use std::path::PathBuf;

use expect_test::expect;
use tel_ide::AnalysisHost;
use tel_ide::run::report::summary;
use tel_ide::run::{Code, RunSettings, Stop, execute};

const SOURCE: &str = r#"fn fee(amount: Int) -> Int ! {Log} {
    perform Log("fee of " ++ show(amount));
    amount / 100
}

fn main() -> Int ! {Log} {
    fee(12000) + fee(500)
}

fn broken() -> Int ! {Log} {
    fee(1) / (fee(1) - fee(1))
}
"#;

fn run(entry: &str) -> Result<tel_ide::run::report::Summary, Stop> {
    let mut host = AnalysisHost::default();
    let files = host.add_project(None, vec![(PathBuf::from("/w/fees.tel"), SOURCE.to_owned())]);
    let analysis = host.analysis();
    let code = Code::from_analysis(&analysis, &files, entry, None, "fees.tel")?;
    let args = code.decode_args(None)?;
    let finished = execute(&code, args, &RunSettings::default(), None, None, None)?;
    Ok(summary(&code, &finished, Some(&analysis)))
}

#[test]
fn a_run_sums_up_its_value_and_logs() {
    let s = run("main").unwrap();
    assert!(s.ok);
    assert_eq!(s.value.as_deref(), Some("125"));
    assert_eq!(s.logs, ["fee of 12000", "fee of 500"]);
    assert!(s.headline.starts_with("fees::main → 125 (run "), "{}", s.headline);
    assert_eq!(s.notes.len(), 1, "not kept without a codebase: {:?}", s.notes);
}

#[test]
fn a_runtime_error_is_placed_in_the_sources() {
    let s = run("broken").unwrap();
    assert!(!s.ok);
    expect![[r#"
        error: division by zero
          at fees::broken #XXXXXXXX /w/fees.tel:11:5
    "#]]
    .assert_eq(&hide_hashes(s.stack_trace.as_deref().unwrap()));
}

#[test]
fn what_cannot_run_is_refused_with_the_reason() {
    let refused = |entry: &str| match run(entry) {
        Err(stop) => stop.to_string(),
        Ok(s) => panic!("{entry} ran: {}", s.headline),
    };
    expect!["fees::fee takes 1 argument(s): pass them with --args '[…]' (a JSON array)"]
        .assert_eq(&refused("fee"));
    expect!["no definition `nope` in fees.tel (--entry names the function to run)"]
        .assert_eq(&refused("nope"));
}

fn hide_hashes(text: &str) -> String {
    text.split(' ')
        .map(|w| if w.starts_with('#') && w.len() == 9 { "#XXXXXXXX" } else { w })
        .collect::<Vec<_>>()
        .join(" ")
}
