//! Tool arguments: like rmcp's `Parameters`, but a value that does not fit names the
//! parameter it was given for (`priority: unknown variant "asap", expected one of …`), so
//! the model knows what to fix.

use rmcp::handler::server::common::FromContextPart;
use rmcp::handler::server::tool::ToolCallContext;
use serde::de::DeserializeOwned;

/// A tool's parsed arguments.
pub(crate) struct Args<T>(pub T);

impl<S, T: DeserializeOwned> FromContextPart<ToolCallContext<'_, S>> for Args<T> {
    fn from_context_part(context: &mut ToolCallContext<'_, S>) -> Result<Self, rmcp::ErrorData> {
        let arguments = context.arguments.take().unwrap_or_default();
        parse(serde_json::Value::Object(arguments))
            .map(Args)
            .map_err(|message| rmcp::ErrorData::invalid_params(message, None))
    }
}

/// Parses `value` as `T`; the error names the parameter at fault. It starts with rmcp's
/// "failed to deserialize parameters:" so that rmcp answers it as a tool error the model
/// sees, not a protocol error.
fn parse<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." {
            format!("failed to deserialize parameters: {inner}")
        } else {
            format!("failed to deserialize parameters: parameter `{path}`: {inner}")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Send {
        to: Vec<String>,
        priority: Option<switchboard_core::message::Priority>,
    }

    #[test]
    fn a_bad_value_names_its_parameter() {
        let err = parse::<Send>(serde_json::json!({"to": ["a"], "priority": "asap"})).unwrap_err();
        assert!(
            err.starts_with(
                "failed to deserialize parameters: parameter `priority`: unknown variant `asap`"
            ),
            "{err}"
        );
        let err = parse::<Send>(serde_json::json!({"to": "a"})).unwrap_err();
        assert!(err.contains("parameter `to`"), "{err}");
        let err = parse::<Send>(serde_json::json!({})).unwrap_err();
        assert!(err.contains("missing field `to`"), "{err}");
    }
}
