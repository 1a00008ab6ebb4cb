//! The fixtures of the official MCP conformance suite (`@modelcontextprotocol/conformance`):
//! tools, resources, prompts and completions with the fixed names, arguments and results its
//! scenarios expect. [`super::WithFixtures`] serves them next to the real server's own.
//!
//! Results are written as the JSON the suite checks and decoded into rmcp's types, which
//! keeps each fixture one readable literal. Logging and sampling are deprecated by
//! SEP-2577, but the 2025-11-25 scenarios still exercise them.
#![allow(deprecated)]

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ClientCapabilities, CompleteResult,
    ContentBlock, CreateMessageRequestParams, ElicitRequestParams, GetPromptRequestParams,
    GetPromptResponse, GetPromptResult, InputRequiredResult, InputResponses,
    LoggingMessageNotificationParam, ProgressNotificationParam, Prompt, ReadResourceResult,
    Reference, RequestStateCodec, Resource, ResourceTemplate, Tool,
};
use rmcp::service::{RequestContext, SubscriptionSink};
use rmcp::{ErrorData, RoleServer};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::sync::broadcast;

/// A 1×1 PNG and a tiny WAV: any valid base64 passes the suite.
const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
const WAV: &str = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAAB9AAACABAAZGF0YQIAAAA=";
/// Pause between the notifications of the logging and progress fixtures.
const STEP: Duration = Duration::from_millis(50);

/// The fixtures, with the key that seals multi-round request state and the channel that
/// carries list-change announcements to every listen stream of the process.
pub(crate) struct Fixtures {
    codec: RequestStateCodec,
    announcements: broadcast::Sender<ListChange>,
}

/// Decodes a fixture literal into an rmcp type; the literals are fixed, so a mismatch is
/// a bug in this file.
fn decode<T: DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("conformance fixture literal matches rmcp's model")
}

/// Decodes a complete result (`resultType` is required from 2026-07-28 on; rmcp removes it
/// for peers of earlier versions).
fn complete_result<T: DeserializeOwned>(mut value: Value) -> T {
    value["resultType"] = json!("complete");
    decode(value)
}

fn no_arguments() -> Value {
    json!({"type": "object", "properties": {}})
}

fn string_argument(name: &str, description: &str) -> Value {
    json!({
        "type": "object",
        "properties": {name: {"type": "string", "description": description}},
        "required": [name],
    })
}

/// Name, description and input schema of every fixture tool.
fn tool_table() -> Vec<(&'static str, &'static str, Value)> {
    let plain = |name, description| (name, description, no_arguments());
    vec![
        plain("test_simple_text", "Returns a simple text response."),
        plain("test_image_content", "Returns a PNG image."),
        plain("test_audio_content", "Returns a WAV clip."),
        plain(
            "test_embedded_resource",
            "Returns an embedded text resource.",
        ),
        plain(
            "test_multiple_content_types",
            "Returns text, an image and a resource.",
        ),
        plain(
            "test_tool_with_logging",
            "Logs three messages while it runs.",
        ),
        plain("test_error_handling", "Always fails with a tool error."),
        plain(
            "test_tool_with_progress",
            "Reports progress 0, 50 and 100 of 100.",
        ),
        (
            "test_sampling",
            "Asks the client's model to answer a prompt.",
            string_argument("prompt", "The prompt to send to the LLM"),
        ),
        (
            "test_elicitation",
            "Asks the user for a username and an email address.",
            string_argument("message", "The message to show the user"),
        ),
        plain(
            "test_elicitation_sep1034_defaults",
            "Elicits fields that have defaults.",
        ),
        plain(
            "test_elicitation_sep1330_enums",
            "Elicits every kind of enum field.",
        ),
        (
            "json_schema_2020_12_tool",
            "Takes input described with JSON Schema 2020-12 features.",
            json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "$defs": {"address": {"$anchor": "addressDef", "type": "object",
                    "properties": {"street": {"type": "string"}, "city": {"type": "string"}}}},
                "properties": {
                    "name": {"type": "string"},
                    "address": {"$ref": "#/$defs/address"},
                    "contactMethod": {"type": "string", "enum": ["phone", "email"]},
                    "phone": {"type": "string"},
                    "email": {"type": "string"},
                },
                "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
                "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
                "then": {"required": ["phone"]},
                "else": {"required": ["email"]},
                "additionalProperties": false,
            }),
        ),
        plain(
            "test_missing_capability",
            "Needs the client's sampling capability.",
        ),
        plain(
            "test_streaming_elicitation",
            "Streams a notification, then asks for input.",
        ),
        plain(
            "test_logging_tool",
            "Logs only when the request asks for a log level.",
        ),
        plain(
            "test_trigger_tool_change",
            "Announces that the tool list changed.",
        ),
        plain(
            "test_trigger_prompt_change",
            "Announces that the prompt list changed.",
        ),
        plain(
            "test_input_required_result_elicitation",
            "Asks for the user's name first.",
        ),
        plain(
            "test_input_required_result_sampling",
            "Asks the client's model first.",
        ),
        plain(
            "test_input_required_result_list_roots",
            "Asks for the client's roots first.",
        ),
        plain(
            "test_input_required_result_request_state",
            "Asks for a confirmation, keeping sealed state.",
        ),
        plain(
            "test_input_required_result_multiple_inputs",
            "Asks for several inputs at once.",
        ),
        plain(
            "test_input_required_result_multi_round",
            "Asks twice, in two rounds.",
        ),
        plain(
            "test_input_required_result_tampered_state",
            "Refuses tampered request state.",
        ),
        plain(
            "test_input_required_result_capabilities",
            "Asks only for what the client supports.",
        ),
    ]
}

/// A list-changed announcement asked for by a trigger fixture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListChange {
    Tools,
    Prompts,
}

impl Fixtures {
    /// Fixtures with a fresh random key for sealing request state: share one instance
    /// among every connection of a server, so that state sealed in one request opens in
    /// the next and announcements reach every listen stream.
    pub fn new() -> Result<Fixtures, switchboard_core::Error> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| {
            switchboard_core::Error::Conflict(format!("no random bytes for the fixture key: {e}"))
        })?;
        let codec = RequestStateCodec::try_new(key.to_vec()).map_err(|e| {
            switchboard_core::Error::Conflict(format!("cannot make the request-state codec: {e}"))
        })?;
        Ok(Fixtures {
            codec,
            announcements: broadcast::channel(16).0,
        })
    }

    /// Sends every list change the trigger fixtures announce from now on to `sink` (a
    /// listen stream; those it did not accept are skipped). Never completes: drop it when
    /// the stream ends.
    pub async fn announce_to(&self, sink: SubscriptionSink) -> Infallible {
        let mut changes = self.announcements.subscribe();
        loop {
            // `self` holds the sender, so the channel never closes; missed changes are
            // skipped.
            let Ok(change) = changes.recv().await else {
                continue;
            };
            let sent = match change {
                ListChange::Tools => sink.notify_tool_list_changed().await,
                ListChange::Prompts => sink.notify_prompt_list_changed().await,
            };
            if let Err(e) = sent {
                tracing::debug!(error = %e, "list change not delivered");
            }
        }
    }

    fn announce(&self, change: ListChange) {
        // No listen stream open is fine: nobody needs to know.
        let _ = self.announcements.send(change);
    }

    pub fn tools() -> Vec<Tool> {
        tool_table()
            .into_iter()
            .map(|(name, description, schema)| {
                let Value::Object(schema) = schema else {
                    unreachable!("fixture schemas are objects")
                };
                Tool::new(name, description, Arc::new(schema))
            })
            .collect()
    }

    /// The fixture tool named `name`, if there is one.
    pub fn tool(name: &str) -> Option<Tool> {
        Self::tools().into_iter().find(|t| t.name == name)
    }

    pub fn has_tool(name: &str) -> bool {
        tool_table().iter().any(|(n, _, _)| *n == name)
    }

    /// Runs fixture tool `request.name`.
    pub async fn call(
        &self,
        request: CallToolRequestParams,
        context: &RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let args = Value::Object(request.arguments.clone().unwrap_or_default());
        let done = |content: Value| {
            Ok(CallToolResponse::Complete(complete_result(
                json!({"content": content}),
            )))
        };
        let text = |t: &str| done(json!([{"type": "text", "text": t}]));
        match request.name.as_ref() {
            "test_simple_text" => text("This is a simple text response for testing."),
            "test_image_content" => {
                done(json!([{"type": "image", "data": PNG, "mimeType": "image/png"}]))
            }
            "test_audio_content" => {
                done(json!([{"type": "audio", "data": WAV, "mimeType": "audio/wav"}]))
            }
            "test_embedded_resource" => done(json!([{"type": "resource", "resource": {
                "uri": "test://embedded-resource", "mimeType": "text/plain",
                "text": "This is an embedded resource content."}}])),
            "test_multiple_content_types" => done(json!([
                {"type": "text", "text": "Multiple content types test:"},
                {"type": "image", "data": PNG, "mimeType": "image/png"},
                {"type": "resource", "resource": {"uri": "test://mixed-content-resource",
                    "mimeType": "application/json", "text": "{\"test\":\"data\",\"value\":123}"}},
            ])),
            "test_error_handling" => Ok(CallToolResponse::Complete(complete_result(json!({
                "isError": true,
                "content": [{"type": "text", "text": "This tool intentionally returns an error for testing"}],
            })))),
            "test_tool_with_logging" => {
                log_steps(
                    context,
                    &[
                        "Tool execution started",
                        "Tool processing data",
                        "Tool execution completed",
                    ],
                )
                .await;
                text("Logging test completed")
            }
            "test_logging_tool" => {
                if context.meta.log_level().is_some() {
                    log_steps(context, &["Logging tool ran"]).await;
                }
                text("Logging tool completed")
            }
            "test_tool_with_progress" => {
                report_progress(context).await;
                text("Progress test completed")
            }
            "test_sampling" => self.sampling(&args, context).await,
            "test_elicitation" => {
                let message = args["message"]
                    .as_str()
                    .unwrap_or("Please provide your information");
                let schema = json!({"type": "object", "properties": {
                    "username": {"type": "string", "description": "User's response"},
                    "email": {"type": "string", "description": "User's email address"},
                }, "required": ["username", "email"]});
                elicitation_fixture(context, "User response", message, schema).await
            }
            "test_elicitation_sep1034_defaults" => {
                let schema = json!({"type": "object", "properties": {
                    "name": {"type": "string", "description": "Name", "default": "John Doe"},
                    "age": {"type": "integer", "description": "Age", "default": 30},
                    "score": {"type": "number", "description": "Score", "default": 95.5},
                    "status": {"type": "string", "description": "Status",
                        "enum": ["active", "inactive", "pending"], "default": "active"},
                    "verified": {"type": "boolean", "description": "Verified", "default": true},
                }});
                elicitation_fixture(
                    context,
                    "Elicitation completed",
                    "Confirm or change the defaults",
                    schema,
                )
                .await
            }
            "test_elicitation_sep1330_enums" => {
                let titled = |word: &str| {
                    json!([
                    {"const": "value1", "title": format!("First {word}")},
                    {"const": "value2", "title": format!("Second {word}")},
                    {"const": "value3", "title": format!("Third {word}")}])
                };
                let schema = json!({"type": "object", "properties": {
                    "untitledSingle": {"type": "string", "enum": ["option1", "option2", "option3"]},
                    "titledSingle": {"type": "string", "oneOf": titled("Option")},
                    "legacyEnum": {"type": "string", "enum": ["opt1", "opt2", "opt3"],
                        "enumNames": ["Option One", "Option Two", "Option Three"]},
                    "untitledMulti": {"type": "array", "minItems": 1, "maxItems": 3,
                        "items": {"type": "string", "enum": ["option1", "option2", "option3"]}},
                    "titledMulti": {"type": "array", "minItems": 1, "maxItems": 3,
                        "items": {"anyOf": titled("Choice")}},
                }});
                elicitation_fixture(
                    context,
                    "Elicitation completed",
                    "Pick some options",
                    schema,
                )
                .await
            }
            "json_schema_2020_12_tool" => text(&format!("Received: {args}")),
            "test_missing_capability" => {
                if supports(context, "sampling") {
                    return text("The client supports sampling.");
                }
                Err(ErrorData::missing_required_client_capability(decode(
                    json!({"sampling": {}}),
                )))
            }
            "test_streaming_elicitation" => {
                log_steps(context, &["Asking for input"]).await;
                Ok(CallToolResponse::InputRequired(self.input_required(
                    json!({"user_name": ask_name("What is your name?")}),
                    None,
                )))
            }
            "test_trigger_tool_change" => {
                self.announce(ListChange::Tools);
                text("Announced a tool list change")
            }
            "test_trigger_prompt_change" => {
                self.announce(ListChange::Prompts);
                text("Announced a prompt list change")
            }
            name if name.starts_with("test_input_required_result_") => {
                self.multi_round(name, &request, context)
            }
            other => Err(ErrorData::invalid_params(
                format!("no fixture tool named {other}"),
                None,
            )),
        }
    }

    async fn sampling(
        &self,
        args: &Value,
        context: &RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let prompt = args["prompt"].as_str().unwrap_or("Hello");
        let params: CreateMessageRequestParams = decode(json!({
            "messages": [{"role": "user", "content": {"type": "text", "text": prompt}}],
            "maxTokens": 100,
        }));
        let answer = context
            .peer
            .create_message(params)
            .await
            .map_err(|e| ErrorData::internal_error(format!("sampling failed: {e}"), None))?;
        let answer = serde_json::to_value(answer).unwrap_or_default();
        let said = answer["content"]["text"]
            .as_str()
            .or_else(|| answer["content"][0]["text"].as_str())
            .unwrap_or_default()
            .to_string();
        Ok(CallToolResponse::Complete(CallToolResult::success(vec![
            ContentBlock::text(format!("LLM response: {said}")),
        ])))
    }

    /// The multi-round (SEP-2322) fixtures: each answers `input_required` until the
    /// retry carries the responses (and intact sealed state) it asked for.
    fn multi_round(
        &self,
        name: &str,
        request: &CallToolRequestParams,
        context: &RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let responses = Responses::of(request.input_responses.as_ref());
        let state = match &request.request_state {
            Some(sealed) => Some(self.open(sealed)?),
            None => None,
        };
        let finish = |t: String| {
            Ok(CallToolResponse::Complete(CallToolResult::success(vec![
                ContentBlock::text(t),
            ])))
        };
        let ask = |requests: Value, state: Option<&str>| {
            Ok(CallToolResponse::InputRequired(
                self.input_required(requests, state),
            ))
        };
        match name {
            "test_input_required_result_elicitation" => {
                match responses.accepted("user_name", "name") {
                    Some(who) => finish(format!("Hello, {who}!")),
                    None => ask(json!({"user_name": ask_name("What is your name?")}), None),
                }
            }
            "test_input_required_result_sampling" => match responses.sampled("capital_question") {
                Some(said) => finish(format!("The model answered: {said}")),
                None => ask(
                    json!({"capital_question": sample("What is the capital of France?", 100)}),
                    None,
                ),
            },
            "test_input_required_result_list_roots" => match responses.roots("client_roots") {
                Some(roots) => finish(format!("Your roots: {roots}")),
                None => ask(
                    json!({"client_roots": {"method": "roots/list", "params": {}}}),
                    None,
                ),
            },
            "test_input_required_result_request_state"
            | "test_input_required_result_tampered_state" => {
                match (state.as_deref(), responses.answered("confirm")) {
                    (Some("confirm"), true) => finish("Confirmed: state-ok".into()),
                    _ => ask(json!({"confirm": confirm()}), Some("confirm")),
                }
            }
            "test_input_required_result_multiple_inputs" => {
                let keys = ["user_name", "greeting", "client_roots"];
                if state.as_deref() == Some("multiple")
                    && keys.iter().all(|k| responses.answered(k))
                {
                    finish("Received every input: state-ok".into())
                } else {
                    ask(
                        json!({
                            "user_name": ask_name("What is your name?"),
                            "greeting": sample("Say hello", 50),
                            "client_roots": {"method": "roots/list", "params": {}},
                        }),
                        Some("multiple"),
                    )
                }
            }
            "test_input_required_result_multi_round" => match state.as_deref() {
                Some("round-2") if responses.answered("step2") => finish("All rounds done".into()),
                Some("round-1") | Some("round-2")
                    if responses.answered("step1") || responses.answered("step2") =>
                {
                    ask(
                        json!({"step2": ask_text("step2", "What is your favorite color?")}),
                        Some("round-2"),
                    )
                }
                _ => ask(
                    json!({"step1": ask_name("What is your name?")}),
                    Some("round-1"),
                ),
            },
            "test_input_required_result_capabilities" => {
                let mut requests = serde_json::Map::new();
                if supports(context, "elicitation") {
                    requests.insert("user_name".into(), ask_name("What is your name?"));
                }
                if supports(context, "sampling") {
                    requests.insert("greeting".into(), sample("Say hello", 50));
                }
                if supports(context, "roots") {
                    requests.insert(
                        "client_roots".into(),
                        json!({"method": "roots/list", "params": {}}),
                    );
                }
                if requests.keys().all(|k| responses.answered(k)) && !requests.is_empty() {
                    return finish("Received what the client supports".into());
                }
                if requests.is_empty() {
                    return finish("The client supports no input requests".into());
                }
                ask(Value::Object(requests), None)
            }
            other => Err(ErrorData::invalid_params(
                format!("no fixture tool named {other}"),
                None,
            )),
        }
    }

    fn input_required(&self, requests: Value, state: Option<&str>) -> InputRequiredResult {
        let mut result = json!({"resultType": "input_required", "inputRequests": requests});
        if let Some(state) = state {
            result["requestState"] = json!(self.codec.seal(state.as_bytes()));
        }
        decode(result)
    }

    fn open(&self, sealed: &str) -> Result<String, ErrorData> {
        let opened = self.codec.open(sealed).map_err(|e| {
            ErrorData::invalid_params(
                format!("requestState was altered or is not ours: {e}"),
                None,
            )
        })?;
        String::from_utf8(opened)
            .map_err(|_| ErrorData::invalid_params("requestState is not text", None))
    }

    pub fn resources() -> Vec<Resource> {
        decode(json!([
            {"uri": "test://static-text", "name": "static-text", "title": "Static Text Resource",
             "description": "A fixed text resource", "mimeType": "text/plain"},
            {"uri": "test://static-binary", "name": "static-binary", "title": "Static Binary Resource",
             "description": "A fixed PNG image", "mimeType": "image/png"},
            {"uri": "test://watched-resource", "name": "watched-resource", "title": "Watched Resource",
             "description": "A resource to subscribe to", "mimeType": "text/plain"},
        ]))
    }

    pub fn templates() -> Vec<ResourceTemplate> {
        decode(json!([{
            "uriTemplate": "test://template/{id}/data", "name": "template",
            "description": "Data for an id", "mimeType": "application/json",
        }]))
    }

    /// The contents of a fixture resource, or `None` when `uri` is not one.
    pub fn read(uri: &str) -> Option<ReadResourceResult> {
        let contents = match uri {
            "test://static-text" => json!({"uri": uri, "mimeType": "text/plain",
                "text": "This is the content of the static text resource."}),
            "test://static-binary" => json!({"uri": uri, "mimeType": "image/png", "blob": PNG}),
            "test://watched-resource" => json!({"uri": uri, "mimeType": "text/plain",
                "text": "Watched resource content."}),
            _ => {
                let id = uri
                    .strip_prefix("test://template/")?
                    .strip_suffix("/data")?;
                let data =
                    json!({"id": id, "templateTest": true, "data": format!("Data for ID: {id}")});
                json!({"uri": uri, "mimeType": "application/json", "text": data.to_string()})
            }
        };
        Some(complete_result(json!({"contents": [contents]})))
    }

    pub fn prompts() -> Vec<Prompt> {
        decode(json!([
            {"name": "test_simple_prompt", "description": "A prompt without arguments."},
            {"name": "test_prompt_with_arguments", "description": "A prompt with two arguments.",
             "arguments": [
                {"name": "arg1", "description": "First test argument", "required": true},
                {"name": "arg2", "description": "Second test argument", "required": true}]},
            {"name": "test_prompt_with_embedded_resource", "description": "A prompt embedding a resource.",
             "arguments": [{"name": "resourceUri", "description": "The resource to embed", "required": true}]},
            {"name": "test_prompt_with_image", "description": "A prompt with an image."},
            {"name": "test_input_required_result_prompt", "description": "Asks for context before it answers."},
        ]))
    }

    pub fn has_prompt(name: &str) -> bool {
        Self::prompts().iter().any(|p| p.name == name)
    }

    /// Renders fixture prompt `request.name` (see [`Self::has_prompt`]).
    pub fn get_prompt(
        &self,
        request: GetPromptRequestParams,
    ) -> Result<GetPromptResponse, ErrorData> {
        let arg = |key: &str| -> Result<String, ErrorData> {
            request
                .arguments
                .as_ref()
                .and_then(|a| a.get(key))
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .ok_or_else(|| ErrorData::invalid_params(format!("missing argument {key}"), None))
        };
        let user = |content: Value| json!({"role": "user", "content": content});
        let text = |t: &str| json!({"type": "text", "text": t});
        let messages = match request.name.as_str() {
            "test_simple_prompt" => vec![user(text("This is a simple prompt for testing."))],
            "test_prompt_with_arguments" => vec![user(text(&format!(
                "Prompt with arguments: arg1='{}', arg2='{}'",
                arg("arg1")?,
                arg("arg2")?
            )))],
            "test_prompt_with_embedded_resource" => vec![
                user(
                    json!({"type": "resource", "resource": {"uri": arg("resourceUri")?,
                    "mimeType": "text/plain", "text": "Embedded resource content for testing."}}),
                ),
                user(text("Please process the embedded resource above.")),
            ],
            "test_prompt_with_image" => vec![
                user(json!({"type": "image", "data": PNG, "mimeType": "image/png"})),
                user(text("Please analyze the image above.")),
            ],
            "test_input_required_result_prompt" => {
                let responses = Responses::of(request.input_responses.as_ref());
                match responses.accepted("user_context", "context") {
                    Some(context) => vec![user(text(&format!("Context: {context}")))],
                    None => {
                        return Ok(GetPromptResponse::InputRequired(self.input_required(
                            json!({"user_context": ask_text("context", "What are you working on?")}),
                            None,
                        )));
                    }
                }
            }
            other => {
                return Err(ErrorData::invalid_params(
                    format!("no fixture prompt named {other}"),
                    None,
                ));
            }
        };
        let result: GetPromptResult = complete_result(json!({"messages": messages}));
        Ok(GetPromptResponse::Complete(result))
    }

    /// Whether `reference` names a fixture prompt or resource template, which
    /// [`Self::completion`] completes.
    pub fn completes(reference: &Reference) -> bool {
        match reference {
            Reference::Prompt(prompt) => Self::has_prompt(&prompt.name),
            Reference::Resource(template) => Self::templates()
                .iter()
                .any(|t| t.uri_template == template.uri),
            _ => false,
        }
    }

    /// The completion of any argument of a fixture prompt or template.
    pub fn completion() -> CompleteResult {
        complete_result(
            json!({"completion": {"values": ["testValue1", "testValue2"], "total": 2, "hasMore": false}}),
        )
    }
}

/// What a retry brought back, by input key.
struct Responses(serde_json::Map<String, Value>);

impl Responses {
    fn of(responses: Option<&InputResponses>) -> Responses {
        match responses.map(serde_json::to_value) {
            Some(Ok(Value::Object(map))) => Responses(map),
            _ => Responses(serde_json::Map::new()),
        }
    }

    fn answered(&self, key: &str) -> bool {
        self.0.get(key).is_some_and(Value::is_object)
    }

    /// The `field` of an accepted elicitation answer under `key`.
    fn accepted(&self, key: &str, field: &str) -> Option<String> {
        let answer = self.0.get(key)?;
        (answer["action"] == "accept").then_some(())?;
        answer["content"][field].as_str().map(str::to_string)
    }

    fn sampled(&self, key: &str) -> Option<String> {
        let answer = self.0.get(key)?;
        answer["content"]["text"].as_str().map(str::to_string)
    }

    fn roots(&self, key: &str) -> Option<String> {
        let roots = self.0.get(key)?["roots"].as_array()?.clone();
        Some(
            roots
                .iter()
                .filter_map(|r| r["uri"].as_str())
                .collect::<Vec<_>>()
                .join(", "),
        )
    }
}

fn ask_name(message: &str) -> Value {
    ask_text("name", message)
}

fn ask_text(field: &str, message: &str) -> Value {
    json!({"method": "elicitation/create", "params": {"mode": "form", "message": message,
        "requestedSchema": {"type": "object", "properties": {field: {"type": "string"}}, "required": [field]}}})
}

fn confirm() -> Value {
    json!({"method": "elicitation/create", "params": {"mode": "form", "message": "Proceed?",
        "requestedSchema": {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}}})
}

fn sample(question: &str, max_tokens: u32) -> Value {
    json!({"method": "sampling/createMessage", "params": {
        "messages": [{"role": "user", "content": {"type": "text", "text": question}}],
        "maxTokens": max_tokens}})
}

/// Whether the request's client declared capability `name` (per request in 2026-07-28,
/// from `initialize` before).
fn supports(context: &RequestContext<RoleServer>, name: &str) -> bool {
    let declared: Option<ClientCapabilities> = context.client_capabilities();
    declared
        .and_then(|c| serde_json::to_value(c).ok())
        .is_some_and(|c| !c[name].is_null())
}

async fn log_steps(context: &RequestContext<RoleServer>, steps: &[&str]) {
    for (i, step) in steps.iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(STEP).await;
        }
        let note: LoggingMessageNotificationParam =
            decode(json!({"level": "info", "logger": "conformance", "data": step}));
        if let Err(e) = context.peer.notify_logging_message(note).await {
            tracing::debug!(error = %e, "log notification not delivered");
        }
    }
}

async fn report_progress(context: &RequestContext<RoleServer>) {
    let Some(token) = context.meta.get_progress_token() else {
        return;
    };
    for (i, progress) in [0, 50, 100].into_iter().enumerate() {
        if i > 0 {
            tokio::time::sleep(STEP).await;
        }
        let note: ProgressNotificationParam = decode(json!({
            "progressToken": token, "progress": progress, "total": 100,
            "message": format!("{progress}% done"),
        }));
        if let Err(e) = context.peer.notify_progress(note).await {
            tracing::debug!(error = %e, "progress notification not delivered");
        }
    }
}

/// Asks the user to fill in `schema` (a form elicitation) and reports the answer as
/// `"<prefix>: action=…, content=…"`.
async fn elicitation_fixture(
    context: &RequestContext<RoleServer>,
    prefix: &str,
    message: &str,
    schema: Value,
) -> Result<CallToolResponse, ErrorData> {
    let params = json!({"mode": "form", "message": message, "requestedSchema": schema});
    let params: ElicitRequestParams = serde_json::from_value(params)
        .map_err(|e| ErrorData::internal_error(format!("fixture elicitation: {e}"), None))?;
    let answer = context
        .peer
        .create_elicitation(params)
        .await
        .map_err(|e| ErrorData::internal_error(format!("elicitation failed: {e}"), None))?;
    let answer = serde_json::to_value(answer).unwrap_or_default();
    let text = format!(
        "{prefix}: action={}, content={}",
        answer["action"], answer["content"]
    );
    Ok(CallToolResponse::Complete(CallToolResult::success(vec![
        ContentBlock::text(text),
    ])))
}
