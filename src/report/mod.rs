//! Report: table for people, JSON/YAML for scripts.
