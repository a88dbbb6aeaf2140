//! Builds the sample secondary school's week and prints how long it took:
//! `cargo run --release -p oneclass-timetable --example secondary -- SEED`.
fn main() {
    let seed = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1);
    let problem = oneclass_timetable::sample::secondary(seed);
    let outcome = oneclass_timetable::solve(&problem, std::time::Duration::from_secs(120))
        .expect("a sound problem");
    let clashes = oneclass_timetable::check(&problem, &outcome.week);
    println!(
        "seed {seed}: {} lessons placed, {} left out, {} clashes, {:.2} s",
        outcome.week.len(),
        outcome.unplaced.iter().map(|u| u.lessons).sum::<u32>(),
        clashes.len(),
        outcome.elapsed.as_secs_f64()
    );
}
