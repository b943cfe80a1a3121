//! CPU placement (`--pin`): which CPU each side of a pair runs on. On small VMs a wake-up
//! that crosses CPUs costs several times one on the same CPU, so the choice decides the
//! result and every result records it.

use anyhow::{Context, Result};
use rustix::thread::{CpuSet, sched_getaffinity, sched_setaffinity};

use super::Pin;
use crate::stats::bench::CpuPair;

/// The CPUs this process may run on, in order.
pub fn allowed_cpus() -> Result<Vec<usize>> {
    let set = sched_getaffinity(None).context("cannot read the CPU affinity of ipctool")?;
    let cpus: Vec<usize> = (0..CpuSet::MAX_CPU).filter(|&c| set.is_set(c)).collect();
    if cpus.is_empty() {
        anyhow::bail!("cannot read the CPU affinity of ipctool: no CPU is allowed");
    }
    Ok(cpus)
}

/// The CPUs of each pair for a placement: `same` puts pair i on one CPU, `spread` puts
/// its two sides on two neighbouring CPUs; pairs go round the allowed CPUs. Empty for
/// `none`.
pub fn plan(pin: Pin, pairs: usize, cpus: &[usize]) -> Vec<CpuPair> {
    if cpus.is_empty() {
        return Vec::new();
    }
    let at = |i: usize| cpus[i % cpus.len()];
    (0..pairs)
        .filter_map(|i| match pin {
            Pin::None => None,
            Pin::Same => Some(CpuPair {
                bench: at(i),
                peer: Some(at(i)),
            }),
            Pin::Spread => Some(CpuPair {
                bench: at(2 * i),
                peer: Some(at(2 * i + 1)),
            }),
        })
        .collect()
}

/// Pins the calling thread to one CPU.
pub fn pin_current_thread(cpu: usize) -> Result<()> {
    let mut set = CpuSet::new();
    set.set(cpu);
    sched_setaffinity(None, &set).with_context(|| format!("cannot pin to CPU {cpu}"))
}

/// `0/0, 1/1`: the placement of each pair, for people (`-` for an unknown peer CPU).
pub fn describe(cpus: &[CpuPair]) -> String {
    cpus.iter()
        .map(|c| match c.peer {
            Some(p) => format!("{}/{p}", c.bench),
            None => format!("{}/-", c.bench),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(bench: usize, peer: usize) -> CpuPair {
        CpuPair {
            bench,
            peer: Some(peer),
        }
    }

    #[test]
    fn plans() {
        let cpus = [0, 1];
        assert_eq!(plan(Pin::None, 2, &cpus), []);
        assert_eq!(plan(Pin::Same, 1, &cpus), [pair(0, 0)]);
        assert_eq!(plan(Pin::Spread, 1, &cpus), [pair(0, 1)]);
        assert_eq!(
            plan(Pin::Same, 3, &cpus),
            [pair(0, 0), pair(1, 1), pair(0, 0)]
        );
        assert_eq!(plan(Pin::Spread, 2, &[2, 5, 7]), [pair(2, 5), pair(7, 2)]);
        // One CPU: spread cannot spread.
        assert_eq!(plan(Pin::Spread, 1, &[3]), [pair(3, 3)]);
        assert_eq!(describe(&[pair(0, 1), pair(1, 0)]), "0/1 1/0");
    }

    #[test]
    fn this_process_has_cpus() {
        assert!(!allowed_cpus().expect("affinity").is_empty());
    }
}
