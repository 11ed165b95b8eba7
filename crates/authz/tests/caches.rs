//! The typed caches: keyed by epoch, bounded.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use support::*;
use tessera_authz::{Caches, Engine, compile};

#[test]
fn graphs_and_engines_are_found_by_their_epoch_only() {
    let caches = Caches::new(100);
    let g = Arc::new(compile(&model(), &subject(1), &[], &[], 3));
    caches.put_graph(g.clone());
    assert_eq!(caches.graph(tenant(), user(1), 3), Some(g));
    assert!(caches.graph(tenant(), user(1), 4).is_none());
    assert!(caches.graph(tenant(), user(2), 3).is_none());

    let e = Arc::new(Engine::build(&[orders()], None).unwrap());
    caches.put_engine(tenant(), 3, e.clone());
    assert!(Arc::ptr_eq(&caches.engine(tenant(), 3).unwrap(), &e));
    assert!(caches.engine(tenant(), 2).is_none());
}
