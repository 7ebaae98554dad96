//! How herold runs on the machine: the runtime for background work at a lower CPU priority, and the
//! server's allocator settings.
//!
//! Background work (delivery, Matrix sync, housekeeping, scheduled broadcasts) runs on the tokio
//! runtime's threads, at nice +10 against the rest of herold: on a small machine a broadcast being
//! sent then takes the CPU that webhooks and admin pages leave, instead of making them wait. The web
//! server's threads and the group-commit writer run at herold's own priority (they are started from
//! the main thread, whose priority they take).
//!
//! The allocator settings. glibc's malloc gives threads that allocate at the same time arenas
//! of their own, up to eight per core, and each arena keeps what its threads freed; a Matrix catch-up
//! touches many threads and leaves a little in each. Two arenas and a fixed mmap threshold (which also
//! keeps the trim threshold from growing) hold less. glibc reads `GLIBC_TUNABLES` only when a program
//! starts, so `herold serve` starts itself again once with it set; a `GLIBC_TUNABLES` already in the
//! environment (even empty) is left as it is.

use std::os::unix::process::CommandExt;

/// How much lower (in nice steps) background threads run than herold's main thread.
pub const BACKGROUND_NICE: i32 = 10;

/// The name of the runtime's threads (`top -H`, `ps -L`).
pub const BACKGROUND_THREAD: &str = "herold-bg";

/// The multi-threaded runtime herold's commands run on: the future given to `block_on` runs on the
/// calling (main) thread at its priority; tasks spawned onto the runtime, and its blocking threads,
/// run at [`BACKGROUND_NICE`] more.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name(BACKGROUND_THREAD)
        .on_thread_start(lower_priority)
        .build()
}

/// Sets the calling thread's nice value to the main thread's plus [`BACKGROUND_NICE`] (a new thread
/// takes its creator's value, which may already be lowered). Where that is refused (a sandbox that
/// forbids `setpriority`), the thread keeps its priority.
fn lower_priority() {
    use rustix::process::{getpid, getpriority_process, setpriority_process};
    let target = getpriority_process(Some(getpid())).map(|main| (main + BACKGROUND_NICE).min(19));
    if let Err(e) = target.and_then(|nice| setpriority_process(Some(rustix::thread::gettid()), nice)) {
        tracing::debug!(error = %e, "a background thread keeps its CPU priority");
    }
}

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
