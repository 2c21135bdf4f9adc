//! `tel debug` end to end: the real binary driven by a script on stdin (a pipe, no
//! terminal), its whole transcript compared; sessions kept in a codebase and resumed by
//! another process.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use expect_test::expect;
use support::repo;

/// Runs `tel debug ARGS` in the repository with `script` on stdin; returns the exit code
/// and stdout + stderr.
fn debug(args: &[&str], script: &str, env: &[(&str, &Path)]) -> (i32, String) {
    let mut cmd = support::command(&repo(), &["debug"]);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child =
        cmd.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap()
    );
    (out.status.code().unwrap(), text)
}

#[test]
fn a_scripted_session_through_treasury() {
    let script = "\
next
next
print start
print start.balances
bt
step
step
locals
back
jump 20
effect Deposit 2
print ledger.balances[\"ETH\"] + amount
ledger
next
ledger
diff 36 82
break 16 if amount > 1000
break credit
breaks
continue
continue
print raw
print amount * 3
continue
rc
rc
delete 2
continue
bt
out
timeline 120 140
effect Withdraw 9
fork 0 refuse closed
continue
timelines
switch 0
fork 150 args [\"ETH\", 1]
continue
switch 0
where
print nope
frobnicate
quit
next
";
    let (code, out) = debug(&["fixtures/valid/treasury.tel"], script, &[]);
    expect![[r#"
        debugging treasury::main: 308 instructions, 10 host effects; the run returned Ledger { balances: {"ETH": 29940, "USDC": 999899}, fees_collected: 61 }
        @0/308 [entry] treasury::main #vgb2cq4f at fixtures/valid/treasury.tel:75:38
           75 |     let balances: Map<String, Int> = empty_map();
        (tel) next
        @1/308 treasury::main #vgb2cq4f at fixtures/valid/treasury.tel:76:37
           76 |     let start: Ledger = { balances: balances, fees_collected: 0 };
        (tel) next
        @4/308 treasury::main #vgb2cq4f at fixtures/valid/treasury.tel:78:12
           78 |         In("ETH", 50_000),
        (tel) print start
        Ledger { balances: {}, fees_collected: 0 }
        (tel) print start.balances
        {}
        (tel) bt
        #0 treasury::main #vgb2cq4f at fixtures/valid/treasury.tel:78:12
        (tel) step
        @20/308 treasury::main #vgb2cq4f at fixtures/valid/treasury.tel:84:20
           84 |     let end = fold(moves, start, |l: Ledger, m: Movement| apply(l, m));
        (tel) step
        @25/308 treasury::main/lambda #vgb2cq4f at fixtures/valid/treasury.tel:84:65
           84 |     let end = fold(moves, start, |l: Ledger, m: Movement| apply(l, m));
        (tel) locals
        l = Ledger { balances: {}, fees_collected: 0 }
        m = In("ETH", 50000)
        (tel) back
        @20/308 treasury::main #vgb2cq4f at fixtures/valid/treasury.tel:84:20
           84 |     let end = fold(moves, start, |l: Ledger, m: Movement| apply(l, m));
        (tel) jump 20
        @20/308 [goto] treasury::main #vgb2cq4f at fixtures/valid/treasury.tel:84:20
           84 |     let end = fold(moves, start, |l: Ledger, m: Movement| apply(l, m));
        (tel) effect Deposit 2
        log: deposit 50000 ETH
        @82/308 [goto] treasury::deposit #j209pabo at fixtures/valid/treasury.tel:45:5 — effect 2 of Deposit: Deposit("USDC", 1000000) at 0ms -> ()
           45 |     perform Deposit(asset, amount);
        (tel) print ledger.balances["ETH"] + amount
        1050000
        (tel) ledger
        "ETH" = 50000
        (tel) next
        @84/308 treasury::deposit #j209pabo at fixtures/valid/treasury.tel:46:17
           46 |     perform Log("deposit " ++ show(amount) ++ " " ++ asset);
        (tel) ledger
        "ETH" = 50000
        "USDC" = 1000000
        (tel) diff 36 82
        from @36 to @82:
          treasury::deposit: ledger: Ledger { balances: {}, fees_collected: 0 } -> Ledger { balances: {"ETH": 50000}, fees_collected: 0 }
          treasury::deposit: asset: ETH -> USDC
          treasury::deposit: amount: 50000 -> 1000000
          ledger "ETH": 0 -> 50000
        (tel) break 16 if amount > 1000
        breakpoint 1 at line 16
        (tel) break credit
        breakpoint 2 at line 36
        (tel) breaks
        1: fixtures/valid/treasury.tel:16 if amount > 1000
        2: function credit
        (tel) continue
        log: deposit 1000000 USDC
        @98/308 [function breakpoint] treasury::credit #lnbqap1c at fixtures/valid/treasury.tel:38:26 — breakpoint 2
           38 |         balances: insert(ledger.balances, asset, balance_of(ledger, asset) + amount),
        (tel) continue
        @129/308 [breakpoint] treasury::fee #lbgcdpoe at fixtures/valid/treasury.tel:16:15 — breakpoint 1
           16 |     let raw = amount * fee_bps() / 10_000;
        (tel) print raw
        error: no local `raw` here (locals: amount)
        (tel) print amount * 3
        60000
        (tel) continue
        log: withdraw 20000 ETH (fee 60)
        @195/308 [breakpoint] treasury::fee #lbgcdpoe at fixtures/valid/treasury.tel:16:15 — breakpoint 1
           16 |     let raw = amount * fee_bps() / 10_000;
        (tel) rc
        @129/308 [breakpoint] treasury::fee #lbgcdpoe at fixtures/valid/treasury.tel:16:15 — breakpoint 1
           16 |     let raw = amount * fee_bps() / 10_000;
        (tel) rc
        @98/308 [function breakpoint] treasury::credit #lnbqap1c at fixtures/valid/treasury.tel:38:26 — breakpoint 2
           38 |         balances: insert(ledger.balances, asset, balance_of(ledger, asset) + amount),
        (tel) delete 2
        deleted breakpoint 2
        (tel) continue
        @129/308 [breakpoint] treasury::fee #lbgcdpoe at fixtures/valid/treasury.tel:16:15 — breakpoint 1
           16 |     let raw = amount * fee_bps() / 10_000;
        (tel) bt
        #0 treasury::fee #lbgcdpoe at fixtures/valid/treasury.tel:16:15
        #1 treasury::withdraw #b08akfrb at fixtures/valid/treasury.tel:52:13
        #2 fold [3/5]
        #3 treasury::main #vgb2cq4f at fixtures/valid/treasury.tel:84:15
        (tel) out
        @138/308 treasury::withdraw #b08akfrb at fixtures/valid/treasury.tel:53:27
           53 |     let have = balance_of(ledger, asset);
        (tel) timeline 120 140
        @127     call treasury::withdraw #b08akfrb (tail call)
        @129       call treasury::fee #lbgcdpoe
        @131         call treasury::fee_bps #qp9quvb1
        @133         return
        @138       return
        (tel) effect Withdraw 9
        error: the run has no Withdraw effect number 9: it performed 2
        (tel) fork 0 refuse closed
        timeline 1: the run failed: host effect Deposit failed: closed
        @36/37 [goto] treasury::deposit #j209pabo at fixtures/valid/treasury.tel:45:5 — fork 1 of timeline 0: effect 1 of Deposit refused: closed
           45 |     perform Deposit(asset, amount);
        (tel) continue
        @37/37 [exception] treasury::deposit #j209pabo at fixtures/valid/treasury.tel:45:5 — the run failed: host effect Deposit failed: closed
           45 |     perform Deposit(asset, amount);
        (tel) timelines
         0 treasury::main (@138 of 308)
        *1 fork 1 of timeline 0: effect 1 of Deposit refused: closed (@37 of 37)
        (tel) switch 0
        @138/308 [goto] treasury::withdraw #b08akfrb at fixtures/valid/treasury.tel:53:27 — timeline 0: treasury::main
           53 |     let have = balance_of(ledger, asset);
        (tel) fork 150 args ["ETH", 1]
        timeline 2: the run returned Ledger { balances: {"ETH": 29940, "USDC": 999899}, fees_collected: 61 }
        @152/308 [goto] treasury::withdraw #b08akfrb at fixtures/valid/treasury.tel:58:9 — fork 2 of timeline 0: effect 1 of Withdraw performed with ("ETH", 1)
           58 |         perform Withdraw(asset, amount);
        (tel) continue
        log: withdraw 20000 ETH (fee 60)
        @195/308 [breakpoint] treasury::fee #lbgcdpoe at fixtures/valid/treasury.tel:16:15 — breakpoint 1
           16 |     let raw = amount * fee_bps() / 10_000;
        (tel) switch 0
        @138/308 [goto] treasury::withdraw #b08akfrb at fixtures/valid/treasury.tel:53:27 — timeline 0: treasury::main
           53 |     let have = balance_of(ledger, asset);
        (tel) where
        @138/308 treasury::withdraw #b08akfrb at fixtures/valid/treasury.tel:53:27
           53 |     let have = balance_of(ledger, asset);
        (tel) print nope
        error: no local `nope` here (locals: amount, asset, f, ledger)
        (tel) frobnicate
        error: unknown command `frobnicate` (`help` lists them)
        (tel) quit
    "#]].assert_eq(&out);
    // A failed command makes the exit status 1 (the session went on).
    assert_eq!(code, 1);
}

#[test]
fn a_session_is_kept_and_resumed_in_another_process() {
    let dir = tempfile::tempdir().unwrap();
    let codebase = dir.path().join("codebase.sqlite");
    let env = [("TEL_CODEBASE", codebase.as_path())];
    let (code, out) =
        debug(&["fixtures/valid/treasury.tel"], "effect Withdraw 1\nsave\nquit\n", &env);
    assert_eq!(code, 0, "{out}");
    let id = out
        .lines()
        .find_map(|l| l.strip_prefix("session "))
        .and_then(|l| l.split_whitespace().next())
        .expect("the session id is printed")
        .to_string();
    let (code, listed) = debug(&["--sessions"], "", &env);
    assert_eq!(code, 0, "{listed}");
    assert!(listed.contains(&id), "{listed}");
    // Resumed where it was kept: at the first withdrawal, and it can step back.
    let (code, out) = debug(
        &["fixtures/valid/treasury.tel", "--resume", &id[..8]],
        "locals\nback\nwhere\n",
        &env,
    );
    assert_eq!(code, 0, "{out}");
    let out = out.replace(&id, "ID");
    expect![[r#"
        debugging treasury::main: 308 instructions, 10 host effects; the run returned Ledger { balances: {"ETH": 29940, "USDC": 999899}, fees_collected: 61 }
        resumed session ID at position 152
        @152/308 [goto] treasury::withdraw #b08akfrb at fixtures/valid/treasury.tel:58:9 — resumed at position 152
           58 |         perform Withdraw(asset, amount);
        (tel) locals
        ledger = Ledger { balances: {"ETH": 50000, "USDC": 1000000}, fees_collected: 0 }
        asset = ETH
        amount = 20000
        f = 60
        have = 50000
        (tel) back
        @150/308 treasury::withdraw #b08akfrb at fixtures/valid/treasury.tel:58:26
           58 |         perform Withdraw(asset, amount);
        (tel) where
        @150/308 treasury::withdraw #b08akfrb at fixtures/valid/treasury.tel:58:26
           58 |         perform Withdraw(asset, amount);
    "#]].assert_eq(&out);
    let (code, out) = debug(&["fixtures/valid/treasury.tel", "--resume", "zzzzzzzz"], "", &env);
    assert_eq!(code, 1);
    expect![[r#"
        error: invalid session id `zzzzzzzz`: `z` is not a base32hex digit (0-9, a-v)
    "#]]
    .assert_eq(&out.replace(&codebase.display().to_string(), "CODEBASE"));
}

#[test]
fn a_program_that_cannot_run_is_refused() {
    let (code, out) = debug(&["fixtures/valid/treasury.tel", "--entry", "nope"], "", &[]);
    assert_eq!(code, 1);
    expect![[r#"
        error: no definition `nope` in fixtures/valid/treasury.tel (--entry names the function to run)
    "#]].assert_eq(&out);
    let (code, out) = debug(&["fixtures/valid/nothing.tel"], "", &[]);
    assert_eq!(code, 1);
    expect![[r#"
        error: fixtures/valid/nothing.tel: no such file or folder
    "#]]
    .assert_eq(&out);
}
