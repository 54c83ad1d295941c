//! Errors a user can act on: what failed, why, and what to do. Every one of them exits 2.

use std::fmt;

/// An error that stops the diagnosis. `Display` is what the user reads on stderr.
#[derive(Debug)]
pub struct UserError {
    /// What failed, e.g. `cannot read certificates in namespace "shop"`.
    pub what: String,
    /// Why, e.g. the API server's message.
    pub why: Option<String>,
    /// What to do about it.
    pub hint: Option<String>,
}

impl UserError {
    pub fn new(what: impl Into<String>) -> Self {
        UserError {
            what: what.into(),
            why: None,
            hint: None,
        }
    }
    pub fn why(mut self, why: impl Into<String>) -> Self {
        self.why = Some(why.into());
        self
    }
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for UserError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "error: {}", self.what)?;
        if let Some(why) = &self.why {
            write!(f, ": {why}")?;
        }
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

impl std::error::Error for UserError {}

/// Exit codes, documented in `--help` and the README.
pub mod exit {
    /// The checks ran and found no problem.
    pub const OK: i32 = 0;
    /// The checks found a problem.
    pub const PROBLEM: i32 = 1;
    /// Could not diagnose.
    pub const CANNOT_DIAGNOSE: i32 = 2;
    /// Interrupted by SIGINT (128 + 2), after deleting the probe pod.
    pub const SIGINT: i32 = 130;
    /// Terminated by SIGTERM (128 + 15), after deleting the probe pod.
    pub const SIGTERM: i32 = 143;
}
