//! `herald-cli`: Herald without a window.

fn main() {
    eprintln!("herald-cli: no commands yet");
    std::process::exit(2);
}
