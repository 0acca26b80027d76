//! Re-export of wasmtime's C API so cargo emits libwasmtime.a.
pub use wasmtime_c_api::*;
