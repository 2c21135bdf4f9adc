//! Parses the benchmark's generated 1,000-function file N times (default 20): a steady
//! workload for profilers and instruction counters, which stay exact when the machine is
//! busy and wall-clock benchmarks do not. `perf stat -e instructions:u target/release/examples/parse_many`

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(20);
    let text = tel_testgen::generate_file(1_000);
    let mut nodes = 0;
    for _ in 0..n {
        let parse = tel_syntax::parse(std::hint::black_box(&text));
        nodes += parse.green.children().len();
    }
    println!("parsed {n} times ({nodes} top-level elements in all)");
}
