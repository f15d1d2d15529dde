//! `TimerHeap`: scheduling, rescheduling, cancelling and popping due timers.

use std::hint::black_box;
use std::time::{Duration, Instant};

use _core::schedule::TimerHeap;
use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};

/// Deterministic, well-spread due times (a multiplicative hash of the key).
fn due(base: Instant, key: u64) -> Instant {
    base + Duration::from_millis(key.wrapping_mul(2_654_435_761) % 3_600_000)
}

fn filled(base: Instant, n: u64) -> TimerHeap<u64, Instant> {
    let mut heap = TimerHeap::new();
    for key in 0..n {
        heap.insert(key, due(base, key));
    }
    heap
}

fn operations(c: &mut Criterion) {
    let base = Instant::now();
    let mut group = c.benchmark_group("timer_heap");
    for n in [1_000u64, 100_000] {
        group.bench_with_input(BenchmarkId::new("insert new", n), &n, |b, &n| {
            b.iter_batched_ref(
                || filled(base, n),
                |heap| heap.insert(n + 1, due(base, n + 1)),
                BatchSize::SmallInput,
            );
        });
        let mut heap = filled(base, n);
        let mut key = 0;
        group.bench_with_input(BenchmarkId::new("reschedule", n), &n, |b, &n| {
            b.iter(|| {
                key = (key + 7919) % n;
                heap.insert(key, due(base, key ^ 0x5555));
            });
        });
        group.bench_with_input(BenchmarkId::new("remove + insert", n), &n, |b, &n| {
            b.iter(|| {
                key = (key + 7919) % n;
                let at = heap.remove(&key).expect("present");
                heap.insert(key, black_box(at));
            });
        });
        group.bench_with_input(BenchmarkId::new("pop_due 1%", n), &n, |b, &n| {
            let now = base + Duration::from_secs(36);
            b.iter_batched_ref(
                || filled(base, n),
                |heap| heap.pop_due(now).count(),
                BatchSize::LargeInput,
            );
        });
    }
    group.finish();
}

criterion_group!(benches, operations);
criterion_main!(benches);
