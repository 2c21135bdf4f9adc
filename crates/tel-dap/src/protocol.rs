//! The Debug Adapter Protocol messages this adapter reads and writes, as serde types.
//!
//! Only what the adapter uses is modelled (the protocol is large, and an unmaintained crate
//! of all of it is what the project chose not to depend on). Requests arrive as
//! [`Request`] with their arguments still JSON: each handler decodes the arguments it
//! expects, so an unknown command or a bad argument is answered with an error response
//! naming the problem, and the session goes on. Field names follow the specification
//! (camelCase); optional fields the client leaves out take their documented defaults.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// A request from the client (`"type": "request"`).
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub seq: i64,
    pub command: String,
    /// `null` when the client sent none.
    pub arguments: Json,
}

/// Why an incoming message is not a request the adapter can read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadMessage {
    /// The `seq` of the message, when it has one (the error response refers to it).
    pub seq: Option<i64>,
    pub command: Option<String>,
    pub problem: String,
}

impl Request {
    /// Reads a message body. A client only sends requests (and answers to reverse requests,
    /// which this adapter never makes): anything else is refused with the reason.
    pub fn parse(body: &[u8]) -> Result<Request, BadMessage> {
        let json: Json = serde_json::from_slice(body).map_err(|e| BadMessage {
            seq: None,
            command: None,
            problem: format!("the message is not JSON: {e}"),
        })?;
        let Json::Object(map) = &json else {
            return Err(BadMessage {
                seq: None,
                command: None,
                problem: "the message is not a JSON object".into(),
            });
        };
        let seq = map.get("seq").and_then(Json::as_i64);
        let command = map.get("command").and_then(Json::as_str).map(str::to_owned);
        let bad = |problem: String| BadMessage { seq, command: command.clone(), problem };
        match map.get("type").and_then(Json::as_str) {
            Some("request") => {}
            Some(other) => {
                return Err(bad(format!(
                    "a message of type `{other}`: this adapter only takes requests from the client"
                )));
            }
            None => return Err(bad("the message has no `type`".into())),
        }
        let Some(seq) = seq else {
            return Err(bad("the request has no integer `seq`".into()));
        };
        let Some(command) = command.clone() else {
            return Err(bad("the request has no `command`".into()));
        };
        let arguments = map.get("arguments").cloned().unwrap_or(Json::Null);
        Ok(Request { seq, command, arguments })
    }
}

/// A response to a request.
#[derive(Clone, Debug, Serialize)]
pub struct Response {
    pub seq: i64,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub request_seq: i64,
    pub success: bool,
    pub command: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Json>,
}

/// An event the adapter sends on its own.
#[derive(Clone, Debug, Serialize)]
pub struct Event {
    pub seq: i64,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub event: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Json>,
}

/// The body of an error response: the message to show, with the specification's
/// `Message` shape so that a client can show it to the user.
pub fn error_body(id: i64, message: &str) -> Json {
    serde_json::json!({
        "error": { "id": id, "format": message, "showUser": true }
    })
}

// ---- what the adapter can do --------------------------------------------------------------

/// The capabilities answered to `initialize`. Each is true only when the adapter does it.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Capabilities {
    pub supports_configuration_done_request: bool,
    pub supports_function_breakpoints: bool,
    pub supports_conditional_breakpoints: bool,
    pub supports_hit_conditional_breakpoints: bool,
    pub supports_evaluate_for_hovers: bool,
    pub supports_step_back: bool,
    pub supports_restart_frame: bool,
    pub supports_goto_targets_request: bool,
    pub supports_stepping_granularity: bool,
    pub supports_terminate_request: bool,
    pub supports_exception_info_request: bool,
    pub supports_delayed_stack_trace_loading: bool,
    pub supports_value_formatting_options: bool,
    /// Left out of `initialize`'s answer (false); true in the `capabilities` event a RISC-V
    /// launch sends (docs/debugging.md).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub supports_disassemble_request: bool,
}

// ---- arguments ----------------------------------------------------------------------------

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct InitializeArguments {
    #[serde(rename = "clientID")]
    pub client_id: Option<String>,
    #[serde(rename = "adapterID")]
    pub adapter_id: Option<String>,
    pub lines_start_at1: Option<bool>,
    pub columns_start_at1: Option<bool>,
    pub path_format: Option<String>,
    pub supports_invalidated_event: Option<bool>,
}

/// `launch`'s arguments: docs/debugging.md, "Launch configuration". Unknown fields are
/// refused, so a misspelt option is an error rather than silently ignored — except the
/// fields every client adds on its own (`type`, `request`, `name`, `__`-prefixed ones),
/// which [`LaunchArguments::from_json`] drops first.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LaunchArguments {
    /// A `.tel` file, a project folder, or `#PREFIX` of a stored definition.
    pub program: String,
    /// The function to run (`main` by default); `module::name` picks one across modules.
    #[serde(default)]
    pub entry: Option<String>,
    /// The entry point's arguments, a JSON array.
    #[serde(default)]
    pub args: Option<Json>,
    /// A host file (balances, feeds, clock start, seed).
    #[serde(default)]
    pub host: Option<String>,
    /// Stop before the first instruction (default true).
    #[serde(default)]
    pub stop_on_entry: Option<bool>,
    /// The codebase file (default: `TEL_CODEBASE`, else the project's).
    #[serde(default)]
    pub codebase: Option<String>,
    /// Relative paths are taken from here (default: the adapter's working directory).
    #[serde(default)]
    pub cwd: Option<String>,
    #[serde(default)]
    pub limits: Option<LaunchLimits>,
    /// Resume a debug session kept in the codebase (its id or a prefix) instead of
    /// recording a new run.
    #[serde(default)]
    pub session: Option<String>,
    /// VS Code passes this with `noDebug` runs; the adapter always debugs.
    #[serde(default)]
    pub no_debug: Option<bool>,
    /// `vm` (default) or `riscv`: debug the code compiled to RV32IM on the emulator.
    #[serde(default)]
    pub backend: Option<String>,
}

impl LaunchArguments {
    pub fn from_json(mut json: Json) -> Result<LaunchArguments, String> {
        if let Json::Object(map) = &mut json {
            map.retain(|k, _| {
                !matches!(k.as_str(), "type" | "request" | "name") && !k.starts_with("__")
            });
        }
        serde_json::from_value(json).map_err(|e| format!("launch: {e}"))
    }
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LaunchLimits {
    /// At most this many VM instructions.
    pub fuel: Option<u64>,
    /// At most this many bytes of values built.
    pub memory: Option<u64>,
    /// The host effects the run may perform, separated by commas.
    pub allow: Option<String>,
    /// Accepted for `tel run` compatibility; a debugged run has no wall-clock limit (it
    /// would make the run irreproducible), which the adapter says in its output.
    pub timeout: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_reference: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceBreakpoint {
    pub line: i64,
    #[serde(default)]
    pub column: Option<i64>,
    #[serde(default)]
    pub condition: Option<String>,
    #[serde(default)]
    pub hit_condition: Option<String>,
    #[serde(default)]
    pub log_message: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetBreakpointsArguments {
    pub source: Source,
    #[serde(default)]
    pub breakpoints: Option<Vec<SourceBreakpoint>>,
    /// The deprecated form: lines only.
    #[serde(default)]
    pub lines: Option<Vec<i64>>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionBreakpoint {
    pub name: String,
    #[serde(default)]
    pub condition: Option<String>,
    #[serde(default)]
    pub hit_condition: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetFunctionBreakpointsArguments {
    pub breakpoints: Vec<FunctionBreakpoint>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StackTraceArguments {
    pub thread_id: i64,
    #[serde(default)]
    pub start_frame: Option<i64>,
    #[serde(default)]
    pub levels: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScopesArguments {
    pub frame_id: i64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VariablesArguments {
    pub variables_reference: i64,
    #[serde(default)]
    pub filter: Option<String>,
    #[serde(default)]
    pub start: Option<i64>,
    #[serde(default)]
    pub count: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EvaluateArguments {
    pub expression: String,
    #[serde(default)]
    pub frame_id: Option<i64>,
    #[serde(default)]
    pub context: Option<String>,
}

/// `continue`, `next`, `stepIn`, `stepOut`, `stepBack`, `reverseContinue`, `pause`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepArguments {
    #[serde(default)]
    pub thread_id: Option<i64>,
    /// `statement` (the default), `line` or `instruction`.
    #[serde(default)]
    pub granularity: Option<String>,
}

/// `disassemble` (a RISC-V session).
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DisassembleArguments {
    pub memory_reference: String,
    #[serde(default)]
    pub offset: Option<i64>,
    #[serde(default)]
    pub instruction_offset: Option<i64>,
    pub instruction_count: i64,
    #[serde(default)]
    pub resolve_symbols: Option<bool>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RestartFrameArguments {
    pub frame_id: i64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GotoTargetsArguments {
    pub source: Source,
    pub line: i64,
    #[serde(default)]
    pub column: Option<i64>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GotoArguments {
    #[serde(default)]
    pub thread_id: Option<i64>,
    pub target_id: i64,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DisconnectArguments {
    #[serde(default)]
    pub restart: Option<bool>,
    #[serde(default)]
    pub terminate_debuggee: Option<bool>,
}

// ---- custom requests (`tel/…`) ---------------------------------------------------------

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TimelineArguments {
    #[serde(default)]
    pub from: Option<u64>,
    #[serde(default)]
    pub to: Option<u64>,
    #[serde(default)]
    pub limit: Option<usize>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JumpToPositionArguments {
    pub position: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JumpToEffectArguments {
    pub effect: String,
    /// From 1 (the default).
    #[serde(default)]
    pub occurrence: Option<usize>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CompareStatesArguments {
    pub from: u64,
    pub to: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ForkArguments {
    /// Fork at the first host effect performed at or after this position (default: the
    /// current position), …
    #[serde(default)]
    pub position: Option<u64>,
    /// … or at the `occurrence`-th (from 1) performed `effect`.
    #[serde(default)]
    pub effect: Option<String>,
    #[serde(default)]
    pub occurrence: Option<usize>,
    /// `{"result": JSON}`, `{"refuse": "message"}` or `{"args": [JSON, …]}`.
    #[serde(rename = "override")]
    pub with: Json,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SwitchTimelineArguments {
    pub timeline: usize,
}

/// Decodes a request's arguments as `T`; the error names the command.
pub fn arguments<T: serde::de::DeserializeOwned>(request: &Request) -> Result<T, String> {
    let args = match &request.arguments {
        // A request without arguments is read as `{}`, so types with defaults accept it.
        Json::Null => Json::Object(Default::default()),
        a => a.clone(),
    };
    serde_json::from_value(args)
        .map_err(|e| format!("invalid arguments for `{}`: {e}", request.command))
}
