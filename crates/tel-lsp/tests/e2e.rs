//! End to end: the real `tel-lsp` binary over stdio, driven by a client the way an editor
//! drives it. Nothing here sleeps or times: the tests wait for the server's messages
//! (`tel/status` says when every change so far is checked).

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};
use tel_lsp::client::LspClient;

const FEES: &str = "module fees

/// The fee for `amount`, in basis points.
pub fn fee(amount: Int) -> Int {
    let rate = 30;
    amount * rate / 10_000
}

fn total(amount: Int) -> Int {
    amount + fee(amount)
}
";

fn uri(path: &Path) -> String {
    format!("file://{}", path.display())
}

struct Session {
    client: LspClient,
    _dir: tempfile::TempDir,
    root: std::path::PathBuf,
}

fn start(files: &[(&str, &str)], utf8: bool) -> Session {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::write(root.join("tel.toml"), "[program]\nname = \"t\"\n").unwrap();
    for (name, text) in files {
        std::fs::write(root.join(name), text).unwrap();
    }
    let mut client = LspClient::spawn(Command::new(env!("CARGO_BIN_EXE_tel-lsp")), json!({}));
    let init = client.initialize(&uri(&root), utf8);
    let expected = if utf8 { "utf-8" } else { "utf-16" };
    assert_eq!(init["capabilities"]["positionEncoding"], json!(expected));
    client.wait_quiescent();
    Session { client, _dir: dir, root }
}

fn change(client: &mut LspClient, uri: &str, version: i32, range: Value, text: &str) {
    client.notify(
        "textDocument/didChange",
        json!({
            "textDocument": {"uri": uri, "version": version},
            "contentChanges": [{"range": range, "text": text}]
        }),
    );
}

fn range(l1: u32, c1: u32, l2: u32, c2: u32) -> Value {
    json!({"start": {"line": l1, "character": c1}, "end": {"line": l2, "character": c2}})
}

#[test]
fn diagnostics_appear_as_you_type_and_clear_when_fixed() {
    let mut s = start(&[("fees.tel", FEES)], false);
    let fees = uri(&s.root.join("fees.tel"));
    s.client.open(&fees, FEES);
    // `amount + fee(amount)` → `amount + fee(amount, 1)`: wrong arity
    let line = FEES.lines().position(|l| l.contains("amount + fee(amount)")).unwrap() as u32;
    let col = FEES.lines().nth(line as usize).unwrap().find(')').unwrap() as u32;
    change(&mut s.client, &fees, 2, range(line, col, line, col), ", 1");
    let diags = s.client.wait_diagnostics(&fees);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(diags[0]["severity"], json!(1));
    assert_eq!(diags[0]["source"], json!("tel"));
    assert_eq!(diags[0]["range"]["start"]["line"], json!(line));
    let message = diags[0]["message"].as_str().unwrap();
    assert!(message.contains("argument"), "{message}");

    // A syntax error on top, typed in two keystrokes: only the latest text is reported.
    change(&mut s.client, &fees, 3, range(line, 0, line, 0), "let");
    change(&mut s.client, &fees, 4, range(line, 3, line, 3), " = ");
    let diags = s.client.wait_diagnostics(&fees);
    assert!(diags.iter().any(|d| d["code"] == json!("E0001")), "{diags:#?}");

    // Undo both: the list is cleared.
    change(&mut s.client, &fees, 5, range(line, 0, line, 6), "");
    change(&mut s.client, &fees, 6, range(line, col, line, col + 3), "");
    let diags = s.client.wait_diagnostics(&fees);
    assert_eq!(diags, Vec::<Value>::new());
    assert_eq!(s.client.shutdown().code(), Some(0));
}

#[test]
fn utf8_and_utf16_clients_edit_after_non_ascii_text_alike() {
    for utf8 in [false, true] {
        let text = "module m\n\nfn f() -> String {\n    \"é😀\" ++ \"x\"\n}\n";
        let mut s = start(&[("m.tel", text)], utf8);
        let m = uri(&s.root.join("m.tel"));
        s.client.open(&m, text);
        // Replace `"x"` (after `"é😀" ++ `) with `1`: a type error whose range must land on
        // the `1` in the client's units.
        let line3 = "    \"é😀\" ++ \"x\"";
        let byte = line3.find("\"x\"").unwrap() as u32;
        let col = if utf8 { byte } else { line3[..byte as usize].encode_utf16().count() as u32 };
        change(&mut s.client, &m, 2, range(3, col, 3, col + 3), "1");
        let diags = s.client.wait_diagnostics(&m);
        assert!(!diags.is_empty(), "utf8={utf8}");
        let d = diags.iter().find(|d| d["range"]["end"]["character"] == json!(col + 1));
        assert!(d.is_some(), "utf8={utf8}: no diagnostic ends after the `1`: {diags:#?}");
    }
}

#[test]
fn bad_input_is_answered_and_the_server_keeps_serving() {
    let mut s = start(&[("fees.tel", FEES)], false);
    let fees = uri(&s.root.join("fees.tel"));

    // Malformed JSON: a parse error response.
    let garbage = "{\"jsonrpc\": \"2.0\", \"id\": 99, \"method\": ";
    s.client.send_raw(format!("Content-Length: {}\r\n\r\n{}", garbage.len(), garbage).as_bytes());
    let parse_error = s.client.response_to(Value::Null);
    assert_eq!(parse_error["error"]["code"], json!(-32700), "{parse_error}");
    // Valid JSON that is no JSON-RPC message: Invalid Request, with the id it had.
    let odd = r#"{"id": 7, "method": 12}"#;
    s.client.send_raw(format!("Content-Length: {}\r\n\r\n{}", odd.len(), odd).as_bytes());
    let invalid = s.client.response(7);
    assert_eq!(invalid["error"]["code"], json!(-32600), "{invalid}");
    // An unknown method: MethodNotFound.
    let unknown = s.client.request("tel/noSuchThing", json!({}));
    assert_eq!(unknown["error"]["code"], json!(-32601), "{unknown}");

    // An edit to a document that was never opened is ignored with a log message.
    let ghost = uri(&s.root.join("ghost.tel"));
    change(&mut s.client, &ghost, 2, range(0, 0, 0, 0), "x");
    let log = s.client.wait_for(|m| m["method"] == "window/logMessage");
    assert!(log["params"]["message"].as_str().unwrap().contains("not open"), "{log}");

    // An edit past the end of the file applies at the end.
    s.client.open(&fees, FEES);
    change(&mut s.client, &fees, 2, range(400, 0, 400, 0), "fn broken( {");
    let diags = s.client.wait_diagnostics(&fees);
    assert!(diags.iter().any(|d| d["code"] == json!("E0001")), "{diags:#?}");

    assert!(s.client.is_running());
    assert_eq!(s.client.shutdown().code(), Some(0));
}

fn pos(line: u32, character: u32) -> Value {
    json!({"line": line, "character": character})
}

/// Line and column of the first `marker` in `text` (ASCII text: bytes are UTF-16 units).
fn find(text: &str, marker: &str) -> (u32, u32) {
    let at = text.find(marker).unwrap_or_else(|| panic!("{marker}"));
    let line = text[..at].matches('\n').count() as u32;
    let col = (at - text[..at].rfind('\n').map_or(0, |i| i + 1)) as u32;
    (line, col)
}

#[test]
fn a_session_of_editor_features() {
    let mut s = start(&[("fees.tel", FEES)], false);
    let fees = uri(&s.root.join("fees.tel"));
    s.client.open(&fees, FEES);
    let doc = json!({"uri": fees});

    // hover on a reference: signature, hash, status, dependents, doc comment
    let (l, c) = find(FEES, "fee(amount)");
    let hover =
        s.client.call("textDocument/hover", json!({"textDocument": doc, "position": pos(l, c)}));
    let markup = hover["contents"]["value"].as_str().unwrap();
    assert!(markup.contains("fn fee(amount: Int) -> Int"), "{markup}");
    assert!(markup.contains("function `fees::fee` · `#"), "{markup}");
    assert!(markup.contains("there is no codebase yet"), "{markup}");
    assert!(markup.contains("1 dependent"), "{markup}");
    assert!(markup.contains("The fee for `amount`"), "{markup}");
    assert_eq!(hover["range"], json!({"start": pos(l, c), "end": pos(l, c + 3)}));

    // inlay hints: hashes after signatures, the type of `rate`
    let all = json!({"start": pos(0, 0), "end": pos(99, 0)});
    let hints = s.client.call("textDocument/inlayHint", json!({"textDocument": doc, "range": all}));
    let labels: Vec<&str> =
        hints.as_array().unwrap().iter().map(|h| h["label"].as_str().unwrap()).collect();
    assert_eq!(labels.len(), 3, "{labels:?}");
    assert!(labels[0].starts_with('#') && labels[0].len() == 9, "{labels:?}");
    assert_eq!(labels[1], ": Int");
    // settings turn hash hints off (pulled through workspace/configuration)
    s.client.notify(
        "workspace/didChangeConfiguration",
        json!({"settings": {"tel": {"inlayHints": {"hashes": false}}}}),
    );
    let hints = s.client.call("textDocument/inlayHint", json!({"textDocument": doc, "range": all}));
    assert!(hints.as_array().unwrap().iter().all(|h| h["label"] == json!(": Int")), "{hints}");

    // code lenses: a hash lens per definition, and Store (there is no codebase yet)
    let lenses = s.client.call("textDocument/codeLens", json!({"textDocument": doc}));
    let titles: Vec<&str> = lenses
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["command"]["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles.len(), 4, "{titles:?}");
    assert!(titles[0].starts_with('#') && titles[0].ends_with("· 1 dependent"), "{titles:?}");
    assert_eq!((titles[1], titles[3]), ("Store", "Store"), "{titles:?}");

    // go to definition, references, highlight
    let def = s
        .client
        .call("textDocument/definition", json!({"textDocument": doc, "position": pos(l, c)}));
    let (dl, dc) = find(FEES, "fee(amount: Int)");
    assert_eq!(def[0]["targetUri"], json!(fees));
    assert_eq!(def[0]["targetSelectionRange"]["start"], pos(dl, dc));
    let refs = s.client.call(
        "textDocument/references",
        json!({"textDocument": doc, "position": pos(l, c), "context": {"includeDeclaration": true}}),
    );
    assert_eq!(refs.as_array().unwrap().len(), 2, "{refs}");
    let hl = s.client.call(
        "textDocument/documentHighlight",
        json!({"textDocument": doc, "position": pos(l, c)}),
    );
    assert_eq!(hl.as_array().unwrap().len(), 2, "{hl}");

    // symbols, folding, semantic tokens
    let symbols = s.client.call("textDocument/documentSymbol", json!({"textDocument": doc}));
    let names: Vec<&str> =
        symbols.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["fees", "fee", "total"]);
    let folds = s.client.call("textDocument/foldingRange", json!({"textDocument": doc}));
    assert!(folds.as_array().unwrap().len() >= 2, "{folds}");
    let tokens = s.client.call("textDocument/semanticTokens/full", json!({"textDocument": doc}));
    let data = tokens["data"].as_array().unwrap();
    assert_eq!(data.len() % 5, 0);
    assert!(data.len() / 5 > 20, "{tokens}");

    // a position past the end of the file is an error, and the server goes on
    let bad = s
        .client
        .request("textDocument/hover", json!({"textDocument": doc, "position": pos(500, 0)}));
    assert_eq!(bad["error"]["code"], json!(-32602), "{bad}");
    assert!(bad["error"]["message"].as_str().unwrap().contains("past the end"), "{bad}");
    let unknown = s.client.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": "file:///nowhere.tel"}, "position": pos(0, 0)}),
    );
    assert_eq!(unknown["error"]["code"], json!(-32602), "{unknown}");
    let hover =
        s.client.call("textDocument/hover", json!({"textDocument": doc, "position": pos(l, c)}));
    assert!(hover["contents"]["value"].as_str().unwrap().contains("fees::fee"));
    assert_eq!(s.client.shutdown().code(), Some(0));
}

/// Stores `fees::fee` of `FEES` in `<root>/.tel/codebase.sqlite`; returns its hash.
fn store_fee(root: &Path) -> tel_hash::CodeHash {
    let mut host = tel_ide::AnalysisHost::default();
    let ids =
        host.add_project(Some(root.to_path_buf()), vec![(root.join("fees.tel"), FEES.to_owned())]);
    let member = host.analysis().hashed(ids[0], "fee").unwrap().unwrap();
    let mut store = tel_store::Store::open(root.join(".tel/codebase.sqlite")).unwrap();
    let def = tel_store::NewDefinition {
        hash: member.hash,
        component: None,
        kind: tel_hash::core::DefKind::Fn,
        name: "fees::fee".into(),
        canonical: member.bytes.clone(),
        source:
            "pub fn fee(amount: Int) -> Int {\n    let rate = 30;\n    amount * rate / 10_000\n}"
                .into(),
        dependencies: Vec::new(),
    };
    store.add_definitions(&[def], "e2e").unwrap();
    member.hash
}

#[test]
fn the_codebase_in_the_editor_and_custom_requests() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::write(root.join("tel.toml"), "[program]\nname = \"t\"\n").unwrap();
    std::fs::write(root.join("fees.tel"), FEES).unwrap();
    let stored = store_fee(&root);
    let user = format!(
        "module user\n\nfn twice(x: Int) -> Int {{\n    #{}(x) * 2\n}}\n",
        stored.prefix_str(10)
    );
    std::fs::write(root.join("user.tel"), &user).unwrap();

    let mut client = LspClient::spawn(Command::new(env!("CARGO_BIN_EXE_tel-lsp")), json!({}));
    client.initialize(&uri(&root), false);
    client.wait_quiescent();
    let fees = uri(&root.join("fees.tel"));
    let users = uri(&root.join("user.tel"));
    client.open(&fees, FEES);
    client.wait_quiescent();
    let (l, c) = find(FEES, "fee(amount: Int)");
    let at_fee = json!({"textDocument": {"uri": fees}, "position": pos(l, c)});

    let of = client.call("tel/hashOf", at_fee.clone());
    assert_eq!(of["status"], json!("stored"), "{of}");
    assert_eq!(of["hash"], json!(stored.to_base32hex()));
    let hover = client.call("textDocument/hover", at_fee.clone());
    assert!(hover["contents"]["value"].as_str().unwrap().contains("**stored**"), "{hover}");

    // edit the body: the name now points at an older hash
    let (bl, bc) = find(FEES, "30;");
    change(&mut client, &fees, 2, range(bl, bc, bl, bc + 2), "40");
    client.wait_quiescent();
    let of = client.call("tel/hashOf", at_fee.clone());
    assert_eq!(of["status"], json!("changed"), "{of}");
    assert_eq!(of["storedHash"], json!(stored.to_base32hex()));
    assert_ne!(of["hash"], json!(stored.to_base32hex()));

    // workspace symbols: the edited source, and the stored definition it no longer matches
    let symbols = client.call("workspace/symbol", json!({"query": "fees::fee"}));
    let uris: Vec<&str> = symbols
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["location"]["uri"].as_str().unwrap())
        .collect();
    assert_eq!(uris, [fees.clone(), format!("tel-store:///{}.tel", stored.to_base32hex())]);

    // dependents: `total` in the workspace
    let deps = client.call("tel/dependents", at_fee.clone());
    assert_eq!(deps["workspace"][0]["name"], json!("fees::total"), "{deps}");
    assert_eq!(deps["workspace"][0]["location"]["uri"], json!(fees));

    // a `#hash` reference: definition in the store, viewable, with hover and history
    let (hl, hc) = find(&user, "#");
    let at_hash = json!({"textDocument": {"uri": users}, "position": pos(hl, hc + 1)});
    let def = client.call("textDocument/definition", at_hash.clone());
    let target = def[0]["targetUri"].as_str().unwrap().to_owned();
    assert_eq!(target, format!("tel-store:///{}.tel", stored.to_base32hex()));
    let view = client.call("tel/viewDefinition", json!({"uri": target}));
    let text = view["text"].as_str().unwrap();
    assert!(text.contains("named fees::fee") && text.contains("let rate = 30;"), "{text}");
    let hover = client.call("textDocument/hover", at_hash.clone());
    assert!(hover["contents"]["value"].as_str().unwrap().contains("stored function"), "{hover}");
    let history = client.call("tel/history", json!({"name": "fees::fee"}));
    assert_eq!(history["events"][0]["action"], json!("bind"), "{history}");
    let prelude = client.call("tel/viewDefinition", json!({"uri": "tel-store:///prelude.tel"}));
    assert!(prelude["text"].as_str().unwrap().contains("pub effect Log"));
    let bad = client.request("tel/viewDefinition", json!({"uri": "tel-store:///nothing.tel"}));
    assert_eq!(bad["error"]["code"], json!(-32602), "{bad}");

    // the store file is deleted: the server says so and keeps serving
    std::fs::remove_dir_all(root.join(".tel")).unwrap();
    let gone = uri(&root.join(".tel/codebase.sqlite"));
    client
        .notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": gone, "type": 3}]}));
    let diags = client.wait_diagnostics(&users);
    assert!(!diags.is_empty(), "the #hash reference no longer resolves: {diags:?}");
    let of = client.call("tel/hashOf", at_fee.clone());
    assert_eq!(of["status"], json!("new"), "{of}");
    assert_eq!(client.shutdown().code(), Some(0));
}

#[test]
fn rename_moves_the_name_pointer_and_changes_no_hash() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::write(root.join("tel.toml"), "[program]\nname = \"t\"\n").unwrap();
    std::fs::write(root.join("fees.tel"), FEES).unwrap();
    let stored = store_fee(&root);
    let mut client = LspClient::spawn(Command::new(env!("CARGO_BIN_EXE_tel-lsp")), json!({}));
    client.initialize(&uri(&root), false);
    client.wait_quiescent();
    let fees = uri(&root.join("fees.tel"));
    client.open(&fees, FEES);
    client.wait_quiescent();
    let (l, c) = find(FEES, "fee(amount)");
    let at = json!({"textDocument": {"uri": fees}, "position": pos(l, c)});
    let total_at = {
        let (l, c) = find(FEES, "total(amount");
        json!({"textDocument": {"uri": fees}, "position": pos(l, c)})
    };
    let total_before = client.call("tel/hashOf", total_at.clone())["hash"].clone();

    let prepared = client.call("textDocument/prepareRename", at.clone());
    assert_eq!(prepared["placeholder"], json!("fee"), "{prepared}");
    // refused: a collision, with the reason
    let refused = client.request(
        "textDocument/rename",
        json!({"textDocument": {"uri": fees}, "position": pos(l, c), "newName": "total"}),
    );
    assert_eq!(refused["error"]["code"], json!(-32602), "{refused}");
    assert!(
        refused["error"]["message"].as_str().unwrap().contains("already has a `total`"),
        "{refused}"
    );

    let edit = client.call(
        "textDocument/rename",
        json!({"textDocument": {"uri": fees}, "position": pos(l, c), "newName": "fee_bps"}),
    );
    let message = client.wait_for(|m| m["method"] == "window/showMessage");
    let text = message["params"]["message"].as_str().unwrap();
    assert!(
        text.starts_with(&format!(
            "renamed fee → fee_bps: hash #{} unchanged, 0 definitions rehashed",
            stored.short()
        )),
        "{text}"
    );
    // apply the edit as the editor would, last edit first
    let mut edits: Vec<Value> = edit["changes"][&fees].as_array().unwrap().clone();
    assert_eq!(edits.len(), 2, "{edit}");
    edits.sort_by_key(|e| {
        std::cmp::Reverse((
            e["range"]["start"]["line"].as_u64(),
            e["range"]["start"]["character"].as_u64(),
        ))
    });
    let changes: Vec<Value> =
        edits.iter().map(|e| json!({"range": e["range"], "text": e["newText"]})).collect();
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": fees, "version": 2}, "contentChanges": changes}),
    );
    client.wait_quiescent();

    let of = client.call("tel/hashOf", at.clone());
    assert_eq!(of["name"], json!("fees::fee_bps"), "{of}");
    assert_eq!(of["hash"], json!(stored.to_base32hex()), "the hash is unchanged");
    assert_eq!(of["status"], json!("stored"), "the pointer moved with the name: {of}");
    assert_eq!(
        client.call("tel/hashOf", total_at)["hash"],
        total_before,
        "dependents keep their hash"
    );
    let history = client.call("tel/history", json!({"name": "fees::fee_bps"}));
    assert_eq!(history["events"][0]["action"], json!("rename"), "{history}");
    assert_eq!(history["events"][0]["old_name"], json!("fees::fee"), "{history}");
    assert_eq!(client.shutdown().code(), Some(0));
}

#[test]
fn references_include_stored_dependents_the_workspace_does_not_have() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    std::fs::write(root.join("tel.toml"), "[program]\nname = \"t\"\n").unwrap();
    std::fs::write(root.join("fees.tel"), FEES).unwrap();
    let fee = store_fee(&root);
    // Two stored users of `fee`: `total` as the workspace has it (under another name), and
    // an older function no source has any more.
    let archive = "module archive\nuse fees::{fee}\nfn old_total(amount: Int) -> Int {\n    fee(amount) * 2\n}\n";
    let mut host = tel_ide::AnalysisHost::default();
    let ids = host.add_project(
        Some(root.clone()),
        vec![
            (root.join("fees.tel"), FEES.to_owned()),
            (root.join("archive.tel"), archive.to_owned()),
        ],
    );
    let analysis = host.analysis();
    let mut store = tel_store::Store::open(root.join(".tel/codebase.sqlite")).unwrap();
    let mut old_total = None;
    for (file, name, stored_as) in
        [(ids[0], "total", "archive::total"), (ids[1], "old_total", "archive::old_total")]
    {
        let member = analysis.hashed(file, name).unwrap().unwrap();
        let def = tel_store::NewDefinition {
            hash: member.hash,
            component: None,
            kind: tel_hash::core::DefKind::Fn,
            name: stored_as.into(),
            canonical: member.bytes.clone(),
            source: format!("fn {name}(amount: Int) -> Int"),
            dependencies: vec![fee],
        };
        store.add_definitions(&[def], "e2e").unwrap();
        old_total = Some(member.hash);
    }
    drop(store);

    let mut client = LspClient::spawn(Command::new(env!("CARGO_BIN_EXE_tel-lsp")), json!({}));
    client.initialize(&uri(&root), false);
    client.wait_quiescent();
    let fees = uri(&root.join("fees.tel"));
    let (l, c) = find(FEES, "fee(amount: Int)");
    let refs = client.call(
        "textDocument/references",
        json!({"textDocument": {"uri": fees}, "position": pos(l, c), "context": {"includeDeclaration": false}}),
    );
    let uris: Vec<&str> =
        refs.as_array().unwrap().iter().map(|r| r["uri"].as_str().unwrap()).collect();
    let stored = format!("tel-store:///{}.tel", old_total.unwrap().to_base32hex());
    assert_eq!(uris, [fees.as_str(), stored.as_str()], "{refs}");
    assert_eq!(client.shutdown().code(), Some(0));
}

#[test]
fn files_changed_on_disk_are_picked_up() {
    let main = "module main\nuse rates::{rate}\n\nfn f(x: Int) -> Int {\n    x * rate()\n}\n";
    let mut s = start(&[], false);
    // a file written after the server started, then opened
    std::fs::write(s.root.join("main.tel"), main).unwrap();
    let main_uri = uri(&s.root.join("main.tel"));
    s.client.open(&main_uri, main);
    let diags = s.client.wait_diagnostics(&main_uri);
    assert!(!diags.is_empty(), "module `rates` does not exist yet");

    // A new module appears on disk: the import resolves.
    let rates = s.root.join("rates.tel");
    std::fs::write(&rates, "module rates\n\npub fn rate() -> Int {\n    3\n}\n").unwrap();
    s.client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(&rates), "type": 1}]}),
    );
    assert_eq!(s.client.wait_diagnostics(&main_uri), Vec::<Value>::new());

    // It changes on disk (not open in the editor): the change is read.
    std::fs::write(&rates, "module rates\n\npub fn rate() -> Bool {\n    true\n}\n").unwrap();
    s.client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(&rates), "type": 2}]}),
    );
    let diags = s.client.wait_diagnostics(&main_uri);
    assert!(!diags.is_empty(), "Int * Bool is a type error");

    // It is deleted: the import fails again.
    std::fs::remove_file(&rates).unwrap();
    s.client.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": uri(&rates), "type": 3}]}),
    );
    let diags = s.client.wait_diagnostics(&main_uri);
    assert!(diags.iter().any(|d| d["message"].as_str().unwrap().contains("rates")), "{diags:?}");
    assert_eq!(s.client.shutdown().code(), Some(0));
}

/// Waits until every change after `generation` is checked; returns the new generation.
fn settled_after(client: &mut LspClient, generation: u64) -> u64 {
    let status = client.wait_for(|m| {
        m["method"] == "tel/status"
            && m["params"]["quiescent"] == json!(true)
            && m["params"]["generation"].as_u64() > Some(generation)
    });
    status["params"]["generation"].as_u64().unwrap()
}

/// The text after applying LSP text edits (ASCII text: columns are bytes).
fn apply(text: &str, edits: &[Value]) -> String {
    let offset = |p: &Value| {
        let (line, col) = (p["line"].as_u64().unwrap() as usize, p["character"].as_u64().unwrap());
        let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        start + col as usize
    };
    let mut edits: Vec<(usize, usize, &str)> = edits
        .iter()
        .map(|e| {
            (
                offset(&e["range"]["start"]),
                offset(&e["range"]["end"]),
                e["newText"].as_str().unwrap(),
            )
        })
        .collect();
    edits.sort_by_key(|(s, _, _)| std::cmp::Reverse(*s));
    let mut out = text.to_owned();
    for (s, e, new) in edits {
        out.replace_range(s..e, new);
    }
    out
}

fn replace_all(client: &mut LspClient, uri: &str, version: i32, text: &str) {
    client.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]}),
    );
}

#[test]
fn completion_and_signature_help_in_code_being_typed() {
    let mut s = start(&[("fees.tel", FEES)], false);
    let fees = uri(&s.root.join("fees.tel"));
    s.client.open(&fees, FEES);
    let doc = json!({"uri": fees});

    // `total`'s body half typed: `amount + fe`, no closing parenthesis anywhere.
    let typing = FEES.replace("amount + fee(amount)", "amount + fe");
    replace_all(&mut s.client, &fees, 2, &typing);
    let (l, c) = find(&typing, "amount + fe");
    let at = pos(l, c + "amount + fe".len() as u32);
    let list =
        s.client.call("textDocument/completion", json!({"textDocument": doc, "position": at}));
    let items = list["items"].as_array().unwrap();
    let fee = items.iter().find(|i| i["label"] == json!("fee")).expect("fee is offered");
    assert_eq!(fee["kind"], json!(3), "a function: {fee}");
    assert_eq!(fee["detail"], json!("fn fee(amount: Int) -> Int"));
    let short = fee["labelDetails"]["description"].as_str().unwrap();
    assert!(short.starts_with('#') && short.len() == 9, "{fee}");
    assert_eq!(fee["textEdit"]["range"]["start"], pos(l, c + "amount + ".len() as u32));
    assert_eq!(fee["textEdit"]["newText"], json!("fee"));
    assert!(fee["documentation"]["value"].as_str().unwrap().contains("basis points"));
    // The parameter comes first, keywords last.
    assert_eq!(items[0]["label"], json!("amount"), "{list}");
    assert_eq!(items.last().unwrap()["kind"], json!(14), "{list}");
    // The hash is the one the definition has.
    let (dl, dc) = find(FEES, "fee(amount: Int)");
    let of = s.client.call("tel/hashOf", json!({"textDocument": doc, "position": pos(dl, dc)}));
    assert_eq!(short, format!("#{}", of["short"].as_str().unwrap()));

    // After `perform `: the effects, the prelude's among them.
    let typing = FEES.replace("amount + fee(amount)", "perform ");
    replace_all(&mut s.client, &fees, 3, &typing);
    let (l, c) = find(&typing, "perform ");
    let at = pos(l, c + 8);
    let list =
        s.client.call("textDocument/completion", json!({"textDocument": doc, "position": at}));
    let log = list["items"].as_array().unwrap().iter().find(|i| i["label"] == json!("Log"));
    assert_eq!(log.expect("Log")["detail"], json!("effect Log(message: String) -> ()"));

    // Signature help inside `fee(` with its `)` not typed yet.
    let typing = FEES.replace("amount + fee(amount)", "amount + fee(");
    replace_all(&mut s.client, &fees, 4, &typing);
    let (l, c) = find(&typing, "fee(\n");
    let help = s.client.call(
        "textDocument/signatureHelp",
        json!({"textDocument": doc, "position": pos(l, c + 4)}),
    );
    assert_eq!(help["signatures"][0]["label"], json!("fee(amount: Int) -> Int"), "{help}");
    assert_eq!(help["signatures"][0]["parameters"][0]["label"], json!([4, 15]));
    assert_eq!(help["activeParameter"], json!(0));
    assert_eq!(s.client.shutdown().code(), Some(0));
}

#[test]
fn code_actions_fix_the_effect_row_and_match_arms() {
    let text = "module shop\n\nenum Side { Buy, Sell }\n\nfn total(amount: Int, side: Side) -> Int {\n    perform Log(\"total\");\n    match side {\n        Buy => amount,\n    }\n}\n";
    let mut s = start(&[("shop.tel", "module shop\n")], false);
    let shop = uri(&s.root.join("shop.tel"));
    s.client.open(&shop, "module shop\n");
    replace_all(&mut s.client, &shop, 1, text);
    let diags = s.client.wait_diagnostics(&shop);
    assert_eq!(diags.len(), 2, "{diags:#?}");
    let mut current = text.to_owned();
    let mut version = 1;
    for code in ["E0301", "E0401"] {
        let diag = diags.iter().find(|d| d["code"] == json!(code)).unwrap().clone();
        let actions = s.client.call(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": shop}, "range": diag["range"],
                   "context": {"diagnostics": [diag], "only": ["quickfix"]}}),
        );
        let actions = actions.as_array().unwrap();
        assert_eq!(actions.len(), 1, "{actions:#?}");
        assert_eq!(actions[0]["kind"], json!("quickfix"));
        assert_eq!(actions[0]["diagnostics"][0]["code"], json!(code));
        let edits = actions[0]["edit"]["changes"][&shop].as_array().unwrap().clone();
        current = apply(&current, &edits);
        version += 1;
        replace_all(&mut s.client, &shop, version, &current);
        let after = s.client.wait_diagnostics(&shop);
        assert!(after.iter().all(|d| d["code"] != json!(code)), "{after:#?}\n{current}");
    }
    assert!(current.contains("-> Int ! {Log} {"), "{current}");
    assert!(current.contains("Sell => 0, // TODO: handle `Sell`"), "{current}");
    assert_eq!(s.client.shutdown().code(), Some(0));
}

#[test]
fn store_lens_and_action_store_through_the_server() {
    let mut s = start(&[("fees.tel", FEES)], false);
    let fees = uri(&s.root.join("fees.tel"));
    s.client.open(&fees, FEES);
    let generation = s.client.wait_quiescent()["params"]["generation"].as_u64().unwrap();
    let doc = json!({"uri": fees});
    // No codebase yet: both definitions are new, each has a Store lens.
    let lenses = s.client.call("textDocument/codeLens", json!({"textDocument": doc}));
    let stores: Vec<&Value> = lenses
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["command"]["command"] == json!("tel.storeAdd"))
        .collect();
    assert_eq!(stores.len(), 2, "{lenses:#?}");
    assert_eq!(stores[0]["command"]["title"], json!("Store"));
    let command = stores[0]["command"].clone();
    assert_eq!(command["arguments"][0]["name"], json!("fees::fee"));

    // The lens's command, as the editor runs it: the codebase is created, `fee` stored.
    let report = s.client.call(
        "workspace/executeCommand",
        json!({"command": command["command"], "arguments": command["arguments"]}),
    );
    assert_eq!(report["new"], json!(1), "{report}");
    assert!(report["codebase"].as_str().unwrap().ends_with(".tel/codebase.sqlite"), "{report}");
    let message = s.client.wait_for(|m| m["method"] == "window/showMessage");
    assert!(message["params"]["message"].as_str().unwrap().starts_with("stored fees::fee #"));
    settled_after(&mut s.client, generation);
    let (l, c) = find(FEES, "fee(amount: Int)");
    let of = s.client.call("tel/hashOf", json!({"textDocument": doc, "position": pos(l, c)}));
    assert_eq!(of["status"], json!("stored"), "{of}");
    let history = s.client.call("tel/history", json!({"name": "fees::fee"}));
    assert_eq!(history["events"][0]["action"], json!("bind"), "{history}");
    let lenses = s.client.call("textDocument/codeLens", json!({"textDocument": doc}));
    let stores = lenses
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["command"]["command"] == json!("tel.storeAdd"))
        .count();
    assert_eq!(stores, 1, "only `total` is left to store: {lenses:#?}");

    // The code action on `total` stores it too (`fee` is there already: unchanged).
    let (l, c) = find(FEES, "amount + fee");
    let actions = s.client.call(
        "textDocument/codeAction",
        json!({"textDocument": doc, "range": {"start": pos(l, c), "end": pos(l, c)},
               "context": {"diagnostics": []}}),
    );
    let store =
        actions.as_array().unwrap().iter().find(|a| a["kind"] == json!("source.tel.storeAdd"));
    let store = store.expect("a store action").clone();
    assert_eq!(store["title"], json!("Store `fees::total` in the codebase"));
    let report = s.client.call(
        "workspace/executeCommand",
        json!({"command": "tel.storeAdd", "arguments": store["command"]["arguments"]}),
    );
    assert_eq!(
        (report["new"].clone(), report["unchanged"].clone()),
        (json!(1), json!(1)),
        "{report}"
    );

    // A stale hash (the definition changed since the lens was drawn) is refused.
    let stale = s.client.request(
        "workspace/executeCommand",
        json!({"command": "tel.storeAdd", "arguments": [{"uri": fees, "name": "fees::fee", "hash": "0".repeat(52)}]}),
    );
    assert_eq!(stale["error"]["code"], json!(-32803), "{stale}");
    assert!(stale["error"]["message"].as_str().unwrap().contains("changed since"), "{stale}");
    let unknown = s
        .client
        .request("workspace/executeCommand", json!({"command": "tel.nope", "arguments": []}));
    assert_eq!(unknown["error"]["code"], json!(-32602), "{unknown}");
    assert_eq!(s.client.shutdown().code(), Some(0));
}

#[test]
fn formatting_answers_one_edit_and_leaves_broken_files_alone() {
    let messy = "module fees\nfn fee(amount:Int)->Int{amount*3/1000}\n";
    let mut s = start(&[("fees.tel", messy)], false);
    let fees = uri(&s.root.join("fees.tel"));
    s.client.open(&fees, messy);
    let params =
        json!({"textDocument": {"uri": fees}, "options": {"tabSize": 4, "insertSpaces": true}});
    let edits = s.client.call("textDocument/formatting", params.clone());
    let edits = edits.as_array().unwrap().clone();
    assert_eq!(edits.len(), 1, "{edits:#?}");
    let formatted = apply(messy, &edits);
    assert_eq!(formatted, tel_syntax::format::format(messy).unwrap());
    assert!(
        formatted.contains("fn fee(amount: Int) -> Int {\n    amount * 3 / 1000\n}"),
        "{formatted}"
    );
    // Formatted text: nothing to do.
    replace_all(&mut s.client, &fees, 2, &formatted);
    assert_eq!(s.client.call("textDocument/formatting", params.clone()), json!([]));
    // A syntax error: no edit.
    replace_all(&mut s.client, &fees, 3, "module fees\nfn fee(amount: Int -> Int {\n");
    assert_eq!(s.client.call("textDocument/formatting", params), Value::Null);
    assert_eq!(s.client.shutdown().code(), Some(0));
}

const TREASURY: &str = "module treasury

fn fee(amount: Int) -> Int ! {Log} {
    perform Log(\"fee of \" ++ show(amount));
    amount / 100
}

fn main() -> Int ! {Log} {
    fee(12000) + fee(500)
}

fn broken() -> Int ! {Log} {
    fee(1) / (fee(1) - fee(1))
}
";

#[test]
fn the_run_lens_runs_the_entry_point_and_reports_the_value_or_the_error() {
    let mut s = start(&[("treasury.tel", TREASURY)], false);
    let file = uri(&s.root.join("treasury.tel"));
    s.client.open(&file, TREASURY);
    s.client.wait_quiescent();
    let lenses = s.client.call("textDocument/codeLens", json!({"textDocument": {"uri": file}}));
    let runs: Vec<Value> = lenses
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["command"]["command"] == json!("tel.run"))
        .map(|l| l["command"].clone())
        .collect();
    // `fee` takes a parameter: only the two entry points can be run by a click.
    let names: Vec<&Value> = runs.iter().map(|c| &c["arguments"][0]["name"]).collect();
    assert_eq!(names, [&json!("treasury::main"), &json!("treasury::broken")], "{lenses:#?}");
    assert_eq!(runs[0]["title"], json!("▶ Run"));

    // The lens's command as the editor runs it: the value, the logged lines, the kept trace.
    let ran = s.client.call(
        "workspace/executeCommand",
        json!({"command": runs[0]["command"], "arguments": runs[0]["arguments"]}),
    );
    assert_eq!((ran["ok"].clone(), ran["value"].clone()), (json!(true), json!("125")), "{ran}");
    assert_eq!(ran["logs"], json!(["fee of 12000", "fee of 500"]));
    let shown = s.client.wait_for(|m| m["method"] == "window/showMessage");
    let headline = shown["params"]["message"].as_str().unwrap();
    assert!(headline.starts_with("treasury::main → 125 (run "), "{headline}");
    assert!(
        ran["notes"][0].as_str().unwrap().contains(".tel/codebase.sqlite"),
        "the trace is kept in the workspace's codebase: {ran}"
    );

    // A runtime error: the message says so, the log has the TEL stack trace.
    let ran = s.client.call(
        "workspace/executeCommand",
        json!({"command": "tel.run", "arguments": runs[1]["arguments"]}),
    );
    assert_eq!(ran["ok"], json!(false), "{ran}");
    let trace = ran["stack_trace"].as_str().unwrap();
    assert!(trace.contains("division by zero"), "{trace}");
    assert!(trace.contains("treasury.tel:13:5"), "{trace}");

    // What cannot run is refused with the reason, and the server keeps serving.
    let refused = s.client.request(
        "workspace/executeCommand",
        json!({"command": "tel.run", "arguments": [{"uri": file, "name": "treasury::fee"}]}),
    );
    assert_eq!(refused["error"]["code"], json!(-32803), "{refused}");
    assert!(refused["error"]["message"].as_str().unwrap().contains("takes 1 argument"));
    let with_args = s.client.call(
        "workspace/executeCommand",
        json!({"command": "tel.run", "arguments": [{"uri": file, "name": "treasury::fee", "args": [700]}]}),
    );
    assert_eq!(with_args["value"], json!("7"), "{with_args}");
    assert_eq!(s.client.shutdown().code(), Some(0));
}
