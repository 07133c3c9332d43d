//! Gives the C library its SONAME, `libdrain_control.so.<major>`, so that a program
//! linked against it records that name and finds the installed file (see
//! `scripts/install-c`) without `LD_LIBRARY_PATH`. Not for the Python extension module,
//! which Python opens by path.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-env-changed=CARGO_FEATURE_PYTHON");
    let is_python_build = std::env::var_os("CARGO_FEATURE_PYTHON").is_some();
    let is_linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    if is_linux && !is_python_build {
        let major = std::env::var("CARGO_PKG_VERSION_MAJOR").expect("set by cargo");
        println!("cargo::rustc-cdylib-link-arg=-Wl,-soname,libdrain_control.so.{major}");
    }
}
