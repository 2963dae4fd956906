//! The lexer.
//!
//! upstream's grammar is scannerless (pyparsing): the same characters are different tokens in
//! different places. `a||b > 1` is one metric named `a||b`, while `a > 1||b > 2` is two
//! sub-expressions joined by `||`; `lt lt 1` compares a metric named `lt`; keywords need no
//! boundary (`x > 0or y > 1` is two sub-expressions). So this lexer does not cut the text into
//! tokens ahead of time: the parser asks it for the token it expects next ([`Lexer::keyword`],
//! [`Lexer::name`], [`Lexer::digits`], ...) and each call skips the blanks before it, as
//! pyparsing does.

use std::borrow::Cow;

/// Tab stop used when expanding tabs (Python's `str.expandtabs()` default).
const TAB_SIZE: usize = 8;

/// The text being parsed.
///
/// pyparsing's `parseString` first expands tabs to spaces (`str.expandtabs()`, tab stops every
/// 8 columns, columns restarting after `\n` and `\r`), which matters inside dimension names and
/// values, where spaces are kept. `Source` does the same and maps positions back to the
/// original text.
pub(crate) struct Source<'a> {
    text: Cow<'a, str>,
    /// For each expanded tab: (character index of its first space in the expanded text, width).
    tabs: Vec<(usize, usize)>,
}

impl<'a> Source<'a> {
    pub(crate) fn new(input: &'a str) -> Source<'a> {
        if !input.contains('\t') {
            return Source {
                text: Cow::Borrowed(input),
                tabs: Vec::new(),
            };
        }
        let mut text = String::with_capacity(input.len() + 16);
        let mut tabs = Vec::new();
        let mut column = 0;
        let mut index = 0;
        for c in input.chars() {
            match c {
                '\t' => {
                    let width = TAB_SIZE - column % TAB_SIZE;
                    tabs.push((index, width));
                    for _ in 0..width {
                        text.push(' ');
                    }
                    column += width;
                    index += width;
                }
                '\n' | '\r' => {
                    text.push(c);
                    column = 0;
                    index += 1;
                }
                _ => {
                    text.push(c);
                    column += 1;
                    index += 1;
                }
            }
        }
        Source {
            text: Cow::Owned(text),
            tabs,
        }
    }

    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// The character index in the original input of byte offset `byte` of [`Source::text`].
    pub(crate) fn original_position(&self, byte: usize) -> usize {
        let byte = byte.min(self.text.len());
        let expanded = self.text.get(..byte).map_or(0, |s| s.chars().count());
        let mut shift = 0;
        for &(start, width) in &self.tabs {
            if expanded >= start + width {
                shift += width - 1;
            } else if expanded >= start {
                return start - shift;
            } else {
                break;
            }
        }
        expanded - shift
    }
}

/// Characters pyparsing skips between tokens (tabs are already spaces by then).
fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\n' | '\r' | '\t')
}

/// A character of a metric name, dimension name or dimension value (upstream's
/// `valid_identifier_chars`): ASCII letters and digits, `.-_#!$%&'*+/:;?@[\]^`|~`, and every
/// character from U+0080 to U+FFFF that is not white space. Not: blanks, control characters,
/// `"(),<=>{}`, and characters beyond U+FFFF (emoji and other astral characters).
pub(crate) fn is_name_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric() || b".-_#!$%&'*+/:;?@[\\]^`|~".contains(&(c as u8))
    } else {
        u32::from(c) <= 0xFFFF && !c.is_whitespace()
    }
}

/// Dimension names and values may also contain spaces (but never start with one).
fn is_dimension_char(c: char) -> bool {
    c == ' ' || is_name_char(c)
}

/// Whether Python's `c.upper()` is the ASCII upper-case letter `upper` — how pyparsing's
/// `CaselessLiteral` compares. Besides ASCII, `ı` (dotless i) upper-cases to `I` and `ſ` (long s)
/// to `S`.
fn upper_is(c: char, upper: u8) -> bool {
    match c {
        'ı' => upper == b'I',
        'ſ' => upper == b'S',
        _ => c.is_ascii() && (c as u8).to_ascii_uppercase() == upper,
    }
}

/// What [`Lexer::name`] read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Name<'s> {
    /// Byte offset where it starts.
    pub start: usize,
    pub text: &'s str,
    /// The run of name characters went on past the limit.
    pub overflowed: bool,
}

pub(crate) struct Lexer<'s> {
    text: &'s str,
    pos: usize,
}

impl<'s> Lexer<'s> {
    pub(crate) fn new(text: &'s str) -> Lexer<'s> {
        Lexer { text, pos: 0 }
    }

    /// Current byte offset.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn reset(&mut self, pos: usize) {
        self.pos = pos;
    }

    fn rest(&self) -> &'s str {
        self.text.get(self.pos..).unwrap_or("")
    }

    /// Skips blanks; returns the offset of what follows.
    pub(crate) fn skip_blanks(&mut self) -> usize {
        let rest = self.rest();
        let trimmed = rest.trim_start_matches(is_blank);
        self.pos += rest.len() - trimmed.len();
        self.pos
    }

    /// At the end of the text, blanks skipped.
    pub(crate) fn at_end(&mut self) -> bool {
        self.skip_blanks();
        self.pos >= self.text.len()
    }

    /// Takes the punctuation `s` (exact match) if it comes next.
    pub(crate) fn punct(&mut self, s: &str) -> bool {
        self.skip_blanks();
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    /// Takes the keyword `upper` (ASCII, upper case) in any case if it comes next. Like
    /// pyparsing's `CaselessLiteral`, no word boundary is needed after it.
    pub(crate) fn keyword(&mut self, upper: &str) -> bool {
        self.skip_blanks();
        let mut chars = self.rest().char_indices();
        for expected in upper.bytes() {
            match chars.next() {
                Some((_, c)) if upper_is(c, expected) => {}
                _ => return false,
            }
        }
        let consumed = chars.next().map_or(self.rest().len(), |(i, _)| i);
        self.pos += consumed;
        true
    }

    /// Takes one of `alternatives` (keywords or punctuation), first match wins.
    pub(crate) fn one_of<T: Copy>(&mut self, alternatives: &[(&str, T)]) -> Option<T> {
        for &(text, value) in alternatives {
            let matched = if text.bytes().all(|b| b.is_ascii_alphabetic()) {
                self.keyword(text)
            } else {
                self.punct(text)
            };
            if matched {
                return Some(value);
            }
        }
        None
    }

    /// Takes a run of ASCII digits (possibly empty).
    pub(crate) fn digits(&mut self) -> (usize, &'s str) {
        let start = self.skip_blanks();
        let rest = self.rest();
        let len = rest.bytes().take_while(u8::is_ascii_digit).count();
        self.pos += len;
        (start, rest.get(..len).unwrap_or(""))
    }

    /// Takes a metric name (`with_spaces == false`) or a dimension name or value
    /// (`with_spaces == true`): at most `max` characters of the name class. The text is empty
    /// when no name character comes next.
    pub(crate) fn name(&mut self, with_spaces: bool, max: usize) -> Name<'s> {
        let start = self.skip_blanks();
        let rest = self.rest();
        let class = if with_spaces {
            is_dimension_char
        } else {
            is_name_char
        };
        let mut len = 0;
        let mut overflowed = false;
        for (count, c) in rest.chars().enumerate() {
            if !class(c) {
                break;
            }
            if count == max {
                overflowed = true;
                break;
            }
            len += c.len_utf8();
        }
        self.pos += len;
        Name {
            start,
            text: rest.get(..len).unwrap_or(""),
            overflowed,
        }
    }
}

/// A short description of the text at byte offset `pos`: `end of input`, a quoted run of name
/// characters, or one quoted character.
pub(crate) fn describe_at(text: &str, pos: usize) -> String {
    const MAX: usize = 24;
    let rest = text.get(pos..).unwrap_or("");
    let Some(first) = rest.chars().next() else {
        return "end of input".to_owned();
    };
    if !is_name_char(first) {
        return match first {
            '\n' => "a line break".to_owned(),
            '\r' => "a carriage return".to_owned(),
            c if c.is_control() || c.is_whitespace() => format!("{:?}", c),
            c => format!("'{c}'"),
        };
    }
    let run: String = rest
        .chars()
        .take_while(|c| is_name_char(*c))
        .take(MAX + 1)
        .collect();
    if run.chars().count() > MAX {
        let short: String = run.chars().take(MAX).collect();
        format!("'{short}...'")
    } else {
        format!("'{run}'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tabs_expand_to_the_next_stop() {
        let src = Source::new("a{a=b\tc}");
        assert_eq!(src.text(), "a{a=b   c}");
        let src = Source::new("x\n\ty");
        assert_eq!(src.text(), "x\n        y");
        // Positions map back: the 'c' is at index 8 expanded, 6 originally.
        let src = Source::new("a{a=b\tc}");
        assert_eq!(src.original_position(8), 6);
        assert_eq!(src.original_position(6), 5);
        assert_eq!(src.original_position(2), 2);
    }

    #[test]
    fn caseless_keywords_follow_python_upper() {
        let mut lx = Lexer::new("ſUm(");
        assert!(lx.keyword("SUM"));
        assert!(lx.punct("("));
        let mut lx = Lexer::new("mın");
        assert!(lx.keyword("MIN"));
        let mut lx = Lexer::new("ma");
        assert!(!lx.keyword("MAX"));
        assert_eq!(lx.pos(), 0);
    }

    #[test]
    fn name_classes() {
        for c in "aZ09.-_#!$%&'*+/:;?@[\\]^`|~é千\u{80}\u{FFFF}".chars() {
            assert!(is_name_char(c), "{c:?}");
        }
        for c in " \t\n\"(),<=>{}\u{7f}\u{0}\u{a0}\u{85}\u{3000}😀".chars() {
            assert!(!is_name_char(c), "{c:?}");
        }
    }
}
