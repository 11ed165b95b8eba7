#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
//! The layering of DESIGN.md, enforced from `cargo metadata`:
//! - the domain and application crates never depend, even transitively, on a web framework,
//!   an SQL driver, a cache client, an HTTP client, an async runtime or a vendor SDK;
//! - the domain depends on no internal crate; the application only on the domain;
//! - an adapter depends on the domain only (never on another adapter, the application or an
//!   interface);
//! - an interface never depends on an adapter;
//! - only the server (and the test kit and the benchmarks) see both sides.

use cargo_metadata::{DependencyKind, Metadata, MetadataCommand, PackageId};
use std::collections::{BTreeSet, HashMap};

/// Crate names (or prefixes ending in `*`) the inner layers must never reach.
const FORBIDDEN_IN_CORE: &[&str] = &[
    // web frameworks and HTTP stacks
    "axum",
    "axum-core",
    "actix-web",
    "rocket",
    "warp",
    "poem",
    "tide",
    "hyper",
    "hyper-util",
    "tower",
    "tower-http",
    "http-body",
    // SQL drivers and ORMs
    "sqlx",
    "sqlx-*",
    "rusqlite",
    "libsqlite3-sys",
    "tokio-postgres",
    "postgres",
    "diesel",
    "sea-orm",
    "mysql_async",
    // caches and brokers
    "redis",
    "fred",
    "deadpool-redis",
    "bb8-redis",
    "lapin",
    "async-nats",
    // HTTP clients
    "reqwest",
    "ureq",
    "isahc",
    "surf",
    "awc",
    // runtimes
    "tokio",
    "async-std",
    "smol",
    // protocol verifiers (behind ports)
    "webauthn-rs*",
    "totp-rs",
    "passkey*",
    // vendor SDKs and delivery
    "aws-sdk-*",
    "aws-config",
    "google-*",
    "azure_*",
    "lettre",
    "launchdarkly-*",
    "unleash-*",
    "configcat",
];

const CORE: &[&str] = &["tessera-domain", "tessera-authz", "tessera-application"];
const ADAPTERS: &[&str] = &[
    "tessera-store-sqlite",
    "tessera-store-postgres",
    "tessera-crypto",
    "tessera-cache",
    "tessera-notify",
    "tessera-passkeys",
];
const INTERFACES: &[&str] = &[
    "tessera-http-kit",
    "tessera-http-rest",
    "tessera-web-ui",
    "tessera-api-types",
];

fn matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

struct Graph {
    names: HashMap<PackageId, String>,
    /// Normal (non-dev, non-build) dependencies of each package.
    normal: HashMap<PackageId, Vec<PackageId>>,
    ids: HashMap<String, PackageId>,
}

fn graph() -> Graph {
    let metadata: Metadata = MetadataCommand::new().exec().expect("cargo metadata");
    let names: HashMap<_, _> = metadata
        .packages
        .iter()
        .map(|p| (p.id.clone(), p.name.to_string()))
        .collect();
    let ids = metadata
        .packages
        .iter()
        .filter(|p| metadata.workspace_members.contains(&p.id))
        .map(|p| (p.name.to_string(), p.id.clone()))
        .collect();
    let resolve = metadata.resolve.expect("resolve graph");
    let normal = resolve
        .nodes
        .iter()
        .map(|node| {
            let deps = node
                .deps
                .iter()
                .filter(|d| d.dep_kinds.iter().any(|k| k.kind == DependencyKind::Normal))
                .map(|d| d.pkg.clone())
                .collect();
            (node.id.clone(), deps)
        })
        .collect();
    Graph { names, normal, ids }
}

impl Graph {
    fn id(&self, name: &str) -> &PackageId {
        self.ids
            .get(name)
            .unwrap_or_else(|| panic!("{name} is not a workspace member"))
    }

    /// Every package reachable through normal dependencies, with the path that reaches it.
    fn closure(&self, root: &str) -> HashMap<String, Vec<String>> {
        let mut seen: HashMap<String, Vec<String>> = HashMap::new();
        let mut stack = vec![(self.id(root).clone(), vec![root.to_owned()])];
        while let Some((id, path)) = stack.pop() {
            for dep in self.normal.get(&id).into_iter().flatten() {
                let name = self.names[dep].clone();
                if seen.contains_key(&name) {
                    continue;
                }
                let mut p = path.clone();
                p.push(name.clone());
                seen.insert(name, p.clone());
                stack.push((dep.clone(), p));
            }
        }
        seen
    }

    fn direct_internal(&self, name: &str) -> BTreeSet<String> {
        self.normal[self.id(name)]
            .iter()
            .map(|d| self.names[d].clone())
            .filter(|n| n.starts_with("tessera-"))
            .collect()
    }
}

#[test]
fn core_crates_reach_no_framework_driver_client_runtime_or_sdk() {
    let g = graph();
    let mut violations = Vec::new();
    for core in CORE {
        for (name, path) in g.closure(core) {
            if FORBIDDEN_IN_CORE.iter().any(|p| matches(p, &name)) {
                violations.push(format!("{core} reaches {name} via {}", path.join(" -> ")));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "forbidden dependencies:\n{}",
        violations.join("\n")
    );
}

#[test]
fn internal_edges_follow_the_hexagon() {
    let g = graph();
    let allowed = |name: &str| -> Option<&[&str]> {
        match name {
            "tessera-domain" => Some(&[]),
            "tessera-application" => Some(&["tessera-domain", "tessera-authz"]),
            // The pure RBAC + Cedar engine.
            "tessera-authz" => Some(&["tessera-domain"]),
            n if ADAPTERS.contains(&n) => Some(&["tessera-domain"]),
            "tessera-config" | "tessera-api-types" | "tessera-http-kit" => Some(&[]),
            "tessera-http-rest" | "tessera-web-ui" => Some(&[
                "tessera-domain",
                "tessera-application",
                "tessera-api-types",
                "tessera-http-kit",
            ]),
            "tessera-store-contract" => Some(&["tessera-domain"]),
            // Test support (a software WebAuthn authenticator): nothing internal.
            "tessera-softkey" => Some(&[]),
            _ => None, // the server, the test kit and the benchmarks see everything
        }
    };
    let mut violations = Vec::new();
    for name in g.ids.keys() {
        let Some(allowed) = allowed(name) else {
            continue;
        };
        for dep in g.direct_internal(name) {
            if !allowed.contains(&dep.as_str()) {
                violations.push(format!("{name} must not depend on {dep}"));
            }
        }
    }
    violations.sort();
    assert!(
        violations.is_empty(),
        "layering violations:\n{}",
        violations.join("\n")
    );
    // Interfaces never reach an adapter, even transitively.
    for interface in INTERFACES {
        let reach = g.closure(interface);
        for adapter in ADAPTERS {
            assert!(
                !reach.contains_key(*adapter),
                "{interface} reaches {adapter} via {:?}",
                reach[*adapter]
            );
        }
    }
    // The software authenticator is for tests and benchmarks only: the binary never has it.
    assert!(
        !g.closure("tessera-server").contains_key("tessera-softkey"),
        "the server reaches the test authenticator: {:?}",
        g.closure("tessera-server")["tessera-softkey"]
    );
    // Every workspace crate is classified, so a new crate gets a rule.
    for name in g.ids.keys() {
        let known = allowed(name).is_some()
            || matches!(
                name.as_str(),
                "tessera-server" | "tessera-testkit" | "tessera-bench"
            );
        assert!(known, "{name} has no layering rule in this test: add one");
    }
}

#[test]
fn the_forbidden_list_catches_what_it_should() {
    // Guards the guard: the matcher must recognise these.
    for name in [
        "axum",
        "sqlx-core",
        "reqwest",
        "tokio",
        "aws-sdk-s3",
        "redis",
    ] {
        assert!(FORBIDDEN_IN_CORE.iter().any(|p| matches(p, name)), "{name}");
    }
    assert!(!FORBIDDEN_IN_CORE.iter().any(|p| matches(p, "serde")));
    // And the server does reach them (the graph is real).
    let g = graph();
    assert!(g.closure("tessera-server").contains_key("axum"));
}
