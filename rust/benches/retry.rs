//! Durations and retry intervals: parsing.

use std::hint::black_box;

use _core::duration::parse_duration;
use _core::retry::RetryInterval;
use criterion::{Criterion, criterion_group, criterion_main};

fn parse(c: &mut Criterion) {
    c.bench_function("duration/parse/1h30m", |b| {
        b.iter(|| parse_duration(black_box("1h30m")));
    });
    c.bench_function("duration/parse/1d2h3m4s5ms", |b| {
        b.iter(|| parse_duration(black_box("1d2h3m4s5ms")));
    });
    c.bench_function("retry/parse/30m", |b| b.iter(|| RetryInterval::parse(black_box("30m"))));
    c.bench_function("retry/parse/1m, 2m, 4m, 8m, 16m", |b| {
        b.iter(|| RetryInterval::parse(black_box("1m, 2m, 4m, 8m, 16m")));
    });
}

criterion_group!(benches, parse);
criterion_main!(benches);
