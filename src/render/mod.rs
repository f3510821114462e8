//! Report formats: turn an [`Assessment`] into the files of an evidence bundle.
//!
//! This module owns the [`Renderer`] trait, the [`Format`] list and one file per format
//! (`html.rs`, `json.rs`, …). A renderer is a pure function of the assessment: it never reads the
//! snapshot, the catalogs, the clock or the disk, never talks to the engine, and never prints.
//! Whatever it writes goes to the `out` it is given; the bundle writer decides where that is.
//!
//! Every report describes the *technical evidence collected*. No renderer may claim that a host
//! is compliant with a framework: requirements marked partial or manual need evidence only a
//! person can collect.
//!
//! # Adding a format
//! 1. Write `src/render/<name>.rs` with a unit struct implementing [`Renderer`].
//! 2. Declare it with a `pub mod` line and add one line to the `formats!` list below.
//!
//! The list generates the [`Format`] enum (what `--format` accepts), [`Format::ALL`] and
//! [`Format::renderer`], so the command line, the bundle writer and the help text follow.

use std::io::Write;

use crate::assessment::Assessment;

/// Why a report could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// Writing the output failed (disk full, closed pipe, …).
    #[error("cannot write the report: {0}")]
    Io(#[from] std::io::Error),
    /// The assessment could not be encoded as JSON.
    #[error("cannot encode the assessment as JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// The built-in template failed to compile or render. This is a bug in dockproof, not in the
    /// input: the message carries Tera's full cause chain.
    #[error("HTML template error (a dockproof bug, please report it): {0}")]
    Template(String),
}

impl From<serde_json::Error> for RenderError {
    fn from(e: serde_json::Error) -> Self {
        // A failed write surfaces as an I/O error, whichever encoder noticed it.
        if e.is_io() {
            RenderError::Io(e.into())
        } else {
            RenderError::Json(e)
        }
    }
}

/// Writes `value` as pretty JSON followed by a newline: the shape of every JSON format (reports
/// and the diff).
pub(crate) fn write_json(
    out: &mut dyn Write,
    value: &impl serde::Serialize,
) -> Result<(), RenderError> {
    // The pretty printer makes a write call per token; through `dyn Write` each is a virtual
    // call. A concrete buffer in front keeps those calls inlined and hands `out` 64 KB chunks.
    let mut buffered = std::io::BufWriter::with_capacity(64 * 1024, out);
    serde_json::to_writer_pretty(&mut buffered, value)?;
    buffered.write_all(b"\n")?;
    buffered.flush()?;
    Ok(())
}

/// A Tera error on one line: Tera puts the useful part in its source chain. Shared by the HTML
/// report and the HTML diff.
pub(crate) fn describe(e: &tera::Error) -> String {
    let mut message = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// One output format.
pub trait Renderer {
    /// Short name, as given to `--format` (`html`).
    fn name(&self) -> &'static str;

    /// Name of the file this format is written to inside a bundle (`report.html`).
    fn file_name(&self) -> &'static str;

    /// Writes the report for `assessment` to `out`. Does not flush or sync: the caller owns `out`.
    fn render(&self, assessment: &Assessment, out: &mut dyn Write) -> Result<(), RenderError>;

    /// Like [`Self::render`], inside a bundle whose files `written` (name and SHA-256, in the
    /// order written) already exist; a report that lists the bundle's hashes overrides this.
    fn render_in_bundle(
        &self,
        assessment: &Assessment,
        written: &[(String, String)],
        out: &mut dyn Write,
    ) -> Result<(), RenderError> {
        let _ = written;
        self.render(assessment, out)
    }
}

// Plain `mod` lines, so rustfmt and clippy see every format module.
pub mod csv;
mod evidence;
pub mod evidence_requests;
pub mod fleet;
pub mod fleet_diff;
pub mod html;
pub mod json;
pub mod junit;
pub mod oscal;
pub mod pdf;
pub mod requirements_csv;
pub mod sarif;

/// Generates [`Format`] from one list of `Variant => module::RendererType` lines.
macro_rules! formats {
    ($($(#[doc = $doc:literal])* $variant:ident => $module:ident :: $renderer:ident,)+) => {
        /// A report format that can be requested with `--format`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
        pub enum Format {
            $($(#[doc = $doc])* $variant,)+
        }

        impl Format {
            /// Every format, in the order they are listed.
            pub const ALL: &'static [Format] = &[$(Format::$variant,)+];

            /// The renderer that writes this format.
            pub fn renderer(self) -> Box<dyn Renderer> {
                match self {
                    $(Format::$variant => Box::new($module::$renderer),)+
                }
            }
        }
    };
}

formats! {
    /// `report.html`: one self-contained page for people (works offline and printed).
    Html => html::HtmlRenderer,
    /// `assessment.json`: the assessment itself, for machines and `dockproof diff`.
    Json => json::JsonRenderer,
    /// `findings.csv`: one row per result, for spreadsheets and ticket imports.
    Csv => csv::CsvRenderer,
    /// `requirements.csv`: one row per framework requirement with its evidence state.
    RequirementsCsv => requirements_csv::RequirementsCsvRenderer,
    /// `evidence-requests.csv`: the manual evidence to request, from whom, with a tick column.
    EvidenceRequests => evidence_requests::EvidenceRequestsRenderer,
    /// `results.sarif`: SARIF 2.1.0 failures and errors, with the framework requirements as
    /// taxonomies, for code-scanning dashboards.
    Sarif => sarif::SarifRenderer,
    /// `junit.xml`: one test suite per check, for CI test reports.
    Junit => junit::JunitRenderer,
    /// `oscal-assessment-results.json`: OSCAL 1.1.2 assessment results with a finding per
    /// requirement, for GRC tools.
    Oscal => oscal::OscalRenderer,
    /// `report.pdf`: paginated document for auditors, with outline and page numbers.
    Pdf => pdf::PdfRenderer,
}

impl Format {
    /// Short name, as given to `--format`.
    pub fn name(self) -> &'static str {
        self.renderer().name()
    }

    /// Name of the file this format is written to inside a bundle.
    pub fn file_name(self) -> &'static str {
        self.renderer().file_name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn format_names_match_the_command_line_and_file_names_are_unique() {
        let mut files = Vec::new();
        for format in Format::ALL {
            let cli_name = format.to_possible_value().map(|v| v.get_name().to_string());
            assert_eq!(cli_name.as_deref(), Some(format.name()));
            files.push(format.file_name());
        }
        assert_eq!(
            files,
            [
                "report.html",
                "assessment.json",
                "findings.csv",
                "requirements.csv",
                "evidence-requests.csv",
                "results.sarif",
                "junit.xml",
                "oscal-assessment-results.json",
                "report.pdf",
            ]
        );
        assert_eq!(Format::from_str("html", false), Ok(Format::Html));
        assert_eq!(Format::from_str("json", false), Ok(Format::Json));
    }

    #[test]
    fn json_serialization_failure_that_is_io_becomes_io_error() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk full"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let a = crate::testing::fixture::sample_assessment();
        let err = Format::Json.renderer().render(&a, &mut Broken);
        assert!(matches!(err, Err(RenderError::Io(_))), "{err:?}");
        let err = Format::Html.renderer().render(&a, &mut Broken);
        assert!(matches!(err, Err(RenderError::Io(_))), "{err:?}");
    }
}
