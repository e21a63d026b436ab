//! `candor`: the operator's command line. Everything it does lives in the library.

fn main() -> std::process::ExitCode {
    candor_server::cli::main()
}
