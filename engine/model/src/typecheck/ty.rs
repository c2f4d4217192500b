//! The types of values in a condition, as the runtime's CEL has them.

use std::collections::BTreeMap;
use std::rc::Rc;

/// The kinds of number a value may be at run time (a set: a JSON number may be any of them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Num(u8);

impl Num {
    pub const NONE: Num = Num(0);
    pub const INT: Num = Num(1);
    pub const UINT: Num = Num(2);
    pub const DOUBLE: Num = Num(4);

    pub(super) fn single(self) -> bool {
        self.0.count_ones() == 1
    }
    pub(super) fn has(self, other: Num) -> bool {
        self.0 & other.0 != 0
    }
    pub fn with(self, other: Num) -> Num {
        Num(self.0 | other.0)
    }
}

/// The type of a value in a condition.
#[derive(Debug, Clone)]
pub enum Ty {
    /// Unknown (a schema that does not say): anything goes.
    Any,
    /// The element of an empty list: joins with anything.
    Never,
    Null,
    Bool,
    Bytes,
    /// What `type()` gives.
    Type,
    Num(Num),
    /// Text, with its closed set of values when it has one (a channel, an outcome, an enum).
    Str(Option<Rc<Closed>>),
    List(Box<Ty>),
    /// A map written in the condition.
    Map(Box<Ty>, Box<Ty>),
    /// `data`, an object of a form, or `outcomes`: named fields, each present always,
    /// sometimes or never.
    Object(Rc<Object>),
    /// The type, or `null`.
    Nullable(Box<Ty>),
}

/// A closed set of text values.
#[derive(Debug)]
pub struct Closed {
    pub values: Vec<String>,
    pub of: ClosedKind,
}

#[derive(Debug, Clone)]
pub enum ClosedKind {
    Channel,
    Outcome { step: String },
    Field { path: String },
}

/// An object with known fields.
#[derive(Debug)]
pub struct Object {
    pub fields: BTreeMap<String, Field>,
    /// The type of any other field (`additionalProperties` with a schema); such a field is
    /// never certain to be present.
    pub rest: Option<Ty>,
    pub kind: ObjectKind,
}

#[derive(Debug, Clone)]
pub enum ObjectKind {
    /// `data` or an object inside it; `form` is false when the regulation has no
    /// application form at all.
    Data { form: bool },
    /// `outcomes` as an exclusive choice sees it; `steps` are those that record outcomes.
    Outcomes { steps: Rc<Vec<String>> },
}

#[derive(Debug)]
pub struct Field {
    pub ty: Ty,
    pub presence: Presence,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presence {
    Always,
    /// Present on some cases only; says why.
    Sometimes(String),
    /// Never present; says why.
    Never(String),
}

impl Ty {
    /// The type without its `null`.
    pub(super) fn strip(&self) -> &Ty {
        match self {
            Ty::Nullable(t) => t,
            t => t,
        }
    }
}

/// Families of types that can be equal to each other (every kind of number is one family).
pub(super) fn families(t: &Ty) -> u16 {
    const ALL: u16 = u16::MAX;
    match t {
        Ty::Any | Ty::Never => ALL,
        Ty::Null => 1,
        Ty::Bool => 2,
        Ty::Num(_) => 4,
        Ty::Str(_) => 8,
        Ty::Bytes => 16,
        Ty::Type => 32,
        Ty::List(_) => 64,
        Ty::Map(..) | Ty::Object(_) => 128,
        Ty::Nullable(t) => families(t) | 1,
    }
}

pub(super) fn comparable(a: &Ty, b: &Ty) -> bool {
    if families(a) & families(b) == 0 {
        return false;
    }
    match (a.strip(), b.strip()) {
        (Ty::List(x), Ty::List(y)) => comparable(x, y),
        _ => true,
    }
}

/// The type of a value that is either `a` or `b`, if they can be one type.
pub(super) fn join(a: &Ty, b: &Ty) -> Option<Ty> {
    Some(match (a, b) {
        (Ty::Any, _) | (_, Ty::Any) => Ty::Any,
        (Ty::Never, t) | (t, Ty::Never) => t.clone(),
        (Ty::Nullable(x), Ty::Nullable(y)) => Ty::Nullable(Box::new(join(x, y)?)),
        (Ty::Nullable(x), Ty::Null) | (Ty::Null, Ty::Nullable(x)) => Ty::Nullable(x.clone()),
        (Ty::Nullable(x), t) | (t, Ty::Nullable(x)) => Ty::Nullable(Box::new(join(x, t)?)),
        (Ty::Null, Ty::Null) => Ty::Null,
        (Ty::Null, t) | (t, Ty::Null) => Ty::Nullable(Box::new(t.clone())),
        (Ty::Bool, Ty::Bool) => Ty::Bool,
        (Ty::Bytes, Ty::Bytes) => Ty::Bytes,
        (Ty::Type, Ty::Type) => Ty::Type,
        (Ty::Num(x), Ty::Num(y)) => Ty::Num(x.with(*y)),
        (Ty::Str(x), Ty::Str(y)) => match (x, y) {
            (Some(x), Some(y)) if Rc::ptr_eq(x, y) => Ty::Str(Some(x.clone())),
            _ => Ty::Str(None),
        },
        (Ty::List(x), Ty::List(y)) => Ty::List(Box::new(join(x, y).unwrap_or(Ty::Any))),
        (Ty::Object(x), Ty::Object(y)) if Rc::ptr_eq(x, y) => Ty::Object(x.clone()),
        (Ty::Map(..) | Ty::Object(_), Ty::Map(..) | Ty::Object(_)) => Ty::Any,
        _ => return None,
    })
}

/// How a type reads in a message.
pub(super) fn name(t: &Ty) -> String {
    match t {
        Ty::Any => "a value of any type".into(),
        Ty::Never => "nothing".into(),
        Ty::Null => "`null`".into(),
        Ty::Bool => "true or false (`bool`)".into(),
        Ty::Bytes => "`bytes`".into(),
        Ty::Type => "a type".into(),
        Ty::Num(n) => match n.0 {
            1 => "a whole number (`int`)".into(),
            2 => "a whole number of zero or more (`uint`)".into(),
            4 => "a fractional number (`double`)".into(),
            3 => "a whole number that arrives as `int` or `uint`".into(),
            _ => "a number that arrives as `int`, `uint` or `double`".into(),
        },
        Ty::Str(_) => "text (`string`)".into(),
        Ty::List(_) => "a list".into(),
        Ty::Map(..) | Ty::Object(_) => "a map".into(),
        Ty::Nullable(t) => format!("{} or `null`", name(t)),
    }
}
