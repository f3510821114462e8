//! `dockproof verify --key allowed_signers -I principal` against the reference it must agree
//! with: `ssh-keygen -Y verify -f allowed_signers -I principal -n file`. Every case below signs
//! the manifest of one real bundle with the real `ssh-keygen -Y sign` (ed25519, RSA and the three
//! ECDSA curves), writes an allowed_signers file, and asserts that both tools reach the same
//! verdict, and that the verdict is the one expected. No engine is needed.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;

const HARDENED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/samples/hardened-host.snapshot.json"
);
const WHO: &str = "auditor@example.com";

fn ssh_keygen(args: &[&str], paths: &[&Path]) -> std::process::Output {
    let out = Command::new("ssh-keygen")
        .args(args)
        .args(paths)
        .stdin(Stdio::null())
        .output()
        .expect("ssh-keygen runs (install openssh-client)");
    assert!(
        out.status.success(),
        "ssh-keygen {args:?} failed: {}",
        stderr(&out)
    );
    out
}

struct Case {
    name: &'static str,
    /// Key (file name in the key directory) that signs.
    signer: &'static str,
    /// Namespace the signature is made for.
    namespace: &'static str,
    /// allowed_signers text; `{ed}`, `{ed2}`, `{rsa}`, `{p256}`, `{p384}`, `{p521}` stand for
    /// public keys.
    allowed: &'static str,
    /// Whether the manifest is changed after signing.
    tamper: bool,
    expect_good: bool,
}

const fn case(
    name: &'static str,
    signer: &'static str,
    allowed: &'static str,
    expect_good: bool,
) -> Case {
    Case {
        name,
        signer,
        namespace: "file",
        allowed,
        tamper: false,
        expect_good,
    }
}

fn cases() -> Vec<Case> {
    vec![
        case("principal listed", "ed", "auditor@example.com {ed}", true),
        case("other principal", "ed", "someone@example.com {ed}", false),
        case("principal pattern", "ed", "*@example.com {ed}", true),
        case(
            "principal excluded by !pattern",
            "ed",
            "*@example.com,!auditor@* {ed}",
            false,
        ),
        case(
            "principal in quotes",
            "ed",
            "\"auditor@example.com\" {ed}",
            true,
        ),
        case(
            "namespaces=git only",
            "ed",
            "auditor@example.com namespaces=\"git\" {ed}",
            false,
        ),
        case(
            "namespaces=file,git",
            "ed",
            "auditor@example.com namespaces=\"git,file\" {ed}",
            true,
        ),
        case(
            "namespaces pattern fi*",
            "ed",
            "auditor@example.com namespaces=\"fi*\" {ed}",
            true,
        ),
        case(
            "valid-before in the past",
            "ed",
            "auditor@example.com valid-before=\"20200101Z\" {ed}",
            false,
        ),
        case(
            "valid-after in the future",
            "ed",
            "auditor@example.com valid-after=\"20990101Z\" {ed}",
            false,
        ),
        case(
            "inside the validity window",
            "ed",
            "auditor@example.com valid-after=\"20200101Z\",valid-before=\"209901011200Z\" {ed}",
            true,
        ),
        case(
            "cert-authority line for the signing key",
            "ed",
            "auditor@example.com cert-authority {ed}",
            false,
        ),
        case(
            "unknown option",
            "ed",
            "auditor@example.com no-touch-required {ed}",
            false,
        ),
        case("key not listed", "ed", "auditor@example.com {ed2}", false),
        case(
            "bad line then good line",
            "ed",
            "auditor@example.com namespaces=\"git\" {ed}\n# comment\n\nauditor@example.com {ed}",
            true,
        ),
        case("RSA key", "rsa", "auditor@example.com {rsa}", true),
        case(
            "ECDSA P-256 key",
            "p256",
            "auditor@example.com {p256}",
            true,
        ),
        case(
            "ECDSA P-384 key",
            "p384",
            "auditor@example.com {p384}",
            true,
        ),
        case(
            "ECDSA P-521 key",
            "p521",
            "auditor@example.com {p521}",
            true,
        ),
        case(
            "RSA key, other principal",
            "rsa",
            "x@example.com {rsa}",
            false,
        ),
        Case {
            namespace: "git",
            ..case(
                "signed for namespace git",
                "ed",
                "auditor@example.com {ed}",
                false,
            )
        },
        Case {
            tamper: true,
            ..case(
                "manifest changed after signing",
                "ed",
                "auditor@example.com {ed}",
                false,
            )
        },
    ]
}

struct Keys {
    dir: tempfile::TempDir,
}

impl Keys {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        for (name, args) in [
            ("ed", &["-t", "ed25519"][..]),
            ("ed2", &["-t", "ed25519"][..]),
            ("rsa", &["-t", "rsa", "-b", "2048"][..]),
            ("p256", &["-t", "ecdsa", "-b", "256"][..]),
            ("p384", &["-t", "ecdsa", "-b", "384"][..]),
            ("p521", &["-t", "ecdsa", "-b", "521"][..]),
        ] {
            let mut all = vec!["-q", "-N", "", "-C", WHO, "-f"];
            all.splice(0..0, args.iter().copied());
            ssh_keygen(&all, &[&dir.path().join(name)]);
        }
        Keys { dir }
    }

    fn key(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn allowed(&self, template: &str) -> String {
        let mut text = template.to_string();
        for name in ["ed2", "ed", "rsa", "p256", "p384", "p521"] {
            let public =
                std::fs::read_to_string(self.key(&format!("{name}.pub"))).expect("public key");
            let public = public
                .split_whitespace()
                .take(2)
                .collect::<Vec<_>>()
                .join(" ");
            text = text.replace(&format!("{{{name}}}"), &public);
        }
        text + "\n"
    }
}

#[test]
fn dockproof_verify_agrees_with_ssh_keygen_on_every_case() {
    let keys = Keys::new();
    let work = tempfile::tempdir().expect("temp dir");
    let bundle = work.path().join("b");
    let out = dockproof(&[
        "report",
        HARDENED,
        "--format",
        "json",
        "--out",
        bundle.to_str().expect("utf-8 path"),
    ]);
    assert!(out.status.success(), "report failed: {}", stderr(&out));
    let manifest = bundle.join("SHA256SUMS");
    let signature = bundle.join("SHA256SUMS.sig");
    let original = std::fs::read(&manifest).expect("manifest");
    let allowed = work.path().join("allowed_signers");

    let mut table = vec!["| case | ssh-keygen -Y verify | dockproof verify |".to_string()];
    table.push("|---|---|---|".to_string());
    let mut disagreements = Vec::new();
    let all = cases();
    assert!(all.len() >= 15);
    for c in &all {
        std::fs::write(&manifest, &original).expect("restore manifest");
        let _ = std::fs::remove_file(&signature);
        ssh_keygen(
            &["-Y", "sign", "-q", "-n", c.namespace, "-f"],
            &[&keys.key(c.signer), &manifest],
        );
        if c.tamper {
            // A blank line: sha256sum -c and dockproof still accept every hash, only the
            // signature can tell.
            let mut changed = original.clone();
            changed.extend_from_slice(b"\n");
            std::fs::write(&manifest, changed).expect("tamper");
        }
        std::fs::write(&allowed, keys.allowed(c.allowed)).expect("allowed_signers");

        let reference = Command::new("ssh-keygen")
            .args(["-Y", "verify", "-f"])
            .arg(&allowed)
            .args(["-I", WHO, "-n", "file", "-s"])
            .arg(&signature)
            .stdin(std::fs::File::open(&manifest).expect("manifest"))
            .output()
            .expect("ssh-keygen runs");
        let ours = dockproof(&[
            "verify",
            bundle.to_str().expect("utf-8"),
            "--key",
            allowed.to_str().expect("utf-8"),
            "--identity",
            WHO,
        ]);
        let ssh_good = reference.status.success();
        let our_good = ours.status.code() == Some(0);
        let stdout = String::from_utf8_lossy(&ours.stdout);
        if !our_good {
            // Refused: a bad signature (exit 1), or a key file with no line that can ever
            // match (exit 2, an input error naming the line).
            let err = stderr(&ours);
            match ours.status.code() {
                Some(1) => assert!(stdout.contains("signature: BAD:"), "{}: {stdout}", c.name),
                Some(2) => assert!(
                    err.contains("holds no usable OpenSSH public key") && err.contains("line 1:"),
                    "{}: {err}",
                    c.name
                ),
                other => panic!("{}: exit {other:?}: {stdout}{err}", c.name),
            }
        }
        let word = |good: bool| if good { "good" } else { "rejected" };
        table.push(format!(
            "| {} | {} | {} |",
            c.name,
            word(ssh_good),
            word(our_good)
        ));
        if ssh_good != our_good || ssh_good != c.expect_good {
            disagreements.push(format!(
                "{}: ssh-keygen {}, dockproof {}, expected {}\n  ssh-keygen: {}\n  dockproof: {stdout}",
                c.name,
                word(ssh_good),
                word(our_good),
                word(c.expect_good),
                String::from_utf8_lossy(&reference.stderr).trim()
            ));
        }
    }
    println!("{}", table.join("\n"));
    assert!(disagreements.is_empty(), "{}", disagreements.join("\n"));
}

#[test]
fn a_certificate_signature_is_refused_with_a_message_where_ssh_keygen_accepts_it() {
    let keys = Keys::new();
    let work = tempfile::tempdir().expect("temp dir");
    let bundle = work.path().join("b");
    let out = dockproof(&[
        "report",
        HARDENED,
        "--format",
        "json",
        "--out",
        bundle.to_str().expect("utf-8 path"),
    ]);
    assert!(out.status.success(), "report failed: {}", stderr(&out));
    // A user certificate for the `ed` key issued by `ed2` as CA; the manifest signed with it.
    ssh_keygen(
        &["-q", "-s"],
        &[
            &keys.key("ed2"),
            Path::new("-I"),
            Path::new("cert-1"),
            Path::new("-n"),
            Path::new(WHO),
            &keys.key("ed.pub"),
        ],
    );
    let manifest = bundle.join("SHA256SUMS");
    ssh_keygen(
        &["-Y", "sign", "-q", "-n", "file", "-f"],
        &[&keys.key("ed-cert.pub"), &manifest],
    );
    let allowed = work.path().join("allowed_signers");
    std::fs::write(
        &allowed,
        keys.allowed("auditor@example.com cert-authority {ed2}"),
    )
    .expect("allowed_signers");
    let reference = Command::new("ssh-keygen")
        .args(["-Y", "verify", "-f"])
        .arg(&allowed)
        .args(["-I", WHO, "-n", "file", "-s"])
        .arg(bundle.join("SHA256SUMS.sig"))
        .stdin(std::fs::File::open(&manifest).expect("manifest"))
        .output()
        .expect("ssh-keygen runs");
    assert!(reference.status.success(), "{}", stderr(&reference));
    let ours = dockproof(&[
        "verify",
        bundle.to_str().expect("utf-8"),
        "--key",
        allowed.to_str().expect("utf-8"),
        "-I",
        WHO,
    ]);
    let stdout = String::from_utf8_lossy(&ours.stdout);
    assert_eq!(ours.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains(
            "signature: BAD: SHA256SUMS.sig is made with an OpenSSH certificate; dockproof does \
             not verify certificate signatures (cert-authority lines): check it with \
             `ssh-keygen -Y verify`"
        ),
        "{stdout}"
    );
}
