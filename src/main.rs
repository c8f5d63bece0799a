//! The `capstan` binary: all of it lives in capstan-node.
fn main() -> std::process::ExitCode {
    capstan_node::main()
}
