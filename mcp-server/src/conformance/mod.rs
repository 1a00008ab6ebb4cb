//! The server the official MCP conformance suite runs against (`switchboard serve
//! --conformance-fixtures`). It exists only in builds with the `conformance-fixtures`
//! feature, which only the test command enables: the product never carries it.
//!
//! [`WithFixtures`] wraps the real server. It adds the suite's fixture tools, resources,
//! prompts and completions, with the capabilities they need (list-change notifications,
//! prompts, completions, logging), and hands every other request and notification to the
//! real server unchanged, so the suite exercises the real handlers.
// Logging and resources/subscribe are deprecated by SEP-2577; the 2025-11-25 scenarios
// still use them.
#![allow(deprecated)]

mod fixtures;

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CancelTaskParams, CancelledNotificationParam,
    CompleteRequestParams, CompleteResult, CustomNotification, CustomRequest, CustomResult,
    GetPromptRequestParams, GetPromptResponse, GetSkillRequestParams, GetSkillResult,
    GetTaskParams, GetTaskResult, InitializeRequestParams, InitializeResult, JsonObject,
    ListPromptsResult, ListResourceTemplatesResult, ListResourcesResult, ListSkillsResult,
    ListToolsResult, PaginatedRequestParams, ProgressNotificationParam, ProtocolVersion,
    ReadResourceDirectoryRequestParams, ReadResourceDirectoryResult, ReadResourceRequestParams,
    ReadResourceResponse, ServerCapabilities, ServerConfig, SetLevelRequestParams,
    SubscribeRequestParams, SubscriptionFilter, Tool, UnsubscribeRequestParams, UpdateTaskParams,
};
use rmcp::service::{NotificationContext, RequestContext, SubscriptionContext};
use rmcp::{ErrorData, RoleServer, ServerHandler};

use fixtures::Fixtures;

/// The real server `S` with the conformance suite's fixtures beside its own tools,
/// resources and prompts. Requests for a fixture are answered here; every other request
/// and notification goes to `S` as it came.
pub struct WithFixtures<S> {
    inner: S,
    fixtures: Arc<Fixtures>,
}

/// The decorator of one server: wraps each connection's real server, all of them sharing
/// one set of fixtures (the key that seals multi-round request state, the channel of
/// list-change announcements). Fails only when the system gives no random bytes.
pub fn wrapper<S>()
-> Result<impl Fn(S) -> WithFixtures<S> + Send + Sync + 'static, switchboard_core::Error> {
    let fixtures = Arc::new(Fixtures::new()?);
    Ok(move |inner| WithFixtures {
        inner,
        fixtures: fixtures.clone(),
    })
}

/// Adds what the fixtures need to `capabilities`: list-change notifications of tools and
/// prompts, prompts, completions and logging.
fn add_fixture_capabilities(capabilities: &mut ServerCapabilities) {
    capabilities.tools.get_or_insert_default().list_changed = Some(true);
    capabilities.prompts.get_or_insert_default().list_changed = Some(true);
    capabilities.completions.get_or_insert_with(JsonObject::new);
    capabilities.logging.get_or_insert_with(JsonObject::new);
}

/// List methods that answer the real server's whole list with the fixtures' appended.
macro_rules! with_fixtures {
    ($($method:ident -> $result:ty { $field:ident: $fixtures:expr })*) => {$(
        async fn $method(
            &self,
            request: Option<PaginatedRequestParams>,
            context: RequestContext<RoleServer>,
        ) -> Result<$result, ErrorData> {
            let mut result = self.inner.$method(request, context).await?;
            result.$field.extend($fixtures);
            Ok(result)
        }
    )*};
}

/// Methods handed to the real server as they came.
macro_rules! forward {
    ($($method:ident($($arg:ident: $ty:ty),*) -> $output:ty;)*) => {$(
        async fn $method(&self, $($arg: $ty),*) -> $output {
            self.inner.$method($($arg),*).await
        }
    )*};
}

impl<S: ServerHandler> ServerHandler for WithFixtures<S> {
    /// The real server's, with [`add_fixture_capabilities`]: rmcp's `discover`, kept at its
    /// default here, announces it (and `initialize` patches the real server's answer alike).
    fn get_info(&self) -> ServerConfig {
        let mut info = self.inner.get_info();
        add_fixture_capabilities(&mut info.capabilities);
        info
    }

    fn supported_protocol_versions(&self) -> std::borrow::Cow<'static, [ProtocolVersion]> {
        self.inner.supported_protocol_versions()
    }

    async fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<InitializeResult, ErrorData> {
        let mut result = self.inner.initialize(request, context).await?;
        add_fixture_capabilities(&mut result.capabilities);
        Ok(result)
    }

    with_fixtures! {
        list_tools -> ListToolsResult { tools: Fixtures::tools() }
        list_resources -> ListResourcesResult { resources: Fixtures::resources() }
        list_resource_templates -> ListResourceTemplatesResult {
            resource_templates: Fixtures::templates()
        }
        list_prompts -> ListPromptsResult { prompts: Fixtures::prompts() }
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.inner.get_tool(name).or_else(|| Fixtures::tool(name))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if Fixtures::has_tool(&request.name) {
            return self.fixtures.call(request, &context).await;
        }
        self.inner.call_tool(request, context).await
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        match Fixtures::read(&request.uri) {
            Some(fixture) => Ok(fixture.into()),
            None => self.inner.read_resource(request, context).await,
        }
    }

    /// What the real server accepts, plus the list changes the fixtures announce.
    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        let mut accepted = self.inner.accepted_subscription_filter(requested)?;
        accepted.tools_list_changed = requested.tools_list_changed;
        accepted.prompts_list_changed = requested.prompts_list_changed;
        Some(accepted)
    }

    /// The real server's listen stream, which also carries the fixtures' list-change
    /// announcements until the real server ends it.
    async fn listen(&self, context: SubscriptionContext) -> Result<(), ErrorData> {
        let announcing = self.fixtures.announce_to(context.sink().clone());
        tokio::select! {
            listened = self.inner.listen(context) => listened,
            never = announcing => match never {},
        }
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        if Fixtures::has_prompt(&request.name) {
            return self.fixtures.get_prompt(request);
        }
        self.inner.get_prompt(request, context).await
    }

    async fn complete(
        &self,
        request: CompleteRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CompleteResult, ErrorData> {
        if Fixtures::completes(&request.r#ref) {
            return Ok(Fixtures::completion());
        }
        self.inner.complete(request, context).await
    }

    forward! {
        ping(context: RequestContext<RoleServer>) -> Result<(), ErrorData>;
        set_level(request: SetLevelRequestParams, context: RequestContext<RoleServer>)
            -> Result<(), ErrorData>;
        subscribe(request: SubscribeRequestParams, context: RequestContext<RoleServer>)
            -> Result<(), ErrorData>;
        unsubscribe(request: UnsubscribeRequestParams, context: RequestContext<RoleServer>)
            -> Result<(), ErrorData>;
        on_custom_request(request: CustomRequest, context: RequestContext<RoleServer>)
            -> Result<CustomResult, ErrorData>;
        get_task(request: GetTaskParams, context: RequestContext<RoleServer>)
            -> Result<GetTaskResult, ErrorData>;
        update_task(request: UpdateTaskParams, context: RequestContext<RoleServer>)
            -> Result<(), ErrorData>;
        cancel_task(request: CancelTaskParams, context: RequestContext<RoleServer>)
            -> Result<(), ErrorData>;
        list_skills(request: Option<PaginatedRequestParams>, context: RequestContext<RoleServer>)
            -> Result<ListSkillsResult, ErrorData>;
        get_skill(request: GetSkillRequestParams, context: RequestContext<RoleServer>)
            -> Result<GetSkillResult, ErrorData>;
        read_resource_directory(
            request: ReadResourceDirectoryRequestParams,
            context: RequestContext<RoleServer>
        ) -> Result<ReadResourceDirectoryResult, ErrorData>;
        on_cancelled(notification: CancelledNotificationParam, context: NotificationContext<RoleServer>)
            -> ();
        on_progress(notification: ProgressNotificationParam, context: NotificationContext<RoleServer>)
            -> ();
        on_initialized(context: NotificationContext<RoleServer>) -> ();
        on_roots_list_changed(context: NotificationContext<RoleServer>) -> ();
        on_custom_notification(notification: CustomNotification, context: NotificationContext<RoleServer>)
            -> ();
    }
}
