//! Byte sizes, rates and durations: parsing command-line values and formatting them for
//! people.
//!
//! Sizes take `K/M/G/T` or `KiB/MiB/GiB/TiB` (both binary, as in pv and dd's `K`), an
//! optional `B`, any case: `64`, `4KiB`, `1M`, `1.5g`. Rates are sizes per second, with an
//! optional `/s`. Durations are humantime (`500ms`, `2s`, `1m`).

use std::time::Duration;

/// Parses a byte size such as `64`, `4KiB`, `1M` or `1.5G`.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "invalid size '{s}': expected a number with an optional K/M/G/T or KiB/MiB/GiB/TiB suffix, e.g. 64, 4KiB, 1M"
        )
    };
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, suffix) = t.split_at(split);
    if num.is_empty() || num.starts_with('.') || num.ends_with('.') {
        return Err(bad());
    }
    let suffix = suffix.trim_start().to_ascii_lowercase();
    let unit: u64 = match suffix.as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        _ => return Err(bad()),
    };
    if let Ok(n) = num.parse::<u64>() {
        return n
            .checked_mul(unit)
            .ok_or_else(|| format!("invalid size '{s}': too large"));
    }
    let f: f64 = num.parse().map_err(|_| bad())?;
    let bytes = f * unit as f64;
    if !bytes.is_finite() || bytes >= u64::MAX as f64 {
        return Err(format!("invalid size '{s}': too large"));
    }
    Ok(bytes.round() as u64)
}

/// Parses a size that must be at least one byte.
pub fn parse_nonzero_size(s: &str) -> Result<u64, String> {
    match parse_size(s)? {
        0 => Err(format!("invalid size '{s}': must be at least 1 byte")),
        n => Ok(n),
    }
}

/// Parses a rate in bytes per second: a size with an optional `/s`.
pub fn parse_rate(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let t = t
        .strip_suffix("/s")
        .or_else(|| t.strip_suffix("/S"))
        .unwrap_or(t);
    match parse_size(t) {
        Ok(0) => Err(format!("invalid rate '{s}': must be above zero")),
        Ok(n) => Ok(n),
        Err(_) => Err(format!(
            "invalid rate '{s}': expected bytes per second with an optional K/M/G suffix, e.g. 20M or 512KiB/s"
        )),
    }
}

/// The longest duration accepted: deadlines are computed as "now + duration", and beyond
/// this the clock arithmetic would overflow.
pub const MAX_DURATION: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// Parses a humantime duration (`500ms`, `2s`, `1m`, `1h 30m`), at most 100 years.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s.trim()).map_err(|e| {
        format!("invalid duration '{s}': {e}; expected a number with a unit, e.g. 500ms, 2s, 1m")
    })?;
    if d > MAX_DURATION {
        return Err(format!(
            "invalid duration '{s}': too long (at most 100 years)"
        ));
    }
    Ok(d)
}

/// Parses a duration that must be longer than zero.
pub fn parse_positive_duration(s: &str) -> Result<Duration, String> {
    match parse_duration(s)? {
        d if d.is_zero() => Err(format!("invalid duration '{s}': must be longer than zero")),
        d => Ok(d),
    }
}

/// Formats a byte count with binary units: `512 B`, `1.5 KiB`, `3.00 GiB`.
pub fn format_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    let digits = if v < 10.0 {
        2
    } else if v < 100.0 {
        1
    } else {
        0
    };
    format!("{v:.digits$} {}", UNITS[i])
}

/// Formats a rate in bytes per second: `1.52 GiB/s`.
pub fn format_rate(bytes_per_sec: f64) -> String {
    if !bytes_per_sec.is_finite() || bytes_per_sec <= 0.0 {
        return "0 B/s".into();
    }
    format!("{}/s", format_bytes(bytes_per_sec.round() as u64))
}

/// Formats a duration for people: `850ms`, `2.41s`, `3m 12s`.
pub fn format_duration(d: Duration) -> String {
    let secs = d.as_secs_f64();
    if secs < 1.0 {
        format!("{}ms", d.as_millis())
    } else if secs < 60.0 {
        format!("{secs:.2}s")
    } else {
        humantime::format_duration(Duration::from_secs(d.as_secs())).to_string()
    }
}

/// Bytes per second, zero for an empty interval.
pub fn per_sec(bytes: u64, d: Duration) -> f64 {
    let s = d.as_secs_f64();
    if s > 0.0 { bytes as f64 / s } else { 0.0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        let rows = [
            ("0", 0),
            ("64", 64),
            ("64B", 64),
            ("4K", 4096),
            ("4k", 4096),
            ("4KiB", 4096),
            ("4kb", 4096),
            ("1M", 1 << 20),
            ("1MiB", 1 << 20),
            ("2G", 2 << 30),
            ("1.5G", 3 << 29),
            ("1T", 1 << 40),
            (" 8 KiB ", 8192),
        ];
        for (input, want) in rows {
            assert_eq!(parse_size(input), Ok(want), "{input}");
        }
        for bad in [
            "",
            "K",
            "1X",
            "-1",
            "1.2.3",
            ".5",
            "5.",
            "1KiBs",
            "99999999999999999999",
        ] {
            let e = parse_size(bad).expect_err(bad);
            assert!(e.contains(&format!("'{bad}'")), "{e}");
        }
        assert!(
            parse_size("99999999T")
                .expect_err("overflow")
                .contains("too large")
        );
        assert!(parse_nonzero_size("0").is_err());
    }

    #[test]
    fn rates() {
        assert_eq!(parse_rate("20M"), Ok(20 << 20));
        assert_eq!(parse_rate("512KiB/s"), Ok(512 << 10));
        assert_eq!(parse_rate("100"), Ok(100));
        assert!(parse_rate("0").is_err());
        assert!(parse_rate("fast").expect_err("fast").contains("'fast'"));
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1m"), Ok(Duration::from_secs(60)));
        assert!(parse_duration("5").expect_err("no unit").contains("'5'"));
        assert!(parse_duration("soon").is_err());
        assert!(parse_positive_duration("0s").is_err());
        assert!(
            parse_duration("584000000000y")
                .expect_err("huge")
                .contains("too long")
        );
        assert_eq!(parse_duration("99y").map(|d| d <= MAX_DURATION), Ok(true));
    }

    #[test]
    fn formatting() {
        assert_eq!(format_bytes(0), "0 B");
        assert_eq!(format_bytes(1023), "1023 B");
        assert_eq!(format_bytes(1536), "1.50 KiB");
        assert_eq!(format_bytes(64 << 20), "64.0 MiB");
        assert_eq!(format_bytes(512 << 20), "512 MiB");
        assert_eq!(format_bytes(3 << 30), "3.00 GiB");
        assert_eq!(format_rate(0.0), "0 B/s");
        assert_eq!(format_rate(2.0 * (1 << 30) as f64), "2.00 GiB/s");
        assert_eq!(format_duration(Duration::from_millis(850)), "850ms");
        assert_eq!(format_duration(Duration::from_millis(2410)), "2.41s");
        assert_eq!(format_duration(Duration::from_secs(192)), "3m 12s");
        assert_eq!(per_sec(10, Duration::ZERO), 0.0);
    }
}
