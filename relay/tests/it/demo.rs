//! The demo (`cargo xtask run --demo`): every ready-made diagnosis the lab offers is a valid request
//! that the relay offers on /api/v1/info and that ends in a real finding.

use std::sync::Arc;

use crate::common::*;
use migcheck_relay::api::{AppState, app};
use migcheck_shared::{Demo, RelayInfo, Verdict};

fn lab_demos() -> Vec<Demo> {
    let lab = lab();
    let _ = (lab.autodiscover(), lab.outlook_anywhere(), lab.exchange());
    serde_json::from_value(migcheck_lab::demo::demos(lab)).expect("the lab's demos are DiagnoseRequests")
}

#[test]
#[ignore = "needs the lab: cargo xtask test"]
fn every_demo_ends_in_a_real_finding() {
    let demos = lab_demos();
    assert_eq!(demos.len(), 5);
    for demo in demos {
        let (report, _) = api_report(serde_json::to_string(&demo.request).expect("json"));
        assert_ne!(report.verdict, Verdict::Pass, "{}: {}", demo.title, report.headline);
        assert!(!report.findings.is_empty(), "{}", demo.title);
    }
}

#[tokio::test]
#[ignore = "needs the lab: cargo xtask test"]
async fn the_relay_offers_the_demos_in_its_info() {
    let demos = lab_demos();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = app(Arc::new(AppState::new(
        lab_net(2),
        demos.clone(),
        migcheck_relay::limits::Hosting::default(),
    )));
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let body = get_text(&format!("http://{addr}/api/v1/info")).await;
    let info: RelayInfo = serde_json::from_str(&body).expect("json");
    assert_eq!(info.demos, demos);
}
