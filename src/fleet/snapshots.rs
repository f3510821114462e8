//! The snapshots `report` gathers into a fleet: files named on the command line, and
//! directories of snapshots such as a DaemonSet or a timer writes.
//!
//! In a directory, every `*.snapshot.json` file is a snapshot, named
//! `<node>-<UTC time>.snapshot.json` (time as `20261201T031500Z` or `2026-12-01T03:15:00Z`); of
//! several snapshots of one node only the newest is reported, and the fleet says how many older
//! ones were left out. A file whose name carries no time is a node of its own, named by its
//! file name. Files are taken in name order, so the same directory always gives the same fleet.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use regex::Regex;

/// Suffix of snapshot files in a directory.
pub const SUFFIX: &str = ".snapshot.json";

/// One snapshot to report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    pub path: PathBuf,
    /// The node, for a file found in a directory; `None` for a file named on the command line
    /// (its hostname names it).
    pub node: Option<String>,
}

/// The snapshots to report and the notes on what was left out.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Gathered {
    pub inputs: Vec<Input>,
    pub notes: Vec<String>,
}

/// Why the snapshots could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum GatherError {
    #[error("cannot read the directory {path}: {source}")]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is a directory without snapshot.json (so not a bundle) and holds no *{SUFFIX} file either")]
    Empty { path: PathBuf },
}

fn stamped() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^(.+)-(\d{8}T\d{6}Z|\d{4}-\d{2}-\d{2}T\d{2}[-:]?\d{2}[-:]?\d{2}(?:\.\d+)?Z)$")
            .expect("a valid regular expression")
    })
}

/// The node and the sortable time of a snapshot file name (without [`SUFFIX`]).
pub fn node_of(stem: &str) -> (String, Option<String>) {
    match stamped().captures(stem) {
        Some(c) => {
            let time: String = c[2].chars().filter(char::is_ascii_digit).collect();
            (c[1].to_string(), Some(time))
        }
        None => (stem.to_string(), None),
    }
}

/// Lists the snapshots of `paths`: files as given, directories as described above.
pub fn gather(paths: &[PathBuf]) -> Result<Gathered, GatherError> {
    let mut out = Gathered::default();
    for path in paths {
        if path.is_dir() {
            gather_dir(path, &mut out)?;
        } else {
            out.inputs.push(Input {
                path: path.clone(),
                node: None,
            });
        }
    }
    Ok(out)
}

fn gather_dir(dir: &Path, out: &mut Gathered) -> Result<(), GatherError> {
    let err = |source| GatherError::Dir {
        path: dir.to_path_buf(),
        source,
    };
    let mut names: Vec<String> = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(err)? {
        let entry = entry.map_err(err)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(SUFFIX) && !name.starts_with('.') {
            names.push(name);
        }
    }
    if names.is_empty() {
        return Err(GatherError::Empty {
            path: dir.to_path_buf(),
        });
    }
    names.sort();
    // Newest per node: the name with the greatest time; ties keep the last name in order.
    let mut newest: BTreeMap<String, (Option<String>, String)> = BTreeMap::new();
    let mut older = 0usize;
    for name in names {
        let (node, time) = node_of(&name[..name.len() - SUFFIX.len()]);
        match newest.get(&node) {
            Some((t, _)) if *t > time => older += 1,
            Some(_) => {
                older += 1;
                newest.insert(node, (time, name));
            }
            None => {
                newest.insert(node, (time, name));
            }
        }
    }
    if older > 0 {
        out.notes.push(format!(
            "{}: {older} older snapshot(s) left out; the newest of each of the {} node(s) is \
             reported",
            dir.display(),
            newest.len()
        ));
    }
    for (node, (_, name)) in newest {
        out.inputs.push(Input {
            path: dir.join(name),
            node: Some(node),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_names_and_times_are_read_from_file_names() {
        assert_eq!(
            node_of("node-a-20261201T031500Z"),
            ("node-a".into(), Some("20261201031500".into()))
        );
        assert_eq!(
            node_of("node-a-2026-12-01T03:15:00Z"),
            ("node-a".into(), Some("20261201031500".into()))
        );
        assert_eq!(node_of("web-1"), ("web-1".into(), None));
    }

    #[test]
    fn a_directory_gives_the_newest_snapshot_per_node_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        for name in [
            "a-20261201T010000Z.snapshot.json",
            "a-20261201T020000Z.snapshot.json",
            "b-20261130T230000Z.snapshot.json",
            "c.snapshot.json",
            "notes.txt",
        ] {
            std::fs::write(dir.path().join(name), "{}").unwrap();
        }
        let g = gather(&[dir.path().to_path_buf()]).unwrap();
        let files: Vec<_> = g
            .inputs
            .iter()
            .map(|i| {
                (
                    i.node.clone().unwrap(),
                    i.path.file_name().unwrap().to_string_lossy().into_owned(),
                )
            })
            .collect();
        assert_eq!(
            files,
            vec![
                ("a".into(), "a-20261201T020000Z.snapshot.json".into()),
                ("b".into(), "b-20261130T230000Z.snapshot.json".into()),
                ("c".into(), "c.snapshot.json".into()),
            ]
        );
        assert_eq!(g.notes.len(), 1);
        assert!(
            g.notes[0].contains("1 older snapshot(s) left out"),
            "{:?}",
            g.notes
        );
        let empty = tempfile::tempdir().unwrap();
        assert!(gather(&[empty.path().to_path_buf()]).is_err());
    }
}
