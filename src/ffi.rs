//! The C ABI (to be filled in by the C ABI work).
