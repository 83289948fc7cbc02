//! The table of a bench-load run and the profile-guard / bare_server ratios.

use crate::Run;
use crate::Settings;
use crate::driver::stats::median;
use crate::wrk::WrkResult;

/// (body, label) pairs in the order they were first measured.
fn order(runs: &[Run]) -> Vec<(String, String)> {
    let mut order: Vec<(String, String)> = Vec::new();
    for run in runs {
        let key = (run.body.clone(), run.label.clone());
        if !order.contains(&key) {
            order.push(key);
        }
    }
    order
}

pub fn print_table(s: &Settings, runs: &[Run]) {
    let rounds = runs.iter().map(|r| r.round).max().unwrap_or(0);
    println!();
    println!(
        "profile-guard vs bare axum server, wrk -t{} -c{} -d{}, each request with its own requestId; median of \
         {rounds} round(s)",
        s.threads, s.connections, s.duration
    );
    println!(
        "{:<15} {:<28} {:>9} {:>8} {:>8} {:>8} {:>10} {:>7}",
        "body", "server", "req/s", "p50 ms", "p99 ms", "max ms", "peak RSS", "errors"
    );
    for (body, label) in order(runs) {
        let rs: Vec<&Run> = runs
            .iter()
            .filter(|r| r.body == body && r.label == label)
            .collect();
        let med =
            |f: fn(&WrkResult) -> f64| median(&rs.iter().map(|r| f(&r.wrk)).collect::<Vec<_>>());
        let max_ms = rs.iter().map(|r| r.wrk.max_us).max().unwrap_or(0) as f64 / 1000.0;
        let peak_mib = rs.iter().map(|r| r.peak_kib).max().unwrap_or(0) as f64 / 1024.0;
        let errors: u64 = rs.iter().map(|r| r.wrk.errors).sum();
        println!(
            "{body:<15} {label:<28} {:>9.0} {:>8.2} {:>8.2} {max_ms:>8.2} {peak_mib:>6.1} MiB {errors:>7}",
            med(WrkResult::rps),
            med(|w| w.p50_us as f64) / 1000.0,
            med(|w| w.p99_us as f64) / 1000.0,
        );
    }
}

/// profile-guard / bare_server for one figure, per round in which both ran.
fn ratios(runs: &[Run], body: &str, label: &str, figure: fn(&WrkResult) -> f64) -> Vec<f64> {
    let rounds = runs.iter().map(|r| r.round).max().unwrap_or(0);
    let find = |round: u32, label: &str| {
        runs.iter()
            .find(|r| r.round == round && r.body == body && r.label == label)
    };
    (1..=rounds)
        .filter_map(|round| {
            let (a, z) = (find(round, label)?, find(round, "bare_server")?);
            Some(figure(&a.wrk) / figure(&z.wrk))
        })
        .collect()
}

pub fn print_ratios(runs: &[Run]) {
    println!();
    println!(
        "ratio profile-guard / bare_server, per round (same round, back to back), and their median"
    );
    println!("(target: non-sensitive throughput >= 0.80)");
    for (body, label) in order(runs) {
        if label == "bare_server" {
            continue;
        }
        let rps = ratios(runs, &body, &label, WrkResult::rps);
        if rps.is_empty() {
            continue;
        }
        let p50 = ratios(runs, &body, &label, |w| w.p50_us as f64);
        let p99 = ratios(runs, &body, &label, |w| w.p99_us as f64);
        let each: Vec<String> = rps.iter().map(|x| format!("{x:.2}")).collect();
        println!(
            "{body:<15} {label:<28} req/s {:.2} ({})   p50 {:.2}x   p99 {:.2}x",
            median(&rps),
            each.join(" "),
            median(&p50),
            median(&p99)
        );
    }
}
