//! Tool-call arguments → the tool's parameter type (`switchboard_mcp::decode_arguments`,
//! the decoding a `tools/call` does). Input: the tool name, a newline, the `arguments`
//! JSON. What it promises: refusals say "failed to deserialize parameters:"
//! (rmcp then answers with a tool error the model sees); what is accepted fits the
//! `inputSchema` the tool publishes (no undeclared or missing required parameter, no
//! value of another type); unknown parameters are refused.
#![no_main]

use std::collections::HashMap;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use switchboard_mcp::decode_arguments;

/// Every tool's name and `inputSchema`.
fn tools() -> &'static HashMap<String, Map<String, Value>> {
    static TOOLS: OnceLock<HashMap<String, Map<String, Value>>> = OnceLock::new();
    TOOLS.get_or_init(|| {
        switchboard_mcp::SwitchboardServer::tool_definitions()
            .into_iter()
            .map(|t| (t.name.to_string(), t.input_schema.as_ref().clone()))
            .collect()
    })
}

/// Whether a non-null `value` fits the (inlined, compact) schema of one parameter.
fn fits(value: &Value, schema: &Value) -> bool {
    if let Some(options) = schema.get("enum").and_then(Value::as_array) {
        return options.contains(value);
    }
    let items_fit = || match (value, schema.get("items")) {
        (Value::Array(items), Some(item)) => items.iter().all(|i| fits(i, item)),
        _ => true,
    };
    match schema.get("type").and_then(Value::as_str) {
        Some("string") => value.is_string(),
        Some("boolean") => value.is_boolean(),
        Some("integer") => value.is_i64() || value.is_u64(),
        Some("number") => value.is_number(),
        Some("array") => value.is_array() && items_fit(),
        Some("object") => value.is_object(),
        _ => true,
    }
}

fuzz_target!(|data: &[u8]| {
    let Some(newline) = data.iter().position(|b| *b == b'\n') else {
        return;
    };
    let (Ok(tool), Ok(Value::Object(arguments))) = (
        std::str::from_utf8(&data[..newline]),
        serde_json::from_slice::<Value>(&data[newline + 1..]),
    ) else {
        return;
    };
    let decoded = decode_arguments(tool, arguments.clone());
    let Some(schema) = tools().get(tool) else {
        assert_eq!(decoded, None, "{tool:?} is not a tool");
        return;
    };
    let decoded = decoded.expect("every listed tool decodes");
    let empty = Map::new();
    let properties = schema
        .get("properties")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    match decoded {
        Err(message) => assert!(
            message.starts_with("failed to deserialize parameters: "),
            "{tool}: {message}"
        ),
        Ok(()) if properties.is_empty() => {}
        Ok(()) => {
            for (name, value) in &arguments {
                let declared = properties.get(name);
                assert!(declared.is_some(), "{tool} accepted undeclared `{name}`");
                let declared = declared.unwrap_or(&Value::Null);
                assert!(
                    value.is_null() || fits(value, declared),
                    "{tool} accepted `{name}`: {value} against {declared}"
                );
            }
            for required in schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let required = required.as_str().unwrap_or_default();
                assert!(
                    arguments.get(required).is_some_and(|v| !v.is_null()),
                    "{tool} accepted arguments without required `{required}`"
                );
            }
            let mut extra = arguments;
            extra.insert("zz_not_a_parameter".into(), Value::Null);
            let refused = decode_arguments(tool, extra);
            assert!(
                refused
                    .as_ref()
                    .is_some_and(|r| r.as_ref().is_err_and(|e| e.contains("zz_not_a_parameter"))),
                "{tool} did not refuse an unknown parameter by name: {refused:?}"
            );
        }
    }
});
