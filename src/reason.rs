//! Challenge phase and `status.reason` parsing.
