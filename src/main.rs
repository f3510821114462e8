//! The `dockproof` command. See `dockproof --help` and the README.

mod cli;

/// mimalloc instead of the C library's allocator: an assessment builds and drops millions of
/// small strings and JSON values, and glibc's malloc and free were a fifth of a report's CPU
/// time (and serialise the fleet's worker threads on its arenas).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
