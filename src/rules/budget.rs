//! The cost budget of a rule: rules come from catalogs (`--controls`), so they are untrusted
//! code, and CEL's comprehensions (`map`, `filter`, `all`, `exists`) nest into loops whose cost
//! multiplies: five nested `exists` over a hundred elements run for minutes and nested `map`s
//! allocate gigabytes. The `cel` crate has parser limits but no hook into evaluation, so the
//! budget works in two places:
//!
//! * **at load**, a static bound: the cost of an expression is computed from its syntax tree as
//!   `k·n^d` evaluation steps, where `n` is the length of the longest list in the data and `k`
//!   and `d` come from the nesting of comprehensions and the length of literal lists. A rule
//!   whose degree exceeds [`MAX_DEGREE`] or whose constant exceeds [`MAX_CONSTANT`] cannot be
//!   bounded and is refused; `controls lint` reports the bound of every rule. Strings can grow
//!   without any loop (`replace` chained), so the product of what `replace` calls can multiply
//!   a string by is bounded too ([`check_string_growth`]).
//! * **while evaluating**, a step budget that really stops it: every comprehension's range is
//!   wrapped in a call that charges the range's length to a per-evaluation budget before the loop
//!   starts and checks a deadline. Inner loops are charged each time they run, so the charges add
//!   up to the iterations actually made, and every value a comprehension builds is paid for by an
//!   iteration, which bounds memory with time. When the budget or the deadline runs out, the call
//!   fails, evaluation unwinds on the same thread (nothing is left spinning) and the result is an
//!   error, even where a surrounding `exists` would have absorbed it.

use std::cell::Cell;
use std::time::{Duration, Instant};

use cel::common::ast::{CallExpr, Expr};
use cel::common::types::{Kind, DYN_TYPE};
use cel::common::value::CowVal;
use cel::{ExecutionError, IdedExpr};

/// Evaluation steps (comprehension iterations) one evaluation may take.
pub const MAX_STEPS: u64 = 1_000_000;
/// Wall-clock time one evaluation may take.
pub const MAX_TIME: Duration = Duration::from_secs(2);
/// Highest degree of a rule's static bound: nesting three comprehensions over data is allowed.
pub const MAX_DEGREE: u32 = 3;
/// Highest constant of a rule's static bound (from literal lists and their nesting).
pub const MAX_CONSTANT: u64 = 100_000_000;

/// Name of the charging function in the instrumented tree; `@` cannot start a CEL identifier, so
/// no rule can call or shadow it.
pub(super) const CHARGE: &str = "@dockproof_charge";

/// A static cost bound, `constant · n^degree` steps for data lists of length `n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bound {
    pub constant: u64,
    pub degree: u32,
}

impl Bound {
    const ONE: Bound = Bound {
        constant: 1,
        degree: 0,
    };

    fn plus(self, other: Bound) -> Bound {
        Bound {
            constant: self.constant.saturating_add(other.constant),
            degree: self.degree.max(other.degree),
        }
    }

    fn times(self, other: Bound) -> Bound {
        Bound {
            constant: self.constant.saturating_mul(other.constant),
            degree: self.degree.saturating_add(other.degree),
        }
    }

    /// Whether the bound is within [`MAX_DEGREE`] and [`MAX_CONSTANT`].
    pub fn acceptable(self) -> bool {
        self.degree <= MAX_DEGREE && self.constant <= MAX_CONSTANT
    }
}

impl std::fmt::Display for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.degree {
            0 => write!(f, "{} steps", self.constant),
            1 => write!(f, "{}·n steps", self.constant),
            d => write!(f, "{}·n^{d} steps", self.constant),
        }
    }
}

/// The static bound of an expression tree.
pub fn bound(e: &IdedExpr) -> Bound {
    match &e.expr {
        Expr::Comprehension(c) => {
            let body = Bound::ONE
                .plus(bound(&c.loop_cond))
                .plus(bound(&c.loop_step));
            bound(&c.iter_range)
                .plus(bound(&c.accu_init))
                .plus(length(&c.iter_range).times(body))
                .plus(bound(&c.result))
        }
        Expr::Call(call) => call
            .target
            .iter()
            .map(|t| bound(t))
            .chain(call.args.iter().map(bound))
            .fold(Bound::ONE, Bound::plus),
        Expr::List(list) => list
            .elements
            .iter()
            .map(bound)
            .fold(Bound::ONE, Bound::plus),
        Expr::Map(map) => map
            .entries
            .iter()
            .map(|entry| match &entry.expr {
                cel::common::ast::EntryExpr::MapEntry(m) => bound(&m.key).plus(bound(&m.value)),
                cel::common::ast::EntryExpr::StructField(s) => bound(&s.value),
            })
            .fold(Bound::ONE, Bound::plus),
        Expr::Select(s) => Bound::ONE.plus(bound(&s.operand)),
        _ => Bound::ONE,
    }
}

/// Most a string may grow through `replace` in one expression: `s.replace('a', 'aaaaaaaa')`
/// chained ten times makes a 1 GB string out of one byte, in a dozen operators and no loop.
pub const MAX_STRING_GROWTH: u64 = 10_000;

/// Refuses expressions whose `replace` calls can multiply a string's length beyond
/// [`MAX_STRING_GROWTH`]: each call multiplies by at most its literal replacement's length, and
/// a replacement that is not a literal (data, another expression) counts as unbounded.
pub fn check_string_growth(e: &IdedExpr) -> Result<(), String> {
    let mut growth: u64 = 1;
    let mut unbounded = 0usize;
    visit(e, &mut |node| {
        if let Expr::Call(call) = &node.expr {
            if call.func_name == "replace" {
                match call.args.get(1).map(|a| &a.expr) {
                    Some(Expr::Literal(cel::common::ast::LiteralValue::String(s))) => {
                        growth = growth.saturating_mul(s.inner().chars().count().max(1) as u64)
                    }
                    _ => unbounded += 1,
                }
            }
        }
    });
    if unbounded > 1 || (unbounded == 1 && growth > 1) || growth > MAX_STRING_GROWTH {
        return Err(format!(
            "cannot be bounded: its `replace` calls can multiply a string's length by {}, more \
             than the {MAX_STRING_GROWTH} allowed",
            if unbounded > 0 {
                "the length of the data".to_string()
            } else {
                growth.to_string()
            }
        ));
    }
    Ok(())
}

fn visit(e: &IdedExpr, f: &mut impl FnMut(&IdedExpr)) {
    f(e);
    match &e.expr {
        Expr::Comprehension(c) => {
            for part in [
                &c.iter_range,
                &c.accu_init,
                &c.loop_cond,
                &c.loop_step,
                &c.result,
            ] {
                visit(part, f);
            }
        }
        Expr::Call(call) => {
            if let Some(t) = &call.target {
                visit(t, f);
            }
            call.args.iter().for_each(|a| visit(a, f));
        }
        Expr::List(list) => list.elements.iter().for_each(|x| visit(x, f)),
        Expr::Map(map) => {
            for entry in &map.entries {
                match &entry.expr {
                    cel::common::ast::EntryExpr::MapEntry(m) => {
                        visit(&m.key, f);
                        visit(&m.value, f);
                    }
                    cel::common::ast::EntryExpr::StructField(s) => visit(&s.value, f),
                }
            }
        }
        Expr::Select(s) => visit(&s.operand, f),
        _ => {}
    }
}

/// How long a list-valued expression can be: a literal's length, the length of the range a
/// `map`/`filter` walks, the sum for `a + b`, and `n` for anything read from data.
fn length(e: &IdedExpr) -> Bound {
    const DATA: Bound = Bound {
        constant: 1,
        degree: 1,
    };
    match &e.expr {
        Expr::List(list) => Bound {
            constant: list.elements.len() as u64,
            degree: 0,
        },
        Expr::Comprehension(c) => length(&c.iter_range),
        Expr::Call(CallExpr {
            func_name, args, ..
        }) if func_name == "_+_" && args.len() == 2 => length(&args[0]).plus(length(&args[1])),
        _ => DATA,
    }
}

/// A copy of `e` in which every comprehension's range goes through [`CHARGE`].
pub(super) fn instrument(e: &IdedExpr) -> IdedExpr {
    let mut out = e.clone();
    wrap(&mut out);
    out
}

fn wrap(e: &mut IdedExpr) {
    match &mut e.expr {
        Expr::Comprehension(c) => {
            wrap(&mut c.iter_range);
            wrap(&mut c.accu_init);
            wrap(&mut c.loop_cond);
            wrap(&mut c.loop_step);
            wrap(&mut c.result);
            let range = std::mem::take(&mut c.iter_range);
            c.iter_range = IdedExpr {
                id: range.id,
                expr: Expr::Call(CallExpr {
                    func_name: CHARGE.to_string(),
                    target: None,
                    args: vec![range],
                }),
            };
        }
        Expr::Call(call) => {
            if let Some(t) = call.target.as_mut() {
                wrap(t);
            }
            call.args.iter_mut().for_each(wrap);
        }
        Expr::List(list) => list.elements.iter_mut().for_each(wrap),
        Expr::Map(map) => {
            for entry in &mut map.entries {
                match &mut entry.expr {
                    cel::common::ast::EntryExpr::MapEntry(m) => {
                        wrap(&mut m.key);
                        wrap(&mut m.value);
                    }
                    cel::common::ast::EntryExpr::StructField(s) => wrap(&mut s.value),
                }
            }
        }
        Expr::Select(s) => wrap(&mut s.operand),
        _ => {}
    }
}

/// The budget of the evaluation running on this thread.
struct Meter {
    left: Cell<u64>,
    deadline: Cell<Option<Instant>>,
    exhausted: Cell<Option<&'static str>>,
}

thread_local! {
    static METER: Meter = const {
        Meter {
            left: Cell::new(u64::MAX),
            deadline: Cell::new(None),
            exhausted: Cell::new(None),
        }
    };
}

/// Why an evaluation was stopped.
pub(super) const OUT_OF_STEPS: &str = "steps";
pub(super) const OUT_OF_TIME: &str = "time";

/// Runs `f` with a fresh budget of `steps` and `time`; returns its result and, when the budget
/// ran out at any point, which part did.
pub(super) fn metered<T>(
    steps: u64,
    time: Duration,
    f: impl FnOnce() -> T,
) -> (T, Option<&'static str>) {
    METER.with(|m| {
        m.left.set(steps);
        m.deadline.set(Instant::now().checked_add(time));
        m.exhausted.set(None);
    });
    let out = f();
    let exhausted = METER.with(|m| {
        m.left.set(u64::MAX);
        m.deadline.set(None);
        m.exhausted.take()
    });
    (out, exhausted)
}

/// Declares [`CHARGE`] on `env`: one argument of any type, returned unchanged.
///
/// It is an overload on the interpreter's own values, not a context function: a context
/// function receives and returns [`cel::Value`]s, so every comprehension would copy its whole range
/// (a container's mounts, the engine's info) into that form and back, twice per loop, and that
/// copying was a fifth of a whole evaluation.
pub(super) fn register(env: &mut cel::Env) -> Result<(), cel::DeclarationError> {
    env.add_overload(CHARGE, CHARGE, vec![DYN_TYPE], charge)
}

/// The charging function: pays for a comprehension's iterations before it runs.
fn charge<'b, 'v>(mut args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    if args.len() != 1 {
        return Err(ExecutionError::function_error(
            "budget",
            "the charging function takes one argument",
        ));
    }
    let range = args.remove(0);
    let len = match range.get_type().kind() {
        Kind::List | Kind::Map => range
            .as_sizer()
            .map_or(1, |s| u64::try_from(*s.size().inner()).unwrap_or(0)),
        _ => 1,
    };
    METER.with(|m| {
        let over = if m.exhausted.get().is_some() {
            m.exhausted.get()
        } else if m.deadline.get().is_some_and(|d| Instant::now() > d) {
            Some(OUT_OF_TIME)
        } else if len > m.left.get() {
            Some(OUT_OF_STEPS)
        } else {
            m.left.set(m.left.get() - len);
            None
        };
        match over {
            Some(what) => {
                m.exhausted.set(Some(what));
                Err(ExecutionError::function_error(
                    "budget",
                    "evaluation budget exhausted",
                ))
            }
            None => Ok(range),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{bind, from_json, Engine, RuleError};
    use serde_json::json;

    fn eval(expr: &str, resource: serde_json::Value) -> Result<bool, RuleError> {
        let engine = Engine::new();
        let ctx = engine.context(&[]);
        engine
            .compile(expr)?
            .eval_bool(&bind(&ctx, &from_json(&resource)))
    }

    #[test]
    fn rules_over_budget_are_stopped_and_reported_as_errors() {
        let l: Vec<i64> = (0..1000).collect();
        let r = json!({ "l": l });
        let started = std::time::Instant::now();
        // A billion iterations, and a billion list elements (gigabytes) for the maps.
        let slow =
            "resource.l.exists(a, resource.l.exists(b, resource.l.exists(c, a + b + c < 0)))";
        let big = "size(resource.l.map(a, resource.l.map(b, resource.l.map(c, c)))) > 0";
        // An `exists` that would absorb the inner error with a later `true`.
        let absorbed = "resource.l.exists(a, a == 999 || resource.l.exists(b, \
                        resource.l.exists(c, resource.l.exists(d, d < 0))))";
        let step_error = RuleError::Budget(
            "stopped: evaluation needed more than its budget of 100000 comprehension steps".into(),
        );
        // The step budget alone decides here (a debug build is slow; the deadline is not tested).
        let metered = |src: &str| {
            let engine = Engine::new();
            let ctx = engine.context(&[]);
            let expr = engine.compile(src).unwrap();
            expr.eval_within(
                &bind(&ctx, &from_json(&r)),
                100_000,
                std::time::Duration::from_secs(600),
            )
        };
        assert_eq!(metered(slow), Err(step_error.clone()));
        assert_eq!(metered(big), Err(step_error.clone()));
        assert!(matches!(
            Engine::new().compile(absorbed),
            Err(RuleError::Compile(m)) if m.starts_with("cannot be bounded: its cost grows as")
        ));
        let absorbed3 = "resource.l.exists(a, a == 999 || resource.l.exists(b, \
                         resource.l.exists(c, c < 0)))";
        assert_eq!(metered(absorbed3), Err(step_error));
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
        // Within budget, the same shapes evaluate normally.
        let small = json!({ "l": [1, 2, 3] });
        assert_eq!(eval(slow, small.clone()), Ok(false));
        assert_eq!(eval(big, small), Ok(true));
    }

    #[test]
    fn the_time_budget_stops_evaluation() {
        let engine = Engine::new();
        let ctx = engine.context(&[]);
        let l: Vec<i64> = (0..300).collect();
        let r = from_json(&json!({ "l": l }));
        let expr = engine
            .compile(
                "resource.l.exists(a, resource.l.exists(b, resource.l.exists(c, a + b + c < 0)))",
            )
            .unwrap();
        let err = expr
            .eval_within(
                &bind(&ctx, &r),
                u64::MAX,
                std::time::Duration::from_millis(50),
            )
            .unwrap_err();
        assert_eq!(
            err,
            RuleError::Budget("stopped: evaluation took longer than its budget of 50 ms".into())
        );
    }

    fn bound_of(src: &str) -> Bound {
        let program = cel::Program::compile(src).expect("compiles");
        bound(program.expression())
    }

    #[test]
    fn string_growth_through_replace_is_bounded() {
        let check =
            |src: &str| check_string_growth(cel::Program::compile(src).unwrap().expression());
        assert_eq!(
            check("resource.x.replace('CAP_', '') == 'NET_ADMIN'"),
            Ok(())
        );
        assert_eq!(
            check("resource.x.replace('a', 'bb').replace('c', 'dd') != ''"),
            Ok(())
        );
        let chain = format!("size('a'{}) > 0", ".replace('a', 'aaaaaaaa')".repeat(10));
        assert_eq!(
            check(&chain),
            Err(
                "cannot be bounded: its `replace` calls can multiply a string's length by \
                 1073741824, more than the 10000 allowed"
                    .into()
            )
        );
        assert!(
            check("resource.x.replace('a', resource.x).replace('a', resource.x) != ''").is_err()
        );
    }

    #[test]
    fn bounds_follow_nesting_and_literal_lengths() {
        assert_eq!(bound_of("resource.a == 1").degree, 0);
        assert_eq!(bound_of("resource.l.exists(x, x == 1)").degree, 1);
        let b = bound_of("resource.l.exists(x, params.p.exists(y, x == y))");
        assert_eq!(b.degree, 2);
        assert!(b.acceptable());
        let five = bound_of(
            "resource.l.exists(a, resource.l.exists(b, resource.l.exists(c, \
             resource.l.exists(d, resource.l.exists(e, a == e)))))",
        );
        assert_eq!(five.degree, 5);
        assert!(!five.acceptable());
        let lit = format!("[{}]", vec!["1"; 100].join(","));
        let maps = bound_of(&format!(
            "size({lit}.map(a, {lit}.map(b, {lit}.map(c, {lit}.map(d, {lit}.map(e, 1)))))) > 0"
        ));
        assert_eq!(maps.degree, 0);
        assert!(maps.constant > 10_000_000_000, "{maps}");
        assert!(!maps.acceptable());
        assert_eq!(
            format!("{}", bound_of("resource.l.all(x, x > 0)")),
            "12·n steps"
        );
    }
}
