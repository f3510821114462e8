//! Berkeley DB hash databases, read-only and just far enough for rpm's `Packages` file (RHEL and
//! CentOS 7-8, Amazon Linux 2): every key/value pair of every hash page, values that overflow
//! onto chains of overflow pages included. Only the values are returned (rpm keys are header
//! instance numbers); each is an rpm header blob.
//!
//! The layout follows Berkeley DB's on-disk format (db_page.h): page 0 is the hash metadata page
//! (magic 0x061561, page size at byte 20, byte order given by how the magic reads); every page
//! starts with a 26-byte header (type at byte 25, entry count at 20, next page at 16 for
//! overflow pages, bytes used at 22); hash pages hold an index of item offsets after the header,
//! keys and values alternating; an item is `H_KEYDATA` (1: bytes follow) or `H_OFFPAGE` (3: the
//! value starts on overflow page `pgno`, bytes 4..8, and is `tlen` long, bytes 8..12).
//! Everything read is bounded by the file: a malformed page is an error, never a panic.

const HASH_MAGIC: u32 = 0x0006_1561;
const P_HASH_UNSORTED: u8 = 2;
const P_OVERFLOW: u8 = 7;
const P_HASH: u8 = 13;
const H_KEYDATA: u8 = 1;
const H_OFFPAGE: u8 = 3;
const PAGE_HEADER: usize = 26;

use std::fs::File;
use std::os::unix::fs::FileExt;

/// Largest value reassembled from overflow pages (rpm headers are well under 1 MiB).
const MAX_VALUE: usize = 16 * 1024 * 1024;

/// Pages of the database file, read one at a time so memory does not follow the file size.
struct Pages<'f> {
    file: &'f File,
    size: usize,
    count: usize,
}

impl Pages<'_> {
    fn page(&self, n: usize) -> Result<Vec<u8>, String> {
        if n >= self.count {
            return Err(format!(
                "page {n} lies beyond the file ({} pages)",
                self.count
            ));
        }
        let mut buf = vec![0u8; self.size];
        self.file
            .read_exact_at(&mut buf, (n * self.size) as u64)
            .map_err(|e| format!("cannot read page {n}: {e}"))?;
        Ok(buf)
    }
}

/// Every value stored in a Berkeley DB hash file, in page order; `f` calls each with the value
/// so only one value is held at a time.
pub(super) fn hash_values(file: &File, mut f: impl FnMut(Vec<u8>)) -> Result<(), String> {
    let len = file.metadata().map_err(|e| e.to_string())?.len() as usize;
    if len < 512 {
        return Err(format!(
            "not a Berkeley DB hash database (only {len} bytes)"
        ));
    }
    let mut meta = vec![0u8; 512.min(len)];
    file.read_exact_at(&mut meta, 0)
        .map_err(|e| format!("cannot read the metadata page: {e}"))?;
    let swap = match read_u32(&meta, 12, false)? {
        HASH_MAGIC => false,
        _ if read_u32(&meta, 12, true)? == HASH_MAGIC => true,
        _ => return Err("not a Berkeley DB hash database (no hash magic on page 0)".into()),
    };
    let page_size = read_u32(&meta, 20, swap)? as usize;
    if !(512..=65536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(format!("implausible page size {page_size}"));
    }
    let pages = Pages {
        file,
        size: page_size,
        count: len / page_size,
    };
    for n in 1..pages.count {
        let page = pages.page(n)?;
        let kind = page[25];
        if kind != P_HASH && kind != P_HASH_UNSORTED {
            continue;
        }
        let entries = read_u16(&page, 20, swap)? as usize;
        let mut offsets = Vec::with_capacity(entries);
        for i in 0..entries {
            offsets.push(read_u16(&page, PAGE_HEADER + 2 * i, swap)? as usize);
        }
        // Items are keys and values alternating; values are the odd ones.
        for i in (1..entries).step_by(2) {
            let (start, end) = (offsets[i], offsets[i - 1]);
            let item = page
                .get(start..end.max(start))
                .filter(|it| !it.is_empty())
                .ok_or_else(|| format!("page {n}: item {i} lies outside the page"))?;
            match item[0] {
                H_KEYDATA => f(item[1..].to_vec()),
                H_OFFPAGE => {
                    let pgno = read_u32(item, 4, swap)? as usize;
                    let total = read_u32(item, 8, swap)? as usize;
                    f(overflow(&pages, pgno, total, swap)?);
                }
                other => return Err(format!("page {n}: item {i} has unsupported type {other}")),
            }
        }
    }
    Ok(())
}

fn overflow(pages: &Pages, mut pgno: usize, total: usize, swap: bool) -> Result<Vec<u8>, String> {
    if total > MAX_VALUE {
        return Err(format!("an overflow value of {total} bytes is too large"));
    }
    let mut out = Vec::with_capacity(total);
    let mut hops = 0;
    while out.len() < total {
        hops += 1;
        if pgno == 0 || hops > pages.count {
            return Err(format!(
                "overflow chain ends after {} of {total} bytes",
                out.len()
            ));
        }
        let page = pages.page(pgno)?;
        if page[25] != P_OVERFLOW {
            return Err(format!("page {pgno} is not an overflow page"));
        }
        let used = read_u16(&page, 22, swap)? as usize;
        let data = page
            .get(PAGE_HEADER..PAGE_HEADER + used)
            .ok_or_else(|| format!("overflow page {pgno} claims {used} bytes"))?;
        out.extend_from_slice(data);
        pgno = read_u32(&page, 16, swap)? as usize;
    }
    out.truncate(total);
    Ok(out)
}

fn read_u32(b: &[u8], at: usize, swap: bool) -> Result<u32, String> {
    let s = b
        .get(at..at + 4)
        .ok_or_else(|| format!("truncated at byte {at}"))?;
    let v = [s[0], s[1], s[2], s[3]];
    Ok(if swap {
        u32::from_be_bytes(v)
    } else {
        u32::from_le_bytes(v)
    })
}

fn read_u16(b: &[u8], at: usize, swap: bool) -> Result<u16, String> {
    let s = b
        .get(at..at + 2)
        .ok_or_else(|| format!("truncated at byte {at}"))?;
    Ok(if swap {
        u16::from_be_bytes([s[0], s[1]])
    } else {
        u16::from_le_bytes([s[0], s[1]])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn db(pages: &[Vec<u8>]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        for p in pages {
            f.write_all(p).unwrap();
        }
        f
    }

    fn meta() -> Vec<u8> {
        let mut m = vec![0u8; 512];
        m[12..16].copy_from_slice(&HASH_MAGIC.to_le_bytes());
        m[20..24].copy_from_slice(&512u32.to_le_bytes());
        m
    }

    #[test]
    fn values_inline_and_hostile_pages() {
        // One hash page: key "k" at the end of the page, value "hello" before it.
        let mut page = vec![0u8; 512];
        page[25] = P_HASH;
        page[20..22].copy_from_slice(&2u16.to_le_bytes());
        page[510..512].copy_from_slice(&[H_KEYDATA, b'k']);
        page[504..510].copy_from_slice(&[H_KEYDATA, b'h', b'e', b'l', b'l', b'o']);
        page[26..28].copy_from_slice(&510u16.to_le_bytes());
        page[28..30].copy_from_slice(&504u16.to_le_bytes());
        let f = db(&[meta(), page.clone()]);
        let mut got = Vec::new();
        hash_values(f.as_file(), |v| got.push(v)).unwrap();
        assert_eq!(got, [b"hello".to_vec()]);

        // An item offset outside the page, and an overflow chain into nowhere.
        let mut bad = page.clone();
        bad[28..30].copy_from_slice(&600u16.to_le_bytes());
        let f = db(&[meta(), bad]);
        let err = hash_values(f.as_file(), |_| {}).unwrap_err();
        assert_eq!(err, "page 1: item 1 lies outside the page");
        let mut off = page;
        off[504] = H_OFFPAGE;
        off[508..510].copy_from_slice(&[9, 0]);
        let f = db(&[meta(), off]);
        let err = hash_values(f.as_file(), |_| {}).unwrap_err();
        assert_eq!(
            err, "truncated at byte 4",
            "an off-page item too short for its page number"
        );

        let f = db(&[vec![0u8; 600]]);
        assert!(hash_values(f.as_file(), |_| {})
            .unwrap_err()
            .starts_with("not a Berkeley DB"));
    }
}
