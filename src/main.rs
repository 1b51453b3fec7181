#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    memory_passport::cli::init_logging();
    memory_passport::cli::main().await
}

#[cfg(not(feature = "ssr"))]
fn main() {
    // The browser half is a library (hydrate); the binary is the server.
}
