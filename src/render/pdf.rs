//! `report.pdf`: the assessment as a printable, paginated document for auditors.
//!
//! Pages are laid out directly with printpdf's operations (no HTML engine): a cover page with the
//! evidence's identity, scope and method, an executive summary with bar charts drawn from
//! rectangles, one requirement matrix per framework (a table whose header row repeats on every
//! page), the failed and errored results grouped by requirement, the manual evidence to collect,
//! and an appendix with the hashes.
//! Every page carries "page N of M"; the outline has an entry per section and per framework.
//!
//! DejaVu Sans, DejaVu Sans Bold and DejaVu Sans Mono are compiled into the binary
//! (`assets/fonts/`, with their licence) and embedded as subsets, so the output does not depend
//! on the fonts installed where dockproof runs, and covers Latin-1 and far beyond.
//!
//! The document is reproducible: its creation date is the assessment's `generated_at`, never the
//! clock. Like every report it describes technical evidence and is not a statement of compliance.

mod content;
mod engagement;
mod findings;
mod fixes;
mod fleet;
mod fleet_grid;
mod images;
mod layout;
mod matrix;
mod registers;
mod requests;
mod sections;
mod subset;
mod table;
mod trend;

use std::io::Write;

use printpdf::{PdfDocument, PdfSaveOptions};
use sha2::{Digest, Sha256};

use super::{RenderError, Renderer};
use crate::assessment::{Assessment, AssessmentMode, Severity, Status, Tone};

use layout::{Fonts, Pages};

/// Writes `report.pdf`.
pub struct PdfRenderer;

/// The fleet `report.pdf` of a fleet bundle.
pub fn fleet(fleet: &crate::fleet::FleetAssessment) -> Result<Vec<u8>, RenderError> {
    fleet::render(fleet)
}

/// Most failed or errored results listed per check; the rest are counted.
const RESULTS_PER_CHECK: usize = 25;

impl Renderer for PdfRenderer {
    fn name(&self) -> &'static str {
        "pdf"
    }

    fn file_name(&self) -> &'static str {
        "report.pdf"
    }

    fn render(&self, assessment: &Assessment, out: &mut dyn Write) -> Result<(), RenderError> {
        let bytes = render_bytes(assessment, &[])?;
        out.write_all(&bytes)?;
        Ok(())
    }

    /// In a bundle, the appendix also lists the SHA-256 of every file written before the PDF.
    fn render_in_bundle(
        &self,
        assessment: &Assessment,
        written: &[(String, String)],
        out: &mut dyn Write,
    ) -> Result<(), RenderError> {
        let bytes = render_bytes(assessment, written)?;
        out.write_all(&bytes)?;
        Ok(())
    }
}

/// Lays out and serialises the whole document.
fn render_bytes(a: &Assessment, written: &[(String, String)]) -> Result<Vec<u8>, RenderError> {
    save(document(a, written)?)
}

/// The laid-out document, fonts subset, ready to serialise.
fn document(a: &Assessment, written: &[(String, String)]) -> Result<PdfDocument, RenderError> {
    let host = host_name(a);
    let title = format!("Docker host assessment: {host}");
    let mut doc = PdfDocument::new(&title);
    let fonts = Fonts::load(&mut doc)?;
    let mut pages = Pages::new(&fonts);

    sections::cover(&mut pages, a);
    // The executive summary comes straight after the cover, before scope and method.
    sections::summary(&mut pages, a);
    // Then the grouped fixes, which clear the failures the summary's top risks list.
    fixes::fixes(&mut pages, a);
    sections::scope(&mut pages, a);
    trend::trend(&mut pages, a);
    for fw in &a.frameworks {
        matrix::matrix(&mut pages, a, fw);
    }
    findings::findings(&mut pages, a);
    requests::evidence_requests(&mut pages, a);
    registers::waivers(&mut pages, a);
    registers::attestations(&mut pages, a);
    images::images(&mut pages, a);
    sections::appendix(&mut pages, a, written);

    let footer = format!("{title} · {} {}", a.tool.name, a.tool.version);
    let header = engagement::page_header(a);
    pages.finish(&mut doc, &footer, header.as_deref());
    subset::subset_fonts(&mut doc, &fonts);

    let info = &mut doc.metadata.info;
    info.creator = format!("dockproof {}", a.tool.version);
    info.producer = format!("dockproof {} (printpdf)", a.tool.version);
    info.subject = "Technical evidence collected from a Docker host".to_string();
    if let Ok(date) = printpdf::OffsetDateTime::from_unix_timestamp(a.generated_at.timestamp()) {
        info.creation_date = date;
        info.modification_date = date;
        info.metadata_date = date;
    }
    Ok(doc)
}

/// Serialises a laid-out document: its streams deflated at zlib's default level, the file id
/// made stable and the PDF/X claim blanked.
///
/// printpdf's own save deflates at the best level, which took about a sixth of the time of a
/// whole assessment for files under 2% smaller; the default level is several times faster. So
/// the document is taken to lopdf's objects uncompressed and each stream that may be
/// compressed is deflated here, keeping it as is when deflating does not make it smaller (as
/// printpdf does).
///
/// The page content streams are written by [`content`] when it knows every operation: printpdf
/// then gets pages holding only the glyphs its font serialisation needs, and the streams it
/// writes for them are replaced.
fn save(mut doc: PdfDocument) -> Result<Vec<u8>, RenderError> {
    let opts = PdfSaveOptions {
        optimize: false,
        ..PdfSaveOptions::default()
    };
    let streams = content::encode_pages(&doc);
    if streams.is_some() {
        let carrier = content::carrier(&doc);
        for page in &mut doc.pages {
            page.ops.clear();
        }
        if let Some(first) = doc.pages.first_mut() {
            first.ops = carrier;
        }
    }
    let mut lo = doc.to_lopdf_document(&opts, &mut Vec::new());
    if let Some(streams) = streams {
        replace_page_streams(&mut lo, streams)?;
    }
    for object in lo.objects.values_mut() {
        let lopdf::Object::Stream(stream) = object else {
            continue;
        };
        if !stream.allows_compression || stream.dict.get(b"Filter").is_ok() {
            continue;
        }
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(&stream.content)?;
        let deflated = z.finish()?;
        if deflated.len() < stream.content.len() {
            stream.dict.set("Filter", "FlateDecode");
            stream.set_content(deflated);
        }
    }
    let mut bytes = Vec::new();
    lo.save_to(&mut bytes)?;
    stable_file_id(&mut bytes);
    drop_pdfx_claim(&mut bytes);
    Ok(bytes)
}

/// Puts `streams`, one per page in page order, in place of the content streams printpdf wrote.
fn replace_page_streams(
    lo: &mut lopdf::Document,
    streams: Vec<Vec<u8>>,
) -> Result<(), RenderError> {
    let bug = |what: &str| {
        RenderError::Io(std::io::Error::other(format!(
            "report.pdf: {what} (a dockproof bug)"
        )))
    };
    let pages = lo.get_pages();
    if pages.len() != streams.len() {
        return Err(bug(
            "the document and its page streams differ in page count",
        ));
    }
    for (page, bytes) in pages.into_values().zip(streams) {
        let [id] = lo.get_page_contents(page)[..] else {
            return Err(bug("a page does not have exactly one content stream"));
        };
        match lo.get_object_mut(id) {
            Ok(lopdf::Object::Stream(stream)) => stream.set_content(bytes),
            _ => return Err(bug("a page's content is not a stream")),
        }
    }
    Ok(())
}

/// printpdf always writes a `/GTS_PDFXVersion` entry into the document information dictionary.
/// The file is not PDF/X (no output intent, no trim box), so no such entry may appear: it is
/// blanked with spaces of the same length, which keeps every cross-reference offset valid.
fn drop_pdfx_claim(bytes: &mut [u8]) {
    const KEY: &[u8] = b"/GTS_PDFXVersion";
    let Some(at) = bytes.windows(KEY.len()).position(|w| w == KEY) else {
        return;
    };
    // The key and its string value: `(...)` without nested parentheses in what printpdf writes.
    let Some(close) = bytes[at..].iter().position(|&b| b == b')') else {
        return;
    };
    let value = &bytes[at + KEY.len()..at + close];
    if value.first() != Some(&b'(') || value[1..].contains(&b'(') {
        return;
    }
    bytes[at..=at + close].fill(b' ');
}

/// Replaces the random file identifier printpdf writes in the trailer
/// (`/ID[(32 chars)(32 chars)]`) with a digest of the content before it, so the same assessment
/// always gives the same bytes. Both strings keep their length: no offset moves.
fn stable_file_id(bytes: &mut [u8]) {
    const MARK: &[u8] = b"/ID[(";
    const LEN: usize = 32;
    let Some(at) = bytes.windows(MARK.len()).rposition(|w| w == MARK) else {
        return;
    };
    let first = at + MARK.len();
    let second = first + LEN + 2;
    let well_formed = bytes.get(first + LEN..second) == Some(b")(".as_slice())
        && bytes.get(second + LEN) == Some(&b')');
    if !well_formed {
        return;
    }
    let digest = hex::encode(Sha256::digest(&bytes[..at]));
    let digest = digest.as_bytes();
    bytes[first..first + LEN].copy_from_slice(&digest[..LEN]);
    bytes[second..second + LEN].copy_from_slice(&digest[LEN..2 * LEN]);
}

/// "1 image", "3 images": a count with its noun in the right number.
pub(super) fn counted(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Host name reported by the engine, else the endpoint.
fn host_name(a: &Assessment) -> &str {
    let t = &a.snapshot.target;
    t.hostname.as_deref().unwrap_or(&t.docker_host)
}

fn status_color(s: Status) -> (f32, f32, f32) {
    match s {
        Status::Pass => (0.18, 0.55, 0.34),
        Status::Fail => (0.78, 0.16, 0.16),
        Status::Error => (0.85, 0.45, 0.05),
        Status::NotApplicable => (0.55, 0.57, 0.6),
        Status::Manual => (0.25, 0.42, 0.75),
    }
}

/// Text colour of a requirement state, by its tone: a waived failure is amber, never green, and
/// only an assessor's recorded finding is the full green of a pass.
fn requirement_color(t: Tone) -> (f32, f32, f32) {
    match t {
        Tone::Bad => status_color(Status::Fail),
        Tone::Accepted => (0.6, 0.36, 0.0),
        Tone::Error => status_color(Status::Error),
        Tone::Pending => status_color(Status::Manual),
        Tone::Consistent => (0.2, 0.45, 0.35),
        Tone::Good => status_color(Status::Pass),
        Tone::Neutral => status_color(Status::NotApplicable),
    }
}

fn severity_color(s: Severity) -> (f32, f32, f32) {
    match s {
        Severity::Critical => (0.55, 0.05, 0.1),
        Severity::High => (0.78, 0.16, 0.16),
        // Dark enough to read as text on white (contrast above 4.5:1), not only as bars.
        Severity::Medium => (0.7, 0.33, 0.0),
        Severity::Low => (0.5, 0.4, 0.0),
        Severity::Info => (0.45, 0.5, 0.6),
    }
}

fn mode_label(m: AssessmentMode) -> &'static str {
    m.label()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fixture::sample_assessment;

    fn render(a: &Assessment) -> Vec<u8> {
        let mut out = Vec::new();
        PdfRenderer.render(a, &mut out).expect("renders");
        out
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    /// Page objects in the file (`/Type /Page`, not `/Pages`).
    fn page_count(pdf: &[u8]) -> usize {
        let doc = printpdf::PdfDocument::parse(pdf, &Default::default(), &mut Vec::new())
            .expect("parses back");
        doc.page_count()
    }

    #[test]
    fn fixture_renders_a_pdf_with_outline_and_metadata() {
        let a = sample_assessment();
        let pdf = render(&a);
        assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
        assert!(contains(&pdf, b"/Outlines"), "no outline");
        let doc = printpdf::PdfDocument::parse(&pdf, &Default::default(), &mut Vec::new())
            .expect("parses back");
        let names: Vec<String> = doc.bookmarks.map.values().map(|b| b.name.clone()).collect();
        for expected in ["Executive summary", "Scope and method", "Findings detail"] {
            assert!(
                names.iter().any(|n| n == expected),
                "{expected} in {names:?}"
            );
        }
        for fw in &a.frameworks {
            let entry = format!("Requirement matrix: {}", fw.name);
            assert!(names.contains(&entry), "{entry} in {names:?}");
        }
        assert_eq!(
            doc.metadata.info.document_title,
            format!("Docker host assessment: {}", host_name(&a))
        );
        assert_eq!(
            doc.metadata.info.creator,
            format!("dockproof {}", a.tool.version)
        );
    }

    #[test]
    fn registers_appear_only_when_supplied() {
        let bookmarks = |a: &Assessment| -> Vec<String> {
            let pdf = render(a);
            let doc = printpdf::PdfDocument::parse(&pdf, &Default::default(), &mut Vec::new())
                .expect("parses back");
            doc.bookmarks.map.values().map(|b| b.name.clone()).collect()
        };
        let with = bookmarks(&crate::testing::fixture::waived_assessment());
        assert!(with.iter().any(|n| n == "Waiver register"), "{with:?}");
        assert!(with.iter().any(|n| n == "Attestation register"), "{with:?}");
        let without = bookmarks(&sample_assessment());
        assert!(
            !without.iter().any(|n| n.ends_with("register")),
            "{without:?}"
        );
    }

    #[test]
    fn output_is_reproducible() {
        let a = sample_assessment();
        assert_eq!(render(&a), render(&a));
    }

    #[test]
    fn many_results_span_many_pages() {
        let mut a = sample_assessment();
        let failing: Vec<_> = a
            .results
            .iter()
            .filter(|r| r.status == Status::Fail)
            .cloned()
            .collect();
        assert!(!failing.is_empty(), "fixture has failures");
        for i in 0..400 {
            for r in &failing {
                let mut r = r.clone();
                r.resource.name = format!("{}-copy-{i}-é", r.resource.name);
                a.results.push(r);
            }
        }
        let small = page_count(&render(&sample_assessment()));
        let large = page_count(&render(&a));
        assert!(large > 1, "large assessment has {large} page(s)");
        assert!(large > small, "{large} pages vs {small}");
    }

    #[test]
    fn hostile_and_non_latin_host_strings_render_and_round_trip_in_metadata() {
        let mut a = sample_assessment();
        let host = "evil) (\\ /Title <</x>> ünïcødé 中文 \u{202e}rtl";
        a.snapshot.target.hostname = Some(host.to_string());
        a.snapshot.target.docker_host = format!("tcp://{}:2376", "x".repeat(400));
        let pdf = render(&a);
        let doc = printpdf::PdfDocument::parse(&pdf, &Default::default(), &mut Vec::new())
            .expect("parses back");
        assert_eq!(
            doc.metadata.info.document_title,
            format!("Docker host assessment: {host}")
        );
    }

    /// `cargo test --release --lib render::pdf -- --ignored --nocapture`
    #[test]
    #[ignore = "timing: meaningful in release builds only"]
    fn ten_thousand_results_render_in_well_under_two_seconds() {
        let mut a = sample_assessment();
        let base = a.results.clone();
        let mut i = 0;
        while a.results.len() < 10_000 {
            for r in &base {
                let mut r = r.clone();
                r.resource.name = format!("{}-{i}", r.resource.name);
                a.results.push(r);
            }
            i += 1;
        }
        let start = std::time::Instant::now();
        let pdf = render(&a);
        let elapsed = start.elapsed();
        println!(
            "{} results: {} pages, {} bytes in {elapsed:?}",
            a.results.len(),
            page_count(&pdf),
            pdf.len()
        );
        assert!(elapsed.as_secs_f64() < 2.0, "{elapsed:?}");
    }

    #[test]
    fn a_waived_failure_is_amber_and_only_an_attested_finding_is_green() {
        use crate::assessment::RequirementState as S;
        let green = status_color(Status::Pass);
        let color = |s: S| requirement_color(s.tone());
        let (r, g, b) = color(S::RiskAccepted);
        assert!(r > g && g > b, "amber: {:?}", (r, g, b));
        for s in S::ALL {
            assert_eq!(color(s) == green, s.tone() == Tone::Good, "{s:?}");
        }
        assert_ne!(color(S::RiskAccepted), color(S::NotInPlace));
        assert_ne!(color(S::Incomplete), color(S::RiskAccepted));
    }

    #[test]
    fn never_claims_compliance() {
        // Text is glyph-encoded in the file; check the sentences the renderer itself writes
        // (tests/pdf.rs checks the extracted text of a whole report).
        for s in [sections::DISCLAIMER, sections::METHOD] {
            let lower = s.to_lowercase();
            let without = lower.replace("not a statement of compliance", "");
            assert!(!without.contains("compliant"), "{s}");
            // The states of the old model: a requirement is never "satisfied" or "partial".
            for old in ["satisf", "partial", "%"] {
                assert!(!lower.contains(old), "{old:?} in {s}");
            }
        }
    }
}
