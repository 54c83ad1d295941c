use clap::Parser;
use kubectl_acmecheck::cli::{Cli, Command};
use kubectl_acmecheck::completion;
use kubectl_acmecheck::error::exit;

fn main() {
    // kubectl's completion helper: the words are the user's, not flags for clap to parse.
    if let Some(args) = completion::raw_complete_args() {
        std::process::exit(completion::complete_main(&args));
    }
    let cli = Cli::parse();
    init_logging(cli.output.verbose);
    let code = match &cli.command {
        Some(Command::Preflight(args)) => preflight(&cli, args),
        Some(Command::Probe(args)) => kubectl_acmecheck::probe::cmd::probe_main(args),
        Some(Command::Cleanup) => kubectl_acmecheck::probe::pod::cleanup::cleanup_main(&cli),
        Some(Command::Completion(args)) => completion::completion_main(args),
        Some(Command::Complete(args)) => completion::complete_main(args),
        Some(Command::Renewals(args)) => renewals(&cli, args),
        Some(Command::Solver(args)) => kubectl_acmecheck::solver::solver_main(args),
        None => diagnose(&cli),
    };
    std::process::exit(code);
}

/// `-v`: debug logs of this crate on stderr; `-vv`: also the libraries'.
fn init_logging(verbose: u8) {
    let filter = match verbose {
        0 => return,
        1 => "kubectl_acmecheck=debug",
        _ => "debug",
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .try_init();
}

fn diagnose(cli: &Cli) -> i32 {
    match kubectl_acmecheck::run::block_on(kubectl_acmecheck::run::execute(cli)) {
        Ok(Ok(code)) => code,
        Ok(Err(e)) | Err(e) => {
            eprintln!("{e}");
            exit::CANNOT_DIAGNOSE
        }
    }
}

fn preflight(cli: &Cli, args: &kubectl_acmecheck::cli::PreflightArgs) -> i32 {
    match kubectl_acmecheck::run::block_on(kubectl_acmecheck::run::preflight::execute(cli, args)) {
        Ok(Ok(code)) => code,
        Ok(Err(e)) | Err(e) => {
            eprintln!("{e}");
            exit::CANNOT_DIAGNOSE
        }
    }
}

fn renewals(cli: &Cli, args: &kubectl_acmecheck::cli::RenewalsArgs) -> i32 {
    match kubectl_acmecheck::run::block_on(kubectl_acmecheck::renewals::execute(cli, args)) {
        Ok(Ok(code)) => code,
        Ok(Err(e)) | Err(e) => {
            eprintln!("{e}");
            exit::CANNOT_DIAGNOSE
        }
    }
}
