//! The JSON path (`$.elements[2].price_components[0].price`) of a position in a JSON text,
//! so that every parse error names the field at fault.

use alloc::{string::String, vec::Vec};
use core::fmt::Write as _;

enum Frame {
    Object { key: Option<String>, in_value: bool },
    Array { index: usize },
}

/// The path of the innermost value open at byte `offset` of `text` (a prefix that serde_json
/// accepted, so it is well formed up to there).
pub(crate) fn path_at(text: &str, offset: usize) -> String {
    let mut stack: Vec<Frame> = Vec::new();
    let mut chars = text
        .char_indices()
        .take_while(|&(i, _)| i < offset)
        .peekable();
    while let Some((_, c)) = chars.next() {
        match c {
            '{' => stack.push(Frame::Object {
                key: None,
                in_value: false,
            }),
            '[' => stack.push(Frame::Array { index: 0 }),
            '}' | ']' => {
                stack.pop();
            }
            ',' => match stack.last_mut() {
                Some(Frame::Array { index }) => *index += 1,
                Some(Frame::Object { in_value, .. }) => *in_value = false,
                None => {}
            },
            ':' => {
                if let Some(Frame::Object { in_value, .. }) = stack.last_mut() {
                    *in_value = true;
                }
            }
            '"' => {
                let mut string = String::new();
                let mut escaped = false;
                for (_, c) in chars.by_ref() {
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
                if let Some(Frame::Object {
                    key,
                    in_value: false,
                }) = stack.last_mut()
                {
                    *key = Some(string);
                }
            }
            _ => {}
        }
    }
    let mut path = String::from("$");
    for frame in &stack {
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

/// Byte offset of a 1-based `line` and `column` (serde_json's error position).
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
    fn escaped_quotes_do_not_end_keys() {
        let text = r#"{"a\"b": [0, 1"#;
        assert_eq!(path_at(text, text.len()), "$.a\"b[1]");
    }

    #[test]
    fn offsets_count_lines() {
        let text = "ab\ncd\nef";
        assert_eq!(offset_of(text, 2, 1), 4);
        assert_eq!(offset_of(text, 9, 9), text.len());
    }
}
