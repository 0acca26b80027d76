// Intentionally empty: see Cargo.toml (the crate is only fetched, never built).
