//! SMS segment counting by 3GPP TS 23.038/23.040: GSM-7 (160 septets, 153 per part when split;
//! extension characters cost two) or UCS-2 (70 code units, 67 per part; a surrogate pair is never split).

use serde::Serialize;

const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
const GSM7_EXTENSION: &str = "\u{000C}^{}\\[~]|€";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

impl Encoding {
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "GSM-7",
            Encoding::Ucs2 => "UCS-2",
        }
    }
    /// Kannel's `coding` parameter: 0 for 7-bit, 2 for UCS-2.
    pub fn kannel_coding(self) -> u8 {
        match self {
            Encoding::Gsm7 => 0,
            Encoding::Ucs2 => 2,
        }
    }
}

/// How a text goes out as SMS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segments {
    pub encoding: Encoding,
    /// Septets (GSM-7) or UTF-16 code units (UCS-2).
    pub units: u32,
    pub parts: u32,
    /// Units still free in the last part before another part is needed.
    pub remaining: u32,
    /// The distinct characters that force UCS-2, in order of appearance.
    pub ucs2_chars: Vec<char>,
}

/// The cost of each ASCII character (0: none, not in the alphabet), from the two tables at compile time:
/// most texts are mostly ASCII, and a search of the tables for every character was most of the time
/// a delivery spent counting.
const ASCII_COST: [u8; 128] = ascii_costs();

const fn ascii_costs() -> [u8; 128] {
    let mut table = [0u8; 128];
    let (basic, extension) = (GSM7_BASIC.as_bytes(), GSM7_EXTENSION.as_bytes());
    // Bytes of multi-byte characters are all ≥ 128, so only the ASCII characters land in the table.
    let mut i = 0;
    while i < basic.len() {
        if basic[i] < 128 {
            table[basic[i] as usize] = 1;
        }
        i += 1;
    }
    let mut i = 0;
    while i < extension.len() {
        if extension[i] < 128 {
            table[extension[i] as usize] = 2;
        }
        i += 1;
    }
    table
}

fn gsm7_cost(c: char) -> Option<u32> {
    if c.is_ascii() {
        return match ASCII_COST[c as usize] {
            0 => None,
            cost => Some(u32::from(cost)),
        };
    }
    if GSM7_BASIC.contains(c) {
        Some(1)
    } else if GSM7_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// Packs costs into parts of `split` units (or one part of `single` units), never splitting a character.
fn pack(costs: impl Iterator<Item = u32> + Clone, single: u32, split: u32) -> (u32, u32, u32) {
    let total: u32 = costs.clone().sum();
    if total <= single {
        return (total, 1, single - total);
    }
    let (mut parts, mut used) = (1, 0);
    for c in costs {
        if used + c > split {
            parts += 1;
            used = 0;
        }
        used += c;
    }
    (total, parts, split - used)
}

/// Counts the segments of `text`.
pub fn count(text: &str) -> Segments {
    let mut ucs2_chars: Vec<char> = Vec::new();
    for c in text.chars() {
        if gsm7_cost(c).is_none() && !ucs2_chars.contains(&c) {
            ucs2_chars.push(c);
        }
    }
    let (encoding, (units, parts, remaining)) = if ucs2_chars.is_empty() {
        (Encoding::Gsm7, pack(text.chars().map(|c| gsm7_cost(c).unwrap_or(1)), 160, 153))
    } else {
        (Encoding::Ucs2, pack(text.chars().map(|c| c.len_utf16() as u32), 70, 67))
    };
    Segments { encoding, units, parts: if text.is_empty() { 0 } else { parts }, remaining, ucs2_chars }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(text: &str) -> (Encoding, u32, u32) {
        let s = count(text);
        (s.encoding, s.units, s.parts)
    }

    #[test]
    fn ascii_table_agrees_with_the_alphabet() {
        for b in 0u8..128 {
            let c = char::from(b);
            let slow = if GSM7_BASIC.contains(c) {
                Some(1)
            } else if GSM7_EXTENSION.contains(c) {
                Some(2)
            } else {
                None
            };
            assert_eq!(gsm7_cost(c), slow, "{b:#x}");
        }
        assert_eq!(gsm7_cost('€'), Some(2));
        assert_eq!(gsm7_cost('é'), Some(1));
        assert_eq!(gsm7_cost('`'), None);
    }

    #[test]
    fn gsm7_boundaries() {
        use Encoding::Gsm7;
        assert_eq!(parts(""), (Gsm7, 0, 0));
        assert_eq!(parts(&"A".repeat(160)), (Gsm7, 160, 1));
        assert_eq!(parts(&"A".repeat(161)), (Gsm7, 161, 2));
        assert_eq!(parts(&"A".repeat(306)), (Gsm7, 306, 2));
        assert_eq!(parts(&"A".repeat(307)), (Gsm7, 307, 3));
        assert_eq!(parts(&"A".repeat(459)), (Gsm7, 459, 3));
        assert_eq!(parts(&"A".repeat(460)), (Gsm7, 460, 4));
        // Umlauts and ß are in the basic table.
        assert_eq!(parts("Grüße aus Köln: Straßenfest ÄÖÜ äöü"), (Gsm7, 35, 1));
    }

    #[test]
    fn extension_characters_count_two() {
        use Encoding::Gsm7;
        assert_eq!(parts(&"€".repeat(80)), (Gsm7, 160, 1));
        assert_eq!(parts(&"€".repeat(81)), (Gsm7, 162, 2));
        for c in ['^', '{', '}', '\\', '[', '~', ']', '|', '€'] {
            assert_eq!(count(&c.to_string()).units, 2, "{c}");
        }
        // 152 + an escape pair = 154 septets: still one part (unsplit limit 160).
        assert_eq!(parts(&format!("{}€", "A".repeat(152))), (Gsm7, 154, 1));
        // An escape pair is never split across parts: 152 A + € + 8 A = 162 septets, € goes whole
        // into part 1 (152 + 2 > 153 → part 2 starts with €).
        let s = count(&format!("{}€{}", "A".repeat(152), "A".repeat(8)));
        assert_eq!((s.units, s.parts, s.remaining), (162, 2, 153 - 10));
    }

    #[test]
    fn ucs2_boundaries_and_surrogates() {
        use Encoding::Ucs2;
        assert_eq!(parts(&"Ж".repeat(70)), (Ucs2, 70, 1));
        assert_eq!(parts(&"Ж".repeat(71)), (Ucs2, 71, 2));
        assert_eq!(parts(&"Ж".repeat(134)), (Ucs2, 134, 2));
        assert_eq!(parts(&"Ж".repeat(135)), (Ucs2, 135, 3));
        assert_eq!(parts("Hi 👋"), (Ucs2, 5, 1));
        // 66 units + an emoji (2 units) at the boundary of a split text: the pair goes to the next part.
        let s = count(&format!("{}👋{}", "Ж".repeat(66), "Ж".repeat(10)));
        assert_eq!((s.units, s.parts), (78, 2));
        assert_eq!(s.remaining, 67 - 12);
        let s = count(&format!("{}👋", "Ж".repeat(68)));
        assert_eq!((s.units, s.parts), (70, 1));
    }

    #[test]
    fn the_characters_that_force_ucs2_are_named() {
        let s = count("Sommerfest 🎉 am Sonntag — bring Kuchen 🎉");
        assert_eq!(s.encoding, Encoding::Ucs2);
        assert_eq!(s.ucs2_chars, vec!['🎉', '—']);
        assert!(count("ç").ucs2_chars == vec!['ç'], "lower-case ç is not GSM-7 (only Ç is)");
    }
}
