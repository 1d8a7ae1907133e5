//! Data-item values as `meterkit decode` shows them.

use std::fmt::Write as _;

use dlt645::{
    Di,
    catalogue::{self, Unit},
    value::{self, Value},
};
use serde_json::{Map, Value as Json, json};

/// The catalogue's name for a DI, or a note that it is not catalogued.
pub(crate) fn di_name(di: Di) -> String {
    catalogue::lookup(di).map_or_else(
        || "not in the catalogue".to_owned(),
        |info| info.full_name().to_string(),
    )
}

/// Adds the decoded value of `data` (the bytes after the DI) to both renderings:
/// numbers as `value` / `values` with `unit`, per the decode contract; other kinds as
/// a `value` string.
pub(crate) fn describe(di: Di, data: &[u8], j: &mut Map<String, Json>, t: &mut String) {
    if data.is_empty() {
        return;
    }
    let unit = catalogue::lookup(di).map_or(Unit::None, |info| info.unit);
    match value::decode(di, data) {
        Ok(value) => {
            match &value {
                Value::Number(n) => {
                    j.insert("value".into(), json!(n.to_string()));
                }
                Value::Numbers(list) => {
                    let list: Vec<String> = list.iter().map(ToString::to_string).collect();
                    j.insert("values".into(), json!(list));
                }
                Value::Raw(_) => {}
                other => {
                    j.insert("value".into(), json!(other.to_string()));
                }
            }
            if unit != Unit::None {
                j.insert("unit".into(), json!(unit.as_str()));
            }
            let _ = writeln!(
                t,
                "  value     {value}{}{}",
                if unit == Unit::None { "" } else { " " },
                unit.as_str()
            );
        }
        Err(error) => {
            j.insert("value_error".into(), json!(error.to_string()));
            let _ = writeln!(t, "  value     cannot decode: {error}");
        }
    }
}
