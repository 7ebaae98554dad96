//! The server's allocator settings. glibc's malloc gives threads that allocate at the same time arenas
//! of their own, up to eight per core, and each arena keeps what its threads freed; a Matrix catch-up
//! touches many threads and leaves a little in each. Two arenas and a fixed mmap threshold (which also
//! keeps the trim threshold from growing) hold less. glibc reads `GLIBC_TUNABLES` only when a program
//! starts, so `herold serve` starts itself again once with it set; a `GLIBC_TUNABLES` already in the
//! environment (even empty) is left as it is.

use std::os::unix::process::CommandExt;

/// What `herold serve` sets when the environment has no `GLIBC_TUNABLES`.
pub const TUNABLES: &str = "glibc.malloc.arena_max=2:glibc.malloc.mmap_threshold=131072";

/// Replaces this process (same pid, arguments and environment) with a fresh start of the same
/// executable and [`TUNABLES`] set. Returns only when nothing is to be done (another C library, or
/// `GLIBC_TUNABLES` set) or the start failed; the server then runs with glibc's defaults.
pub fn apply() {
    if !cfg!(all(target_os = "linux", target_env = "gnu")) || std::env::var_os("GLIBC_TUNABLES").is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else { return };
    let mut args = std::env::args_os();
    let mut cmd = std::process::Command::new(exe);
    if let Some(name) = args.next() {
        cmd.arg0(name);
    }
    let error = cmd.args(args).env("GLIBC_TUNABLES", TUNABLES).exec();
    eprintln!("herold: running with glibc's default allocator settings (restart with GLIBC_TUNABLES failed: {error})");
}
