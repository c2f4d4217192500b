//! YAML text → JSON value plus a map from every JSON pointer to its place in the text.
//!
//! One parse (saphyr, YAML 1.2, pure Rust, duplicate keys rejected) gives both: the value is
//! what the JSON Schema and serde see, the spans let every later finding, wherever it comes
//! from, point at the exact line and column.

use std::collections::HashMap;
use std::fmt::Write as _;

use saphyr::{Marker, Scalar};
use saphyr_parser::{Event, Parser, StrInput};
use serde_json::map::Entry;
use serde_json::{Map, Number, Value};

use crate::diagnostic::{Code, Diagnostic, Location};

/// Where a node is: its value and, for a mapping entry, its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NodeSpan {
    pub value: Location,
    pub key: Option<Location>,
}

/// JSON pointer → place in the text.
#[derive(Debug, Clone, Default)]
pub struct Spans {
    map: HashMap<String, NodeSpan>,
}

impl Spans {
    pub fn get(&self, pointer: &str) -> Option<NodeSpan> {
        self.map.get(pointer).copied()
    }

    /// The value's place, or that of the nearest ancestor that has one.
    pub fn value_at(&self, pointer: &str) -> Location {
        self.nearest(pointer).map(|s| s.value).unwrap_or_default()
    }

    /// The key's place for a mapping entry, else the value's.
    pub fn key_at(&self, pointer: &str) -> Location {
        self.nearest(pointer)
            .map(|s| s.key.unwrap_or(s.value))
            .unwrap_or_default()
    }

    fn nearest(&self, pointer: &str) -> Option<NodeSpan> {
        let mut p = pointer;
        loop {
            if let Some(s) = self.map.get(p) {
                return Some(*s);
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                None => return None,
            }
        }
    }
}

/// Escapes one reference token of a JSON pointer (RFC 6901).
pub fn escape_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// The place of the `index`-th character of the string `value`, written as a scalar that
/// starts at `at` in `source`. Only scalars on one line can be followed (plain, single- or
/// double-quoted, with their escapes); for a block or folded scalar, or one whose text does
/// not read back as `value`, the answer is `None` and the caller points at the scalar.
pub fn char_place(source: &str, at: Location, value: &str, index: usize) -> Option<Location> {
    let line = source.lines().nth(at.line.checked_sub(1)?)?;
    let mut raw = line.chars().skip(at.column.checked_sub(1)?).peekable();
    let quote = match raw.peek() {
        Some('\'') => Some('\''),
        Some('"') => Some('"'),
        Some('|' | '>') => return None,
        _ => None,
    };
    if quote.is_some() {
        raw.next();
    }
    // Column of the next raw character.
    let mut column = at.column + usize::from(quote.is_some());
    let mut wanted = value.chars();
    let mut i = 0;
    loop {
        let expected = wanted.next()?;
        let here = column;
        let c = raw.next()?;
        column += 1;
        let read = match (quote, c) {
            (Some('\''), '\'') => {
                // `''` is one quote inside single quotes; a lone one ends the scalar.
                if raw.next()? != '\'' {
                    return None;
                }
                column += 1;
                '\''
            }
            (Some('"'), '\\') => {
                let (read, used) = unescape(&mut raw)?;
                column += used;
                read
            }
            (Some('"'), '"') => return None,
            _ => c,
        };
        if read != expected {
            return None;
        }
        if i == index {
            return Some(Location::new(at.line, here));
        }
        i += 1;
    }
}

/// One escape of a double-quoted scalar, after its backslash: the character and how many
/// characters of the source it took.
fn unescape(raw: &mut impl Iterator<Item = char>) -> Option<(char, usize)> {
    let c = raw.next()?;
    let simple = match c {
        '0' => '\0',
        'a' => '\u{7}',
        'b' => '\u{8}',
        't' | '\t' => '\t',
        'n' => '\n',
        'v' => '\u{b}',
        'f' => '\u{c}',
        'r' => '\r',
        'e' => '\u{1b}',
        ' ' => ' ',
        '"' => '"',
        '/' => '/',
        '\\' => '\\',
        'N' => '\u{85}',
        '_' => '\u{a0}',
        'L' => '\u{2028}',
        'P' => '\u{2029}',
        'x' | 'u' | 'U' => {
            let digits = match c {
                'x' => 2,
                'u' => 4,
                _ => 8,
            };
            let hex: String = raw.take(digits).collect();
            if hex.chars().count() != digits {
                return None;
            }
            let code = u32::from_str_radix(&hex, 16).ok()?;
            return Some((char::from_u32(code)?, 1 + digits));
        }
        _ => return None,
    };
    Some((simple, 1))
}

/// Parses one YAML document. On a syntax error returns the single diagnostic that stops it.
pub fn parse(text: &str, file: &str) -> Result<(Value, Spans), Box<Diagnostic>> {
    // A parser bug must not take the server down with it: treat a panic as a syntax error.
    std::panic::catch_unwind(|| Builder::new(text, file).run()).unwrap_or_else(|_| {
        Err(Box::new(Diagnostic::new(
            file,
            Code::E002,
            Location::new(1, 1),
            "the YAML parser failed on this file",
        )))
    })
}

/// How many nodes aliases may copy in one file, as saphyr's own loader allows: an alias is
/// expanded by copying, so without a budget a few lines ("billion laughs") could fill memory.
const ALIAS_BUDGET: usize = 100_000;

/// Builds the JSON value and its spans straight from the parser's events. Going through
/// saphyr's node tree cost more than the parser itself on a large regulation: every mapping
/// key was hashed as a node, and the tree was built only to be taken apart again.
struct Builder<'t> {
    parser: Parser<'t, StrInput<'t>>,
    file: &'t str,
    spans: Spans,
    /// The JSON pointer of the node being built; each level appends its token and takes it off.
    pointer: String,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Value>,
    alias_budget: usize,
    root: Option<Value>,
    /// A key found twice: reported at once, whatever else the text holds.
    duplicate: Option<Diagnostic>,
    /// The first mistake that is not a syntax error. The parser still runs to the end, so a
    /// syntax error further down wins, as it would when the whole text is loaded first.
    error: Option<Diagnostic>,
}

/// A sequence or mapping being read, and where it goes when it ends.
struct Frame {
    node: Node,
    /// Length of `pointer` before this node's token.
    parent_len: usize,
    slot: Slot,
    anchor: usize,
    start: Location,
}

enum Node {
    Seq(Vec<Value>),
    Map {
        map: Map<String, Value>,
        /// The key read and waiting for its value; `None` while a key is expected.
        pending: Option<PendingKey>,
    },
}

enum PendingKey {
    Name(String, Location),
    /// A key that is not a scalar: its value is read and dropped, the error is recorded.
    Invalid,
}

/// Where a new node goes: as a mapping's key, or as a value (with its key's place, if any).
#[derive(Clone, Copy)]
enum Slot {
    Key,
    Value { key: Option<Location> },
}

impl<'t> Builder<'t> {
    fn new(text: &'t str, file: &'t str) -> Self {
        Builder {
            parser: Parser::new_from_str(text),
            file,
            spans: Spans {
                // About one node per 24 bytes of a regulation's text: sized once, not rehashed.
                map: HashMap::with_capacity(text.len() / 24 + 16),
            },
            pointer: String::new(),
            stack: Vec::new(),
            anchors: HashMap::new(),
            alias_budget: ALIAS_BUDGET,
            root: None,
            duplicate: None,
            error: None,
        }
    }

    fn run(mut self) -> Result<(Value, Spans), Box<Diagnostic>> {
        let mut documents = 0usize;
        while let Some(next) = self.parser.next_event() {
            if let Some(dup) = self.duplicate.take() {
                return Err(Box::new(dup));
            }
            let (event, span) = next.map_err(|e| Box::new(self.scan_error(&e)))?;
            let at = location(span.start);
            match event {
                Event::DocumentStart(_) => {
                    documents += 1;
                    if documents > 1 {
                        // The second document's first node is where the mistake shows.
                        let at = match self.parser.next_event() {
                            Some(Ok((_, span))) => location(span.start),
                            _ => at,
                        };
                        return Err(Box::new(Diagnostic::new(
                            self.file,
                            Code::E004,
                            at,
                            "a file holds one regulation: found a second YAML document (`---`)",
                        )));
                    }
                }
                Event::Scalar(text, style, anchor, tag) => {
                    let slot = self.open(at);
                    // Tags outside the core schema are ignored; core tags (`!!int`) must fit.
                    let tag = tag.filter(|t| t.is_yaml_core_schema());
                    let value = match Scalar::parse_from_cow_and_metadata(text, style, tag.as_ref())
                    {
                        Some(scalar) => scalar_to_json(scalar),
                        None => {
                            self.fail(Diagnostic::new(
                                self.file,
                                Code::E012,
                                at,
                                "this value cannot be read (a tag that does not fit the value?)",
                            ));
                            Value::Null
                        }
                    };
                    if anchor > 0 {
                        self.anchors.insert(anchor, value.clone());
                    }
                    self.close(slot, value, at);
                }
                Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                    let (slot, parent_len) = self.open(at);
                    let node = match event {
                        Event::SequenceStart(..) => Node::Seq(Vec::new()),
                        _ => Node::Map {
                            map: Map::new(),
                            pending: None,
                        },
                    };
                    self.stack.push(Frame {
                        node,
                        parent_len,
                        slot,
                        anchor,
                        start: at,
                    });
                }
                Event::SequenceEnd | Event::MappingEnd => {
                    let Some(frame) = self.stack.pop() else {
                        continue;
                    };
                    let value = match frame.node {
                        Node::Seq(items) => Value::Array(items),
                        Node::Map { map, .. } => Value::Object(map),
                    };
                    if frame.anchor > 0 {
                        self.anchors.insert(frame.anchor, value.clone());
                    }
                    self.close((frame.slot, frame.parent_len), value, frame.start);
                }
                Event::Alias(anchor) => {
                    let slot = self.open(at);
                    let copied = self.anchors.get(&anchor).map(|v| (count_values(v), v));
                    let value = match copied {
                        Some((n, v)) if n <= self.alias_budget => {
                            self.alias_budget -= n;
                            v.clone()
                        }
                        found => {
                            let message = if found.is_some() {
                                "aliases here copy too much: expand them by hand"
                            } else {
                                "this alias names no anchor"
                            };
                            self.fail(Diagnostic::new(self.file, Code::E012, at, message));
                            Value::Null
                        }
                    };
                    self.close(slot, value, at);
                }
                Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
            }
        }
        if let Some(err) = self.duplicate.or(self.error) {
            return Err(Box::new(err));
        }
        match self.root {
            Some(value) => Ok((value, self.spans)),
            None => Err(Box::new(Diagnostic::new(
                self.file,
                Code::E004,
                Location::new(1, 1),
                "the file is empty",
            ))),
        }
    }

    fn scan_error(&self, e: &saphyr::ScanError) -> Diagnostic {
        Diagnostic::new(
            self.file,
            Code::E002,
            location(*e.marker()),
            format!("YAML syntax: {}", e.info()),
        )
    }

    fn fail(&mut self, diag: Diagnostic) {
        if self.error.is_none() {
            self.error = Some(diag);
        }
    }

    /// Puts the pointer token of the node starting now on `pointer` and records its place;
    /// returns where the node goes and the length to go back to when it ends.
    fn open(&mut self, at: Location) -> (Slot, usize) {
        let parent_len = self.pointer.len();
        let slot = self.push_token();
        if let Slot::Value { key } = slot {
            self.spans
                .map
                .insert(self.pointer.clone(), NodeSpan { value: at, key });
        }
        (slot, parent_len)
    }

    fn close(&mut self, (slot, parent_len): (Slot, usize), value: Value, at: Location) {
        self.pointer.truncate(parent_len);
        self.attach(slot, value, at);
    }

    /// Appends the token of the node starting now, from what its parent is waiting for.
    fn push_token(&mut self) -> Slot {
        match self.stack.last().map(|f| &f.node) {
            None => Slot::Value { key: None },
            Some(Node::Seq(items)) => {
                let _ = write!(self.pointer, "/{}", items.len());
                Slot::Value { key: None }
            }
            Some(Node::Map { pending: None, .. }) => Slot::Key,
            Some(Node::Map {
                pending: Some(PendingKey::Name(name, key)),
                ..
            }) => {
                let key = Some(*key);
                self.pointer.push('/');
                push_escaped(&mut self.pointer, name);
                Slot::Value { key }
            }
            Some(Node::Map {
                pending: Some(PendingKey::Invalid),
                ..
            }) => {
                // The value of a rejected key is read but kept nowhere; its token only has to
                // keep the pointers of its children apart from real ones.
                self.pointer.push_str("/\u{0}");
                Slot::Value { key: None }
            }
        }
    }

    /// Hands a finished node, which started at `at`, to its parent.
    fn attach(&mut self, slot: Slot, value: Value, at: Location) {
        let Some(top) = self.stack.last_mut() else {
            if self.root.is_none() {
                self.root = Some(value);
            }
            return;
        };
        let mistake = match &mut top.node {
            Node::Seq(items) => {
                items.push(value);
                None
            }
            Node::Map { map, pending } => match slot {
                Slot::Key => {
                    let name = match value {
                        Value::String(s) => Some(s),
                        Value::Number(n) if !n.is_f64() => Some(n.to_string()),
                        Value::Bool(b) => Some(b.to_string()),
                        Value::Null => Some("null".to_string()),
                        _ => None,
                    };
                    match name {
                        Some(name) => {
                            *pending = Some(PendingKey::Name(name, at));
                            None
                        }
                        None => {
                            *pending = Some(PendingKey::Invalid);
                            Some(Diagnostic::new(
                                self.file,
                                Code::E012,
                                at,
                                "a key must be a plain word, not a list or a mapping",
                            ))
                        }
                    }
                }
                Slot::Value { .. } => match pending.take() {
                    Some(PendingKey::Name(name, key_at)) => {
                        if let Entry::Vacant(e) = map.entry(name) {
                            e.insert(value);
                        } else {
                            // As saphyr's loader does, this stops the reading at once.
                            self.duplicate = Some(
                                Diagnostic::new(
                                    self.file,
                                    Code::E003,
                                    key_at,
                                    "this key appears twice in one mapping",
                                )
                                .with_help(
                                    "a mapping may name each key once; remove or rename one of them",
                                ),
                            );
                        }
                        None
                    }
                    Some(PendingKey::Invalid) | None => None,
                },
            },
        };
        if let Some(diag) = mistake {
            self.fail(diag);
        }
    }
}

fn location(marker: Marker) -> Location {
    Location::new(marker.line().max(1), marker.col() + 1)
}

fn count_values(value: &Value) -> usize {
    1 + match value {
        Value::Array(items) => items.iter().map(count_values).sum(),
        Value::Object(map) => map.values().map(count_values).sum(),
        _ => 0,
    }
}

/// Appends `token` to a JSON pointer, escaped as RFC 6901 asks.
fn push_escaped(pointer: &mut String, token: &str) {
    if token.contains(['~', '/']) {
        pointer.push_str(&escape_token(token));
    } else {
        pointer.push_str(token);
    }
}

fn scalar_to_json(scalar: Scalar<'_>) -> Value {
    match scalar {
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(b),
        Scalar::Integer(i) => Value::Number(i.into()),
        Scalar::FloatingPoint(f) => Number::from_f64(f.into_inner())
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(f.to_string())),
        Scalar::String(s) => Value::String(s.into_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The place of character `index` of the value at `pointer` of a one-key document.
    fn place(text: &str, index: usize) -> Option<(usize, usize)> {
        let (value, spans) = parse(text, "t.yaml").expect("parses");
        let s = value["when"].as_str().expect("text");
        char_place(text, spans.value_at("/when"), s, index).map(|l| (l.line, l.column))
    }

    #[test]
    fn a_character_of_a_one_line_scalar_is_found_in_every_quoting_style() {
        // Plain, single-quoted, double-quoted, with letters of two bytes before the place.
        assert_eq!(place("when: data.x == аб\n", 11), Some((1, 18)));
        assert_eq!(place("when: 'channel == \"аб\"'\n", 12), Some((1, 20)));
        assert_eq!(
            place("when: \"channel == \\\"аб\\\"\"\n", 12),
            Some((1, 21))
        );
        // `''` is one quote; `\u0430` one character.
        assert_eq!(place("when: 'it''s x'\n", 5), Some((1, 14)));
        assert_eq!(place("when: \"\\u0430 x\"\n", 2), Some((1, 15)));
    }

    #[test]
    fn only_the_first_line_of_a_scalar_over_several_lines_is_placed() {
        // A block scalar's place is that of its text, so its first line reads as written.
        assert_eq!(place("when: >-\n  data.x\n  == 1\n", 2), Some((2, 5)));
        assert_eq!(place("when: >-\n  data.x\n  == 1\n", 9), None);
        assert_eq!(place("when: 'data.x\n  == 1'\n", 3), Some((1, 11)));
        assert_eq!(place("when: 'data.x\n  == 1'\n", 9), None);
    }
    use serde_json::json;

    #[test]
    fn converts_and_records_spans() {
        let text = "id: x\nsteps:\n  - id: a\n    role: head\n  - id: b\n";
        let (value, spans) = parse(text, "f.yaml").unwrap();
        assert_eq!(
            value,
            json!({"id": "x", "steps": [{"id": "a", "role": "head"}, {"id": "b"}]})
        );
        assert_eq!(spans.value_at("/steps/0/role"), Location::new(4, 11));
        assert_eq!(spans.key_at("/steps/0/role"), Location::new(4, 5));
        assert_eq!(spans.value_at("/steps/1"), Location::new(5, 5));
        // A pointer below a scalar falls back to the nearest node.
        assert_eq!(spans.value_at("/steps/0/role/x"), Location::new(4, 11));
    }

    #[test]
    fn yaml_1_2_scalars() {
        let (value, _) = parse("a: no\nb: 09:00\nc: 2012-11-16\nd: 1.5\n", "f").unwrap();
        assert_eq!(
            value,
            json!({"a": "no", "b": "09:00", "c": "2012-11-16", "d": 1.5})
        );
    }

    #[test]
    fn duplicate_key_points_at_the_second() {
        let err = parse("id: a\nversion: 1\nid: b\n", "f.yaml").unwrap_err();
        assert_eq!(err.code, Code::E003);
        assert_eq!(err.location, Location::new(3, 1));
    }

    #[test]
    fn syntax_error_has_a_place() {
        let err = parse("id: \"unclosed\nversion: 1\n", "f.yaml").unwrap_err();
        assert_eq!(err.code, Code::E002);
        assert!(err.location.line >= 1);
    }

    #[test]
    fn empty_and_multi_document() {
        assert_eq!(parse("", "f").unwrap_err().code, Code::E004);
        assert_eq!(
            parse("# only a comment\n", "f").unwrap_err().code,
            Code::E004
        );
        let err = parse("a: 1\n---\nb: 2\n", "f").unwrap_err();
        assert_eq!(err.code, Code::E004);
    }

    #[test]
    fn escapes_pointer_tokens() {
        let (_, spans) = parse("\"a/b\": 1\n", "f").unwrap();
        assert!(spans.get("/a~1b").is_some());
    }

    #[test]
    fn aliases_copy_their_anchor() {
        let (value, spans) = parse("a: &x {b: 1}\nc: *x\nd: &y 5\ne: *y\n", "f").unwrap();
        assert_eq!(value, json!({"a": {"b": 1}, "c": {"b": 1}, "d": 5, "e": 5}));
        assert_eq!(spans.value_at("/c"), Location::new(2, 4));
        // Inside a copy the alias itself is the nearest place.
        assert_eq!(spans.value_at("/c/b"), Location::new(2, 4));
    }

    #[test]
    fn aliases_have_a_budget() {
        // Each level doubles: 2^20 nodes from a few lines must be refused, not built.
        let mut text = String::from("l0: &l0 [x, x]\n");
        for i in 1..=20 {
            text.push_str(&format!("l{i}: &l{i} [*l{p}, *l{p}]\n", p = i - 1));
        }
        let err = parse(&text, "f").unwrap_err();
        assert_eq!(err.code, Code::E012);
        assert!(err.message.contains("aliases"), "{}", err.message);
    }

    #[test]
    fn a_key_that_is_a_mapping_is_refused_where_it_starts() {
        let err = parse("a: 1\n? {b: 1}\n: 2\n", "f").unwrap_err();
        assert_eq!(err.code, Code::E012);
        assert_eq!(err.location, Location::new(2, 3));
    }

    #[test]
    fn core_tags_must_fit() {
        let err = parse("a: !!int abc\n", "f").unwrap_err();
        assert_eq!(err.code, Code::E012);
        assert_eq!(err.location, Location::new(1, 4));
        let (value, _) = parse("a: !!str 5\nb: !custom 7\n", "f").unwrap();
        assert_eq!(value, json!({"a": "5", "b": 7}));
    }

    #[test]
    fn second_document_is_placed_at_its_first_node() {
        let err = parse("a: 1\n---\nb: 2\n", "f").unwrap_err();
        assert_eq!(err.location, Location::new(3, 1));
    }

    #[test]
    fn a_duplicate_wins_over_a_later_mistake_but_a_syntax_error_before_it_wins() {
        let err = parse("a: 1\na: 2\nb: !!int x\n", "f").unwrap_err();
        assert_eq!(err.code, Code::E003);
        let err = parse("a: [1\nb: 1\nb: 2\n", "f").unwrap_err();
        assert_eq!(err.code, Code::E002);
    }
}
