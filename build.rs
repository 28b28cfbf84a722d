//! Release builds link the server as a position-dependent executable (`-no-pie`).
//!
//! A position-independent one is relocated by the dynamic loader at every start: it reads the
//! whole relocation table (`.rela.dyn`, ~0.6 MiB) and writes every pointer in
//! `.data.rel.ro`, turning those pages into private memory (~0.4 MiB). A fixed load address
//! needs neither, so idle memory is smaller. Only the binaries of this package, only in
//! profiles that inherit `release` (debug and test builds keep the toolchain's default, and
//! their artifacts), only on Linux. The objects stay position-independent code; the linker
//! resolves their addresses at link time.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let release = std::env::var("PROFILE").is_ok_and(|p| p == "release");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    if release && linux {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
