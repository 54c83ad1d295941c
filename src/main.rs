use clap::Parser;
use kubectl_acmecheck::cli::{Cli, Command};
use kubectl_acmecheck::error::exit;

fn main() {
    let cli = Cli::parse();
    let code = match &cli.command {
        Some(Command::Probe(args)) => kubectl_acmecheck::probe::cmd::probe_main(args),
        None => {
            eprintln!("error: not implemented yet");
            exit::CANNOT_DIAGNOSE
        }
    };
    std::process::exit(code);
}
