//! The two standard streams as the commands use them: writers that end quietly when the reader
//! has gone away (`dockproof diff A B | head -1`), whether colour is wanted, how wide the
//! terminal is, and whether `--quiet` silenced everything but errors.
//!
//! A closed pipe is not an error of the command: the bytes nobody reads are dropped, the command
//! finishes its work (a bundle is still written and sealed) and its exit code stays what the
//! work decided. Nothing here panics on a write.

use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);
static STDERR_CLOSED: AtomicBool = AtomicBool::new(false);
static QUIET: AtomicBool = AtomicBool::new(false);

/// Which standard stream a writer or a question is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// A standard stream that swallows `BrokenPipe`: once the reader is gone, every later write is
/// dropped. Other errors (a full disk behind a redirection) are still returned.
pub struct Quiet(Stream);

impl Quiet {
    fn closed(&self) -> &'static AtomicBool {
        match self.0 {
            Stream::Stdout => &STDOUT_CLOSED,
            Stream::Stderr => &STDERR_CLOSED,
        }
    }

    fn guard(&self, result: io::Result<()>) -> io::Result<()> {
        match result {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed().store(true, Ordering::Relaxed);
                Ok(())
            }
            other => other,
        }
    }
}

impl Write for Quiet {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf).map(|()| buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        if self.closed().load(Ordering::Relaxed) {
            return Ok(());
        }
        let result = match self.0 {
            Stream::Stdout => io::stdout().lock().write_all(buf),
            Stream::Stderr => io::stderr().lock().write_all(buf),
        };
        self.guard(result)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.closed().load(Ordering::Relaxed) {
            return Ok(());
        }
        let result = match self.0 {
            Stream::Stdout => io::stdout().lock().flush(),
            Stream::Stderr => io::stderr().lock().flush(),
        };
        self.guard(result)
    }
}

/// Standard output for a command's result.
pub fn stdout() -> Quiet {
    Quiet(Stream::Stdout)
}

/// Standard error for progress, notes and errors.
pub fn stderr() -> Quiet {
    Quiet(Stream::Stderr)
}

/// Silences notes and progress (`--quiet`); errors are still printed.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether `--quiet` was given.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// A line on stderr that `--quiet` silences: progress, notes and warnings.
macro_rules! note {
    ($($arg:tt)*) => {{
        if !$crate::cli::terminal::quiet() {
            let _ = ::std::io::Write::write_fmt(
                &mut $crate::cli::terminal::stderr(),
                format_args!("{}\n", format_args!($($arg)*)),
            );
        }
    }};
}
pub(crate) use note;

/// Whether the stream is a terminal.
pub fn is_terminal(stream: Stream) -> bool {
    match stream {
        Stream::Stdout => io::stdout().is_terminal(),
        Stream::Stderr => io::stderr().is_terminal(),
    }
}

/// Whether text for `stream` may carry colour: only on a terminal, and never when `NO_COLOR`
/// is set (to any value, the empty string included).
pub fn colour(stream: Stream) -> bool {
    std::env::var_os("NO_COLOR").is_none() && is_terminal(stream)
}

/// Width of the terminal behind `stream` in columns; 80 when it is not a terminal or does not
/// say.
pub fn width(stream: Stream) -> usize {
    const DEFAULT: usize = 80;
    if !is_terminal(stream) {
        return DEFAULT;
    }
    let fd = match stream {
        Stream::Stdout => libc::STDOUT_FILENO,
        Stream::Stderr => libc::STDERR_FILENO,
    };
    // SAFETY: TIOCGWINSZ fills a `winsize` the size of the one passed; the descriptor is one of
    // the standard streams, open for the life of the process.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(fd, libc::TIOCGWINSZ, &mut size) } == 0;
    if ok && size.ws_col >= 20 {
        usize::from(size.ws_col)
    } else {
        DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_pipe_is_swallowed_and_remembered() {
        let q = Quiet(Stream::Stdout);
        let broken = io::Error::from(io::ErrorKind::BrokenPipe);
        assert!(q.guard(Err(broken)).is_ok());
        assert!(STDOUT_CLOSED.load(Ordering::Relaxed));
        STDOUT_CLOSED.store(false, Ordering::Relaxed);
        let other = io::Error::from(io::ErrorKind::StorageFull);
        assert_eq!(
            q.guard(Err(other)).map_err(|e| e.kind()),
            Err(io::ErrorKind::StorageFull)
        );
    }
}
