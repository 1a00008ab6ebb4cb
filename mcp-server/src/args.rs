//! Tool arguments: like rmcp's `Parameters`, but a value that does not fit names the
//! parameter it was given for (`priority: unknown variant "asap", expected one of …`), so
//! the model knows what to fix, and a parameter the tool does not have is refused by name
//! (checked against the tool's input schema, so it holds for argument types that flatten
//! a core request type too, where serde's `deny_unknown_fields` cannot be used).

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use rmcp::handler::server::common::FromContextPart;
use rmcp::handler::server::tool::ToolCallContext;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;

/// A tool's parsed arguments.
pub(crate) struct Args<T>(pub T);

impl<S, T: DeserializeOwned + JsonSchema + 'static> FromContextPart<ToolCallContext<'_, S>>
    for Args<T>
{
    fn from_context_part(context: &mut ToolCallContext<'_, S>) -> Result<Self, rmcp::ErrorData> {
        let arguments = context.arguments.take().unwrap_or_default();
        parse(serde_json::Value::Object(arguments))
            .map(Args)
            .map_err(|message| rmcp::ErrorData::invalid_params(message, None))
    }
}

/// The parameters `T`'s input schema names, computed once per type.
fn parameters<T: JsonSchema + 'static>() -> Arc<[String]> {
    static KNOWN: OnceLock<Mutex<HashMap<TypeId, Arc<[String]>>>> = OnceLock::new();
    let mut known = KNOWN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    known
        .entry(TypeId::of::<T>())
        .or_insert_with(|| {
            let schema = crate::schema::input::<T>();
            let names = schema.get("properties").and_then(|p| p.as_object());
            names.into_iter().flat_map(|p| p.keys().cloned()).collect()
        })
        .clone()
}

/// Parses `value` as `T`; the error names the parameter at fault. It starts with rmcp's
/// "failed to deserialize parameters:" so that rmcp answers it as a tool error the model
/// sees, not a protocol error.
fn parse<T: DeserializeOwned + JsonSchema + 'static>(
    value: serde_json::Value,
) -> Result<T, String> {
    if let serde_json::Value::Object(given) = &value {
        let known = parameters::<T>();
        if let Some(unknown) = given.keys().find(|k| !known.contains(k)) {
            let expected: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
            return Err(format!(
                "failed to deserialize parameters: unknown field `{unknown}`, expected {}",
                match expected.as_slice() {
                    [] => "no parameters".to_string(),
                    [one] => one.clone(),
                    many => format!("one of {}", many.join(", ")),
                }
            ));
        }
    }
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

/// How one tool reads its arguments: the parameter type it parses them as.
struct Params {
    decode: fn(serde_json::Value) -> Result<(), String>,
    /// The tool's `inputSchema` as built from the same type (the tests hold the two together).
    #[cfg(test)]
    schema: fn() -> std::sync::Arc<rmcp::model::JsonObject>,
}

impl Params {
    fn of<T: DeserializeOwned + schemars::JsonSchema + 'static>() -> Option<Params> {
        Some(Params {
            decode: |value| parse::<T>(value).map(drop),
            #[cfg(test)]
            schema: crate::schema::input::<T>,
        })
    }
}

/// The parameter type of each tool that takes arguments (`Some(None)`: a tool without
/// parameters; `None`: no such tool).
fn params_of(tool: &str) -> Option<Option<Params>> {
    use crate::{claims as c, messaging as m, tools as t, worktrees as w};
    Some(match tool {
        "agent_register" => Params::of::<t::RegisterArgs>(),
        "session_start" => Params::of::<t::StartArgs>(),
        "session_heartbeat" => Params::of::<t::SessionArg>(),
        "session_update" => Params::of::<t::UpdateArgs>(),
        "session_end" => Params::of::<t::EndArgs>(),
        "session_list" => Params::of::<t::ListArgs>(),
        "session_get" => Params::of::<t::GetArgs>(),
        "session_spawn" => Params::of::<t::SpawnArgs>(),
        "session_fork" => Params::of::<t::ForkArgs>(),
        "session_tree" => Params::of::<t::TreeArgs>(),
        "message_send" => Params::of::<switchboard_core::message::Draft>(),
        "message_reply" => Params::of::<switchboard_core::message::Reply>(),
        "inbox_read" => Params::of::<switchboard_core::message::InboxFilter>(),
        "message_read" => Params::of::<m::IdsArgs>(),
        "message_get" => Params::of::<m::MessageArgs>(),
        "message_edit" => Params::of::<m::EditArgs>(),
        "message_delete" => Params::of::<m::DeleteArgs>(),
        "thread_get" => Params::of::<m::ThreadArgs>(),
        "message_sent" => Params::of::<m::SentArgs>(),
        "message_search" => Params::of::<m::SearchArgs>(),
        "message_wait" => Params::of::<m::WaitArgs>(),
        "group_create" => Params::of::<m::GroupCreateArgs>(),
        "group_update" => Params::of::<m::GroupUpdateArgs>(),
        "group_delete" => Params::of::<m::GroupArgs>(),
        "worktree_create" => Params::of::<switchboard_core::worktree::NewWorktree>(),
        "worktree_diff" => Params::of::<w::DiffArgs>(),
        "worktree_merge" => Params::of::<w::MergeArgs>(),
        "worktree_sync" => Params::of::<w::SyncArgs>(),
        "worktree_remove" => Params::of::<w::RemoveArgs>(),
        "worktree_prune" => Params::of::<switchboard_core::worktree::PruneRequest>(),
        "who_has" => Params::of::<w::WhoHasArgs>(),
        "claim_add" => Params::of::<switchboard_core::claim::ClaimRequest>(),
        "claim_release" => Params::of::<switchboard_core::claim::ReleaseRequest>(),
        "claim_list" => Params::of::<c::ClaimListArgs>(),
        "agent_list" | "status" | "whoami" | "group_list" | "worktree_list"
        | "worktree_conflicts" => None,
        _ => return None,
    })
}

/// Decodes `arguments` as the tool `tool` does when called (`tools/call`), before it
/// runs: `Some(Ok(()))` if the tool accepts them, `Some(Err(message))` with the message
/// the caller is answered with (it names the parameter at fault and starts with
/// "failed to deserialize parameters:"), `None` if this server has no tool `tool`.
/// A tool without parameters accepts any arguments. Touches no store and no state: it
/// is for fuzzing the argument decoding (`fuzz/`) and for tests.
pub fn decode_arguments(
    tool: &str,
    arguments: serde_json::Map<String, serde_json::Value>,
) -> Option<Result<(), String>> {
    Some(match params_of(tool)? {
        Some(params) => (params.decode)(serde_json::Value::Object(arguments)),
        None => Ok(()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_tool_decodes_its_arguments_with_the_type_its_schema_comes_from() {
        let tools = crate::SwitchboardServer::tool_definitions();
        assert!(tools.len() > 30, "{} tools", tools.len());
        for tool in tools {
            let name = tool.name.as_ref();
            let params = params_of(name).unwrap_or_else(|| panic!("{name}: not in params_of"));
            match params {
                Some(params) => assert_eq!(
                    (params.schema)(),
                    tool.input_schema,
                    "{name}: decoded with another type than its inputSchema shows"
                ),
                None => assert!(
                    tool.input_schema
                        .get("properties")
                        .and_then(|p| p.as_object())
                        .is_none_or(|p| p.is_empty()),
                    "{name} has parameters: give params_of its type"
                ),
            }
            let mut unknown = serde_json::Map::new();
            unknown.insert("no_such_parameter".into(), json!(1));
            let refused = decode_arguments(name, unknown);
            assert_eq!(
                refused.as_ref().is_some_and(Result::is_err),
                params_of(name).is_some_and(|p| p.is_some()),
                "{name}: {refused:?}"
            );
        }
        assert_eq!(decode_arguments("no_such_tool", Default::default()), None);
        let nulls = json!({"to": ["a"], "body": "b", "priority": null, "ack_required": null, "refs": null, "subject": null});
        assert_eq!(
            decode_arguments("message_send", nulls.as_object().unwrap().clone()),
            Some(Ok(())),
            "null is the same as leaving an optional parameter out"
        );
        let flattened = decode_arguments(
            "session_end",
            json!({"status": "failed", "reasn": "typo"})
                .as_object()
                .unwrap()
                .clone(),
        );
        assert_eq!(
            flattened,
            Some(Err(
                "failed to deserialize parameters: unknown field `reasn`, expected one of \
                      `reason`, `session`, `status`"
                    .to_string()
            )),
            "a misspelt parameter of a flattened core request is refused by name"
        );
        let err = decode_arguments(
            "message_send",
            json!({"to": "a", "body": "b"}).as_object().unwrap().clone(),
        );
        assert!(
            err.as_ref()
                .is_some_and(|e| e.as_ref().is_err_and(|e| e.contains("parameter `to`"))),
            "{err:?}"
        );
    }

    #[derive(Debug, serde::Deserialize, JsonSchema)]
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
