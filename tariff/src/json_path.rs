//! JSON paths (`$.elements[2].price_components[0].price`) and positions in a JSON text, both
//! ways: the path of the value open at an offset (so that every parse error names the field at
//! fault), and the offset where the value at a path starts (so that every validation problem
//! names its line).

use alloc::{string::String, vec::Vec};
use core::fmt::Write as _;

enum Frame {
    Object { key: Option<String>, in_value: bool },
    Array { index: usize },
}

/// Walks a JSON text character by character, keeping the stack of open objects and arrays.
/// It does not validate: it is run on text serde_json accepted (at least up to the point of
/// interest).
#[derive(Default)]
struct Scanner {
    stack: Vec<Frame>,
    /// The next character that is not a separator starts a value.
    expect_value: bool,
}

impl Scanner {
    /// Feeds character `c`; `rest` supplies the characters of a string that `c` opens. Calls
    /// `value_starts(self, offset)` when a value begins at `offset`; a `true` from it stops the
    /// walk (`feed` then returns `true`).
    fn feed(
        &mut self,
        offset: usize,
        c: char,
        rest: &mut impl Iterator<Item = (usize, char)>,
        value_starts: &mut impl FnMut(&Self, usize) -> bool,
    ) -> bool {
        if c.is_whitespace() {
            return false;
        }
        let starts_value = self.expect_value && !matches!(c, ',' | ':' | '}' | ']');
        if starts_value {
            self.expect_value = false;
            if value_starts(self, offset) {
                return true;
            }
        }
        match c {
            '{' => self.stack.push(Frame::Object {
                key: None,
                in_value: false,
            }),
            '[' => {
                self.stack.push(Frame::Array { index: 0 });
                self.expect_value = true;
            }
            '}' | ']' => {
                self.stack.pop();
            }
            ',' => match self.stack.last_mut() {
                Some(Frame::Array { index }) => {
                    *index += 1;
                    self.expect_value = true;
                }
                Some(Frame::Object { in_value, .. }) => *in_value = false,
                None => {}
            },
            ':' => {
                if let Some(Frame::Object { in_value, .. }) = self.stack.last_mut() {
                    *in_value = true;
                    self.expect_value = true;
                }
            }
            '"' => {
                let mut string = String::new();
                let mut escaped = false;
                for (_, c) in rest.by_ref() {
                    if escaped {
                        escaped = false;
                        string.push(c);
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        break;
                    } else {
                        string.push(c);
                    }
                }
                if !starts_value
                    && let Some(Frame::Object {
                        key,
                        in_value: false,
                    }) = self.stack.last_mut()
                {
                    *key = Some(string);
                }
            }
            _ => {}
        }
        false
    }

    /// The path of the innermost open value.
    fn path(&self) -> String {
        let mut path = String::from("$");
        for frame in &self.stack {
            match frame {
                Frame::Object {
                    key: Some(key),
                    in_value: true,
                } => {
                    let _ = write!(path, ".{key}");
                }
                Frame::Object { .. } => {}
                Frame::Array { index } => {
                    let _ = write!(path, "[{index}]");
                }
            }
        }
        path
    }
}

/// The path of the innermost value open at byte `offset` of `text` (a prefix that serde_json
/// accepted, so it is well formed up to there).
#[cfg(feature = "ocpi")]
pub(crate) fn path_at(text: &str, offset: usize) -> String {
    let mut scanner = Scanner::default();
    let mut chars = text.char_indices().take_while(|&(i, _)| i < offset);
    while let Some((i, c)) = chars.next() {
        scanner.feed(i, c, &mut chars, &mut |_, _| false);
    }
    scanner.path()
}

/// Byte offset where the value at `path` (`$.a[1].b`) starts in `text`, if it is there.
pub(crate) fn value_offset(text: &str, path: &str) -> Option<usize> {
    let mut scanner = Scanner {
        expect_value: true,
        ..Scanner::default()
    };
    let mut found = None;
    let mut chars = text.char_indices();
    while let Some((i, c)) = chars.next() {
        let mut visit = |s: &Scanner, offset: usize| {
            // The path of a value that starts here is the open path plus, in an array, the
            // element being read: that is what `path()` renders once the frame is open, and
            // what it renders already for object members and array elements.
            let hit = s.path() == path;
            if hit {
                found = Some(offset);
            }
            hit
        };
        if scanner.feed(i, c, &mut chars, &mut visit) {
            break;
        }
    }
    found
}

/// Byte offset of a 1-based `line` and `column` (serde_json's error position).
#[cfg(feature = "ocpi")]
pub(crate) fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum::<usize>();
    line_start.saturating_add(column).min(text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(feature = "ocpi")]
    fn names_nested_keys_and_indices() {
        let text = r#"{"a": [1, {"b": {"c": "x"}}], "d": 2}"#;
        // Just after "x": inside a[1].b.c.
        let at = text.find("\"x\"").unwrap() + 3;
        assert_eq!(path_at(text, at), "$.a[1].b.c");
        // After the array closed and the next key read but before its value.
        let at = text.find("\"d\"").unwrap() + 3;
        assert_eq!(path_at(text, at), "$");
        let at = text.find('2').unwrap() + 1;
        assert_eq!(path_at(text, at), "$.d");
    }

    #[test]
    #[cfg(feature = "ocpi")]
    fn escaped_quotes_do_not_end_keys() {
        let text = r#"{"a\"b": [0, 1"#;
        assert_eq!(path_at(text, text.len()), "$.a\"b[1]");
    }

    #[test]
    fn finds_where_values_start() {
        let text = "{\n  \"a\": [1, {\"b\": {\"c\": \"x\"}}],\n  \"d\": 2\n}";
        let at = |path| value_offset(text, path).map(|o| &text[o..=o]);
        assert_eq!(at("$"), Some("{"));
        assert_eq!(at("$.a"), Some("["));
        assert_eq!(at("$.a[0]"), Some("1"));
        assert_eq!(at("$.a[1]"), Some("{"));
        assert_eq!(at("$.a[1].b.c"), Some("\""));
        assert_eq!(at("$.d"), Some("2"));
        assert_eq!(at("$.a[2]"), None);
        assert_eq!(at("$.e"), None);
        // A key equal to the wanted path's last segment is not its value.
        assert_eq!(value_offset(r#"{"d": "d"}"#, "$.d"), Some(6));
    }

    #[test]
    #[cfg(feature = "ocpi")]
    fn offsets_count_lines() {
        let text = "ab\ncd\nef";
        assert_eq!(offset_of(text, 2, 1), 4);
        assert_eq!(offset_of(text, 9, 9), text.len());
    }
}
