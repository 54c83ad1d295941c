fn main() {
    use clap::Parser;
    let _cli = kubectl_acmecheck::cli::Cli::parse();
}
