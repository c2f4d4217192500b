//! Escaping text for the markup Reglament writes by hand: SVG drawings, the HTML compliance
//! report, XES and BPMN documents. One function serves XML 1.0 and HTML alike, in text and in
//! attribute values, so no output has its own rules to get wrong.

/// `text` made safe inside an element or a quoted attribute value of XML 1.0 or HTML:
/// - `& < > " '` become entity references (`&apos;` is XML's and HTML5's);
/// - tab, line feed and carriage return become character references, so an attribute value
///   keeps them (a parser turns them into spaces otherwise); in text they read the same;
/// - characters XML 1.0 does not allow at all (other C0 controls, U+FFFE, U+FFFF) become
///   U+FFFD, the replacement character, rather than making the document unreadable.
pub fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::xml;

    #[test]
    fn markup_characters_become_references() {
        assert_eq!(
            xml(r#"a<b & "c" 'd'>"#),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;"
        );
    }

    #[test]
    fn whitespace_survives_an_attribute_value() {
        assert_eq!(xml("a\tb\nc\r"), "a&#9;b&#10;c&#13;");
    }

    #[test]
    fn characters_xml_forbids_are_replaced() {
        assert_eq!(xml("x\u{1}y\u{fffe}z"), "x\u{fffd}y\u{fffd}z");
    }

    #[test]
    fn other_text_is_kept_as_it_is() {
        assert_eq!(xml("Қабылдау — приём ✓"), "Қабылдау — приём ✓");
    }
}
