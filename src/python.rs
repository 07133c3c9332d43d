//! The Python extension module (to be filled in by the Python work).
