//! The claim tools over MCP: claiming, listing, refusals naming the holder, shared
//! claims, release by id, pattern or all, and claims ending with their session.

use serde_json::{Value, json};
use switchboard_mcp::client::AgentClient;

use crate::harness::{Harness, ok, refused};

/// A client of agent `name` with a session.
async fn agent(h: &Harness, name: &str) -> AgentClient {
    let client = h.client(Some(name)).await;
    ok(
        &client,
        "session_start",
        json!({"intent": format!("{name} works")}),
    )
    .await;
    client
}

/// The patterns of a result's claims (or released claims) at `key`, in order.
fn patterns(result: &Value, key: &str) -> Vec<String> {
    result[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["pattern"].as_str().unwrap().to_string())
        .collect()
}

crate::every_backend! {
    async fn a_claim_is_listed_and_refuses_others_naming_holder_reason_and_expiry(backend) {
        let h = Harness::on(backend);
        let alpha = agent(&h, "alpha").await;
        let beta = agent(&h, "beta").await;
        let made = ok(
            &alpha,
            "claim_add",
            json!({"patterns": ["src/auth/**"], "reason": "refactoring auth", "ttl": "30m"}),
        )
        .await;
        let claim = &made["claims"][0];
        assert!(claim["id"].as_str().unwrap().starts_with("clm_"), "{made}");
        assert_eq!(claim["pattern"], "src/auth/**");
        assert!(claim["expires_at"].is_string());
        assert_eq!(
            claim.as_object().unwrap().len(),
            3,
            "no echoes of what was asked: {made}"
        );

        let listed = ok(&beta, "claim_list", json!({})).await;
        let line = &listed["claims"][0];
        assert_eq!(
            (&line["agent"], &line["reason"], &line["pattern"]),
            (&json!("alpha"), &json!("refactoring auth"), &json!("src/auth/**"))
        );
        assert!(line["session"].as_str().unwrap().starts_with("ses_"));
        assert_eq!(line.get("shared"), None, "exclusive is the default: {line}");
        assert_eq!(line.get("stale"), None, "{line}");
        let covering = ok(&beta, "claim_list", json!({"path": "src/auth/login.rs"})).await;
        assert_eq!(patterns(&covering, "claims"), ["src/auth/**"]);
        let elsewhere = ok(&beta, "claim_list", json!({"path": "docs/x.md"})).await;
        assert_eq!(elsewhere["claims"], json!([]));
        let who = ok(&beta, "who_has", json!({"path": "src/auth/login.rs"})).await;
        assert_eq!(patterns(&who, "claims"), ["src/auth/**"], "who_has names claims: {who}");
        assert_eq!(who["claims"][0]["agent"], "alpha");
        assert_eq!(who["holders"], json!([]), "nobody is changing it yet: {who}");

        let text = refused(
            &beta,
            "claim_add",
            json!({"patterns": ["src/auth/login.rs"], "reason": "fix the login"}),
        )
        .await;
        for needed in ["'alpha'", "src/auth/**", "refactoring auth", "until", "message the holder"] {
            assert!(text.contains(needed), "{needed} missing from: {text}");
        }
        let shared = refused(
            &beta,
            "claim_add",
            json!({"patterns": ["src/**"], "reason": "read", "shared": true}),
        )
        .await;
        assert!(shared.contains("'alpha'"), "{shared}");
        let bad_ttl = refused(
            &alpha,
            "claim_add",
            json!({"patterns": ["x"], "reason": "r", "ttl": "soon"}),
        )
        .await;
        assert!(
            bad_ttl.contains("parameter `ttl`: 'soon' is not a duration") && bad_ttl.contains("2h"),
            "{bad_ttl}"
        );
        let renewed = ok(
            &alpha,
            "claim_add",
            json!({"patterns": ["src/auth/**"], "reason": "still refactoring", "ttl": "2h"}),
        )
        .await;
        assert_eq!(renewed["claims"][0]["id"], claim["id"], "claiming again renews");
    }

    async fn shared_claims_coexist_but_not_with_an_exclusive_one(backend) {
        let h = Harness::on(backend);
        let alpha = agent(&h, "alpha").await;
        let beta = agent(&h, "beta").await;
        ok(&alpha, "claim_add", json!({"patterns": ["docs/**"], "reason": "proofreading", "shared": true})).await;
        ok(&beta, "claim_add", json!({"patterns": ["docs/guide.md"], "reason": "adding a section", "shared": true})).await;
        let listed = ok(&alpha, "claim_list", json!({"path": "docs/guide.md"})).await;
        let mut both = patterns(&listed, "claims");
        both.sort();
        assert_eq!(both, ["docs/**", "docs/guide.md"]);
        assert!(listed["claims"].as_array().unwrap().iter().all(|c| c["shared"] == true));
        let text = refused(&beta, "claim_add", json!({"patterns": ["docs/"], "reason": "rewrite"})).await;
        assert!(text.contains("proofreading"), "{text}");
    }

    async fn claims_are_released_by_id_pattern_or_all(backend) {
        let h = Harness::on(backend);
        let alpha = agent(&h, "alpha").await;
        let made = ok(
            &alpha,
            "claim_add",
            json!({"patterns": ["a/**", "b/**", "c/**", "d.txt"], "reason": "work"}),
        )
        .await;
        let first = made["claims"][0]["id"].as_str().unwrap();
        let by_id = ok(&alpha, "claim_release", json!({"id": first})).await;
        assert_eq!(patterns(&by_id, "released"), ["a/**"]);
        let by_pattern = ok(&alpha, "claim_release", json!({"pattern": "b/**"})).await;
        assert_eq!(patterns(&by_pattern, "released"), ["b/**"]);
        let all = ok(&alpha, "claim_release", json!({"all": true})).await;
        let mut rest = patterns(&all, "released");
        rest.sort();
        assert_eq!(rest, ["c/**", "d.txt"], "claims made together, in any order");
        let none = ok(&alpha, "claim_release", json!({"all": true})).await;
        assert_eq!(none["released"], json!([]));
        assert_eq!(ok(&alpha, "claim_list", json!({})).await["claims"], json!([]));
        for args in [json!({}), json!({"id": first, "all": true})] {
            let text = refused(&alpha, "claim_release", args).await;
            assert!(text.contains("exactly one of id, pattern or all"), "{text}");
        }
        let unknown = refused(&alpha, "claim_release", json!({"pattern": "b/**"})).await;
        assert!(unknown.contains("you hold no claim of 'b/**'"), "{unknown}");
    }

    async fn claims_end_with_their_session(backend) {
        let h = Harness::on(backend);
        let alpha = agent(&h, "alpha").await;
        let beta = agent(&h, "beta").await;
        ok(&alpha, "claim_add", json!({"patterns": ["src/**"], "reason": "big refactor"})).await;
        refused(&beta, "claim_add", json!({"patterns": ["src/lib.rs"], "reason": "fix"})).await;
        ok(&alpha, "session_end", json!({"status": "completed"})).await;
        assert_eq!(ok(&beta, "claim_list", json!({})).await["claims"], json!([]));
        ok(&beta, "claim_add", json!({"patterns": ["src/lib.rs"], "reason": "fix"})).await;
        let no_session = refused(&alpha, "claim_add", json!({"patterns": ["x"], "reason": "r"})).await;
        assert!(no_session.contains("session_start"), "{no_session}");
    }
}
