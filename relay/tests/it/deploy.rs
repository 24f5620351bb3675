//! The files an operator deploys with (issue 22), linted offline since this machine runs no container:
//! Containerfile with hadolint, deploy/k8s.yaml with kubernetes-validate (its schemas bundled), both
//! pinned in the lab venv; deploy/compose.yaml read as YAML (PyYAML, which kubernetes-validate brings)
//! and checked for what makes several instances right: one store, the proxy trusted and nothing else.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A command of the lab venv (`cargo xtask test` installs it), or the one beside `MIGCHECK_LAB_PYTHON`.
fn venv_bin(name: &str) -> PathBuf {
    let python = std::env::var_os("MIGCHECK_LAB_PYTHON")
        .map_or_else(|| repo().join("target/lab-venv/bin/python"), PathBuf::from);
    let bin = python.with_file_name(name);
    assert!(
        bin.is_file(),
        "{} is missing: `cargo xtask test` installs it into target/lab-venv",
        bin.display()
    );
    bin
}

/// Runs `cmd`; its exit code and output.
fn run(mut cmd: Command) -> (bool, String) {
    let out = cmd.output().expect("start");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Every YAML document of `file`, as JSON.
fn yaml_documents(file: &str) -> Vec<Value> {
    let mut cmd = Command::new(venv_bin("python"));
    cmd.args([
        "-c",
        "import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))",
    ])
    .arg(repo().join(file));
    let (ok, text) = run(cmd);
    assert!(ok, "{file}: {text}");
    serde_json::from_str(&text).expect("json")
}

/// `--flag value` in an argument list.
fn flag<'a>(args: &'a [Value], name: &str) -> Option<&'a str> {
    let at = args.iter().position(|a| a == name)?;
    args.get(at + 1)?.as_str()
}

#[test]
#[ignore = "needs the lab venv: cargo xtask test"]
fn the_containerfile_passes_hadolint() {
    let mut cmd = Command::new(venv_bin("hadolint"));
    cmd.arg(repo().join("Containerfile"));
    let (ok, text) = run(cmd);
    assert!(ok, "hadolint: {text}");
    let file = std::fs::read_to_string(repo().join("Containerfile")).expect("Containerfile");
    let last_stage = file.rsplit("\nFROM ").next().expect("a stage");
    for needed in [
        "distroless/static-debian12:nonroot",
        "USER 65532:65532",
        "EXPOSE 8080",
        r#"CMD ["/migcheck", "health", "http://127.0.0.1:8080/healthz"]"#,
        "x86_64-unknown-linux-musl --features vendored-openssl",
    ] {
        assert!(file.contains(needed), "Containerfile: no {needed}");
    }
    assert!(
        !last_stage.contains("RUN "),
        "the run stage has no shell to run anything in"
    );
}

#[test]
#[ignore = "needs the lab venv: cargo xtask test"]
fn the_kubernetes_manifest_is_valid_and_hardened() {
    let mut cmd = Command::new(venv_bin("kubernetes-validate"));
    cmd.args(["--strict", "--quiet"]).arg(repo().join("deploy/k8s.yaml"));
    let (ok, text) = run(cmd);
    assert!(ok, "kubernetes-validate: {text}");
    let docs = yaml_documents("deploy/k8s.yaml");
    let relay = docs
        .iter()
        .find(|d| d["kind"] == "Deployment" && d["metadata"]["name"] == "migcheck")
        .expect("the relay's Deployment");
    assert!(
        relay["spec"]["replicas"].as_u64().is_some_and(|n| n >= 2),
        "several instances"
    );
    let pod = &relay["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    let container = &pod["containers"][0];
    assert_eq!(container["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert!(container["resources"]["limits"]["memory"].is_string());
    assert!(container["resources"]["limits"]["cpu"].is_string());
    assert_eq!(container["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(container["securityContext"]["allowPrivilegeEscalation"], false);
    let args = container["args"].as_array().expect("args");
    assert!(flag(args, "--trusted-proxy").is_some(), "{args:?}");
    let store = container["env"]
        .as_array()
        .and_then(|env| env.iter().find(|e| e["name"] == "MIGCHECK_RATE_LIMIT_STORE"))
        .and_then(|e| e["value"].as_str())
        .expect("the store's URL in the environment");
    let host = store
        .trim_start_matches("redis://")
        .split(':')
        .next()
        .unwrap_or_default();
    assert!(
        docs.iter()
            .any(|d| d["kind"] == "Service" && d["metadata"]["name"] == host),
        "no Service {host}"
    );
    assert!(
        docs.iter()
            .any(|d| d["kind"] == "Service" && d["metadata"]["name"] == "migcheck"),
        "no Service for the relay"
    );
}

#[test]
#[ignore = "needs the lab venv: cargo xtask test"]
fn the_compose_file_trusts_its_proxy_and_shares_one_store() {
    let compose = yaml_documents("deploy/compose.yaml").remove(0);
    let services = compose["services"].as_object().expect("services");
    let proxy_ip = compose["services"]["nginx"]["networks"]["backend"]["ipv4_address"]
        .as_str()
        .expect("nginx's fixed address");
    let nginx_conf = std::fs::read_to_string(repo().join("deploy/nginx.conf")).expect("nginx.conf");
    assert!(nginx_conf.contains("proxy_set_header X-Forwarded-For $remote_addr;"));
    let relays: Vec<(&String, &Value)> = services
        .iter()
        .filter(|(_, s)| s["command"].get(0).is_some_and(|c| c == "serve"))
        .collect();
    assert_eq!(relays.len(), 2, "two relays");
    for (name, relay) in relays {
        let args = relay["command"].as_array().expect("command");
        assert_eq!(
            flag(args, "--trusted-proxy"),
            Some(proxy_ip),
            "{name}: trusts nginx alone"
        );
        let store = flag(args, "--rate-limit-store").expect("--rate-limit-store");
        let host = store
            .trim_start_matches("redis://")
            .split(':')
            .next()
            .unwrap_or_default();
        assert!(services.contains_key(host), "{name}: {store} is no service");
        assert_eq!(relay["read_only"], true, "{name}");
        assert!(
            nginx_conf.contains(&format!("server {name}:8080;")),
            "{name} is not behind nginx"
        );
    }
}
