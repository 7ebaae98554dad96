//! Every integration test in one binary (one link of herold and matrix-sdk instead of one per file):
//! each module is one area, named as the file was before (`cargo test --test integration flow::`).
//! Tests talk to real peers: SQLite files, the `herold` binary, Kannel, Synapse and Chromium.
#![recursion_limit = "256"]

mod common;

mod api;
mod browser;
mod cli;
mod conversations;
mod crash;
mod docs;
mod editorial;
mod faults;
mod flow;
mod fuzz;
mod import;
mod logs;
mod matrix_synapse;
mod metrics;
mod openapi;
mod privacy;
mod quotas;
mod security;
mod sms_gateways;
mod sms_kannel;
mod store;
mod web;
mod webhooks;
