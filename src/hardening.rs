//! What a process that may hold a secret does first: no core dumps, no ptrace by other
//! processes of this user (SPEC §8: a secret never reaches a file it was not meant for).

/// Turns off core dumps for this process and its children (`RLIMIT_CORE` 0), and makes it
/// non-dumpable (`PR_SET_DUMPABLE` 0: no core even where a core pattern pipes to a handler,
/// and no ptrace or `/proc/PID/mem` reads by other processes of the same user). Best effort:
/// a refusal leaves the process as it was.
pub fn no_core_dumps() {
    let none = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain system calls with valid arguments; they change only this process.
    unsafe {
        libc::setrlimit(libc::RLIMIT_CORE, &none);
        #[cfg(target_os = "linux")]
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}
