//! Process-wide memory settings.

/// Most malloc arenas a Capstan process uses.
///
/// glibc gives each thread that allocates under contention an arena of its own, up to eight per
/// core; memory freed in one arena cannot serve another, so a master whose watch, store and
/// API threads pass many short-lived JSON objects between them holds far more than it uses.
/// With `capstan bench cluster` (1,000 nodes, 30,000 pods) the master's peak RSS was 1,556 and
/// 1,308 MiB in two runs with glibc's default, and 722 to 1,371 MiB with two arenas: less on
/// the whole, but it varies from run to run as much as it differs.
pub const MALLOC_ARENAS: i32 = 2;

/// Limits glibc's malloc to [`MALLOC_ARENAS`] arenas, unless `MALLOC_ARENA_MAX` is set (the
/// environment wins). Call it first thing in `main`, before threads start. Elsewhere than
/// glibc this does nothing.
pub fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        // SAFETY: mallopt only changes an allocator parameter; called before other threads
        // exist, it races with no allocation.
        #[allow(unsafe_code)]
        unsafe {
            nix::libc::mallopt(nix::libc::M_ARENA_MAX, MALLOC_ARENAS);
        }
    }
}
