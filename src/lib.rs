#![recursion_limit = "256"]
//! herold: a privacy-first, self-hosted broadcast server for SMS and Matrix.

pub mod app;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod i18n;
pub mod metrics;
pub mod service;
pub mod store;
pub mod telemetry;
pub mod transport;
pub mod tuning;
pub mod web;
pub mod worker;
