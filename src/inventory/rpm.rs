//! The rpm database in its sqlite form (`rpmdb.sqlite`, rpm 4.16 and later: Fedora 33+, RHEL 9,
//! UBI 9, Amazon Linux 2023, openSUSE), read read-only with rusqlite's bundled sqlite.
//!
//! Each row of the `Packages` table holds one package header blob (rpm's header format without
//! the leading magic): a count of index entries, the data length, the index (tag, type, offset,
//! count) and the data store. Only the tags the inventory needs are decoded. The Berkeley DB
//! `Packages` file (RHEL/CentOS 7-8, Amazon Linux 2) holds the same header blobs as values of a
//! hash database ([`super::bdb`]); the ndb `Packages.db` (SUSE) is not read: the caller reports
//! it as a gap naming the file.

use std::path::Path;

use rusqlite::{Connection, OpenFlags};

use super::{Package, PackageFormat};

const TAG_NAME: u32 = 1000;
const TAG_VERSION: u32 = 1001;
const TAG_RELEASE: u32 = 1002;
const TAG_EPOCH: u32 = 1003;
const TAG_ARCH: u32 = 1022;
const TAG_SOURCERPM: u32 = 1044;

const TYPE_INT32: u32 = 4;
const TYPE_STRING: u32 = 6;
const TYPE_I18NSTRING: u32 = 9;

/// Largest header blob accepted (rpm's own limit is 256 MiB; real headers are under 1 MiB).
const MAX_HEADER: usize = 64 * 1024 * 1024;

/// Packages in an rpmdb.sqlite file spooled at `file`; `origin` names it in problems.
pub(super) fn read_sqlite(file: &Path, origin: &str) -> (Vec<Package>, Vec<String>) {
    match read_rows(file) {
        Ok(rows) => {
            let mut packages = Vec::new();
            let mut problems = Vec::new();
            for (hnum, blob) in rows {
                match parse_header(&blob) {
                    Ok(Some(p)) => packages.push(p),
                    Ok(None) => {}
                    Err(e) => problems.push(format!("{origin}: package header {hnum}: {e}")),
                }
            }
            (packages, problems)
        }
        Err(e) => (
            Vec::new(),
            vec![format!(
                "{origin}: cannot read the rpm sqlite database: {e}"
            )],
        ),
    }
}

/// Packages in an rpm Berkeley DB `Packages` file spooled at `file`; `origin` names it.
pub(super) fn read_bdb(file: &Path, origin: &str) -> (Vec<Package>, Vec<String>) {
    let mut packages = Vec::new();
    let mut problems = Vec::new();
    let opened = std::fs::File::open(file);
    let result = opened.map_err(|e| e.to_string()).and_then(|f| {
        let mut n = 0;
        super::bdb::hash_values(&f, |blob| {
            n += 1;
            match parse_header(&blob) {
                Ok(Some(p)) => packages.push(p),
                Ok(None) => {}
                Err(e) => problems.push(format!("{origin}: package header {n}: {e}")),
            }
        })
    });
    if let Err(e) = result {
        problems.push(format!(
            "{origin}: cannot read the rpm Berkeley DB database: {e}"
        ));
    }
    (packages, problems)
}

fn read_rows(file: &Path) -> rusqlite::Result<Vec<(i64, Vec<u8>)>> {
    // `immutable=1`: the copy is private and never changes, so sqlite needs no lock, no -wal and
    // no -shm file (images often ship the database without them).
    let uri = format!("file:{}?immutable=1", file.display());
    let conn = Connection::open_with_flags(
        uri,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI,
    )?;
    let mut stmt = conn.prepare("SELECT hnum, blob FROM Packages ORDER BY hnum")?;
    let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    rows.collect()
}

/// Decodes one header blob. `None` for the `gpg-pubkey` pseudo-packages rpm keeps for imported
/// signing keys: they are keys, not installed software.
pub(super) fn parse_header(blob: &[u8]) -> Result<Option<Package>, String> {
    if blob.len() > MAX_HEADER {
        return Err(format!("header of {} bytes is too large", blob.len()));
    }
    let be32 = |at: usize| -> Result<u32, String> {
        blob.get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| format!("truncated at byte {at}"))
    };
    let il = be32(0)? as usize;
    let dl = be32(4)? as usize;
    let index_end = il
        .checked_mul(16)
        .and_then(|n| n.checked_add(8))
        .ok_or("index count overflows")?;
    let data = blob
        .get(index_end..index_end.checked_add(dl).ok_or("data length overflows")?)
        .ok_or_else(|| format!("{il} index entries and {dl} data bytes exceed the blob"))?;

    let mut name = None;
    let mut version = None;
    let mut release = None;
    let mut epoch = None;
    let mut arch = None;
    let mut source = None;
    for i in 0..il {
        let at = 8 + i * 16;
        let (tag, kind, offset, count) = (be32(at)?, be32(at + 4)?, be32(at + 8)?, be32(at + 12)?);
        let offset = offset as usize;
        match (tag, kind) {
            (TAG_NAME | TAG_VERSION | TAG_RELEASE | TAG_ARCH | TAG_SOURCERPM, TYPE_STRING)
            | (TAG_NAME | TAG_VERSION | TAG_RELEASE | TAG_ARCH | TAG_SOURCERPM, TYPE_I18NSTRING) => {
                let text =
                    c_string(data, offset).ok_or_else(|| format!("tag {tag}: bad string"))?;
                match tag {
                    TAG_NAME => name = Some(text),
                    TAG_VERSION => version = Some(text),
                    TAG_RELEASE => release = Some(text),
                    TAG_ARCH => arch = Some(text),
                    _ => source = Some(text),
                }
            }
            (TAG_EPOCH, TYPE_INT32) if count >= 1 => {
                let b = data
                    .get(offset..offset + 4)
                    .ok_or_else(|| format!("tag {tag}: offset {offset} outside the data"))?;
                epoch = Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
            }
            _ => {}
        }
    }
    let (Some(name), Some(version)) = (name, version) else {
        return Err("header lacks NAME or VERSION".to_string());
    };
    if name == "gpg-pubkey" {
        return Ok(None);
    }
    let mut evr = String::new();
    if let Some(e) = epoch {
        evr.push_str(&format!("{e}:"));
    }
    evr.push_str(&version);
    if let Some(r) = &release {
        evr.push('-');
        evr.push_str(r);
    }
    let (source_name, source_version) = match source.as_deref().and_then(split_source_rpm) {
        Some((n, v)) => (Some(n), Some(v)),
        None => (None, None),
    };
    Ok(Some(Package {
        format: PackageFormat::Rpm,
        name,
        version: evr,
        arch,
        source_name,
        source_version,
    }))
}

fn c_string(data: &[u8], offset: usize) -> Option<String> {
    let rest = data.get(offset..)?;
    let end = rest.iter().position(|&b| b == 0)?;
    Some(String::from_utf8_lossy(&rest[..end]).into_owned())
}

/// `openssl-1.0.2k-19.el7.src.rpm` → (`openssl`, `1.0.2k-19.el7`).
fn split_source_rpm(file: &str) -> Option<(String, String)> {
    let stem = file
        .strip_suffix(".src.rpm")
        .or_else(|| file.strip_suffix(".nosrc.rpm"))?;
    let (rest, release) = stem.rsplit_once('-')?;
    let (name, version) = rest.rsplit_once('-')?;
    Some((name.to_string(), format!("{version}-{release}")))
}

/// Builds a header blob from (tag, type, value) entries; test support for this module and the
/// export tests.
#[cfg(test)]
pub(super) fn build_header(entries: &[(u32, &str)], epoch: Option<u32>) -> Vec<u8> {
    let mut index = Vec::new();
    let mut data = Vec::new();
    if let Some(e) = epoch {
        index.push((TAG_EPOCH, TYPE_INT32, data.len() as u32, 1u32));
        data.extend_from_slice(&e.to_be_bytes());
    }
    for (tag, value) in entries {
        index.push((*tag, TYPE_STRING, data.len() as u32, 1));
        data.extend_from_slice(value.as_bytes());
        data.push(0);
    }
    let mut blob = Vec::new();
    blob.extend_from_slice(&(index.len() as u32).to_be_bytes());
    blob.extend_from_slice(&(data.len() as u32).to_be_bytes());
    for (t, k, o, c) in index {
        for v in [t, k, o, c] {
            blob.extend_from_slice(&v.to_be_bytes());
        }
    }
    blob.extend_from_slice(&data);
    blob
}

/// Writes an rpmdb.sqlite at `path` holding the given headers (test support).
#[cfg(test)]
pub(super) fn write_test_db(path: &Path, headers: &[Vec<u8>]) {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(
        "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);",
    )
    .unwrap();
    for h in headers {
        conn.execute("INSERT INTO Packages (blob) VALUES (?1)", [h])
            .unwrap();
    }
}

#[cfg(test)]
pub(super) fn openssl_header() -> Vec<u8> {
    build_header(
        &[
            (TAG_NAME, "openssl-libs"),
            (TAG_VERSION, "1.0.2k"),
            (TAG_RELEASE, "19.el7"),
            (TAG_ARCH, "x86_64"),
            (TAG_SOURCERPM, "openssl-1.0.2k-19.el7.src.rpm"),
        ],
        Some(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_fields_and_source_rpm() {
        let p = parse_header(&openssl_header()).unwrap().unwrap();
        assert_eq!(p.name, "openssl-libs");
        assert_eq!(p.version, "1:1.0.2k-19.el7");
        assert_eq!(p.arch.as_deref(), Some("x86_64"));
        assert_eq!(p.source_name.as_deref(), Some("openssl"));
        assert_eq!(p.source_version.as_deref(), Some("1.0.2k-19.el7"));
    }

    #[test]
    fn sqlite_database_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("rpmdb.sqlite");
        let key = build_header(&[(TAG_NAME, "gpg-pubkey"), (TAG_VERSION, "fd431d51")], None);
        write_test_db(&db, &[openssl_header(), key, vec![0, 0, 0, 9, 0, 0, 0, 1]]);
        let (pkgs, problems) = read_sqlite(&db, "var/lib/rpm/rpmdb.sqlite");
        assert_eq!(pkgs.len(), 1);
        assert_eq!(
            problems,
            [
                "var/lib/rpm/rpmdb.sqlite: package header 3: 9 index entries and 1 data bytes \
              exceed the blob"
            ]
        );
    }

    #[test]
    fn hostile_headers_are_errors_not_panics() {
        for blob in [
            vec![],
            vec![0xff; 8],
            vec![
                0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 3, 232, 0, 0, 0, 6, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0,
                0,
            ],
        ] {
            assert!(parse_header(&blob).is_err());
        }
        let (pkgs, problems) = read_sqlite(Path::new("/nonexistent/x.sqlite"), "x");
        assert!(pkgs.is_empty());
        assert!(problems[0].starts_with("x: cannot read the rpm sqlite database"));
    }
}
