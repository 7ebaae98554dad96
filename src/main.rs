//! The herold binary: parses the command line and runs it.

fn main() -> std::process::ExitCode {
    herold::cli::main()
}
