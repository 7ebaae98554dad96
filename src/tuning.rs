//! How herold runs on the machine: the runtime for background work at a lower CPU priority.
//!
//! Background work (delivery, Matrix sync, housekeeping, scheduled broadcasts) runs on the tokio
//! runtime's threads, at nice +10 against the rest of herold: on a small machine a broadcast being
//! sent then takes the CPU that webhooks and admin pages leave, instead of making them wait. The web
//! server's threads and the group-commit writer run at herold's own priority (they are started from
//! the main thread, whose priority they take).

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
