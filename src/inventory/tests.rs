//! Export fixtures for every layout, built in memory, read back through [`read_export`].

use std::io::Write;

use flate2::write::GzEncoder;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::*;

/// One entry of a layer tar.
enum E<'a> {
    File(&'a str, &'a [u8]),
    Link(&'a str, &'a str),
    Hard(&'a str, &'a str),
    Dir(&'a str),
    /// A regular file whose name is written as is, bypassing the builder's checks.
    RawFile(&'a str, &'a [u8]),
}

fn tar_of(entries: &[E]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        match e {
            E::File(p, data) => {
                h.set_size(data.len() as u64);
                h.set_entry_type(tar::EntryType::Regular);
                b.append_data(&mut h, p, *data).unwrap();
            }
            E::Link(p, t) => {
                h.set_size(0);
                h.set_entry_type(tar::EntryType::Symlink);
                b.append_link(&mut h, p, t).unwrap();
            }
            E::Hard(p, t) => {
                h.set_size(0);
                h.set_entry_type(tar::EntryType::Link);
                b.append_link(&mut h, p, t).unwrap();
            }
            E::RawFile(p, data) => {
                h.set_size(data.len() as u64);
                h.set_entry_type(tar::EntryType::Regular);
                let name = &mut h.as_old_mut().name;
                name[..p.len()].copy_from_slice(p.as_bytes());
                h.set_cksum();
                b.append(&h, *data).unwrap();
            }
            E::Dir(p) => {
                h.set_size(0);
                h.set_entry_type(tar::EntryType::Directory);
                b.append_data(&mut h, p, &[][..]).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut g = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    g.write_all(bytes).unwrap();
    g.finish().unwrap()
}

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn config_for(layers: &[&Vec<u8>]) -> Vec<u8> {
    let ids: Vec<String> = layers
        .iter()
        .map(|l| format!("sha256:{}", sha(l)))
        .collect();
    serde_json::to_vec(&json!({"architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": ids}}))
    .unwrap()
}

/// Outer export tar from (path, bytes) in the given order.
fn export_of(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (p, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, p, &data[..]).unwrap();
    }
    b.into_inner().unwrap()
}

/// The `docker save` layout of Engine 20.10.
fn legacy_export(layers: &[&Vec<u8>]) -> (Vec<u8>, String) {
    let config = config_for(layers);
    let id = sha(&config);
    let mut files = Vec::new();
    let mut names = Vec::new();
    for (i, l) in layers.iter().enumerate() {
        let dir = format!("{i:064x}");
        files.push((format!("{dir}/VERSION"), b"1.0".to_vec()));
        files.push((format!("{dir}/json"), br#"{"id":"x"}"#.to_vec()));
        files.push((format!("{dir}/layer.tar"), (*l).clone()));
        names.push(format!("{dir}/layer.tar"));
    }
    files.push((format!("{id}.json"), config));
    let manifest = json!([{"Config": format!("{id}.json"), "RepoTags": ["t:1"], "Layers": names}]);
    files.push((
        "manifest.json".into(),
        serde_json::to_vec(&manifest).unwrap(),
    ));
    (export_of(&files), format!("sha256:{id}"))
}

/// The OCI layout, blobs first; with `gz` the layers are gzip blobs (containerd store) and the
/// image id is the manifest digest, as the containerd store reports it.
fn oci_export(layers: &[&Vec<u8>], gz: bool) -> (Vec<u8>, String) {
    let config = config_for(layers);
    let mut files = Vec::new();
    let mut descs = Vec::new();
    for l in layers {
        let blob = if gz { gzip(l) } else { (*l).clone() };
        descs.push(
            json!({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest":
            format!("sha256:{}", sha(&blob)), "size": blob.len()}),
        );
        files.push((format!("blobs/sha256/{}", sha(&blob)), blob));
    }
    let manifest = serde_json::to_vec(&json!({"schemaVersion": 2, "config": {"digest":
        format!("sha256:{}", sha(&config)), "size": config.len()}, "layers": descs}))
    .unwrap();
    let id = if gz { sha(&manifest) } else { sha(&config) };
    files.push((format!("blobs/sha256/{}", sha(&config)), config));
    files.push((format!("blobs/sha256/{}", sha(&manifest)), manifest.clone()));
    let index = json!({"schemaVersion": 2, "manifests": [{"digest": format!("sha256:{}", sha(&manifest))}]});
    files.push(("index.json".into(), serde_json::to_vec(&index).unwrap()));
    files.push((
        "oci-layout".into(),
        br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec(),
    ));
    files.push(("manifest.json".into(), b"[]".to_vec()));
    (export_of(&files), format!("sha256:{id}"))
}

fn read(bytes: &[u8], id: &str) -> ImageInventory {
    let expected = Expected {
        image_id: id.to_string(),
        ..Expected::default()
    };
    read_export(bytes, &expected).unwrap()
}

const OS_DEBIAN: &[u8] =
    b"PRETTY_NAME=\"Debian GNU/Linux 7 (wheezy)\"\nID=debian\nVERSION_ID=\"7\"\n";
const STATUS_OLD: &[u8] = b"Package: bash\nStatus: install ok installed\nArchitecture: amd64\n\
Version: 4.2+dfsg-0.1\n\nPackage: libssl1.0.0\nStatus: install ok installed\n\
Architecture: amd64\nSource: openssl\nVersion: 1.0.1e-2+deb7u4\n";
const STATUS_NEW: &[u8] = b"Package: bash\nStatus: install ok installed\nArchitecture: amd64\n\
Version: 4.2+dfsg-0.1+deb7u3\n";

fn debian_layers() -> (Vec<u8>, Vec<u8>) {
    let base = tar_of(&[
        E::Dir("etc/"),
        E::File("usr/lib/os-release", OS_DEBIAN),
        E::Link("etc/os-release", "../usr/lib/os-release"),
        E::File("var/lib/dpkg/status", STATUS_OLD),
        E::File("usr/bin/unrelated", b"\x7fELF"),
    ]);
    let upgrade = tar_of(&[E::File("var/lib/dpkg/status", STATUS_NEW)]);
    (base, upgrade)
}

fn versions(inv: &ImageInventory) -> Vec<String> {
    inv.packages
        .iter()
        .map(|p| format!("{} {} {}", p.format.as_str(), p.name, p.version))
        .collect()
}

#[test]
fn legacy_docker_save_layout_with_an_upper_layer_winning() {
    let (base, upgrade) = debian_layers();
    let (export, id) = legacy_export(&[&base, &upgrade]);
    let inv = read(&export, &id);
    assert!(inv.complete(), "{:?}", inv.gaps);
    assert_eq!(inv.layout.as_deref(), Some("docker-save"));
    assert_eq!(inv.layers.len(), 2);
    let os = inv.os.as_ref().unwrap();
    assert_eq!(
        (os.id.as_str(), os.path.as_str()),
        ("debian", "/usr/lib/os-release")
    );
    assert_eq!(versions(&inv), ["deb bash 4.2+dfsg-0.1+deb7u3"]);
    assert_eq!(inv.databases.len(), 1);
    assert_eq!(inv.databases[0].path, "/var/lib/dpkg/status");
}

#[test]
fn oci_layout_plain_and_gzip_layers_with_blobs_before_the_index() {
    let (base, _) = debian_layers();
    for gz in [false, true] {
        let (export, id) = oci_export(&[&base], gz);
        let inv = read(&export, &id);
        assert!(inv.complete(), "gz={gz}: {:?}", inv.gaps);
        assert_eq!(inv.layout.as_deref(), Some("oci"));
        assert_eq!(
            versions(&inv),
            ["deb bash 4.2+dfsg-0.1", "deb libssl1.0.0 1.0.1e-2+deb7u4"]
        );
        assert_eq!(inv.packages[1].advisory_name(), "openssl");
    }
}

#[test]
fn layers_are_stacked_in_rootfs_order_not_stream_order() {
    let (base, upgrade) = debian_layers();
    // The stream carries the upgrade first; the inspect's RootFS.Layers says base first.
    let (export, id) = legacy_export(&[&upgrade, &base]);
    let expected = Expected {
        image_id: id,
        diff_ids: [&base, &upgrade]
            .iter()
            .map(|l| format!("sha256:{}", sha(l)))
            .collect(),
        ..Expected::default()
    };
    let inv = read_export(&export[..], &expected).unwrap();
    assert_eq!(versions(&inv), ["deb bash 4.2+dfsg-0.1+deb7u3"]);
    assert_eq!(
        inv.gaps,
        [
            "the layers in the export's image configuration differ from RootFS.Layers of the \
          image inspect; the inspect's list was used"
        ]
    );
}

#[test]
fn whiteouts_and_opaque_directories_remove_lower_files() {
    let (base, _) = debian_layers();
    let wipe = tar_of(&[E::File("var/lib/dpkg/.wh.status", b"")]);
    let (export, id) = legacy_export(&[&base, &wipe]);
    let inv = read(&export, &id);
    assert!(inv.packages.is_empty() && inv.databases.is_empty());
    assert_eq!(inv.os.as_ref().unwrap().id, "debian");

    let opaque = tar_of(&[E::File("usr/lib/.wh..wh..opq", b"")]);
    let (export, id) = legacy_export(&[&base, &opaque]);
    let inv = read(&export, &id);
    assert!(inv.os.is_none(), "the symlink's target was removed");
    assert_eq!(inv.packages.len(), 2);
}

#[test]
fn distroless_status_d_and_hard_links() {
    let libc = b"Package: libc6\nArchitecture: amd64\nSource: glibc\nVersion: 2.36-9+deb12u4\n";
    let layer = tar_of(&[
        E::File("var/lib/dpkg/status.d/libc6", libc),
        E::File("var/lib/dpkg/status.d/libc6.md5sums", b"abc  lib/x\n"),
        E::File("usr/lib/os-release", b"ID=debian\nVERSION_ID=\"12\"\n"),
        E::Hard("etc/os-release", "usr/lib/os-release"),
        E::Hard("var/lib/dpkg/status", "usr/share/elsewhere"),
    ]);
    let (export, id) = legacy_export(&[&layer]);
    let inv = read(&export, &id);
    assert_eq!(versions(&inv), ["deb libc6 2.36-9+deb12u4"]);
    assert_eq!(inv.os.as_ref().unwrap().path, "/etc/os-release");
    assert_eq!(inv.databases[0].path, "/var/lib/dpkg/status.d");
    assert_eq!(
        inv.gaps,
        [
            "/var/lib/dpkg/status: hard link to /usr/share/elsewhere, a file the inventory did \
          not keep"
        ]
    );
}

#[test]
fn alpine_and_rpm_databases() {
    let apk =
        b"P:musl\nV:1.2.4-r2\nA:x86_64\no:musl\n\nP:libssl3\nV:3.1.4-r5\nA:x86_64\no:openssl\n";
    let layer = tar_of(&[E::File("lib/apk/db/installed", apk)]);
    let (export, id) = oci_export(&[&layer], true);
    let inv = read(&export, &id);
    assert_eq!(
        versions(&inv),
        ["apk libssl3 3.1.4-r5", "apk musl 1.2.4-r2"]
    );

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("rpmdb.sqlite");
    rpm::write_test_db(&db, &[rpm::openssl_header()]);
    let bytes = std::fs::read(&db).unwrap();
    let layer = tar_of(&[E::File("usr/lib/sysimage/rpm/rpmdb.sqlite", &bytes)]);
    let (export, id) = legacy_export(&[&layer]);
    let inv = read(&export, &id);
    assert!(inv.complete(), "{:?}", inv.gaps);
    assert_eq!(versions(&inv), ["rpm openssl-libs 1:1.0.2k-19.el7"]);

    let layer = tar_of(&[E::File("var/lib/rpm/Packages", b"\0\0\0\0bdb")]);
    let (export, id) = legacy_export(&[&layer]);
    let inv = read(&export, &id);
    assert!(inv.packages.is_empty());
    assert_eq!(
        inv.gaps,
        [
            "/var/lib/rpm/Packages: cannot read the rpm Berkeley DB database: not a Berkeley DB \
          hash database (only 7 bytes)"
        ]
    );
    assert_eq!(inv.databases[0].path, "/var/lib/rpm/Packages");
}

#[test]
fn a_missing_layer_is_a_gap_and_garbage_is_an_error() {
    let (base, upgrade) = debian_layers();
    let (export, _) = legacy_export(&[&base]);
    let expected = Expected {
        image_id: "sha256:feed".into(),
        diff_ids: vec![
            format!("sha256:{}", sha(&base)),
            format!("sha256:{}", sha(&upgrade)),
        ],
        ..Expected::default()
    };
    let inv = read_export(&export[..], &expected).unwrap();
    assert_eq!(inv.gaps.len(), 2, "{:?}", inv.gaps);
    assert!(inv.gaps[0].starts_with("the layers in the export's image configuration differ"));
    assert!(inv.gaps[1].starts_with(&format!(
        "layer sha256:{} is not in the export",
        sha(&upgrade)
    )));
    assert!(!inv.complete());

    let err = read_export(&b"not a tar at all, just text"[..], &expected).unwrap_err();
    assert!(
        err.to_string()
            .starts_with("the export stream of sha256:feed could not be read"),
        "{err}"
    );
    let truncated = &export[..export.len() / 2 + 7];
    assert!(read_export(truncated, &expected).is_err());
}

#[test]
fn hostile_layers_give_gaps_not_panics_or_escapes() {
    // A symlink loop on the way to os-release, and a path climbing out of the root.
    let layer = tar_of(&[
        E::Link("etc/os-release", "os-release2"),
        E::Link("etc/os-release2", "/etc/os-release"),
        E::RawFile("../../../var/lib/dpkg/status", STATUS_NEW),
    ]);
    let (export, id) = legacy_export(&[&layer]);
    let inv = read(&export, &id);
    assert!(inv.os.is_none());
    assert_eq!(
        inv.gaps,
        ["/etc/os-release: too many levels of symbolic links"],
        "the climbing path lands inside the image root, where tar itself would put it"
    );
    assert_eq!(versions(&inv), ["deb bash 4.2+dfsg-0.1+deb7u3"]);

    // A blob that is neither JSON nor a tar, and a gzip layer cut short.
    let (base, _) = debian_layers();
    let cut = gzip(&base);
    let cut = cut[..cut.len() / 2].to_vec();
    let config = config_for(&[&base]);
    let cid = sha(&config);
    let files = vec![
        (
            "blobs/sha256/aaaa".to_string(),
            b"\x00\x01 binary garbage".to_vec(),
        ),
        ("blobs/sha256/bbbb".to_string(), cut),
        (format!("blobs/sha256/{cid}"), config),
        ("oci-layout".to_string(), b"{}".to_vec()),
    ];
    let inv = read(&export_of(&files), &format!("sha256:{cid}"));
    assert!(inv.packages.is_empty());
    assert!(
        inv.gaps
            .iter()
            .any(|g| g.starts_with("export entry blobs/sha256/bbbb: not a readable layer")),
        "{:?}",
        inv.gaps
    );
    assert!(
        inv.gaps
            .iter()
            .any(|g| g.starts_with(&format!("layer sha256:{} is not in the export", sha(&base)))),
        "{:?}",
        inv.gaps
    );
}

#[test]
fn oversized_metadata_is_a_gap() {
    let big = vec![b' '; (MAX_METADATA + 1) as usize];
    let inv = read(
        &export_of(&[("manifest.json".to_string(), big)]),
        "sha256:x",
    );
    assert_eq!(
        inv.gaps[0],
        format!(
            "export entry manifest.json: {} bytes, over the {MAX_METADATA}-byte limit for metadata",
            MAX_METADATA + 1
        )
    );
}
