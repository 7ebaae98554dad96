//! Lays out the code of release builds for a small idle footprint: on x86-64 Linux, where rustc links
//! with its own lld, the functions herold runs while it starts and idles (`scripts/text-order.txt`,
//! written by `scripts/order-text`) are placed together at the front of the code. The kernel maps an
//! executable's code in 64 kB pieces around each first use; spread over the whole binary, the few
//! megabytes that run at start pulled in most of its code. `HEROLD_NO_TEXT_ORDER=1` leaves the
//! default layout (for a linker other than lld).

use std::path::Path;

fn main() {
    println!("cargo::rerun-if-changed=scripts/text-order.txt");
    println!("cargo::rerun-if-env-changed=HEROLD_NO_TEXT_ORDER");
    let var = |name: &str| std::env::var(name).unwrap_or_default();
    let list = Path::new(&var("CARGO_MANIFEST_DIR")).join("scripts/text-order.txt");
    if var("TARGET") == "x86_64-unknown-linux-gnu"
        && var("PROFILE") == "release"
        && var("HEROLD_NO_TEXT_ORDER").is_empty()
        && list.is_file()
        // `-Wl,` splits its argument at commas.
        && !list.to_string_lossy().contains(',')
    {
        println!("cargo::rustc-link-arg-bins=-Wl,--symbol-ordering-file={}", list.display());
        // Names the linker does not find (other features, a newer dependency) are skipped quietly.
        println!("cargo::rustc-link-arg-bins=-Wl,--no-warn-symbol-ordering");
    }
}
