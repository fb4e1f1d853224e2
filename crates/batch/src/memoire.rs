//! What this process and this machine hold in memory (Linux /proc), for the memory
//! budget of a run (crate::evaluation::Partitions::within).

/// This process's memory, in bytes.
#[derive(Debug, Clone, Copy)]
pub struct Memory {
    /// Resident now.
    pub resident: u64,
    /// The most it has been resident so far.
    pub peak: u64,
}

/// This process's memory (Linux: /proc/self/status), if known.
pub fn process_memory() -> Option<Memory> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? * 1024)
    };
    Some(Memory { resident: field("VmRSS:")?, peak: field("VmHWM:")? })
}

/// The machine's memory, in bytes (Linux: /proc/meminfo), if known.
pub fn machine_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_figures_are_read_on_linux() {
        let memory = process_memory().expect("VmRSS, VmHWM");
        let machine = machine_memory().expect("MemTotal");
        assert!(
            memory.resident > 0 && memory.resident <= memory.peak && memory.peak < machine,
            "{memory:?} of {machine}"
        );
    }
}
