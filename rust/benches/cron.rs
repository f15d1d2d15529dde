//! Cron: parsing, and `next_after` over a mix of expressions and zones.

use std::hint::black_box;

use _core::cron::CronSchedule;
use chrono::{DateTime, Utc};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

/// The mix used by `benches/bench_cron.py` too: common schedules, a few zones, one rare date.
const MIX: [&str; 10] = [
    "0 */1 * * *",
    "0 0 2 * * *",
    "*/30 * * * * *",
    "0 0 */6 * * *",
    "0 0 1 * * *",
    "*/5 9-17 * * MON-FRI",
    "CRON_TZ=America/New_York 30 2 * * *",
    "CRON_TZ=Europe/Berlin 0 0 9 1,15 * *",
    "CRON_TZ=Australia/Lord_Howe 15 1 * * SUN",
    "0 0 29 2 *",
];

fn start() -> DateTime<Utc> {
    DateTime::from_timestamp(1_741_400_000, 0).expect("a valid timestamp") // 2025-03-08, a day before a DST change
}

fn parse(c: &mut Criterion) {
    c.bench_function("cron/parse/mix", |b| {
        b.iter(|| {
            for expression in MIX {
                black_box(CronSchedule::parse(black_box(expression)).expect("valid"));
            }
        });
    });
}

fn next_after(c: &mut Criterion) {
    let schedules: Vec<CronSchedule> = MIX.iter().map(|e| CronSchedule::parse(e).expect("valid")).collect();
    let mut group = c.benchmark_group("cron/next_after");
    for schedule in &schedules {
        group.bench_with_input(BenchmarkId::from_parameter(schedule.expression()), schedule, |b, s| {
            b.iter(|| s.next_after(black_box(start())));
        });
    }
    group.bench_function("mix", |b| {
        b.iter(|| {
            for schedule in &schedules {
                black_box(schedule.next_after(black_box(start())));
            }
        });
    });
    group.finish();
}

fn iterate(c: &mut Criterion) {
    let schedule = CronSchedule::parse("CRON_TZ=America/New_York */15 * * * *").expect("valid");
    c.bench_function("cron/iter_after/1000 fires across DST", |b| {
        b.iter(|| schedule.iter_after(black_box(start())).take(1000).count());
    });
}

criterion_group!(benches, parse, next_after, iterate);
criterion_main!(benches);
