//! The static check of branch conditions. Every CEL expression is typed against what its names
//! hold — `data` from the application form's JSON Schema, `outcomes` from the steps that can
//! have ended before the choice ([`crate::scope`]), `channel` from the channels — so that a
//! condition that would fail on every case, or on a case that left out an optional field, is
//! refused before deployment instead of stopping cases at run time.
//!
//! The types are those the runtime really produces with the `cel` crate, not an idealised
//! CEL: a JSON whole number of zero or more arrives as `uint` and a negative one as `int`,
//! a number written with a fraction as `double`; numbers of different kinds compare with each
//! other but do not add up; `==` between different types is false rather than an error, and
//! so refused here, because it is always a mistake. What only the values can decide (a
//! division by zero, an index past the end of a list, text that is not a number given to
//! `int()`) is left to run time.
//!
//! `has()` guards: a fact such as "`data.x` is present" is known where the expression around
//! it guarantees it. CEL's `&&` and `||` are commutative (an error on one side is absorbed when
//! the other side decides), so in `a && b` each side may rely on what the other side being
//! true proves, and in `a || b` on what it being false proves; in `c ? a : b`, `a` relies on
//! `c` being true and `b` on it being false; a later branch of a choice relies on every
//! earlier branch's condition being false.

mod schema;
mod ty;

use std::collections::BTreeSet;

use cel::common::ast::{
    CallExpr, ComprehensionExpr, EntryExpr, Expr, IdedExpr, LiteralValue, SelectExpr, SourceInfo,
};

use crate::condition::each_child;
use crate::diagnostic::Code;
use crate::duration::suggest;

pub use schema::{OutcomesType, channel_type, data_type, schema_type};
pub use ty::{Closed, ClosedKind, Field, Num, Object, ObjectKind, Presence, Ty};
use ty::{comparable, join, name};

/// What a condition's names hold.
#[derive(Debug, Clone)]
pub struct Env {
    pub data: Ty,
    pub outcomes: Ty,
    pub channel: Ty,
}

/// Paths known to be present (`data.x`, `outcomes.review`, `c.age` for a macro's variable).
pub type Facts = BTreeSet<String>;

/// One finding, at a byte offset of the condition's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub code: Code,
    pub offset: usize,
    pub message: String,
    pub help: Option<String>,
}

/// The result of checking one condition.
#[derive(Debug, Default)]
pub struct Checked {
    pub findings: Vec<Finding>,
    /// What is known when the condition is false (for the branches after it).
    pub when_false: Facts,
}

/// The steps a condition names in `outcomes` (`outcomes.review`, `outcomes["review"]`,
/// `"review" in outcomes`).
pub fn outcome_names(program: &cel::Program) -> BTreeSet<String> {
    fn walk(e: &IdedExpr, out: &mut BTreeSet<String>) {
        let is_outcomes = |e: &IdedExpr| matches!(&e.expr, Expr::Ident(n) if n == "outcomes");
        match &e.expr {
            Expr::Select(s) if is_outcomes(&s.operand) => {
                out.insert(s.field.clone());
            }
            Expr::Call(CallExpr {
                func_name, args, ..
            }) => match (func_name.as_str(), &args[..]) {
                ("_[_]", [map, key]) | ("@in", [key, map]) if is_outcomes(map) => {
                    if let Expr::Literal(LiteralValue::String(k)) = &key.expr {
                        out.insert(k.inner().to_string());
                    }
                }
                _ => {}
            },
            _ => {}
        }
        each_child(e, |c| walk(c, out));
    }
    let mut out = BTreeSet::new();
    walk(program.expression(), &mut out);
    out
}

/// Checks one condition; `known` holds what the earlier branches' being false proves.
pub fn check(program: &cel::Program, env: &Env, known: &Facts) -> Checked {
    let mut c = Checker {
        src: program.source_info().source.as_str(),
        info: program.source_info(),
        env,
        vars: Vec::new(),
        out: Vec::new(),
    };
    let root = program.expression();
    let ty = c.check(root, known);
    match ty.strip() {
        Ty::Bool | Ty::Any => {
            if let Ty::Nullable(_) = ty {
                c.report(
                    Code::E043,
                    c.start(root),
                    format!(
                        "the condition gives {}, not always true or false",
                        name(&ty)
                    ),
                    None,
                );
            }
        }
        _ => c.report(
            Code::E043,
            c.start(root),
            format!("the condition gives {}, not true or false", name(&ty)),
            Some("compare it, e.g. `data.family_size > 3`".into()),
        ),
    }
    let (_, when_false) = facts(root);
    Checked {
        findings: c.out,
        when_false,
    }
}

/// The path an expression spells, if it is a variable and field selections on it
/// (`data.address.city`, `outcomes["review"]`).
fn path(e: &IdedExpr) -> Option<String> {
    match &e.expr {
        Expr::Ident(name) => Some(name.clone()),
        Expr::Select(SelectExpr {
            operand,
            field,
            test: false,
        }) => Some(format!("{}.{field}", path(operand)?)),
        Expr::Call(CallExpr {
            func_name,
            target: None,
            args,
        }) if func_name == "_[_]" && args.len() == 2 => match &args[1].expr {
            Expr::Literal(LiteralValue::String(key)) => {
                Some(format!("{}.{}", path(&args[0])?, key.inner()))
            }
            _ => None,
        },
        _ => None,
    }
}

/// `data.a.b` is present, and so is `data.a`.
fn with_prefixes(path: &str, out: &mut Facts) {
    let mut end = path.len();
    while let Some(dot) = path[..end].rfind('.') {
        out.insert(path[..end].to_string());
        end = dot;
    }
}

/// What an expression's being true, and its being false, proves present.
fn facts(e: &IdedExpr) -> (Facts, Facts) {
    let mut t = Facts::new();
    let mut f = Facts::new();
    match &e.expr {
        Expr::Select(SelectExpr {
            operand,
            field,
            test: true,
        }) => {
            if let Some(p) = path(operand) {
                with_prefixes(&format!("{p}.{field}"), &mut t);
            }
        }
        Expr::Call(CallExpr {
            func_name, args, ..
        }) => match (func_name.as_str(), &args[..]) {
            ("@in", [key, map]) => {
                if let (Expr::Literal(LiteralValue::String(k)), Some(p)) = (&key.expr, path(map)) {
                    with_prefixes(&format!("{p}.{}", k.inner()), &mut t);
                }
            }
            ("_&&_", [a, b]) => {
                let ((ta, fa), (tb, fb)) = (facts(a), facts(b));
                t = &ta | &tb;
                f = &fa & &fb;
            }
            ("_||_", [a, b]) => {
                let ((ta, fa), (tb, fb)) = (facts(a), facts(b));
                t = &ta & &tb;
                f = &fa | &fb;
            }
            ("!_", [a]) => (f, t) = facts(a),
            ("_?_:_", [c, a, b]) => {
                let ((tc, fc), (ta, fa), (tb, fb)) = (facts(c), facts(a), facts(b));
                t = &(&tc | &ta) & &(&fc | &tb);
                f = &(&tc | &fa) & &(&fc | &fb);
            }
            _ => {}
        },
        _ => {}
    }
    (t, f)
}

/// The functions the runtime's CEL has (the `cel` crate's standard library without its
/// regular expression and time features), and the macros.
pub const GLOBAL_FUNCTIONS: &[&str] = &[
    "size", "int", "uint", "double", "string", "bool", "bytes", "dyn", "type",
];
pub const MEMBER_FUNCTIONS: &[&str] = &["size", "contains", "startsWith", "endsWith"];
pub const MACROS: &[&str] = &["has", "all", "exists", "exists_one", "map", "filter"];

struct Checker<'a> {
    src: &'a str,
    info: &'a SourceInfo,
    env: &'a Env,
    /// Variables of the macros being checked, innermost last.
    vars: Vec<(String, Ty)>,
    out: Vec<Finding>,
}

impl Checker<'_> {
    fn report(&mut self, code: Code, offset: usize, message: String, help: Option<String>) {
        let finding = Finding {
            code,
            offset,
            message,
            help,
        };
        if !self.out.contains(&finding) {
            self.out.push(finding);
        }
    }

    /// Where an expression begins: the first byte any of its nodes was written at.
    fn start(&self, e: &IdedExpr) -> usize {
        let mut at = self.offset(e).0;
        // A call's node is at its parenthesis; `has(…)` is a selection at its parenthesis.
        let name = match &e.expr {
            Expr::Call(c) if c.target.is_none() && c.func_name.starts_with(char::is_alphabetic) => {
                Some(c.func_name.as_str())
            }
            Expr::Select(s) if s.test => Some("has"),
            _ => None,
        };
        if let Some(n) = name.and_then(|n| self.name_before(at, n)) {
            at = at.min(n);
        }
        each_child(e, |c| at = at.min(self.start(c)));
        at
    }

    /// Where `name` is written just before the byte `paren`, if it is.
    fn name_before(&self, paren: usize, name: &str) -> Option<usize> {
        let before = self.src.get(..paren)?.trim_end();
        before.ends_with(name).then(|| before.len() - name.len())
    }

    /// Where an expression ends: the last byte of any of its nodes.
    fn end(&self, e: &IdedExpr) -> usize {
        let mut at = self.offset(e).1;
        each_child(e, |c| at = at.max(self.end(c)));
        at
    }

    fn offset(&self, e: &IdedExpr) -> (usize, usize) {
        self.info
            .offset_for(e.id)
            .map_or((0, 0), |(a, b)| (a as usize, b as usize))
    }

    /// How an expression reads in a message: its path, or its text.
    fn show(&self, e: &IdedExpr) -> String {
        if let Some(p) = path(e) {
            return format!("`{p}`");
        }
        let (start, end) = (self.start(e), self.end(e));
        let end = self
            .src
            .get(end..)
            .and_then(|rest| rest.chars().next())
            .map_or(end, |c| end + c.len_utf8());
        match self.src.get(start..end) {
            Some(text) if text.chars().count() <= 40 => format!("`{}`", text.trim()),
            _ => "this value".into(),
        }
    }

    /// Where the field selected by `operand.field` is written.
    fn field_at(&self, operand: &IdedExpr, field: &str, fallback: usize) -> usize {
        let after = self.end(operand) + 1;
        let found = self.src.get(after..).and_then(|rest| {
            let dot = rest.find('.')?;
            let name = rest[dot + 1..].trim_start();
            let at = self.src.len() - name.len();
            name.starts_with(field).then_some(at)
        });
        found.unwrap_or(fallback)
    }

    /// Where a called function's name is written (the call's node is at its parenthesis).
    fn function_at(&self, e: &IdedExpr, name: &str) -> usize {
        self.name_before(self.offset(e).0, name)
            .unwrap_or_else(|| self.start(e))
    }

    fn check(&mut self, e: &IdedExpr, known: &Facts) -> Ty {
        match &e.expr {
            Expr::Unspecified => Ty::Any,
            Expr::Ident(name) => self.variable(name),
            Expr::Literal(l) => match l {
                LiteralValue::Boolean(_) => Ty::Bool,
                LiteralValue::Bytes(_) => Ty::Bytes,
                LiteralValue::Double(_) => Ty::Num(Num::DOUBLE),
                LiteralValue::Int(_) => Ty::Num(Num::INT),
                LiteralValue::UInt(_) => Ty::Num(Num::UINT),
                LiteralValue::Null => Ty::Null,
                LiteralValue::String(_) => Ty::Str(None),
            },
            Expr::List(list) => {
                let mut elem = Ty::Never;
                for item in &list.elements {
                    let t = self.check(item, known);
                    match join(&elem, &t) {
                        Some(j) => elem = j,
                        None => {
                            self.report(
                                Code::E043,
                                self.start(item),
                                format!(
                                    "a list holds values of one type: {} is {}, the values before it {}",
                                    self.show(item),
                                    name(&t),
                                    name(&elem)
                                ),
                                None,
                            );
                            elem = Ty::Any;
                        }
                    }
                }
                Ty::List(Box::new(elem))
            }
            Expr::Map(map) => {
                let (mut key, mut value) = (Ty::Never, Ty::Never);
                for entry in &map.entries {
                    if let EntryExpr::MapEntry(m) = &entry.expr {
                        let k = self.check(&m.key, known);
                        let v = self.check(&m.value, known);
                        key = join(&key, &k).unwrap_or(Ty::Any);
                        value = join(&value, &v).unwrap_or(Ty::Any);
                    }
                }
                Ty::Map(Box::new(key), Box::new(value))
            }
            Expr::Struct(s) => {
                self.report(
                    Code::E040,
                    self.start(e),
                    format!(
                        "`{}{{…}}` builds a message, and conditions have no message types",
                        s.type_name
                    ),
                    None,
                );
                Ty::Any
            }
            Expr::Select(s) => self.select(e, s, known),
            Expr::Comprehension(c) => self.comprehension(c, known),
            Expr::Call(call) => self.call(e, call, known),
        }
    }

    fn variable(&self, name: &str) -> Ty {
        if let Some((_, t)) = self.vars.iter().rev().find(|(n, _)| n == name) {
            return t.clone();
        }
        match name {
            "channel" => self.env.channel.clone(),
            "data" => self.env.data.clone(),
            "outcomes" => self.env.outcomes.clone(),
            "documents_missing" => Ty::Bool,
            // Other names are refused before this check (E026).
            _ => Ty::Any,
        }
    }

    fn select(&mut self, e: &IdedExpr, s: &SelectExpr, known: &Facts) -> Ty {
        let operand = self.check(&s.operand, known);
        let at = self.field_at(&s.operand, &s.field, self.offset(e).0);
        let full = path(&s.operand).map(|p| format!("{p}.{}", s.field));
        let ty = self.field(
            &operand,
            &s.operand,
            &s.field,
            full.as_deref(),
            at,
            known,
            s.test,
        );
        if s.test { Ty::Bool } else { ty }
    }

    /// The type of `operand.field`. `test` is for `has()`, which needs the field declared
    /// but not present.
    #[allow(clippy::too_many_arguments)]
    fn field(
        &mut self,
        operand: &Ty,
        operand_expr: &IdedExpr,
        field: &str,
        full: Option<&str>,
        at: usize,
        known: &Facts,
        test: bool,
    ) -> Ty {
        let shown = full.map_or_else(|| format!("`{field}`"), |f| format!("`{f}`"));
        match operand {
            Ty::Any => Ty::Any,
            Ty::Map(key, value) => {
                if !comparable(key, &Ty::Str(None)) {
                    self.report(
                        Code::E043,
                        at,
                        format!(
                            "{} is a map whose keys are not text, so it has no field `{field}`",
                            self.show(operand_expr)
                        ),
                        None,
                    );
                }
                (**value).clone()
            }
            Ty::Object(o) => {
                let (ty, presence) = match o.fields.get(field) {
                    Some(f) => (f.ty.clone(), f.presence.clone()),
                    None => match &o.rest {
                        Some(t) => (
                            t.clone(),
                            Presence::Sometimes(format!(
                                "the form allows {shown} without requiring it"
                            )),
                        ),
                        None => {
                            let (message, help) = unknown_field(o, operand_expr, field);
                            self.report(Code::E041, at, message, help);
                            return Ty::Any;
                        }
                    },
                };
                match presence {
                    Presence::Always => {}
                    Presence::Never(why) => {
                        self.report(Code::E041, at, format!("{shown} is never set: {why}"), None);
                        return Ty::Any;
                    }
                    Presence::Sometimes(why) => {
                        let guarded = full.is_some_and(|f| known.contains(f));
                        if !test && !guarded {
                            let guard =
                                full.map_or_else(|| "has(…)".to_string(), |f| format!("has({f})"));
                            self.report(
                                Code::E042,
                                at,
                                format!("{shown} may be missing: {why}"),
                                Some(format!("test it first: `{guard} && …`")),
                            );
                        }
                    }
                }
                ty
            }
            Ty::Nullable(_) => {
                self.report(
                    Code::E043,
                    at,
                    format!(
                        "{} may be `null`, and `null` has no field `{field}`",
                        self.show(operand_expr)
                    ),
                    None,
                );
                Ty::Any
            }
            other => {
                self.report(
                    Code::E043,
                    at,
                    format!(
                        "{} is {}, which has no fields",
                        self.show(operand_expr),
                        name(other)
                    ),
                    None,
                );
                Ty::Any
            }
        }
    }

    fn comprehension(&mut self, c: &ComprehensionExpr, known: &Facts) -> Ty {
        let range = self.check(&c.iter_range, known);
        let (first, second) = match range.strip() {
            Ty::List(elem) => (Ty::Num(Num::INT), (**elem).clone()),
            Ty::Object(_) => (Ty::Str(None), Ty::Any),
            Ty::Map(key, value) => ((**key).clone(), (**value).clone()),
            Ty::Any => (Ty::Any, Ty::Any),
            other => {
                self.report(
                    Code::E043,
                    self.start(&c.iter_range),
                    format!(
                        "`all`, `exists`, `exists_one`, `map` and `filter` go through a list or a map; {} is {}",
                        self.show(&c.iter_range),
                        name(other)
                    ),
                    None,
                );
                (Ty::Any, Ty::Any)
            }
        };
        if let Ty::Nullable(_) = range {
            self.report(
                Code::E043,
                self.start(&c.iter_range),
                format!("{} may be `null`", self.show(&c.iter_range)),
                None,
            );
        }
        // The element of an empty list is never seen; it can be taken for anything.
        let known_or_any = |t: Ty| if matches!(t, Ty::Never) { Ty::Any } else { t };
        let (first, second) = (known_or_any(first), known_or_any(second));
        let depth = self.vars.len();
        // With one variable it is the element (of a list) or the key (of a map).
        match &c.iter_var2 {
            None => {
                let one = if matches!(range.strip(), Ty::List(_)) {
                    second
                } else {
                    first
                };
                self.vars.push((c.iter_var.clone(), one));
            }
            Some(v2) => {
                self.vars.push((c.iter_var.clone(), first));
                self.vars.push((v2.clone(), second));
            }
        }
        let init = self.check(&c.accu_init, known);
        self.vars.push((c.accu_var.clone(), init.clone()));
        self.check(&c.loop_cond, known);
        let step = self.check(&c.loop_step, known);
        let accu = join(&init, &step).unwrap_or(Ty::Any);
        self.vars.pop();
        self.vars.push((c.accu_var.clone(), accu));
        let result = self.check(&c.result, known);
        self.vars.truncate(depth);
        result
    }

    fn call(&mut self, e: &IdedExpr, call: &CallExpr, known: &Facts) -> Ty {
        let args = &call.args;
        match (call.func_name.as_str(), &call.target, &args[..]) {
            ("_&&_" | "_||_", None, [a, b]) => {
                let and = call.func_name == "_&&_";
                let ((ta, fa), (tb, fb)) = (facts(a), facts(b));
                let (for_a, for_b) = if and { (tb, ta) } else { (fb, fa) };
                let ty_a = self.check(a, &(known | &for_a));
                let ty_b = self.check(b, &(known | &for_b));
                let op = if and { "&&" } else { "||" };
                self.boolean(a, &ty_a, op);
                self.boolean(b, &ty_b, op);
                Ty::Bool
            }
            ("!_", None, [a]) => {
                let t = self.check(a, known);
                self.boolean(a, &t, "!");
                Ty::Bool
            }
            ("@not_strictly_false", None, [a]) => {
                self.check(a, known);
                Ty::Bool
            }
            ("_?_:_", None, [cond, then, other]) => {
                let (t, f) = facts(cond);
                let tc = self.check(cond, known);
                self.boolean(cond, &tc, "?:");
                let ta = self.check(then, &(known | &t));
                let tb = self.check(other, &(known | &f));
                match join(&ta, &tb) {
                    Some(j) => j,
                    None => {
                        self.report(
                            Code::E043,
                            self.start(e),
                            format!(
                                "the two sides of `?:` give different types: {} is {}, {} is {}",
                                self.show(then),
                                name(&ta),
                                self.show(other),
                                name(&tb)
                            ),
                            None,
                        );
                        Ty::Any
                    }
                }
            }
            ("-_", None, [a]) => {
                let t = self.check(a, known);
                match &t {
                    Ty::Any => Ty::Any,
                    Ty::Num(n) if n.single() && !n.has(Num::UINT) => t,
                    _ => {
                        let help = if let Ty::Num(n) = t
                            && n.has(Num::UINT)
                        {
                            Some(format!("convert it first: `-int({})`", self.plain(a)))
                        } else {
                            None
                        };
                        self.report(
                            Code::E043,
                            self.start(e),
                            format!(
                                "`-` needs an `int` or a `double`; {} is {}",
                                self.show(a),
                                name(&t)
                            ),
                            help,
                        );
                        Ty::Any
                    }
                }
            }
            ("_==_" | "_!=_", None, [a, b]) => {
                let (ta, tb) = (self.check(a, known), self.check(b, known));
                if comparable(&ta, &tb) {
                    self.closed_literal(&ta, b);
                    self.closed_literal(&tb, a);
                } else {
                    let help = match (&ta, &tb) {
                        (_, Ty::Null) | (Ty::Null, _) => Some(
                            "a field the applicant may leave out is tested with `has(...)`, not compared with `null`"
                                .to_string(),
                        ),
                        _ => None,
                    };
                    self.report(
                        Code::E043,
                        self.start(e),
                        format!(
                            "{} is {} and {} is {}: they are never equal",
                            self.show(a),
                            name(&ta),
                            self.show(b),
                            name(&tb)
                        ),
                        help,
                    );
                }
                Ty::Bool
            }
            ("_<_" | "_<=_" | "_>_" | "_>=_", None, [a, b]) => {
                let (ta, tb) = (self.check(a, known), self.check(b, known));
                let ordered = |t: &Ty| match t {
                    Ty::Num(_) => Some(0),
                    Ty::Str(_) => Some(1),
                    Ty::Bool => Some(2),
                    Ty::Bytes => Some(3),
                    Ty::Any => None,
                    _ => Some(9),
                };
                let op = &call.func_name[1..call.func_name.len() - 1];
                let fits = match (ordered(&ta), ordered(&tb)) {
                    (Some(9), _) | (_, Some(9)) => false,
                    (Some(x), Some(y)) => x == y,
                    _ => true,
                };
                if !fits {
                    self.report(
                        Code::E043,
                        self.start(e),
                        format!(
                            "`{op}` compares numbers with numbers, text with text, true/false with true/false; {} is {} and {} is {}",
                            self.show(a),
                            name(&ta),
                            self.show(b),
                            name(&tb)
                        ),
                        None,
                    );
                }
                Ty::Bool
            }
            ("_+_" | "_-_" | "_*_" | "_/_" | "_%_", None, [a, b]) => {
                let (ta, tb) = (self.check(a, known), self.check(b, known));
                self.arithmetic(e, &call.func_name, (a, &ta), (b, &tb))
            }
            ("_[_]", None, [a, i]) => {
                let ta = self.check(a, known);
                let ti = self.check(i, known);
                self.index(e, (a, &ta), (i, &ti), known)
            }
            ("@in", None, [x, coll]) => {
                let tx = self.check(x, known);
                let tc = self.check(coll, known);
                self.membership(e, (x, &tx), (coll, &tc));
                Ty::Bool
            }
            (name, target, _) => self.function(e, name, target.as_deref(), args, known),
        }
    }

    /// An expression as written, without backticks (for help texts).
    fn plain(&self, e: &IdedExpr) -> String {
        self.show(e).trim_matches('`').to_string()
    }

    fn boolean(&mut self, e: &IdedExpr, t: &Ty, op: &str) {
        match t {
            Ty::Bool | Ty::Any => {}
            _ => self.report(
                Code::E043,
                self.start(e),
                format!(
                    "`{op}` needs true or false; {} is {}",
                    self.show(e),
                    name(t)
                ),
                None,
            ),
        }
    }

    /// `channel == "portl"`: a value outside a closed set is a mistake.
    fn closed_literal(&mut self, t: &Ty, other: &IdedExpr) {
        let (Ty::Str(Some(closed)), Expr::Literal(LiteralValue::String(s))) =
            (t.strip(), &other.expr)
        else {
            return;
        };
        let value = s.inner();
        if closed.values.iter().any(|v| v == value) {
            return;
        }
        let at = self.start(other);
        let names: Vec<&str> = closed.values.iter().map(String::as_str).collect();
        let suggestion = suggest(value, names.iter().copied());
        let (message, list) = match &closed.of {
            ClosedKind::Channel => (format!("unknown channel `{value}`"), "the channels are"),
            ClosedKind::Outcome { step } => (
                format!("step `{step}` has no outcome `{value}`"),
                "its outcomes are",
            ),
            ClosedKind::Field { path } => (
                format!("`{value}` is not one of the values the form allows for `{path}`"),
                "the values are",
            ),
        };
        let help = match suggestion {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("{list}: {}", names.join(", ")),
        };
        self.report(Code::E044, at, message, Some(help));
    }

    fn arithmetic(
        &mut self,
        e: &IdedExpr,
        func: &str,
        a: (&IdedExpr, &Ty),
        b: (&IdedExpr, &Ty),
    ) -> Ty {
        let op = &func[1..func.len() - 1];
        let ((ea, ta), (eb, tb)) = (a, b);
        let fail = |this: &mut Self, help: Option<String>| {
            this.report(
                Code::E043,
                this.start(e),
                format!(
                    "`{op}` cannot combine {} ({}) with {} ({})",
                    this.show(ea),
                    name(ta),
                    this.show(eb),
                    name(tb)
                ),
                help,
            );
            Ty::Any
        };
        match (ta, tb) {
            (Ty::Any, Ty::Any | Ty::Num(_)) | (Ty::Num(_), Ty::Any) => Ty::Any,
            (Ty::Any, Ty::Str(_) | Ty::List(_) | Ty::Bytes) if op == "+" => Ty::Any,
            (Ty::Str(_) | Ty::List(_) | Ty::Bytes, Ty::Any) if op == "+" => Ty::Any,
            (Ty::Num(x), Ty::Num(y)) => {
                if x.single() && x == y && !(op == "%" && *x == Num::DOUBLE) {
                    return Ty::Num(*x);
                }
                let help = self.number_help(ea, *x, eb, *y, op);
                fail(self, Some(help))
            }
            (Ty::Str(_), Ty::Str(_)) if op == "+" => Ty::Str(None),
            (Ty::Bytes, Ty::Bytes) if op == "+" => Ty::Bytes,
            (Ty::List(x), Ty::List(y)) if op == "+" => {
                Ty::List(Box::new(join(x, y).unwrap_or(Ty::Any)))
            }
            _ => fail(self, None),
        }
    }

    /// How to make two numbers one kind.
    fn number_help(&self, ea: &IdedExpr, x: Num, eb: &IdedExpr, y: Num, op: &str) -> String {
        if op == "%" && x == Num::DOUBLE && y == Num::DOUBLE {
            return "`%` is for whole numbers only".into();
        }
        for (e, n, other) in [(ea, x, y), (eb, y, x)] {
            if !n.single() {
                let to = if n.has(Num::DOUBLE) || other == Num::DOUBLE {
                    "double"
                } else {
                    "int"
                };
                return format!(
                    "a JSON whole number of zero or more arrives as `uint` and a negative one as `int`; convert it first: `{to}({})`",
                    self.plain(e)
                );
            }
        }
        for (lit, other) in [(ea, y), (eb, x)] {
            if let Expr::Literal(LiteralValue::Int(i)) = &lit.expr {
                if other == Num::UINT && **i >= 0 {
                    return format!("write `{}u`", **i);
                }
                if other == Num::DOUBLE {
                    return format!("write `{}.0`", **i);
                }
            }
        }
        "numbers of different kinds do not combine; convert one with `int()`, `uint()` or `double()`".into()
    }

    fn index(
        &mut self,
        e: &IdedExpr,
        a: (&IdedExpr, &Ty),
        i: (&IdedExpr, &Ty),
        known: &Facts,
    ) -> Ty {
        let ((ea, ta), (ei, ti)) = (a, i);
        match ta {
            Ty::Any => Ty::Any,
            Ty::List(elem) => {
                match ti {
                    Ty::Any => {}
                    Ty::Num(n) if !n.has(Num::DOUBLE) => {}
                    _ => self.report(
                        Code::E043,
                        self.start(ei),
                        format!(
                            "a list is indexed by a whole number; {} is {}",
                            self.show(ei),
                            name(ti)
                        ),
                        None,
                    ),
                }
                (**elem).clone()
            }
            Ty::Object(_) | Ty::Map(..) => match (&ei.expr, ti) {
                (Expr::Literal(LiteralValue::String(key)), _) => {
                    let full = path(ea).map(|p| format!("{p}.{}", key.inner()));
                    let at = self.start(ei);
                    self.field(ta, ea, key.inner(), full.as_deref(), at, known, false)
                }
                (_, Ty::Str(_) | Ty::Any) => match ta {
                    Ty::Map(_, v) => (**v).clone(),
                    _ => Ty::Any,
                },
                _ => {
                    if let Ty::Map(k, v) = ta
                        && comparable(k, ti)
                    {
                        return (**v).clone();
                    }
                    self.report(
                        Code::E043,
                        self.start(ei),
                        format!(
                            "the keys of {} are text; {} is {}",
                            self.show(ea),
                            self.show(ei),
                            name(ti)
                        ),
                        None,
                    );
                    Ty::Any
                }
            },
            other => {
                self.report(
                    Code::E043,
                    self.start(e),
                    format!(
                        "{} is {}, which cannot be indexed",
                        self.show(ea),
                        name(other)
                    ),
                    None,
                );
                Ty::Any
            }
        }
    }

    fn membership(&mut self, e: &IdedExpr, x: (&IdedExpr, &Ty), coll: (&IdedExpr, &Ty)) {
        let ((ex, tx), (ec, tc)) = (x, coll);
        match tc {
            Ty::Any => {}
            Ty::List(elem) => {
                if !comparable(tx, elem) {
                    self.report(
                        Code::E043,
                        self.start(e),
                        format!(
                            "{} is {}, but the list {} holds {}: it is never in it",
                            self.show(ex),
                            name(tx),
                            self.show(ec),
                            name(elem)
                        ),
                        None,
                    );
                } else if let Expr::List(list) = &ec.expr {
                    for item in &list.elements {
                        self.closed_literal(tx, item);
                    }
                }
            }
            Ty::Object(o) => match (&ex.expr, tx) {
                (Expr::Literal(LiteralValue::String(key)), _) => {
                    let declared = o.fields.get(key.inner());
                    match declared {
                        None if o.rest.is_none() => {
                            let (message, help) = unknown_field(o, ec, key.inner());
                            self.report(Code::E041, self.start(ex), message, help);
                        }
                        Some(Field {
                            presence: Presence::Never(why),
                            ..
                        }) => {
                            let shown = path(ec).map_or_else(
                                || format!("`{}`", key.inner()),
                                |p| format!("`{p}.{}`", key.inner()),
                            );
                            self.report(
                                Code::E041,
                                self.start(ex),
                                format!("{shown} is never set: {why}"),
                                None,
                            );
                        }
                        _ => {}
                    }
                }
                (_, Ty::Str(_) | Ty::Any) => {}
                _ => self.report(
                    Code::E043,
                    self.start(e),
                    format!(
                        "the keys of {} are text; {} is {}",
                        self.show(ec),
                        self.show(ex),
                        name(tx)
                    ),
                    None,
                ),
            },
            Ty::Map(key, _) => {
                if !comparable(tx, key) {
                    self.report(
                        Code::E043,
                        self.start(e),
                        format!(
                            "{} is {}, but the keys of {} are {}",
                            self.show(ex),
                            name(tx),
                            self.show(ec),
                            name(key)
                        ),
                        None,
                    );
                }
            }
            other => {
                let help = matches!(other, Ty::Str(_))
                    .then(|| "to look for text inside text, use `.contains(...)`".to_string());
                self.report(
                    Code::E043,
                    self.start(e),
                    format!(
                        "`in` looks into a list or a map; {} is {}",
                        self.show(ec),
                        name(other)
                    ),
                    help,
                );
            }
        }
    }

    fn function(
        &mut self,
        e: &IdedExpr,
        func: &str,
        target: Option<&IdedExpr>,
        args: &[IdedExpr],
        known: &Facts,
    ) -> Ty {
        let target_ty = target.map(|t| self.check(t, known));
        let arg_tys: Vec<Ty> = args.iter().map(|a| self.check(a, known)).collect();
        let at = self.function_at(e, func);
        let member = target.is_some();
        let known_global = GLOBAL_FUNCTIONS.contains(&func);
        let known_member = MEMBER_FUNCTIONS.contains(&func);
        if MACROS.contains(&func) {
            let form = match func {
                "has" => "`has(data.field)`",
                "map" | "filter" | "all" | "exists" | "exists_one" => "`list.exists(x, x > 1)`",
                _ => "",
            };
            let form = if func == "has" {
                form.to_string()
            } else {
                form.replace("exists", func)
            };
            self.report(
                Code::E040,
                at,
                format!("the macro `{func}` is written {form}"),
                None,
            );
            return Ty::Any;
        }
        if !known_global && !known_member {
            let all: Vec<&str> = GLOBAL_FUNCTIONS
                .iter()
                .chain(MEMBER_FUNCTIONS)
                .chain(MACROS)
                .copied()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let help = match suggest(func, all.iter().copied()) {
                Some(s) => format!("did you mean `{s}`?"),
                None => format!("conditions can use: {}", all.join(", ")),
            };
            self.report(
                Code::E040,
                at,
                format!("unknown function `{func}`"),
                Some(help),
            );
            return Ty::Any;
        }
        // Calls as the runtime has them: conversions are global, text tests are members.
        let (subject, subject_ty, rest): (&IdedExpr, Ty, &[Ty]) =
            match (member, known_member, known_global) {
                (true, true, _) => (
                    target.expect("member"),
                    target_ty.expect("member"),
                    &arg_tys[..],
                ),
                (false, _, true) if !args.is_empty() => {
                    (&args[0], arg_tys[0].clone(), &arg_tys[1..])
                }
                (true, false, _) => {
                    self.report(
                        Code::E040,
                        at,
                        format!("`{func}` is not called on a value: write `{func}(…)`"),
                        None,
                    );
                    return Ty::Any;
                }
                _ => {
                    let how = if known_member {
                        format!("on text: `data.name.{func}(\"…\")`")
                    } else {
                        format!("with one value: `{func}(…)`")
                    };
                    self.report(Code::E040, at, format!("`{func}` is called {how}"), None);
                    return Ty::Any;
                }
            };
        let want_args = usize::from(matches!(func, "contains" | "startsWith" | "endsWith"));
        if rest.len() != want_args {
            self.report(
                Code::E040,
                at,
                format!(
                    "`{func}` takes {}",
                    match want_args {
                        0 if member => "no argument".to_string(),
                        0 => "one argument".to_string(),
                        _ => "one argument: the text to look for".to_string(),
                    }
                ),
                None,
            );
            return Ty::Any;
        }
        let accepts = |t: &Ty| {
            matches!(
                (func, t),
                (_, Ty::Any)
                    | ("dyn" | "type", _)
                    | (
                        "size",
                        Ty::Str(_) | Ty::Bytes | Ty::List(_) | Ty::Map(..) | Ty::Object(_)
                    )
                    | ("contains" | "startsWith" | "endsWith", Ty::Str(_))
                    | ("int" | "uint" | "double", Ty::Num(_) | Ty::Str(_))
                    | ("string", Ty::Str(_) | Ty::Bool | Ty::Num(_) | Ty::Bytes)
                    | ("bool", Ty::Bool | Ty::Str(_))
                    | ("bytes", Ty::Str(_) | Ty::Bytes)
            )
        };
        if !accepts(&subject_ty) {
            self.report(
                Code::E043,
                self.start(subject),
                format!(
                    "`{func}` cannot take {}: {} is {}",
                    name(&subject_ty),
                    self.show(subject),
                    name(&subject_ty)
                ),
                None,
            );
        }
        if let (Some(arg), Some(t)) = (args.first(), rest.first())
            && !matches!(t, Ty::Str(_) | Ty::Any)
        {
            self.report(
                Code::E043,
                self.start(arg),
                format!("`{func}` looks for text; {} is {}", self.show(arg), name(t)),
                None,
            );
        }
        match func {
            "size" => Ty::Num(Num::INT),
            "contains" | "startsWith" | "endsWith" | "bool" => Ty::Bool,
            "int" => Ty::Num(Num::INT),
            "uint" => Ty::Num(Num::UINT),
            "double" => Ty::Num(Num::DOUBLE),
            "string" => Ty::Str(None),
            "bytes" => Ty::Bytes,
            "type" => Ty::Type,
            _ => Ty::Any,
        }
    }
}

/// The message for a field an object does not declare, with the nearest name.
fn unknown_field(o: &Object, operand: &IdedExpr, field: &str) -> (String, Option<String>) {
    let names: Vec<&str> = match &o.kind {
        ObjectKind::Outcomes { steps } => steps.iter().map(String::as_str).collect(),
        ObjectKind::Data { .. } => o.fields.keys().map(String::as_str).collect(),
    };
    let help = match suggest(field, names.iter().copied()) {
        Some(s) => Some(format!("did you mean `{s}`?")),
        None if !names.is_empty() && names.len() <= 12 => Some(format!(
            "{}: {}",
            match o.kind {
                ObjectKind::Outcomes { .. } => "the steps with outcomes are",
                ObjectKind::Data { .. } => "the fields are",
            },
            names.join(", ")
        )),
        None => None,
    };
    let shown = path(operand).map_or_else(|| field.to_string(), |p| format!("{p}.{field}"));
    let message = match &o.kind {
        ObjectKind::Data { form: false } => format!(
            "`{shown}`: the regulation has no `application_form`, so `data` declares no field"
        ),
        ObjectKind::Data { form: true } => format!("no form declares `{shown}`"),
        ObjectKind::Outcomes { .. } => format!("`{shown}`: there is no step `{field}`"),
    };
    (message, help)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::rc::Rc;

    use super::*;
    use crate::condition::Condition;
    use serde_json::{Value, json};

    fn form() -> Value {
        json!({
            "type": "object",
            "required": ["family_size", "balance", "income", "name", "kind", "children", "address", "note"],
            "properties": {
                "family_size": {"type": "integer", "minimum": 1},
                "balance": {"type": "integer"},
                "income": {"type": "number", "minimum": 0},
                "name": {"type": "string"},
                "kind": {"type": "string", "enum": ["family", "single"]},
                "by_proxy": {"type": "boolean"},
                "children": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["age"],
                        "properties": {
                            "age": {"type": "integer", "minimum": 0},
                            "disabled": {"type": "boolean"}
                        }
                    }
                },
                "address": {
                    "type": "object",
                    "required": ["city"],
                    "properties": {"city": {"type": "string"}, "flat": {"type": "string"}}
                },
                "note": {"type": ["string", "null"]}
            }
        })
    }

    fn closed(values: &[&str], of: ClosedKind) -> Ty {
        Ty::Str(Some(Rc::new(Closed {
            values: values.iter().map(|v| v.to_string()).collect(),
            of,
        })))
    }

    fn env() -> Env {
        let outcome = |id: &str, values: &[&str], presence: Presence| {
            let of = ClosedKind::Outcome {
                step: id.to_string(),
            };
            let ty = closed(values, of);
            (id.to_string(), Field { ty, presence })
        };
        let fields = BTreeMap::from([
            outcome("review", &["grant", "refuse"], Presence::Always),
            outcome(
                "check",
                &["ok", "fail"],
                Presence::Sometimes("on some ways step `check` has not ended yet".into()),
            ),
            outcome(
                "sign",
                &[],
                Presence::Never("task `sign` records no outcome".into()),
            ),
        ]);
        Env {
            data: data_type(Some(&form())),
            outcomes: Ty::Object(Rc::new(Object {
                fields,
                rest: None,
                kind: ObjectKind::Outcomes {
                    steps: Rc::new(vec!["check".into(), "review".into()]),
                },
            })),
            channel: closed(&["office", "portal"], ClosedKind::Channel),
        }
    }

    /// The findings of a condition as (code, character column from 0).
    fn findings_after(source: &str, known: &Facts) -> Vec<(Code, usize)> {
        let condition = Condition::compile(source).expect("parses");
        check(condition.program(), &env(), known)
            .findings
            .iter()
            .map(|f| (f.code, source[..f.offset].chars().count()))
            .collect()
    }

    fn findings(source: &str) -> Vec<(Code, usize)> {
        findings_after(source, &Facts::new())
    }

    fn message(source: &str) -> (String, Option<String>) {
        let condition = Condition::compile(source).expect("parses");
        let checked = check(condition.program(), &env(), &Facts::new());
        let f = checked.findings.first().expect("a finding");
        (f.message.clone(), f.help.clone())
    }

    #[test]
    fn conditions_that_hold_together_pass() {
        for ok in [
            "data.family_size > 3",
            "data.income < 25000",
            "data.income < 25000.5 && data.family_size >= 2.0",
            "data.family_size == 3",
            "has(data.by_proxy) && data.by_proxy",
            "data.by_proxy && has(data.by_proxy)",
            "!has(data.by_proxy) || data.by_proxy",
            "has(data.by_proxy) ? data.by_proxy : false",
            "!(has(data.by_proxy) && data.by_proxy)",
            "data.kind == \"family\"",
            "data.kind in [\"family\", \"single\"]",
            "channel == \"office\"",
            "channel in [\"office\", \"portal\"]",
            "outcomes.review == \"refuse\"",
            "has(outcomes.check) && outcomes.check == \"ok\"",
            "\"check\" in outcomes && outcomes.check == \"ok\"",
            "data.children.exists(c, c.age < 3)",
            "data.children.all(c, has(c.disabled) && c.disabled)",
            "data.children.map(c, c.age).exists(a, a > 3)",
            "data.children.filter(c, c.age > 3).size() > 0",
            "data.children.exists_one(c, c.age == 0u)",
            "size(data.children) > 2 && data.name.size() > 0",
            "data.name.startsWith(\"А\") || data.name.contains(\"ов\")",
            "data.address.city == \"Атырау\"",
            "has(data.address.flat) && data.address.flat != \"\"",
            "data.note == null || data.note == \"\"",
            "data.family_size + 1u > 3",
            "int(data.balance) + 1 > 0",
            "double(data.income) / 2.0 > 1.0",
            "data.children[0].age > 3",
            "data[\"family_size\"] > 3",
            "[1, 2.5].exists(x, x > 2)",
            "documents_missing && !documents_missing",
            "[].exists(x, x < 1) || [].all(x, x)",
            "string(data.family_size) == \"3\"",
        ] {
            assert_eq!(findings(ok), vec![], "{ok}");
        }
    }

    #[test]
    fn what_only_the_values_decide_is_left_to_run_time() {
        // A division by zero, an index past the end, text that is not a number: incidents,
        // not validation errors.
        for ok in [
            "data.family_size / 0u > 1u",
            "data.children[5].age > 1",
            "int(data.name) > 3",
            "data.family_size - 10u > 0u",
        ] {
            assert_eq!(findings(ok), vec![], "{ok}");
        }
    }

    #[test]
    fn an_unknown_function_or_a_misused_macro_is_e040_at_its_name() {
        assert_eq!(
            findings("matches(data.name, \"^А\")"),
            vec![(Code::E040, 0)]
        );
        assert_eq!(
            findings("data.name.lowerAscii() == \"a\""),
            vec![(Code::E040, 10)]
        );
        assert_eq!(
            findings("data.children.exist(c, c.age > 1)"),
            vec![(Code::E040, 14)]
        );
        assert_eq!(
            message("data.children.exist(c, c.age > 1)").1.as_deref(),
            Some("did you mean `exists`?")
        );
        assert_eq!(findings("data.name.contains()"), vec![(Code::E040, 10)]);
        assert_eq!(
            findings("contains(data.name, \"a\")"),
            vec![(Code::E040, 0)]
        );
        assert_eq!(findings("data.children.exists(c)"), vec![(Code::E040, 14)]);
        assert_eq!(
            findings("timestamp(\"2024-01-01T00:00:00Z\") == 1"),
            vec![(Code::E040, 0)]
        );
    }

    #[test]
    fn a_field_no_form_declares_is_e041_at_the_field() {
        assert_eq!(findings("data.famly_size > 3"), vec![(Code::E041, 5)]);
        assert_eq!(
            message("data.famly_size > 3"),
            (
                "no form declares `data.famly_size`".to_string(),
                Some("did you mean `family_size`?".to_string())
            )
        );
        assert_eq!(
            findings("data.address.street == \"x\""),
            vec![(Code::E041, 13)]
        );
        assert_eq!(findings("has(data.adress)"), vec![(Code::E041, 9)]);
        assert_eq!(findings("\"adress\" in data"), vec![(Code::E041, 0)]);
        assert_eq!(
            findings("data.children.exists(c, c.agee > 1)"),
            vec![(Code::E041, 26)]
        );
        assert_eq!(
            findings("outcomes.reviw == \"grant\""),
            vec![(Code::E041, 9)]
        );
        // A step that records no outcome.
        assert_eq!(findings("outcomes.sign == \"ok\""), vec![(Code::E041, 9)]);
        assert_eq!(findings("has(outcomes.sign)"), vec![(Code::E041, 13)]);
    }

    #[test]
    fn without_an_application_form_data_has_no_field() {
        let mut env = env();
        env.data = data_type(None);
        let condition = Condition::compile("data.family_size > 3").expect("parses");
        let checked = check(condition.program(), &env, &Facts::new());
        assert_eq!(checked.findings.len(), 1);
        assert_eq!(checked.findings[0].code, Code::E041);
        assert!(
            checked.findings[0]
                .message
                .contains("no `application_form`")
        );
    }

    #[test]
    fn an_optional_field_needs_a_guard_on_the_side_that_protects_it() {
        assert_eq!(findings("data.by_proxy"), vec![(Code::E042, 5)]);
        // `||` with the guard: the other side runs when the guard is false.
        assert_eq!(
            findings("has(data.by_proxy) || data.by_proxy"),
            vec![(Code::E042, 27)]
        );
        assert_eq!(
            findings("data.by_proxy || has(data.by_proxy)"),
            vec![(Code::E042, 5)]
        );
        assert_eq!(
            findings("has(data.by_proxy) ? false : data.by_proxy"),
            vec![(Code::E042, 34)]
        );
        assert_eq!(
            findings("data.address.flat == \"1\""),
            vec![(Code::E042, 13)]
        );
        assert_eq!(findings("outcomes.check == \"ok\""), vec![(Code::E042, 9)]);
        assert_eq!(
            findings("outcomes[\"check\"] == \"ok\""),
            vec![(Code::E042, 9)]
        );
        assert_eq!(
            findings("data.children.exists(c, c.disabled)"),
            vec![(Code::E042, 26)]
        );
        // A guard on another field protects nothing.
        assert_eq!(
            findings("has(data.address.flat) && data.by_proxy"),
            vec![(Code::E042, 31)]
        );
        // Guarded by a has() of a field beneath it.
        assert_eq!(
            findings("has(data.address.flat) && data.address.flat == \"\""),
            vec![]
        );
    }

    #[test]
    fn a_later_branch_relies_on_the_earlier_ones_being_false() {
        let first = Condition::compile("!has(data.by_proxy)").expect("parses");
        let known = check(first.program(), &env(), &Facts::new()).when_false;
        assert!(known.contains("data.by_proxy"));
        assert_eq!(findings_after("data.by_proxy", &known), vec![]);
        let first = Condition::compile("has(data.by_proxy)").expect("parses");
        let known = check(first.program(), &env(), &Facts::new()).when_false;
        assert_eq!(
            findings_after("data.by_proxy", &known),
            vec![(Code::E042, 5)]
        );
    }

    #[test]
    fn values_of_different_types_are_e043() {
        for (bad, at) in [
            ("data.name == 3", 0),
            ("data.name < 3", 0),
            ("documents_missing == 1", 0),
            ("outcomes.review == 1", 0),
            ("data.name == null", 0),
            ("data.family_size && true", 0),
            ("data.family_size", 0),
            ("!data.name", 1),
            ("\"a\" in [1, 2]", 0),
            ("data.name in data.name", 0),
            ("data.family_size in data.children", 0),
            ("(data.family_size > 1 ? 1 : \"a\") == 1", 1),
            ("data.note.size() > 1", 0),
            ("data.children < data.children", 0),
            ("[1, \"a\"].size() > 0", 4),
            ("data.children[\"a\"].age > 1", 14),
            ("data.name.age == 1", 10),
            ("size(data.family_size) > 1", 5),
            ("data.name.startsWith(1)", 21),
        ] {
            assert_eq!(findings(bad), vec![(Code::E043, at)], "{bad}");
        }
    }

    #[test]
    fn arithmetic_needs_one_kind_of_number() {
        // A field never negative arrives as uint; `1` is an int.
        assert_eq!(findings("data.family_size + 1 > 3"), vec![(Code::E043, 0)]);
        assert_eq!(
            message("data.family_size + 1 > 3").1.as_deref(),
            Some("write `1u`")
        );
        // A whole number of either sign arrives as int or uint.
        assert_eq!(findings("data.balance - 1 > 0"), vec![(Code::E043, 0)]);
        assert!(
            message("data.balance - 1 > 0")
                .1
                .is_some_and(|h| h.contains("int(data.balance)"))
        );
        // A number may have a fraction, or not.
        assert_eq!(findings("data.income * 2.0 > 3.0"), vec![(Code::E043, 0)]);
        assert!(
            message("data.income * 2.0 > 3.0")
                .1
                .is_some_and(|h| h.contains("double(data.income)"))
        );
        assert_eq!(findings("1.5 * 2 > 1"), vec![(Code::E043, 0)]);
        assert_eq!(message("1.5 * 2 > 1").1.as_deref(), Some("write `2.0`"));
        assert_eq!(findings("-data.family_size < 0"), vec![(Code::E043, 0)]);
        assert_eq!(findings("2.5 % 2.0 == 0.5"), vec![(Code::E043, 0)]);
        assert_eq!(findings("data.name + 1 == \"a1\""), vec![(Code::E043, 0)]);
        assert_eq!(findings("data.name + \"!\" == \"a!\""), vec![]);
    }

    #[test]
    fn a_value_outside_a_closed_set_is_e044_at_the_value() {
        assert_eq!(findings("channel == \"portl\""), vec![(Code::E044, 11)]);
        assert_eq!(
            message("channel == \"portl\"").1.as_deref(),
            Some("did you mean `portal`?")
        );
        assert_eq!(findings("\"centre\" == channel"), vec![(Code::E044, 0)]);
        assert_eq!(
            message("\"centre\" == channel").1.as_deref(),
            Some("the channels are: office, portal")
        );
        assert_eq!(
            findings("outcomes.review == \"refsue\""),
            vec![(Code::E044, 19)]
        );
        assert_eq!(
            message("outcomes.review == \"refsue\"").0,
            "step `review` has no outcome `refsue`"
        );
        assert_eq!(findings("data.kind != \"famly\""), vec![(Code::E044, 13)]);
        assert_eq!(
            findings("channel in [\"office\", \"portl\"]"),
            vec![(Code::E044, 22)]
        );
    }

    #[test]
    fn the_steps_a_condition_names_in_outcomes_are_found() {
        let condition = Condition::compile(
            r#"outcomes.review == "grant" || outcomes["sign"] == "ok" || "check" in outcomes"#,
        )
        .expect("parses");
        let names: Vec<String> = outcome_names(condition.program()).into_iter().collect();
        assert_eq!(names, ["check", "review", "sign"]);
    }

    /// Condition text from CEL's grammar over the test's names, right and wrong alike.
    fn expression() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let atom = proptest::sample::select(vec![
            "data",
            "data.family_size",
            "data.by_proxy",
            "data.children",
            "data.address.city",
            "data.address.flat",
            "data.note",
            "data.kind",
            "data.balance",
            "data.income",
            "data.nope",
            "outcomes",
            "outcomes.review",
            "outcomes.check",
            "outcomes.sign",
            "outcomes.nope",
            "channel",
            "documents_missing",
            "c",
            "c.age",
            "1",
            "0u",
            "2.5",
            "-3",
            "\"family\"",
            "\"аб\"",
            "null",
            "true",
            "[]",
            "[1, \"a\"]",
            "{\"k\": 1}",
        ])
        .prop_map(str::to_string);
        atom.prop_recursive(4, 48, 3, |inner| {
            let op = proptest::sample::select(vec![
                "&&", "||", "==", "!=", "<", ">=", "+", "-", "*", "/", "%", "in",
            ]);
            let call = proptest::sample::select(vec![
                "size", "int", "uint", "double", "string", "matches", "has", "dyn",
            ]);
            let member = proptest::sample::select(vec![
                "size()",
                "contains(\"a\")",
                "startsWith(1)",
                "exists(c, c.age > 1)",
                "all(c, has(c.disabled) && c.disabled)",
                "map(c, c.age)",
                "filter(c, c)",
                "exist(c, c)",
                "age",
            ]);
            prop_oneof![
                (inner.clone(), op, inner.clone()).prop_map(|(a, op, b)| format!("{a} {op} {b}")),
                inner.clone().prop_map(|a| format!("!({a})")),
                inner.clone().prop_map(|a| format!("-({a})")),
                (inner.clone(), inner.clone(), inner.clone())
                    .prop_map(|(c, a, b)| format!("({c}) ? ({a}) : ({b})")),
                (call, inner.clone()).prop_map(|(f, a)| format!("{f}({a})")),
                (inner.clone(), member).prop_map(|(a, m)| format!("({a}).{m}")),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("[{a}, {b}]")),
                (inner.clone(), inner).prop_map(|(a, i)| format!("({a})[{i}]")),
            ]
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 512, ..Default::default() })]
        /// Whatever an analyst writes, checking it never panics (the validator must answer),
        /// and every finding is placed on a character of the condition.
        #[test]
        fn any_condition_that_parses_is_checked_without_a_panic(source in expression()) {
            if let Ok(condition) = Condition::compile(&source) {
                let checked = check(condition.program(), &env(), &Facts::new());
                for f in &checked.findings {
                    proptest::prop_assert!(f.offset < source.len(), "{source}: {f:?}");
                    proptest::prop_assert!(source.is_char_boundary(f.offset), "{source}: {f:?}");
                }
            }
        }
    }
}
