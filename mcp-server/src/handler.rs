//! The MCP handler: every request enters here, is bound to its caller
//! ([`SwitchboardServer::for_request`]) when it touches the store, and is passed to the
//! tools or the resources.

use rmcp::handler::server::tool::ToolCallContext;
#[allow(deprecated)]
use rmcp::model::SetLevelRequestParams;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CustomRequest, CustomResult, ErrorCode,
    GetPromptRequestParams, GetPromptResponse, InitializeRequestParams, InitializeResult,
    ListResourceTemplatesResult, ListResourcesResult, ListToolsResult, PaginatedRequestParams,
    ProtocolVersion, ReadResourceRequestParams, ReadResourceResponse, ServerConfig,
    SubscribeRequestParams, SubscriptionFilter, Tool, UnsubscribeRequestParams,
};
use rmcp::service::{RequestContext, SubscriptionContext};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use switchboard_core::input::shown;

use crate::framing;
use crate::server::{Counted, SwitchboardServer};

impl ServerHandler for SwitchboardServer {
    fn get_info(&self) -> ServerConfig {
        self.config()
    }

    async fn initialize(
        &self,
        request: InitializeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<InitializeResult, ErrorData> {
        context.peer.set_peer_info(request.clone());
        self.name_instance(&request.client_info.name);
        self.start_channel(context.peer.clone()).await;
        self.negotiate_initialize(&request)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let mut result = ListToolsResult::with_all_items(self.tool_router.list_all());
        if context
            .protocol_version()
            .is_some_and(|v| v >= ProtocolVersion::V_2026_07_28)
        {
            result.ttl_ms = Some(0);
            result.cache_scope = Some(rmcp::model::CacheScope::Public);
        }
        Ok(result)
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tool_router.get(name).cloned()
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        if self.tool_router.get(&request.name).is_none() {
            return Err(ErrorData::invalid_params(
                format!(
                    "no tool named '{}': tools/list lists the tools of this server",
                    shown(&request.name)
                ),
                None,
            ));
        }
        // A client that never sent `initialize` (the 2026-07-28 era) is named here.
        let client = context.peer.peer_info().map(|i| i.client_info.name.clone());
        self.name_instance(client.as_deref().unwrap_or("agent"));
        let this = self.for_request(&context.extensions)?;
        let _call = Counted::enter(&this.hub.calls);
        let tool = request.name.clone();
        let (id, started) = (context.id.clone(), std::time::Instant::now());
        let argument_bytes = request
            .arguments
            .as_ref()
            .map_or(0, |a| serde_json::to_string(a).map_or(0, |s| s.len()));
        let call = ToolCallContext::new(&this, request, context);
        let response = this.with_news(&tool, this.tool_router.call(call)).await;
        // Ids, sizes and timings only: arguments and results stay out of the logs.
        tracing::debug!(
            %tool, id = ?id, argument_bytes,
            elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
            refused = !matches!(&response, Ok(CallToolResponse::Complete(r)) if r.is_error != Some(true)),
            "tool call"
        );
        response
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(ListResourcesResult::with_all_items(self.resource_list()))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(ListResourceTemplatesResult::with_all_items(
            self.resource_templates(),
        ))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let this = self.for_request(&context.extensions)?;
        Ok(this.read(request.uri).await?.into())
    }

    #[allow(deprecated)]
    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        let this = self.for_request(&context.extensions)?;
        this.subscribe_legacy(request.uri, context.peer.clone())
            .await
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))
    }

    #[allow(deprecated)]
    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.unsubscribe_legacy(&request.uri);
        Ok(())
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        // The stream is acknowledged before `listen` runs: follow commits from now on, so
        // that none committed after the acknowledgement is missed.
        if let Err(e) = self.hub.live.start_now() {
            tracing::warn!(error = %e, "cannot watch the store for changes");
        }
        Some(requested.supported_by(&self.config().capabilities))
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), ErrorData> {
        let this = self.for_request(&context.request_context().extensions)?;
        this.listen_on(context)
            .await
            .map_err(|e| ErrorData::internal_error(e.to_string(), None))
    }

    async fn get_prompt(
        &self,
        request: GetPromptRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<GetPromptResponse, ErrorData> {
        Err(ErrorData::invalid_params(
            format!(
                "no prompt named {}: Switchboard has no prompts",
                request.name
            ),
            None,
        ))
    }

    #[allow(deprecated)] // logging/setLevel still exists in 2025-11-25
    async fn set_level(
        &self,
        _request: SetLevelRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        // Switchboard logs to stderr, not to clients; the level is accepted and ignored.
        Ok(())
    }

    /// rmcp hands over every request it could not read as one it knows: a method nobody
    /// serves, or a known one whose params do not fit. Say which (rmcp alone answers
    /// with the bare method name).
    async fn on_custom_request(
        &self,
        request: CustomRequest,
        context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, ErrorData> {
        // In the stateless era (2026-07-28) the methods it removed do not exist.
        let stateless = context
            .protocol_version()
            .is_some_and(|v| v >= ProtocolVersion::V_2026_07_28);
        if stateless && framing::removed_when_stateless(&request.method) {
            return Err(ErrorData::new(
                ErrorCode::METHOD_NOT_FOUND,
                format!(
                    "{} does not exist in the stateless protocol (2026-07-28): use \
                     server/discover, and subscriptions/listen for updates",
                    request.method
                ),
                None,
            ));
        }
        Err(unreadable_request(&request.method, request.params))
    }
}

/// The error for a request rmcp could not read (see `on_custom_request`).
fn unreadable_request(method: &str, params: Option<serde_json::Value>) -> ErrorData {
    if !framing::is_known_method(method) {
        return ErrorData::new(
            ErrorCode::METHOD_NOT_FOUND,
            format!(
                "unknown method '{}': this MCP server answers initialize, ping, tools/list, \
                 tools/call, resources/list, resources/read and the other methods of the MCP \
                 specification",
                shown(method)
            ),
            None,
        );
    }
    let fault = framing::params_fault(method, params.as_ref())
        .unwrap_or_else(|| "they do not match the MCP specification".into());
    ErrorData::invalid_params(format!("invalid params for {method}: {fault}"), None)
}
