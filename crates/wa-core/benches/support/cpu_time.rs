//! A criterion measurement of the benchmark thread's CPU time rather than wall time, so figures
//! stay meaningful on a machine shared with other work. Uses `CLOCK_THREAD_CPUTIME_ID`; if that
//! clock is unavailable it falls back to wall time.

use std::time::Instant;

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::Throughput;

/// CPU time of the calling thread, in nanoseconds.
pub struct CpuTime {
    origin: Instant,
}

impl Default for CpuTime {
    fn default() -> CpuTime {
        CpuTime {
            origin: Instant::now(),
        }
    }
}

impl CpuTime {
    fn now_ns(&self) -> u64 {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        if rc == 0 {
            ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
        } else {
            self.origin.elapsed().as_nanos() as u64
        }
    }
}

impl Measurement for CpuTime {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        self.now_ns()
    }
    fn end(&self, start: u64) -> u64 {
        self.now_ns().saturating_sub(start)
    }
    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }
    fn zero(&self) -> u64 {
        0
    }
    fn to_f64(&self, v: &u64) -> f64 {
        *v as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &NanosFormatter
    }
}

struct NanosFormatter;

impl ValueFormatter for NanosFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (div, unit) = if typical < 1e3 {
            (1.0, "ns")
        } else if typical < 1e6 {
            (1e3, "µs")
        } else {
            (1e6, "ms")
        };
        values.iter_mut().for_each(|v| *v /= div);
        unit
    }

    fn scale_throughputs(&self, typical: f64, t: &Throughput, values: &mut [f64]) -> &'static str {
        let per_op = match t {
            Throughput::Bytes(n) | Throughput::BytesDecimal(n) => *n as f64,
            Throughput::ElementsAndBytes { bytes, .. } => *bytes as f64,
            Throughput::Elements(n) | Throughput::Bits(n) => *n as f64,
        };
        // MiB per CPU-second; one unit for all sizes keeps the figures comparable.
        let _ = typical;
        values
            .iter_mut()
            .for_each(|v| *v = per_op * 1e9 / *v / (1024.0 * 1024.0));
        "MiB/s"
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns"
    }
}
