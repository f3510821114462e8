//! Signatures over a bundle's manifest, in OpenSSH's SSHSIG format.
//!
//! Signing `SHA256SUMS` with namespace [`NAMESPACE`] makes the signature checkable with the tool
//! every auditor already has: `ssh-keygen -Y verify -n file`. Only unencrypted OpenSSH ed25519
//! private keys are read: dockproof runs unattended (timers, CronJobs), so it never prompts for a
//! passphrase, and an encrypted key is refused with a message that says so.
//!
//! This module owns key loading, signing and signature checking. It never touches a bundle
//! directory: [`crate::bundle`] decides what is signed and where the signature is written.

use std::path::{Path, PathBuf};

mod allowed;

use ssh_key::{Algorithm, HashAlg, LineEnding, PrivateKey, PublicKey, SshSig};

/// SSHSIG namespace of manifest signatures (the one `ssh-keygen -Y sign -n file` uses).
pub const NAMESPACE: &str = "file";

/// Why a key could not be loaded or a signature could not be made.
///
/// The underlying error is part of each message rather than a chained source, so that the CLI's
/// full-chain output does not repeat it.
#[derive(Debug, thiserror::Error)]
pub enum SignError {
    #[error(transparent)]
    Input(#[from] crate::input::InputError),
    #[error(
        "{path} cannot be read as an OpenSSH ed25519 private key ({error}); expected the file \
         written by `ssh-keygen -t ed25519` (beginning `-----BEGIN OPENSSH PRIVATE KEY-----`)"
    )]
    PrivateKey {
        path: PathBuf,
        error: ssh_key::Error,
    },
    #[error(
        "{path} is readable by others (mode {mode:04o}); a signing key must be private to its \
         owner, as ssh requires: `chmod 600 {path}`"
    )]
    Exposed { path: PathBuf, mode: u32 },
    #[error("{path} is a public key; signing needs the private half (the file without `.pub`)")]
    PublicGiven { path: PathBuf },
    #[error(
        "{path} is encrypted with a passphrase; dockproof does not prompt for one: sign with an \
         unencrypted ed25519 key kept for this purpose (`ssh-keygen -t ed25519 -N '' -f FILE`)"
    )]
    Encrypted { path: PathBuf },
    #[error("{path} holds a {algorithm} key; only ed25519 keys can sign a bundle")]
    Algorithm { path: PathBuf, algorithm: String },
    #[error("cannot sign with {path}: {error}")]
    Sign {
        path: PathBuf,
        error: ssh_key::Error,
    },
    #[error(
        "{path} holds no usable OpenSSH public key; expected `ssh-ed25519 AAAA... comment` or an \
         allowed_signers line `identity [options] ssh-ed25519 AAAA...`{ignored}"
    )]
    NoPublicKey { path: PathBuf, ignored: String },
}

/// A private key ready to sign manifests.
pub struct Signer {
    key: PrivateKey,
    path: PathBuf,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material, not even in debug output.
        f.debug_struct("Signer")
            .field("path", &self.path)
            .field("fingerprint", &self.fingerprint())
            .finish()
    }
}

impl Signer {
    /// Loads an unencrypted OpenSSH ed25519 private key.
    pub fn load(path: &Path) -> Result<Self, SignError> {
        use std::os::unix::fs::PermissionsExt;
        let meta = crate::input::check_regular(path, "private key")?;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(SignError::Exposed {
                path: path.to_path_buf(),
                mode,
            });
        }
        let text = crate::input::read_to_string(path, "private key", crate::input::MAX_KEY)?;
        Self::from_openssh(&text, path)
    }

    /// Parses key text; `path` only names the key in errors.
    pub fn from_openssh(text: &str, path: &Path) -> Result<Self, SignError> {
        let key = PrivateKey::from_openssh(text).map_err(|error| {
            if public_key_in_line(text.lines().next().unwrap_or_default()).is_some() {
                SignError::PublicGiven {
                    path: path.to_path_buf(),
                }
            } else {
                SignError::PrivateKey {
                    path: path.to_path_buf(),
                    error,
                }
            }
        })?;
        if key.is_encrypted() {
            return Err(SignError::Encrypted {
                path: path.to_path_buf(),
            });
        }
        if key.algorithm() != Algorithm::Ed25519 {
            return Err(SignError::Algorithm {
                path: path.to_path_buf(),
                algorithm: key.algorithm().to_string(),
            });
        }
        Ok(Signer {
            key,
            path: path.to_path_buf(),
        })
    }

    /// SHA-256 fingerprint of the public half, as `ssh-keygen -l` prints it.
    pub fn fingerprint(&self) -> String {
        self.key.fingerprint(HashAlg::Sha256).to_string()
    }

    /// Signs `message`; returns the armoured signature (`-----BEGIN SSH SIGNATURE-----`).
    pub fn sign(&self, message: &[u8]) -> Result<String, SignError> {
        let sign_err = |error| SignError::Sign {
            path: self.path.clone(),
            error,
        };
        let sig = self
            .key
            .sign(NAMESPACE, HashAlg::Sha512, message)
            .map_err(sign_err)?;
        sig.to_pem(LineEnding::LF).map_err(sign_err)
    }
}

/// Public keys an auditor trusts to have signed a bundle: an OpenSSH public key file or an
/// allowed_signers file, read with `ssh-keygen -Y verify`'s rules (see [`allowed`]).
#[derive(Debug, Clone)]
pub struct TrustedKeys {
    entries: Vec<allowed::Entry>,
    /// Lines that never match, with why; named when no line matched.
    ignored: Vec<(usize, String)>,
    /// The signer name required (`--identity`, ssh-keygen's `-I`); `None` accepts any
    /// principal of a matching line, as `ssh-keygen -Y find-principals` finds them.
    identity: Option<String>,
}

impl TrustedKeys {
    /// Loads every key line of a file: OpenSSH public key lines (`ssh-ed25519 AAAA... comment`)
    /// or allowed_signers lines (`principals [options] ssh-ed25519 AAAA...`). Blank lines and
    /// `#` comments are skipped; a file without any usable line is an error.
    pub fn load(path: &Path) -> Result<Self, SignError> {
        let text = crate::input::read_to_string(path, "key file", crate::input::MAX_KEY)?;
        Self::parse(&text, path)
    }

    /// Parses key text; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Self, SignError> {
        let (entries, ignored) = allowed::parse(text);
        if entries.is_empty() {
            return Err(SignError::NoPublicKey {
                path: path.to_path_buf(),
                ignored: ignored
                    .iter()
                    .map(|(n, why)| format!("; line {n}: {why}"))
                    .collect(),
            });
        }
        Ok(TrustedKeys {
            entries,
            ignored,
            identity: None,
        })
    }

    /// Requires the signer to be `identity` (a principal of the matching allowed_signers line),
    /// as `ssh-keygen -Y verify -I identity` does. Plain public key lines name no principal and
    /// so never match an identity.
    pub fn with_identity(mut self, identity: Option<String>) -> Self {
        self.identity = identity;
        self
    }

    /// Checks an armoured SSHSIG signature over `message` at the current time. Returns who made
    /// it (fingerprint, principal and line), or why the signature does not verify.
    pub fn verify(&self, message: &[u8], signature: &str) -> Result<String, String> {
        self.verify_at(message, signature, chrono::Utc::now())
    }

    /// [`Self::verify`] at a given time, for the validity windows.
    pub fn verify_at(
        &self,
        message: &[u8],
        signature: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<String, String> {
        let sig = SshSig::from_pem(signature.trim()).map_err(|e| {
            if signature.contains("-----BEGIN SSH SIGNATURE-----")
                && made_with_certificate(signature)
            {
                "is made with an OpenSSH certificate; dockproof does not verify certificate \
                 signatures (cert-authority lines): check it with `ssh-keygen -Y verify`"
                    .to_string()
            } else {
                format!("is not an SSH signature ({e})")
            }
        })?;
        if sig.namespace() != NAMESPACE {
            return Err(format!(
                "is made for namespace `{}`, not `{NAMESPACE}`",
                crate::text::terminal(sig.namespace())
            ));
        }
        let signer = sig.public_key().fingerprint(HashAlg::Sha256);
        let mut refusals: Vec<String> = Vec::new();
        let mut key_seen = false;
        for entry in &self.entries {
            if entry.key.key_data() != sig.public_key() {
                continue;
            }
            key_seen = true;
            let line = entry.line;
            match (&self.identity, &entry.principals) {
                (Some(id), Some(principals)) if !allowed::match_list(id, principals) => {
                    refusals.push(format!("line {line} is for other principals"));
                    continue;
                }
                (Some(_), None) => {
                    refusals.push(format!(
                        "line {line} is a plain public key with no principal to match --identity"
                    ));
                    continue;
                }
                _ => {}
            }
            if entry.cert_authority {
                refusals.push(format!(
                    "line {line} is cert-authority: it trusts certificates this key issued, not \
                     signatures made with the key itself"
                ));
                continue;
            }
            if let Some(ns) = &entry.namespaces {
                if !allowed::match_list(NAMESPACE, ns) {
                    refusals.push(format!(
                        "line {line} does not allow namespace `{NAMESPACE}` (namespaces=\"{}\")",
                        crate::text::terminal(ns)
                    ));
                    continue;
                }
            }
            if let Some(after) = entry.valid_after {
                if now < after {
                    refusals.push(format!(
                        "line {line} is not valid before {}",
                        after.format("%Y-%m-%dT%H:%M:%SZ")
                    ));
                    continue;
                }
            }
            if let Some(before) = entry.valid_before {
                if now > before {
                    refusals.push(format!(
                        "line {line} expired at {}",
                        before.format("%Y-%m-%dT%H:%M:%SZ")
                    ));
                    continue;
                }
            }
            entry
                .key
                .verify(NAMESPACE, message, &sig)
                .map_err(|e| format!("does not match the manifest ({e})"))?;
            let who = match (&self.identity, &entry.principals) {
                (Some(id), _) => format!(" for {}", crate::text::terminal(id)),
                (None, Some(p)) => format!(" for {}", crate::text::terminal(p)),
                (None, None) => String::new(),
            };
            return Ok(format!("{signer}{who} (key file line {line})"));
        }
        if !key_seen {
            let mut why = format!("is made by key {signer}, which is not among the given keys");
            for (n, reason) in &self.ignored {
                why.push_str(&format!(
                    "; line {n} ignored: {}",
                    crate::text::terminal(reason)
                ));
            }
            return Err(why);
        }
        Err(format!(
            "is made by key {signer}, which the key file does not allow here: {}",
            refusals.join("; ")
        ))
    }
}

/// Whether an armoured signature embeds a certificate (`...-cert-v01@openssh.com`) as its key.
fn made_with_certificate(armoured: &str) -> bool {
    use base64ct::{Base64, Encoding};
    let body: String = armoured
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect();
    Base64::decode_vec(&body)
        .map(|bytes| bytes.windows(20).any(|w| w == b"-cert-v01@openssh.co"))
        .unwrap_or(false)
}

/// The public key on one line, if any: the line itself, or the key part of an allowed_signers
/// line (principals and options come first, and quoted options may hold spaces, so each
/// `type base64` token pair is tried in turn).
fn public_key_in_line(line: &str) -> Option<PublicKey> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let tokens: Vec<&str> = line.split_whitespace().collect();
    tokens
        .windows(2)
        .find_map(|pair| PublicKey::from_openssh(&format!("{} {}", pair[0], pair[1])).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    // A fixed seed rather than a key file in the repository: nothing here looks like a secret.
    fn signer() -> Signer {
        let pair = ssh_key::private::Ed25519Keypair::from_seed(&[7u8; 32]);
        let key = PrivateKey::from(pair);
        let text = key.to_openssh(LineEnding::LF).unwrap();
        Signer::from_openssh(&text, Path::new("test-key")).unwrap()
    }

    fn public() -> String {
        signer().key.public_key().to_openssh().unwrap()
    }

    #[test]
    fn a_signature_verifies_against_its_public_key_only_over_the_same_bytes() {
        let sig = signer().sign(b"abc  report.html\n").unwrap();
        assert!(sig.starts_with("-----BEGIN SSH SIGNATURE-----"));
        let keys = TrustedKeys::parse(&public(), Path::new("k.pub")).unwrap();
        assert_eq!(
            keys.verify(b"abc  report.html\n", &sig).unwrap(),
            format!("{} (key file line 1)", signer().fingerprint())
        );
        let err = keys.verify(b"abd  report.html\n", &sig).unwrap_err();
        assert!(err.starts_with("does not match the manifest"), "{err}");
    }

    #[test]
    fn allowed_signers_lines_with_options_are_read() {
        let text = format!(
            "# auditors\n\nauditor@example.com namespaces=\"file,git\" {}\n",
            public()
        );
        let keys = TrustedKeys::parse(&text, Path::new("allowed_signers")).unwrap();
        assert_eq!(keys.entries.len(), 1);
    }

    #[test]
    fn a_file_without_a_key_is_an_error_naming_it() {
        let err = TrustedKeys::parse("# nothing\nnot a key\n", Path::new("empty.pub")).unwrap_err();
        let err = err.to_string();
        assert!(
            err.starts_with("empty.pub holds no usable OpenSSH public key"),
            "{err}"
        );
        assert!(
            err.ends_with("; line 2: no valid public key after the options"),
            "{err}"
        );
    }

    #[test]
    fn a_public_key_given_to_sign_is_named_as_such() {
        let err = Signer::from_openssh(&public(), Path::new("id.pub")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "id.pub is a public key; signing needs the private half (the file without `.pub`)"
        );
    }

    #[test]
    fn a_private_key_that_is_not_openssh_is_refused_by_name() {
        let err = Signer::from_openssh("hello", Path::new("id_x")).unwrap_err();
        assert!(err
            .to_string()
            .starts_with("id_x cannot be read as an OpenSSH ed25519 private key"));
    }
}
