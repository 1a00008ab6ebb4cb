//! Resources and both styles of update notification, with the change made by another
//! server (its own store connection and change feed, as another process would have).

use std::time::Duration;

use rmcp::model::{
    ProtocolVersion, ReadResourceRequestParams, ResourceContents, ServerNotification,
    SubscribeRequestParams, SubscriptionFilter,
};
use rmcp::service::ClientLifecycleMode;
use rmcp::{ClientServiceExt, ServiceExt};
use serde_json::{Value, json};

use switchboard_mcp::client::ResourceWatcher;

use crate::harness::{Harness, ok};

fn serve(server: switchboard_mcp::SwitchboardServer) -> tokio::io::DuplexStream {
    let (server_io, client_io) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_io).await {
            let _ = running.waiting().await;
        }
    });
    client_io
}

fn text(contents: &[ResourceContents]) -> Value {
    match &contents[0] {
        ResourceContents::TextResourceContents { text, .. } => serde_json::from_str(text).unwrap(),
        other => panic!("expected text, got {other:?}"),
    }
}

crate::every_backend! {
    async fn resources_list_and_read(backend) {
        let h = Harness::on(backend);
        let lead = h.client(Some("lead")).await;
        ok(&lead, "session_start", json!({"intent": "lead"})).await;
        ok(&h.client(Some("ann")).await, "agent_register", json!({})).await;
        let ann_server = h.server(Some("ann"));
        let (watcher, _rx) = ResourceWatcher::new();
        let ann = watcher.serve(serve(ann_server)).await.unwrap();
        let listed = ann.list_all_resources().await.unwrap();
        let uris: Vec<&str> = listed.iter().map(|r| r.uri.as_str()).collect();
        assert_eq!(uris, ["switchboard://inbox", "switchboard://sessions"]);
        let templates = ann.list_all_resource_templates().await.unwrap();
        assert_eq!(templates[0].uri_template, "switchboard://threads/{id}");

        let m = ok(
            &lead,
            "message_send",
            json!({"to": ["ann"], "body": "read me as a resource"}),
        )
        .await;
        let inbox = ann
            .read_resource(ReadResourceRequestParams::new("switchboard://inbox"))
            .await
            .unwrap();
        assert_eq!(text(&inbox.contents)["messages"][0]["id"], m["id"]);
        let thread_uri = format!("switchboard://threads/{}", m["thread"].as_str().unwrap());
        let thread = ann
            .read_resource(ReadResourceRequestParams::new(thread_uri))
            .await
            .unwrap();
        assert_eq!(
            text(&thread.contents)["messages"][0]["body"],
            "read me as a resource"
        );
        let sessions = ann
            .read_resource(ReadResourceRequestParams::new("switchboard://sessions"))
            .await
            .unwrap();
        assert_eq!(text(&sessions.contents)["sessions"][0]["agent"], "lead");
        assert!(
            ann.read_resource(ReadResourceRequestParams::new("switchboard://nope"))
                .await
                .is_err()
        );
    }
}

crate::every_backend! {
    async fn legacy_subscribe_notifies_when_another_server_writes(backend) {
        let h = Harness::on(backend);
        let lead = h.client(Some("lead")).await;
        ok(&lead, "session_start", json!({"intent": "lead"})).await;
        let (watcher, mut updates) = ResourceWatcher::new();
        let ann = watcher.serve(serve(h.server(Some("ann")))).await.unwrap();
        ann.call_tool(
            rmcp::model::CallToolRequestParams::new("agent_register")
                .with_arguments(json!({"name": "ann"}).as_object().unwrap().clone()),
        )
        .await
        .unwrap();
        #[allow(deprecated)]
        {
            ann.subscribe(SubscribeRequestParams::new("switchboard://inbox"))
                .await
                .unwrap();
            ann.subscribe(SubscribeRequestParams::new("switchboard://sessions"))
                .await
                .unwrap();
        }
        ok(
            &lead,
            "message_send",
            json!({"to": ["ann"], "body": "ping"}),
        )
        .await;
        let uri = tokio::time::timeout(Duration::from_secs(10), updates.recv())
            .await
            .expect("no update")
            .unwrap();
        assert_eq!(uri, "switchboard://inbox");
        ok(&lead, "session_update", json!({"intent": "lead, still"})).await;
        let uri = tokio::time::timeout(Duration::from_secs(10), updates.recv())
            .await
            .expect("no update")
            .unwrap();
        assert_eq!(uri, "switchboard://sessions");
    }
}

crate::every_backend! {
    async fn listen_notifies_when_another_server_writes(backend) {
        let h = Harness::on(backend);
        let lead = h.client(Some("lead")).await;
        ok(&lead, "session_start", json!({"intent": "lead"})).await;
        ok(&h.client(Some("ann")).await, "agent_register", json!({})).await;
        let ann = ()
            .serve_with_lifecycle(
                serve(h.server(Some("ann"))),
                ClientLifecycleMode::Discover {
                    preferred_versions: vec![ProtocolVersion::V_2026_07_28],
                },
            )
            .await
            .unwrap();
        let filter = SubscriptionFilter::builder()
            .resource_subscription("switchboard://inbox")
            .build();
        let mut subscription = ann.listen(filter).await.unwrap();
        assert!(subscription.acknowledged().resource_subscriptions.is_some());
        ok(
            &lead,
            "message_send",
            json!({"to": ["ann"], "body": "ping over listen"}),
        )
        .await;
        let note = tokio::time::timeout(Duration::from_secs(10), subscription.next())
            .await
            .expect("no update")
            .unwrap();
        match note {
            Some(ServerNotification::ResourceUpdatedNotification(n)) => {
                assert_eq!(n.params.uri, "switchboard://inbox")
            }
            other => panic!("expected a resource update, got {other:?}"),
        }
        subscription.cancel().await.unwrap();
    }
}
