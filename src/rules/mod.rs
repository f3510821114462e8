//! The rule engine: compiles and evaluates the CEL expressions of the control catalogs.
//!
//! Rules are written in CEL (the Common Expression Language, as used by Kubernetes admission
//! policies): side-effect free, always terminating, with no access to files, network or clock.
//! This module owns the CEL environment (the standard library, the strings extension and the few
//! Docker-specific functions below), the conversion of JSON evidence into CEL values, and the
//! mapping of CEL outcomes to "true / false / could not evaluate", and the cost budget of every
//! evaluation ([`budget`]: rules are untrusted code). It knows nothing about checks, results or
//! frameworks.
//!
//! Functions added to CEL:
//! * `modeAtMost(mode, "644")`: true iff `mode` sets no permission bit outside the octal mask;
//!   setuid, setgid and sticky bits count as outside unless the mask has them.
//! * `isWildcardIp(ip)`: true for an address that listens on every interface (`""`, `0.0.0.0`,
//!   `::`, `[::]`).
//! * `pathWithin(path, dirs)`: true iff `path` is one of `dirs` or lies below one of them,
//!   compared component by component (`/etcfoo` is not within `/etc`). The root `/` contains
//!   only itself here: a mount of `/srv/data` is not a mount of `/`.
//! * `pathCovers(path, target)`: true iff exposing `path` exposes `target`, that is `target`
//!   equals `path` or lies below it (mounting `/var/run` exposes `/var/run/docker.sock`).

mod budget;
pub mod docker;
mod matches;

pub use budget::{Bound, MAX_CONSTANT, MAX_DEGREE, MAX_STEPS, MAX_TIME};

use std::collections::HashMap;
use std::sync::Arc;

use cel::objects::{Key, Map};
use cel::{Context, Env, ExecutionError, IdedExpr, Program, Value};

/// A compiled expression, ready to be evaluated many times.
#[derive(Clone)]
pub struct Expr {
    source: String,
    program: Arc<Program>,
    /// The program's tree with every comprehension charged to the budget.
    metered: Arc<IdedExpr>,
    bound: Bound,
    /// Evaluations that ran out of budget; after [`MAX_STRIKES`] the rule is not run again, so
    /// a hostile rule costs at most a few budgets, not one per resource.
    strikes: Arc<std::sync::atomic::AtomicU32>,
}

/// Evaluations of one expression allowed to run out of budget before it is no longer run.
pub const MAX_STRIKES: u32 = 3;

impl std::fmt::Debug for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Expr").field(&self.source).finish()
    }
}

/// Why an expression could not be compiled or evaluated.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum RuleError {
    #[error("does not compile: {0}")]
    Compile(String),
    #[error("{0}")]
    Eval(String),
    #[error("returned {0} where true or false was expected")]
    NotBool(String),
    #[error("{0}")]
    Budget(String),
}

/// The CEL environment shared by every expression: compile once, evaluate per resource.
pub struct Engine {
    env: Arc<Env>,
}

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}

impl Engine {
    pub fn new() -> Self {
        let mut env = Env::stdlib();
        // The strings extension only adds functions; a failure here would be a programming
        // error in the bundled library, not something a user can cause.
        if let Err(e) = env.add_extension(cel::extensions::strings) {
            tracing::warn!("CEL strings extension unavailable: {e}");
        }
        // Same: `matches` is only declared here, the crate's own being compiled out.
        if let Err(e) = matches::register(&mut env) {
            tracing::warn!("CEL matches() unavailable: {e}");
        }
        // Without it no expression could run: a failure is a programming error, and the
        // budget tests would fail at once.
        if let Err(e) = budget::register(&mut env) {
            tracing::warn!("CEL budget function unavailable: {e}");
        }
        if let Err(e) = docker::register_env(&mut env) {
            tracing::warn!("CEL Docker functions unavailable: {e}");
        }
        Engine { env: Arc::new(env) }
    }

    /// Compiles an expression.
    ///
    /// CEL's parser recurses once per grammar rule for every bracket and operator, and a few
    /// dozen nested brackets exhaust an ordinary thread's stack: a crash, not an error, and
    /// catalogs come from users (`--controls`). So the shape is bounded first ([`check_shape`]),
    /// and the parser runs on a thread of its own with a large stack; a parser panic is a
    /// compile error too.
    pub fn compile(&self, source: &str) -> Result<Expr, RuleError> {
        check_shape(source)?;
        let parsed = std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("cel-parser".into())
                .stack_size(PARSER_STACK)
                .spawn_scoped(scope, || self.env.compile(source))
                .map(|handle| handle.join())
        });
        let program = match parsed {
            Ok(Ok(result)) => {
                result.map_err(|e| RuleError::Compile(e.to_string().trim().to_string()))?
            }
            Ok(Err(_panic)) => {
                return Err(RuleError::Compile(
                    "the CEL parser failed on this expression".into(),
                ))
            }
            Err(e) => {
                return Err(RuleError::Compile(format!(
                    "cannot start the CEL parser: {e}"
                )))
            }
        };
        budget::check_string_growth(program.expression()).map_err(RuleError::Compile)?;
        let bound = budget::bound(program.expression());
        if !bound.acceptable() {
            return Err(RuleError::Compile(format!(
                "cannot be bounded: its cost grows as {bound} (n = the longest list in the data), \
                 beyond the {MAX_CONSTANT}·n^{MAX_DEGREE} a rule may take; nest fewer \
                 comprehensions or use shorter literal lists"
            )));
        }
        Ok(Expr {
            source: source.to_string(),
            metered: Arc::new(budget::instrument(program.expression())),
            program: Arc::new(program),
            bound,
            strikes: Arc::default(),
        })
    }

    /// A context holding the variables every expression of one snapshot shares.
    pub fn context(&self, globals: &[(&str, Value)]) -> Context<'static, 'static> {
        let mut ctx = Context::with_env(self.env.clone());
        for (name, value) in globals {
            ctx.add_variable_from_value(*name, value.clone());
        }
        register_functions(&mut ctx);
        ctx
    }
}

impl Expr {
    /// The expression as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The static cost bound computed at compile time.
    pub fn bound(&self) -> Bound {
        self.bound
    }

    /// The program as parsed, for analysis.
    pub fn program(&self) -> &Program {
        &self.program
    }

    /// Evaluates to any value in a scope made by [`bind`], within the budget of [`MAX_STEPS`]
    /// comprehension steps and [`MAX_TIME`].
    pub fn eval(&self, scope: &Context) -> Result<Value, RuleError> {
        self.eval_within(scope, MAX_STEPS, MAX_TIME)
    }

    /// [`Self::eval`] with an explicit budget.
    pub fn eval_within(
        &self,
        scope: &Context,
        steps: u64,
        time: std::time::Duration,
    ) -> Result<Value, RuleError> {
        use std::sync::atomic::Ordering;
        if self.strikes.load(Ordering::Relaxed) >= MAX_STRIKES {
            return Err(RuleError::Budget(format!(
                "not evaluated: it ran out of its budget on {MAX_STRIKES} earlier resources"
            )));
        }
        let (result, exhausted) =
            budget::metered(steps, time, || Value::resolve(&self.metered, scope));
        if exhausted.is_some() {
            self.strikes.fetch_add(1, Ordering::Relaxed);
        }
        match exhausted {
            Some(budget::OUT_OF_TIME) => Err(RuleError::Budget(format!(
                "stopped: evaluation took longer than its budget of {} ms",
                time.as_millis()
            ))),
            Some(_) => Err(RuleError::Budget(format!(
                "stopped: evaluation needed more than its budget of {steps} comprehension steps"
            ))),
            None => result.map_err(describe_error),
        }
    }

    /// Evaluates to a boolean; anything else is an error.
    pub fn eval_bool(&self, scope: &Context) -> Result<bool, RuleError> {
        match self.eval(scope)? {
            Value::Bool(b) => Ok(b),
            other => Err(RuleError::NotBool(to_json(&other).to_string())),
        }
    }
}

/// A scope of `ctx` in which `resource` is bound. Binding converts the whole value into the
/// interpreter's own representation, so it is done once per resource, not once per expression.
pub fn bind<'a>(ctx: &'a Context<'static, 'static>, resource: &Value) -> Context<'a, 'static> {
    let mut scope = ctx.new_inner_scope();
    scope.add_variable_from_value("resource", resource.clone());
    scope
}

/// Deepest nesting of brackets (`(`, `[`, `{`) a rule may have; the catalogs use at most 7.
pub const MAX_NESTING: usize = 32;
/// Most operator characters (`+ - * / % ! < > = & | ? .`) a rule may have outside string
/// literals; the longest rule of the catalogs has 80.
pub const MAX_OPERATORS: usize = 150;
/// Stack of the parser thread. Only the pages touched are ever allocated.
const PARSER_STACK: usize = 256 * 1024 * 1024;

/// Refuses expressions nested or chained beyond [`MAX_NESTING`] and [`MAX_OPERATORS`], which
/// no real rule needs and which would exhaust the stack while parsing or evaluating.
pub fn check_shape(source: &str) -> Result<(), RuleError> {
    let (mut depth, mut deepest, mut operators) = (0usize, 0usize, 0usize);
    let mut quote: Option<char> = None;
    let mut chars = source.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(_), '\\') => {
                chars.next();
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(' | '[' | '{') => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            (None, ')' | ']' | '}') => depth = depth.saturating_sub(1),
            (None, '+' | '-' | '*' | '/' | '%' | '!' | '<' | '>' | '=' | '&' | '|' | '?' | '.') => {
                operators += 1
            }
            _ => {}
        }
    }
    if deepest > MAX_NESTING {
        return Err(RuleError::Compile(format!(
            "nests brackets {deepest} deep, more than the {MAX_NESTING} allowed; split it or \
             use a helper list in params"
        )));
    }
    if operators > MAX_OPERATORS {
        return Err(RuleError::Compile(format!(
            "has {operators} operators, more than the {MAX_OPERATORS} allowed; split it into \
             several checks"
        )));
    }
    Ok(())
}

/// Names the missing piece of data in terms a catalog author understands.
fn describe_error(e: ExecutionError) -> RuleError {
    let text = match e {
        ExecutionError::NoSuchKey(key) => format!("data missing: no field `{key}`"),
        ExecutionError::UndeclaredReference(name) => format!("unknown variable `{name}`"),
        ExecutionError::DivisionByZero(_) => "division by zero".to_string(),
        other => other.to_string(),
    };
    RuleError::Eval(text)
}

/// Converts JSON into a CEL value. Integers become `int` whenever they fit, so that rules can
/// compare `resource.HostConfig.Memory > 0` without caring how the engine encoded the number.
pub fn from_json(value: &serde_json::Value) -> Value {
    match value {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::Int(i)
            } else if let Some(u) = n.as_u64() {
                Value::UInt(u)
            } else {
                Value::Float(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        serde_json::Value::String(s) => Value::String(Arc::new(s.clone())),
        serde_json::Value::Array(items) => {
            Value::List(Arc::new(items.iter().map(from_json).collect()))
        }
        serde_json::Value::Object(fields) => {
            let map: HashMap<Key, Value> = fields
                .iter()
                .map(|(k, v)| (Key::String(Arc::new(k.clone())), from_json(v)))
                .collect();
            Value::Map(Map { map: Arc::new(map) })
        }
    }
}

/// Converts a CEL value back to JSON for evidence. Values JSON cannot hold become strings.
pub fn to_json(value: &Value) -> serde_json::Value {
    let mut json = value
        .json()
        .unwrap_or_else(|_| serde_json::Value::String(format!("{value:?}")));
    sort_keys(&mut json);
    json
}

/// CEL maps iterate in hash order; evidence is written with sorted keys so the same snapshot
/// always gives the same `assessment.json`, byte for byte.
fn sort_keys(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<(String, serde_json::Value)> =
                std::mem::take(map).into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            for (key, mut v) in entries {
                sort_keys(&mut v);
                map.insert(key, v);
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(sort_keys),
        _ => {}
    }
}

fn register_functions(ctx: &mut Context) {
    // Registration only fails on a name clash with the standard library, which these names
    // are chosen to avoid; a clash would show up at once in the unit tests below.
    let results = [
        ctx.add_function("modeAtMost", |mode: i64, max: Arc<String>| -> bool {
            mode_at_most(mode, &max)
        }),
        ctx.add_function("isWildcardIp", |ip: Arc<String>| -> bool {
            is_wildcard_ip(&ip)
        }),
        ctx.add_function(
            "pathWithin",
            |path: Arc<String>, dirs: Arc<Vec<Value>>| -> bool {
                dirs.iter().any(|d| match d {
                    Value::String(dir) => path_below_or_equal(&path, dir, false),
                    _ => false,
                })
            },
        ),
        ctx.add_function(
            "pathCovers",
            |path: Arc<String>, target: Arc<String>| -> bool {
                path_below_or_equal(&target, &path, true)
            },
        ),
    ];
    for r in results {
        if let Err(e) = r {
            tracing::warn!("CEL function registration failed: {e:?}");
        }
    }
    docker::register(ctx);
}

/// Whether `mode` has no bit outside the octal `mask`. An unparsable mask allows nothing.
pub fn mode_at_most(mode: i64, mask: &str) -> bool {
    match u32::from_str_radix(mask.trim(), 8) {
        Ok(mask) => (mode as u32 & 0o7777) & !mask == 0,
        Err(_) => false,
    }
}

/// Whether an address binds every interface.
pub fn is_wildcard_ip(ip: &str) -> bool {
    matches!(ip.trim(), "" | "0.0.0.0" | "::" | "[::]")
}

fn components(path: &str) -> Vec<&str> {
    path.split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect()
}

/// Whether `path` equals `dir` or lies below it. With `root_contains_all` false, `/` contains
/// only itself.
fn path_below_or_equal(path: &str, dir: &str, root_contains_all: bool) -> bool {
    let p = components(path);
    let d = components(dir);
    if d.is_empty() {
        return root_contains_all || p.is_empty();
    }
    p.len() >= d.len() && p[..d.len()] == d[..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_maps_come_out_with_sorted_keys() {
        let v = from_json(&serde_json::json!({"b": 1, "a": {"z": 1, "c": [{"y": 1, "x": 2}]}}));
        assert_eq!(
            serde_json::to_string(&to_json(&v)).unwrap(),
            r#"{"a":{"c":[{"x":2,"y":1}],"z":1},"b":1}"#
        );
    }
    use serde_json::json;

    fn eval(expr: &str, resource: serde_json::Value) -> Result<bool, RuleError> {
        let engine = Engine::new();
        let params = from_json(&json!({"paths": ["/etc", "/"]}));
        let ctx = engine.context(&[("params", params)]);
        engine
            .compile(expr)?
            .eval_bool(&bind(&ctx, &from_json(&resource)))
    }

    #[test]
    fn integers_compare_with_int_literals() {
        let r = json!({"HostConfig": {"Memory": 0, "Mode": 420}});
        assert_eq!(eval("resource.HostConfig.Memory > 0", r.clone()), Ok(false));
        assert_eq!(eval("resource.HostConfig.Mode % 8 == 4", r), Ok(true));
    }

    #[test]
    fn missing_field_is_an_error_not_false() {
        let err = eval("resource.HostConfig.Privileged == false", json!({})).unwrap_err();
        assert_eq!(
            err,
            RuleError::Eval("data missing: no field `HostConfig`".into())
        );
    }

    #[test]
    fn non_boolean_rule_is_an_error() {
        let err = eval("resource.x", json!({"x": 3})).unwrap_err();
        assert_eq!(err, RuleError::NotBool("3".into()));
    }

    #[test]
    fn division_by_zero_is_an_error() {
        let err = eval("1 / resource.x == 1", json!({"x": 0})).unwrap_err();
        assert_eq!(err, RuleError::Eval("division by zero".into()));
    }

    #[test]
    fn deeply_nested_or_chained_expressions_are_refused_not_a_crash() {
        // Found by the rules fuzzer: a chain of thousands of `+` overflowed the stack in the
        // parser, and in a debug build so did fifty nested brackets.
        let engine = Engine::new();
        let chain = vec!["1"; 20_000].join("+");
        let err = engine.compile(&chain).unwrap_err();
        assert_eq!(
            err,
            RuleError::Compile(
                "has 19999 operators, more than the 150 allowed; split it into several checks"
                    .into()
            )
        );
        let parens = format!("{}1{}", "(".repeat(5000), ")".repeat(5000));
        assert!(matches!(
            engine.compile(&parens),
            Err(RuleError::Compile(m)) if m.starts_with("nests brackets 5000 deep")
        ));
        // Brackets and operators inside string literals do not count.
        let quoted = format!("'{}' == \"{}\"", "(".repeat(100), "+".repeat(500));
        assert_eq!(engine.compile(&quoted).map(|_| ()), Ok(()));
        // Right at the limits, expressions parse and evaluate on a thread with the stack of a
        // program's main thread (8 MiB), where the command line evaluates, even in a debug build.
        let chain = format!(
            "{}{}{} == 149",
            "(".repeat(MAX_NESTING),
            vec!["1"; MAX_OPERATORS - 1].join("+"),
            ")".repeat(MAX_NESTING)
        );
        let lists = format!(
            "{}1{} != []",
            "[".repeat(MAX_NESTING),
            "]".repeat(MAX_NESTING)
        );
        let results = std::thread::Builder::new()
            .stack_size(8 << 20)
            .spawn(move || (eval(&chain, json!({})), eval(&lists, json!({}))))
            .unwrap()
            .join()
            .unwrap();
        assert_eq!(results, (Ok(true), Ok(true)));
    }

    #[test]
    fn compile_errors_are_reported() {
        let engine = Engine::new();
        assert!(matches!(
            engine.compile("resource.("),
            Err(RuleError::Compile(_))
        ));
    }

    #[test]
    fn matches_in_both_forms_with_cel_errors() {
        let r = json!({"user": "root:root", "opts": ["seccomp=unconfined"]});
        assert_eq!(
            eval("resource.user.matches('^(|0|root)(:.*)?$')", r.clone()),
            Ok(true)
        );
        assert_eq!(eval("matches(resource.user, '^0$')", r.clone()), Ok(false));
        assert_eq!(
            eval(
                "resource.opts.exists(o, o.matches('^seccomp[=:]unconfined$'))",
                r.clone()
            ),
            Ok(true)
        );
        let err = eval("resource.user.matches('(root')", r).unwrap_err();
        assert!(
            matches!(&err, RuleError::Eval(m) if m.contains("'(root' not a valid regex")),
            "{err:?}"
        );
    }

    #[test]
    fn mode_masks_are_octal_not_decimal() {
        assert!(mode_at_most(0o644, "644"));
        assert!(mode_at_most(0o600, "644"));
        // 622 is numerically below 644 but grants group and world write.
        assert!(!mode_at_most(0o622, "644"));
        assert!(!mode_at_most(0o4755, "755"));
        assert!(mode_at_most(0o4755, "4755"));
        assert!(!mode_at_most(0o644, "not-octal"));
        assert_eq!(
            eval("modeAtMost(resource.mode, '660')", json!({"mode": 0o660})),
            Ok(true)
        );
        assert_eq!(
            eval("modeAtMost(resource.mode, '660')", json!({"mode": 0o666})),
            Ok(false)
        );
    }

    #[test]
    fn wildcard_addresses_include_ipv6() {
        for ip in ["", "0.0.0.0", "::", "[::]"] {
            assert!(is_wildcard_ip(ip), "{ip}");
        }
        assert!(!is_wildcard_ip("127.0.0.1"));
        assert_eq!(
            eval("isWildcardIp(resource.ip)", json!({"ip": "::"})),
            Ok(true)
        );
    }

    #[test]
    fn path_functions_compare_components() {
        assert_eq!(
            eval(
                "pathWithin(resource.p, params.paths)",
                json!({"p": "/etc/ssl"})
            ),
            Ok(true)
        );
        assert_eq!(
            eval(
                "pathWithin(resource.p, params.paths)",
                json!({"p": "/etcfoo"})
            ),
            Ok(false)
        );
        assert_eq!(
            eval("pathWithin(resource.p, params.paths)", json!({"p": "/"})),
            Ok(true)
        );
        assert_eq!(
            eval("pathWithin(resource.p, params.paths)", json!({"p": "/srv"})),
            Ok(false)
        );
        assert_eq!(
            eval(
                "pathCovers(resource.p, '/var/run/docker.sock')",
                json!({"p": "/var/run"})
            ),
            Ok(true)
        );
        assert_eq!(
            eval(
                "pathCovers(resource.p, '/var/run/docker.sock')",
                json!({"p": "/"})
            ),
            Ok(true)
        );
        assert_eq!(
            eval(
                "pathCovers(resource.p, '/var/run/docker.sock')",
                json!({"p": "/var/lib"})
            ),
            Ok(false)
        );
    }
}
