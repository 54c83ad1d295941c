fn main() {
    use clap::Parser;
    use kubectl_acmecheck::cli::{Cli, Command};
    use kubectl_acmecheck::completion;
    // kubectl's completion helper: the words are the user's, not flags for clap to parse.
    if let Some(args) = completion::raw_complete_args() {
        std::process::exit(completion::complete_main(&args));
    }
    let cli = Cli::parse();
    match &cli.command {
        Some(Command::Completion(args)) => std::process::exit(completion::completion_main(args)),
        Some(Command::Complete(args)) => std::process::exit(completion::complete_main(args)),
        _ => {}
    }
}
