fn main() -> std::process::ExitCode {
    migcheck_relay::cli::main()
}
