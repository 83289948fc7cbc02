//! The release zip `make build` writes: its size, and for each entry its unpacked size, architecture and build
//! time, read from the zip's central directory (a zip crate is not worth a dependency for this).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::driver::process;

pub async fn report(target: &Path, server: &Path) {
    let zip = target.join("lambda/profile-guard/bootstrap.zip");
    println!();
    match std::fs::read(&zip) {
        Ok(bytes) => {
            let size = bytes.len() as f64;
            println!(
                "release zip {}: {} bytes ({:.2} MiB, {:.2} MB); target < 5 MB",
                zip.display(),
                bytes.len(),
                size / 1_048_576.0,
                size / 1e6
            );
            if modified(&zip) < modified(server) {
                println!("  (older than the release binary: 'make build' makes a current one)");
            }
            for entry in entries(&bytes).unwrap_or_default() {
                println!(
                    "  {}: {} bytes unpacked, {}, built {}",
                    entry.name,
                    entry.size,
                    architecture(&zip, &bytes, &entry).await,
                    entry.built
                );
            }
        }
        Err(_) => println!("release zip: {} not found (make build)", zip.display()),
    }
    let binary = std::fs::metadata(server).map(|m| m.len()).unwrap_or(0);
    println!(
        "{} binary {}: {binary} bytes",
        process::measured_profile(),
        server.display()
    );
}

fn modified(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

struct Entry {
    name: String,
    size: u32,
    /// `YYYY-MM-DD HH:MM`, as the zip records it (local time of the build machine).
    built: String,
    method: u16,
    local_header: usize,
}

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// The entries of the central directory; `None` when the file is not a zip this reader understands.
fn entries(bytes: &[u8]) -> Option<Vec<Entry>> {
    let end = (0..=bytes.len().checked_sub(22)?)
        .rev()
        .find(|&i| u32_at(bytes, i) == Some(0x0605_4b50))?;
    let count = u16_at(bytes, end + 10)?;
    let mut at = u32_at(bytes, end + 16)? as usize;
    let mut entries = Vec::new();
    for _ in 0..count {
        if u32_at(bytes, at)? != 0x0201_4b50 {
            return None;
        }
        let (time, date) = (u16_at(bytes, at + 12)?, u16_at(bytes, at + 14)?);
        let name_len = usize::from(u16_at(bytes, at + 28)?);
        let skip =
            name_len + usize::from(u16_at(bytes, at + 30)?) + usize::from(u16_at(bytes, at + 32)?);
        entries.push(Entry {
            name: String::from_utf8_lossy(bytes.get(at + 46..at + 46 + name_len)?).into_owned(),
            size: u32_at(bytes, at + 24)?,
            built: format!(
                "{}-{:02}-{:02} {:02}:{:02}",
                1980 + (date >> 9),
                (date >> 5) & 0xf,
                date & 0x1f,
                time >> 11,
                (time >> 5) & 0x3f
            ),
            method: u16_at(bytes, at + 10)?,
            local_header: u32_at(bytes, at + 42)? as usize,
        });
        at += 46 + skip;
    }
    Some(entries)
}

/// `x86_64` / `aarch64` from the ELF header of an entry, `-` for anything else, `?` when unreadable. A stored
/// entry is read in place; a deflated one through `unzip -p`.
async fn architecture(zip: &Path, bytes: &[u8], entry: &Entry) -> &'static str {
    let head: Option<Vec<u8>> = if entry.method == 0 {
        let at = entry.local_header;
        u16_at(bytes, at + 26)
            .zip(u16_at(bytes, at + 28))
            .and_then(|(n, e)| {
                let data = at + 30 + usize::from(n) + usize::from(e);
                bytes.get(data..data + 20).map(<[u8]>::to_vec)
            })
    } else {
        let mut command = Command::new("unzip");
        command.arg("-p").arg(zip).arg(&entry.name);
        let unzipped = process::output("unzip", command, Duration::from_secs(60)).await;
        unzipped
            .ok()
            .map(|o| o.stdout.into_iter().take(20).collect())
    };
    match head {
        Some(h) if h.len() == 20 && h.starts_with(b"\x7fELF") => {
            match u16::from_le_bytes([h[18], h[19]]) {
                0x3e => "x86_64",
                0xb7 => "aarch64",
                _ => "?",
            }
        }
        Some(_) => "-",
        None => "?",
    }
}
