//! The probe engine: DNS, per-address HTTP with fresh connections, redirects under
//! cert-manager's and the CA's rules, fingerprints and emulated verdicts.
