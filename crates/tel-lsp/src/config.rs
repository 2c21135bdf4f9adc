//! Settings: the `tel` section of the client's configuration (docs/lsp.md, "Settings").
//!
//! They arrive as `initializationOptions`, through `workspace/configuration` (section `tel`)
//! and with `workspace/didChangeConfiguration`. Unknown keys are ignored and missing ones
//! keep their defaults, so an old client never breaks a newer server.

use serde::Deserialize;

#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Config {
    pub inlay_hints: InlayHintsConfig,
    pub lens: LensConfig,
    pub diagnostics: DiagnosticsConfig,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct InlayHintsConfig {
    /// The short hash after each top-level definition's signature.
    pub hashes: bool,
    /// The inferred type after each `let` binding without a written type.
    pub let_types: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct LensConfig {
    /// `#hash · N dependents` above each definition.
    pub hashes: bool,
    /// `▶ Run` and `⏵ Debug` above entry points.
    pub run: bool,
    /// `Store` above definitions that are new or changed against the codebase.
    pub store: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct DiagnosticsConfig {
    /// How long the server waits after an edit for more edits before checking (milliseconds).
    pub debounce_ms: u64,
}

impl Default for InlayHintsConfig {
    fn default() -> Self {
        InlayHintsConfig { hashes: true, let_types: true }
    }
}

impl Default for LensConfig {
    fn default() -> Self {
        LensConfig { hashes: true, run: true, store: true }
    }
}

impl Default for DiagnosticsConfig {
    fn default() -> Self {
        DiagnosticsConfig { debounce_ms: 5 }
    }
}

impl Config {
    /// Settings from a JSON value: the `tel` section itself, or an object holding it under
    /// `tel` (as `didChangeConfiguration` sends). A value of the wrong shape is an error
    /// naming the key, and the caller keeps the settings it had.
    pub fn from_json(value: &serde_json::Value) -> Result<Config, String> {
        let section = value.get("tel").unwrap_or(value);
        if section.is_null() {
            return Ok(Config::default());
        }
        serde_json::from_value(section.clone()).map_err(|e| format!("invalid `tel` settings: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn partial_settings_keep_defaults() {
        let c = Config::from_json(&json!({"inlayHints": {"letTypes": false}})).unwrap();
        assert!(c.inlay_hints.hashes);
        assert!(!c.inlay_hints.let_types);
        assert_eq!(c.lens, LensConfig::default());
        let wrapped = Config::from_json(&json!({"tel": {"lens": {"run": false}}})).unwrap();
        assert!(!wrapped.lens.run);
        assert_eq!(Config::from_json(&serde_json::Value::Null).unwrap(), Config::default());
    }

    #[test]
    fn wrong_types_are_reported() {
        let err = Config::from_json(&json!({"inlayHints": {"hashes": "yes"}})).unwrap_err();
        assert!(err.contains("invalid `tel` settings"), "{err}");
        assert!(err.contains("expected a boolean"), "{err}");
    }
}
