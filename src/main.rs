//! The `dockproof` command. See `dockproof --help` and the README.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
