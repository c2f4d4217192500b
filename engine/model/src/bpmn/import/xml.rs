//! XML into a small element tree with namespaces resolved and the line of every element, so
//! the import can name the place of whatever it cannot use.

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

use super::ImportError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// The namespace URI, empty when unbound.
    pub ns: String,
    pub name: String,
    /// Attributes without a namespace prefix, by local name (others are not needed).
    pub attrs: Vec<(String, String)>,
    pub children: Vec<usize>,
    pub text: String,
    pub line: usize,
    pub parent: Option<usize>,
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The document as an arena; element 0 is the root.
#[derive(Debug, Default)]
pub struct Doc {
    pub elements: Vec<Element>,
}

impl Doc {
    pub fn children<'a>(&'a self, e: usize) -> impl Iterator<Item = usize> + 'a {
        self.elements[e].children.iter().copied()
    }

    /// Children of `e` in namespace `ns` named `name`.
    pub fn named<'a>(
        &'a self,
        e: usize,
        ns: &'a str,
        name: &'a str,
    ) -> impl Iterator<Item = usize> + 'a {
        self.children(e)
            .filter(move |&c| self.elements[c].ns == ns && self.elements[c].name == name)
    }

    pub fn first(&self, e: usize, ns: &str, name: &str) -> Option<usize> {
        self.named(e, ns, name).next()
    }
}

fn line_col(text: &str, pos: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..pos.min(text.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let col = before.iter().rev().take_while(|b| **b != b'\n').count() + 1;
    (line, col)
}

/// Parses `text`. A syntax error names its line and column.
pub fn parse(text: &str) -> Result<Doc, ImportError> {
    let mut reader = NsReader::from_str(text);
    let mut doc = Doc::default();
    let mut stack: Vec<usize> = Vec::new();
    let mut lines = LineCounter::default();
    let syntax = |pos: usize, message: String| {
        let (line, column) = line_col(text, pos);
        ImportError::Xml {
            line,
            column,
            message,
        }
    };
    loop {
        let start = reader.buffer_position() as usize;
        let (ns, event) = match reader.read_resolved_event() {
            Ok(x) => x,
            Err(e) => return Err(syntax(reader.error_position() as usize, e.to_string())),
        };
        let ns = match ns {
            ResolveResult::Bound(n) => n.as_ref().to_string(),
            ResolveResult::Unbound => String::new(),
            ResolveResult::Unknown(p) => {
                return Err(syntax(start, format!("the prefix `{p}` is not declared")));
            }
        };
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                if stack.is_empty() && !doc.elements.is_empty() {
                    return Err(syntax(start, "a second root element".into()));
                }
                let mut attrs = Vec::new();
                for a in e.attributes() {
                    let a = a.map_err(|err| syntax(start, err.to_string()))?;
                    let key = a.key;
                    if key.prefix().is_some() {
                        continue;
                    }
                    let value = a
                        .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .map_err(|err| syntax(start, err.to_string()))?;
                    attrs.push((key.local_name().as_ref().to_string(), value.into_owned()));
                }
                let index = doc.elements.len();
                doc.elements.push(Element {
                    ns,
                    name: e.local_name().as_ref().to_string(),
                    attrs,
                    children: Vec::new(),
                    text: String::new(),
                    line: lines.line(text, start),
                    parent: stack.last().copied(),
                });
                if let Some(&parent) = stack.last() {
                    doc.elements[parent].children.push(index);
                }
                if matches!(event, Event::Start(_)) {
                    stack.push(index);
                }
            }
            Event::End(_) => {
                stack.pop();
            }
            Event::Text(t) => {
                if let Some(&top) = stack.last() {
                    let s = t.xml_content(quick_xml::XmlVersion::Implicit1_0);
                    doc.elements[top].text.push_str(&s);
                }
            }
            Event::CData(t) => {
                if let Some(&top) = stack.last() {
                    doc.elements[top].text.push_str(&t.into_inner());
                }
            }
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    _ => match r.as_ref() {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        other => {
                            return Err(syntax(start, format!("unknown entity `&{};`", other)));
                        }
                    },
                };
                if let Some(&top) = stack.last() {
                    doc.elements[top].text.push(c);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if doc.elements.is_empty() {
        return Err(ImportError::Xml {
            line: 1,
            column: 1,
            message: "no element: the file is empty or not XML".into(),
        });
    }
    if !stack.is_empty() {
        let (line, column) = line_col(text, text.len());
        return Err(ImportError::Xml {
            line,
            column,
            message: format!("`{}` is not closed", doc.elements[stack[0]].name),
        });
    }
    Ok(doc)
}

/// Line numbers of increasing positions in one pass over the text.
#[derive(Default)]
struct LineCounter {
    pos: usize,
    line: usize,
}

impl LineCounter {
    fn line(&mut self, text: &str, pos: usize) -> usize {
        let bytes = text.as_bytes();
        let pos = pos.min(bytes.len());
        if self.line == 0 {
            self.line = 1;
        }
        if pos < self.pos {
            return line_col(text, pos).0;
        }
        // The tag opens after any whitespace the previous event left.
        self.line += bytes[self.pos..pos].iter().filter(|b| **b == b'\n').count();
        self.pos = pos;
        let lead = bytes[pos..]
            .iter()
            .take_while(|b| b.is_ascii_whitespace())
            .filter(|b| **b == b'\n')
            .count();
        self.line + lead
    }
}
