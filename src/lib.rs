//! `tokens`: a command-line manager for API tokens. The modules are public for tests,
//! examples and benchmarks; `main.rs` only parses, runs and maps the error to an exit code.
//!
//! `SPEC §N` in a comment is section N of `docs/SPEC.md`, the contract in this repository.

pub mod cli;
pub mod clipboard;
pub mod commands;
pub mod duration;
pub mod error;
pub mod hardening;
pub mod man;
pub mod output;
pub mod policy;
pub mod prompt;
pub mod seed;
pub mod token;
pub mod vault;
