//! Wires gather -> probe -> diagnose -> report for the CLI.
