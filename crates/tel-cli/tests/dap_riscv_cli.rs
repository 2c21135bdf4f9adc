//! `tel dap` with `"backend": "riscv"`, end to end over the real binary: the compiled program
//! stops at a line breakpoint mapped to its instructions, the disassembly is `tel riscv
//! --disasm`'s (disc-v, objdump's text), a step goes one instruction forward and back (the
//! undo log), the registers are a scope, the run's accounts (effects, clock) are rewound
//! when stepping back over an effect, and a program outside the subset is refused with the
//! construct's place.
//!
//! Nothing waits on time: every read blocks until the adapter's next message.

mod support;

use std::process::Command;

use serde_json::{Value as Json, json};
use support::{Session, ok};

const PROGRAM: &str = "\
fn main() -> Int ! {Log, Observe} {
    perform Log(\"start\");
    let p = perform Observe(\"ETH/USD\");
    let d = double(p);
    d + 1
}

fn double(x: Int) -> Int {
    x * 2
}
";

/// A folder outside any project holding `dbg.tel` and a host file.
fn folder(program: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("dbg.tel"), program).unwrap();
    std::fs::write(dir.path().join("host.json"), r#"{"feeds": {"ETH/USD": 3000}}"#).unwrap();
    dir
}

/// `tel dap` in a [`folder`].
fn spawn(program: &str) -> Session {
    support::dap(folder(program))
}

fn request(s: &mut Session, command: &str, args: Json) -> Json {
    ok(s.client.request(command, args).unwrap())
}

fn motion(s: &mut Session, command: &str, args: Json) -> Json {
    request(s, command, args);
    s.client.event("stopped").unwrap()["body"].clone()
}

fn path(s: &Session) -> String {
    s.dir.path().join("dbg.tel").display().to_string()
}

fn launch(s: &mut Session) {
    let caps = request(s, "initialize", json!({ "adapterID": "tel", "linesStartAt1": true }));
    // Unknown until the launch says which backend runs.
    assert_ne!(caps["supportsDisassembleRequest"], true);
    let program = path(s);
    request(
        s,
        "launch",
        json!({ "program": program, "backend": "riscv", "host": "host.json", "stopOnEntry": false }),
    );
    let caps = s.client.event("capabilities").unwrap();
    assert_eq!(caps["body"]["capabilities"]["supportsDisassembleRequest"], true);
    s.client.event("initialized").unwrap();
}

/// `name value` of a scope's variables, by the scope's name.
fn scope(s: &mut Session, name: &str) -> Vec<(String, String)> {
    let scopes = request(s, "scopes", json!({ "frameId": 1 }));
    let reference = scopes["scopes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|sc| sc["name"] == name)
        .unwrap_or_else(|| panic!("no scope {name}: {scopes:#}"))["variablesReference"]
        .clone();
    let vars = request(s, "variables", json!({ "variablesReference": reference }));
    vars["variables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["name"].as_str().unwrap().into(), v["value"].as_str().unwrap().into()))
        .collect()
}

fn var(vars: &[(String, String)], name: &str) -> String {
    vars.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("no {name}")).1.clone()
}

fn pc(s: &mut Session) -> String {
    let st = request(s, "stackTrace", json!({ "threadId": 1 }));
    st["stackFrames"][0]["instructionPointerReference"].as_str().unwrap().to_string()
}

/// The stack: `name line ip` per frame, innermost first.
fn frames(s: &mut Session) -> Vec<(String, i64)> {
    let st = request(s, "stackTrace", json!({ "threadId": 1 }));
    st["stackFrames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let name = f["name"].as_str().unwrap();
            (name.split(" #").next().unwrap().to_string(), f["line"].as_i64().unwrap())
        })
        .collect()
}

#[test]
fn break_disassemble_step_instructions_back_and_forth() {
    let mut s = spawn(PROGRAM);
    launch(&mut s);
    let file = path(&s);
    let bps = request(
        &mut s,
        "setBreakpoints",
        json!({ "source": { "path": file }, "breakpoints": [{ "line": 9 }, { "line": 7 }] }),
    );
    assert_eq!(bps["breakpoints"][0]["verified"], true, "{bps:#}");
    assert_eq!(bps["breakpoints"][0]["line"], 9);
    // A blank line has no code.
    assert_eq!(bps["breakpoints"][1]["verified"], false, "{bps:#}");
    let bp_pc = bps["breakpoints"][0]["instructionReference"].as_str().unwrap().to_string();

    request(&mut s, "configurationDone", Json::Null);
    let stop = s.client.event("stopped").unwrap()["body"].clone();
    assert_eq!(stop["reason"], "breakpoint", "{stop:#}");
    assert_eq!(stop["hitBreakpointIds"], json!([bps["breakpoints"][0]["id"]]));
    assert_eq!(frames(&mut s), [("dbg::double".to_string(), 9), ("dbg::main".to_string(), 4)]);
    assert_eq!(pc(&mut s), bp_pc);

    // The disassembly around pc is `tel riscv --disasm`'s, line for line.
    let dis = request(
        &mut s,
        "disassemble",
        json!({ "memoryReference": bp_pc, "instructionOffset": 0, "instructionCount": 3 }),
    );
    let listing = Command::new(support::TEL)
        .args(["riscv", "dbg.tel", "--disasm"])
        .current_dir(s.dir.path())
        .output()
        .unwrap();
    let listing = String::from_utf8(listing.stdout).unwrap();
    let ins = dis["instructions"].as_array().unwrap();
    assert_eq!(ins.len(), 3);
    for i in ins {
        let address = i64::from_str_radix(&i["address"].as_str().unwrap()[2..], 16).unwrap();
        let line = format!(
            "{address:8x}:\t{}\t{}",
            i["instructionBytes"].as_str().unwrap(),
            i["instruction"].as_str().unwrap()
        );
        assert!(listing.lines().any(|l| l == line), "{line:?} not in\n{listing}");
    }
    assert_eq!(ins[0]["symbol"], "dbg::double");
    assert_eq!(ins[0]["line"], 9);
    // Outside the code: invalid entries, as DAP asks.
    let outside =
        request(&mut s, "disassemble", json!({ "memoryReference": "0x0", "instructionCount": 1 }));
    assert_eq!(outside["instructions"][0]["presentationHint"], "invalid");

    // Registers: the argument is in a0 (x = 3000, the host's price).
    let regs = scope(&mut s, "Registers");
    assert_eq!(
        var(&regs, "pc"),
        format!("0x{:08x}", u32::from_str_radix(&bp_pc[2..], 16).unwrap())
    );
    assert_eq!(var(&regs, "a0"), "0x00000bb8 (3000)");
    let run = scope(&mut s, "Run");
    let at_break: u64 = var(&run, "instructions").parse().unwrap();
    assert_eq!(var(&run, "effects"), "2");

    // One instruction forward, one back: the same place and count.
    let stop = motion(&mut s, "next", json!({ "threadId": 1, "granularity": "instruction" }));
    assert_eq!(stop["reason"], "step");
    let after: u64 = var(&scope(&mut s, "Run"), "instructions").parse().unwrap();
    assert_eq!(after, at_break + 1);
    assert_ne!(pc(&mut s), bp_pc);
    let stop = motion(&mut s, "stepBack", json!({ "threadId": 1, "granularity": "instruction" }));
    assert_eq!(stop["reason"], "step");
    assert_eq!(pc(&mut s), bp_pc);
    assert_eq!(var(&scope(&mut s, "Run"), "instructions"), at_break.to_string());

    // Back by lines, over the Observe and the Log: their effects are taken back.
    let mut lines = Vec::new();
    loop {
        let stop = motion(&mut s, "stepBack", json!({ "threadId": 1 }));
        if stop["reason"] == "entry" {
            break;
        }
        lines.push(frames(&mut s)[0].1);
        assert!(lines.len() < 20, "{lines:?}");
    }
    assert!(lines.contains(&3) && lines.contains(&2), "{lines:?}");
    let run = scope(&mut s, "Run");
    assert_eq!((var(&run, "instructions"), var(&run, "effects")), ("0".into(), "0".into()));

    // Forward again to the breakpoint (the effects answered as recorded), then the end.
    let stop = motion(&mut s, "continue", json!({ "threadId": 1 }));
    assert_eq!(stop["reason"], "breakpoint");
    assert_eq!(var(&scope(&mut s, "Run"), "instructions"), at_break.to_string());
    assert_eq!(var(&scope(&mut s, "Registers"), "a0"), "0x00000bb8 (3000)");
    let stop = motion(&mut s, "continue", json!({ "threadId": 1 }));
    assert_eq!(stop["reason"], "end", "{stop:#}");
    assert!(stop["description"].as_str().unwrap().ends_with("dbg::main → 6001"), "{stop:#}");
    // From the end, back to the breakpoint.
    let stop = motion(&mut s, "reverseContinue", json!({ "threadId": 1 }));
    assert_eq!(stop["reason"], "breakpoint");
    assert_eq!(pc(&mut s), bp_pc);
    motion(&mut s, "continue", json!({ "threadId": 1 }));
    // `continue` at the end ends the session.
    request(&mut s, "continue", json!({ "threadId": 1 }));
    assert_eq!(s.client.event("exited").unwrap()["body"]["exitCode"], 0);
    s.client.event("terminated").unwrap();
    // The Log line was shown once, however often the run passed it.
    let outputs = s.client.take_events("output");
    let stdout: Vec<&str> = outputs
        .iter()
        .filter(|o| o["body"]["category"] == "stdout")
        .map(|o| o["body"]["output"].as_str().unwrap())
        .collect();
    assert_eq!(stdout, ["start\n"]);
    request(&mut s, "disconnect", json!({}));
}

#[test]
fn a_program_outside_the_subset_is_refused_with_its_place() {
    let mut s = spawn("fn main() -> String {\n    \"text\"\n}\n");
    request(&mut s, "initialize", json!({ "adapterID": "tel" }));
    let r =
        s.client.request("launch", json!({ "program": "dbg.tel", "backend": "riscv" })).unwrap();
    assert_eq!(r["success"], false);
    let message = r["message"].as_str().unwrap();
    assert!(message.contains("outside the RISC-V subset"), "{message}");
    assert!(message.contains("dbg.tel:1:"), "{message}");
    let r = s.client.request("launch", json!({ "program": "dbg.tel", "backend": "arm" })).unwrap();
    assert_eq!(r["message"], "launch: backend: no backend `arm`: expected vm or riscv");
}

#[test]
fn an_error_stops_the_run_and_stepping_back_leaves_it() {
    let program = "fn main() -> Int ! {Log} {\n    perform Log(\"before\");\n    grow(9223372036854775800)\n}\n\nfn grow(n: Int) -> Int {\n    n + 10\n}\n";
    let mut s = spawn(program);
    request(&mut s, "initialize", json!({ "adapterID": "tel" }));
    request(
        &mut s,
        "launch",
        json!({ "program": "dbg.tel", "backend": "riscv", "stopOnEntry": false }),
    );
    s.client.event("initialized").unwrap();
    request(&mut s, "configurationDone", Json::Null);
    let stop = s.client.event("stopped").unwrap()["body"].clone();
    assert_eq!(stop["reason"], "exception", "{stop:#}");
    assert_eq!(stop["description"], "integer overflow in +");
    // The program's Log line was shown once, when the run passed it.
    let logs: Vec<Json> = s.client.take_events("output");
    let stdout: Vec<&str> = logs
        .iter()
        .filter(|o| o["body"]["category"] == "stdout")
        .map(|o| o["body"]["output"].as_str().unwrap())
        .collect();
    assert_eq!(stdout, ["before\n"]);
    // `grow` is a tail call: it took main's frame, as on the VM.
    assert_eq!(frames(&mut s), [("dbg::grow".to_string(), 7)]);
    // Forward again: the same error, nothing runs.
    let at_error = var(&scope(&mut s, "Run"), "instructions");
    let stop = motion(&mut s, "next", json!({ "threadId": 1, "granularity": "instruction" }));
    assert_eq!(stop["reason"], "exception");
    assert_eq!(var(&scope(&mut s, "Run"), "instructions"), at_error);
    // Back one instruction: out of the error, at the trap's branch.
    let stop = motion(&mut s, "stepBack", json!({ "threadId": 1, "granularity": "instruction" }));
    assert_eq!(stop["reason"], "step");
    assert_eq!(stop.get("description"), None, "{stop:#}");
    // And forward into it again.
    let stop = motion(&mut s, "continue", json!({ "threadId": 1 }));
    assert_eq!(stop["reason"], "exception");
    // The end of a failed run: exit code 3, as `tel run`.
    request(&mut s, "continue", json!({ "threadId": 1 }));
    assert_eq!(s.client.event("exited").unwrap()["body"]["exitCode"], 3);
}

/// A RISC-V launch in a folder with a codebase takes its compiled functions from there and
/// keeps what it compiled, so the next adapter process compiles nothing; the console says
/// where each function came from.
#[test]
fn a_launch_shares_the_codebase_s_compiled_functions() {
    let compiled_line = |s: &mut Session| -> String {
        s.take_events("output")
            .iter()
            .filter_map(|e| e["body"]["output"].as_str())
            .find(|o| o.starts_with("compiled to RV32IM"))
            .unwrap_or_else(|| panic!("no compile line"))
            .to_string()
    };
    let start = |dir: tempfile::TempDir| -> Session {
        let mut s = support::dap(dir);
        request(&mut s, "initialize", json!({ "adapterID": "tel", "linesStartAt1": true }));
        let program = path(&s);
        request(
            &mut s,
            "launch",
            json!({ "program": program, "backend": "riscv", "host": "host.json",
                    "codebase": "cb.sqlite", "stopOnEntry": true }),
        );
        s.client.event("initialized").unwrap();
        s
    };
    let dir = folder(PROGRAM);
    // The codebase, made by a VM run (which compiles nothing).
    let out = support::tel_in(
        dir.path(),
        &["run", "dbg.tel", "--host", "host.json", "--codebase", "cb.sqlite"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);

    let mut s = start(dir);
    let first = compiled_line(&mut s);
    assert!(first.contains("(2 compiled, 0 from the cache, 0 from the codebase)"), "{first}");
    let dir = std::mem::replace(&mut s.dir, tempfile::tempdir().unwrap());
    drop(s);
    let mut s = start(dir);
    let second = compiled_line(&mut s);
    assert!(second.contains("(0 compiled, 0 from the cache, 2 from the codebase)"), "{second}");
}
