//! `losscape`: parse the command line, then open the app or run a headless command.

fn main() -> std::process::ExitCode {
    losscape::cli::main()
}
