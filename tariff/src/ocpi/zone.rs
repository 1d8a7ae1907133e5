//! Which time zone a CDR's local restriction times are read in.

use crate::Zone;

use super::{Cdr, OcpiError};

/// Countries (ISO 3166 alpha-3 and alpha-2) whose whole territory keeps one IANA zone. Countries
/// with several zones (USA, CAN, AUS, RUS, BRA, MEX, ESP with the Canaries, PRT with the
/// Azores, …) are deliberately absent: guessing one would misprice sessions.
const SINGLE_ZONE: &[(&str, &str, &str)] = &[
    ("AUT", "AT", "Europe/Vienna"),
    ("BEL", "BE", "Europe/Brussels"),
    ("BGR", "BG", "Europe/Sofia"),
    ("CHE", "CH", "Europe/Zurich"),
    ("CHN", "CN", "Asia/Shanghai"),
    ("CZE", "CZ", "Europe/Prague"),
    ("DEU", "DE", "Europe/Berlin"),
    ("DNK", "DK", "Europe/Copenhagen"),
    ("EST", "EE", "Europe/Tallinn"),
    ("FIN", "FI", "Europe/Helsinki"),
    ("FRA", "FR", "Europe/Paris"),
    ("GBR", "GB", "Europe/London"),
    ("GRC", "GR", "Europe/Athens"),
    ("HRV", "HR", "Europe/Zagreb"),
    ("HUN", "HU", "Europe/Budapest"),
    ("IND", "IN", "Asia/Kolkata"),
    ("IRL", "IE", "Europe/Dublin"),
    ("IRN", "IR", "Asia/Tehran"),
    ("ISL", "IS", "Atlantic/Reykjavik"),
    ("ITA", "IT", "Europe/Rome"),
    ("JPN", "JP", "Asia/Tokyo"),
    ("KOR", "KR", "Asia/Seoul"),
    ("LTU", "LT", "Europe/Vilnius"),
    ("LUX", "LU", "Europe/Luxembourg"),
    ("LVA", "LV", "Europe/Riga"),
    ("NLD", "NL", "Europe/Amsterdam"),
    ("NOR", "NO", "Europe/Oslo"),
    ("POL", "PL", "Europe/Warsaw"),
    ("ROU", "RO", "Europe/Bucharest"),
    ("SGP", "SG", "Asia/Singapore"),
    ("SVK", "SK", "Europe/Bratislava"),
    ("SVN", "SI", "Europe/Ljubljana"),
    ("SWE", "SE", "Europe/Stockholm"),
];

/// The single IANA zone of a country given by its ISO 3166 alpha-3 or alpha-2 code, if it has
/// exactly one.
#[must_use]
pub fn zone_of_country(code: &str) -> Option<&'static str> {
    SINGLE_ZONE
        .iter()
        .find(|(a3, a2, _)| code.eq_ignore_ascii_case(a3) || code.eq_ignore_ascii_case(a2))
        .map(|(_, _, zone)| *zone)
}

/// The ISO 3166 alpha-2 code of the single-zone country whose zone is `zone` (IANA name).
pub(crate) fn country_of_zone(zone: &str) -> Option<&'static str> {
    SINGLE_ZONE
        .iter()
        .find(|(_, _, z)| *z == zone)
        .map(|(_, a2, _)| *a2)
}

/// The zone to read a CDR's restriction times in: `explicit` (e.g. `--tz`) wins, then the CDR
/// location's `time_zone`, then the location country's zone when it has only one.
///
/// # Errors
/// [`OcpiError::TimeZone`] for an unknown zone name, [`OcpiError::NoTimeZone`] when none of the
/// three sources gives one.
pub fn resolve_zone(explicit: Option<&str>, cdr: &Cdr) -> Result<Zone, OcpiError> {
    let parse = |path: &'static str, text: &str| {
        Zone::parse(text).map_err(|_| OcpiError::TimeZone {
            path,
            value: text.into(),
        })
    };
    if let Some(text) = explicit {
        return parse("--tz", text);
    }
    let location = cdr.cdr_location.as_ref();
    if let Some(text) = location.and_then(|l| l.time_zone.as_deref()) {
        return parse("$.cdr_location.time_zone", text);
    }
    let country = location.and_then(|l| l.country.clone());
    match country.as_deref().and_then(zone_of_country) {
        Some(name) => parse("$.cdr_location.country", name),
        None => Err(OcpiError::NoTimeZone { country }),
    }
}
