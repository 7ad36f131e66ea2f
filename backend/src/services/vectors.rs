//! Feature-extraction answers checked on their bytes.
//!
//! An embeddings answer is hundreds of numbers per input. Turning each into an `f64` (and
//! back into text for the OpenAI shape) cost more than the rest of the hop, and hfb never
//! needs the values: only that the answer has the task's shape. [`scan`] reads the shape
//! off the bytes, checking every number against JSON's grammar without converting it, and
//! keeps where each top-level vector starts and ends so it can be copied out as it arrived.
//!
//! It only ever accepts: anything else (strings, objects, `NaN`, a wrong shape) is left to
//! the `serde_json::Value` path, which gives the precise error.

use std::ops::Range;

/// Deeper nesting than a list of per-token vectors is not an embeddings answer.
const MAX_DEPTH: u8 = 3;
/// serde_json refuses a number beyond `f64`'s range (about 1.8e308), and an accepted
/// answer must parse (the batch route does parse it). A number with at most 199 integer
/// digits and an exponent of at most 2 digits stays under 1e298; anything longer is left
/// to the value path, which decides.
const MAX_INTEGER_DIGITS: usize = 199;
const MAX_EXPONENT_DIGITS: usize = 2;

/// What a JSON value made only of numbers and arrays is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Number,
    /// `[]`.
    Empty,
    /// A non-empty array of numbers.
    Vector,
    /// A non-empty array of vectors (per-token vectors, or one vector per input).
    Vectors,
    /// Anything else made of numbers and arrays (mixed, or deeper).
    Other,
}

impl Shape {
    /// The answer to one input of feature-extraction: a pooled vector or per-token vectors.
    pub fn is_embedding(self) -> bool {
        matches!(self, Shape::Vector | Shape::Vectors)
    }
}

/// A top-level array made only of numbers and arrays.
#[derive(Debug)]
pub struct Scanned {
    /// The shape of the whole answer.
    pub shape: Shape,
    /// The shapes of its items, with the byte range of each item that is an array (numbers
    /// are not recorded: a vector's own numbers need no ranges).
    pub items: Vec<(Shape, Range<usize>)>,
    /// How many items the top-level array has.
    pub len: usize,
}

/// The shape of `bytes` when it is one JSON array of numbers and arrays (whitespace
/// around it allowed); `None` for anything else, valid JSON or not.
pub fn scan(bytes: &[u8]) -> Option<Scanned> {
    let mut i = ws(bytes, 0);
    if *bytes.get(i)? != b'[' {
        return None;
    }
    let mut items = Vec::new();
    let mut acc = Acc::default();
    i = ws(bytes, i + 1);
    if *bytes.get(i)? == b']' {
        i += 1;
    } else {
        loop {
            let start = i;
            let shape;
            (i, shape) = value(bytes, i, 1)?;
            if shape != Shape::Number {
                items.push((shape, start..i));
            }
            acc.add(shape);
            i = ws(bytes, i);
            match *bytes.get(i)? {
                b',' => i = ws(bytes, i + 1),
                b']' => {
                    i += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    (ws(bytes, i) == bytes.len()).then(|| Scanned {
        shape: acc.shape(),
        items,
        len: acc.len,
    })
}

/// The shape of an array from the shapes of its items.
#[derive(Default)]
struct Acc {
    len: usize,
    numbers: usize,
    vectors: usize,
}

impl Acc {
    fn add(&mut self, item: Shape) {
        self.len += 1;
        match item {
            Shape::Number => self.numbers += 1,
            Shape::Vector => self.vectors += 1,
            _ => {}
        }
    }

    fn shape(&self) -> Shape {
        if self.len == 0 {
            Shape::Empty
        } else if self.numbers == self.len {
            Shape::Vector
        } else if self.vectors == self.len {
            Shape::Vectors
        } else {
            Shape::Other
        }
    }
}

// The scanner works on the slice and an index (returned past what was read), so the
// index stays in a register: a vector's numbers are most of an answer's bytes.

/// Past the whitespace at `i`.
#[inline]
fn ws(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\r' | b'\t') = b.get(i) {
        i += 1;
    }
    i
}

/// The number or array at `i` (not whitespace), at nesting `depth` (the top-level array's
/// items are at 1): the index past it, and its shape.
fn value(b: &[u8], i: usize, depth: u8) -> Option<(usize, Shape)> {
    match *b.get(i)? {
        b'[' if depth < MAX_DEPTH => array(b, i + 1, depth + 1),
        _ => Some((number(b, i)?, Shape::Number)),
    }
}

/// The rest of an array after its `[`.
fn array(b: &[u8], i: usize, depth: u8) -> Option<(usize, Shape)> {
    let mut i = ws(b, i);
    let mut acc = Acc::default();
    match *b.get(i)? {
        b']' => return Some((i + 1, Shape::Empty)),
        b'[' => {}
        // Most likely a vector: its numbers in one tight loop.
        _ => match numbers(b, i)? {
            (end, true) => return Some((end, Shape::Vector)),
            (at, false) => {
                // Numbers, then an array: mixed, so `Other` whatever follows.
                i = at;
                acc.add(Shape::Number);
            }
        },
    }
    loop {
        let shape;
        (i, shape) = value(b, i, depth)?;
        acc.add(shape);
        i = ws(b, i);
        match *b.get(i)? {
            b',' => i = ws(b, i + 1),
            b']' => return Some((i + 1, acc.shape())),
            _ => return None,
        }
    }
}

/// Numbers separated by commas, from `i` (where one starts) to the closing `]`: the index
/// past the `]` and `true`; or, when an array stands where a number would (a mixed array),
/// the index of its `[` and `false`. This is where an embeddings answer's bytes are read,
/// about ten per number.
fn numbers(b: &[u8], mut i: usize) -> Option<(usize, bool)> {
    loop {
        i = number(b, i)?;
        let mut c = *b.get(i)?;
        if c != b',' && c != b']' {
            i = ws(b, i);
            c = *b.get(i)?;
        }
        i += 1;
        match c {
            b',' => {}
            b']' => return Some((i, true)),
            _ => return None,
        }
        if !matches!(b.get(i), Some(b'-' | b'0'..=b'9')) {
            i = ws(b, i);
            if *b.get(i)? == b'[' {
                return Some((i, false));
            }
        }
    }
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?` at `i`, JSON's number grammar, within
/// [`MAX_INTEGER_DIGITS`] and [`MAX_EXPONENT_DIGITS`]: the index past it. Always inlined:
/// [`numbers`] runs it once per number of a vector.
#[inline(always)]
fn number(b: &[u8], mut i: usize) -> Option<usize> {
    if b.get(i) == Some(&b'-') {
        i += 1;
    }
    match *b.get(i)? {
        b'0' => i += 1,
        b'1'..=b'9' => {
            let end = digits(b, i + 1);
            if end - i > MAX_INTEGER_DIGITS {
                return None;
            }
            i = end;
        }
        _ => return None,
    }
    if b.get(i) == Some(&b'.') {
        let end = digits(b, i + 1);
        if end == i + 1 {
            return None;
        }
        i = end;
    }
    if let Some(b'e' | b'E') = b.get(i) {
        i += 1;
        if let Some(b'+' | b'-') = b.get(i) {
            i += 1;
        }
        let end = digits(b, i);
        if !(1..=MAX_EXPONENT_DIGITS).contains(&(end - i)) {
            return None;
        }
        i = end;
    }
    Some(i)
}

/// Past the run of ASCII digits at `i` (most of an embeddings answer's bytes are digits).
/// One eight-byte read covers the usual run; longer runs and the answer's last bytes take
/// the loop.
#[inline(always)]
fn digits(b: &[u8], i: usize) -> usize {
    if let Some(chunk) = b.get(i..).and_then(<[u8]>::first_chunk::<8>)
        && let Some(n) = digits_in(chunk)
    {
        return i + n;
    }
    long_digits(b, i)
}

/// How many of `chunk`'s bytes are digits before the first that is not; `None` when all
/// eight are.
#[inline(always)]
fn digits_in(chunk: &[u8; 8]) -> Option<usize> {
    // Digits become 0..=9. Adding 0x76 sets a byte's high bit when it was 10..=0x7f, `| x`
    // when it was 0x80 and up: a set bit marks a byte that is not a digit. A carry out of
    // such a byte only reaches later bytes, past the first non-digit.
    let x = u64::from_le_bytes(*chunk) ^ 0x3030_3030_3030_3030;
    let stops = (x.wrapping_add(0x7676_7676_7676_7676) | x) & 0x8080_8080_8080_8080;
    (stops != 0).then(|| (stops.trailing_zeros() / 8) as usize)
}

/// [`digits`] for runs of eight digits or more, and near the end of the answer.
#[cold]
fn long_digits(b: &[u8], mut i: usize) -> usize {
    while let Some(chunk) = b.get(i..).and_then(<[u8]>::first_chunk::<8>) {
        match digits_in(chunk) {
            Some(n) => return i + n,
            None => i += 8,
        }
    }
    while b.get(i).is_some_and(u8::is_ascii_digit) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn shape(text: &str) -> Option<Shape> {
        scan(text.as_bytes()).map(|s| s.shape)
    }

    #[test]
    fn shapes_of_embedding_answers() {
        assert_eq!(shape("[0.1, -2, 3e5, 0, -0.0, 1E-7]"), Some(Shape::Vector));
        assert_eq!(shape(" [[0.1,0.2],[0.3]] \n"), Some(Shape::Vectors));
        assert_eq!(shape("[]"), Some(Shape::Empty));
        assert_eq!(shape("[[]]"), Some(Shape::Other));
        assert_eq!(shape("[1,[2]]"), Some(Shape::Other));
        assert_eq!(shape("[[[1]],[[2,3]]]"), Some(Shape::Other));
        assert_eq!(shape("[[[[1]]]]"), None, "deeper than per-token vectors");
        let s = scan(b"[ [1,2] ,[3]]").unwrap();
        assert_eq!(s.len, 2);
        assert_eq!(s.items, vec![(Shape::Vector, 2..7), (Shape::Vector, 9..12)]);
        assert!(scan(b"[1,2]").unwrap().items.is_empty());
        // Digit runs longer than the eight bytes read at a time.
        assert_eq!(
            shape("[12345678901234567, 0.12345678901234567e12, -1e-99]"),
            Some(Shape::Vector)
        );
    }

    #[test]
    fn only_json_numbers_and_arrays_are_accepted() {
        for bad in [
            "",
            "[",
            "]",
            "[1,]",
            "[,1]",
            "[1 2]",
            "[01]",
            "[1.]",
            "[.5]",
            "[-]",
            "[1e]",
            "[1e+]",
            "[+1]",
            "[NaN]",
            "[Infinity]",
            "[\"1\"]",
            "[true]",
            "[null]",
            "{}",
            "[{}]",
            "[123456789\u{e9}]",
            "[0.12345678\u{80}1]",
            "[1234567890123456:]",
            "[00]",
            "[1e400]",
            "[1e999999999999999999999]",
            "1",
            "[1]]",
            "[1] x",
            "[[1]",
            "[1,\n",
            "[0x10]",
            "[1_000]",
        ] {
            assert!(scan(bad.as_bytes()).is_none(), "{bad:?} was accepted");
        }
    }

    /// The shape `scan` should give, worked out on a parsed value.
    fn shape_of(v: &Value) -> Shape {
        match v {
            Value::Number(_) => Shape::Number,
            Value::Array(a) if a.is_empty() => Shape::Empty,
            Value::Array(a) if a.iter().all(Value::is_number) => Shape::Vector,
            Value::Array(a) if a.iter().all(|i| shape_of(i) == Shape::Vector) => Shape::Vectors,
            _ => Shape::Other,
        }
    }

    /// Some exponent in `text` has more than [`MAX_EXPONENT_DIGITS`] digits.
    fn long_exponent(text: &str) -> bool {
        text.split(['e', 'E']).skip(1).any(|after| {
            let digits = after.trim_start_matches(['+', '-']);
            digits.bytes().take_while(u8::is_ascii_digit).count() > MAX_EXPONENT_DIGITS
        })
    }

    fn nesting(v: &Value) -> u8 {
        match v {
            Value::Array(a) => 1 + a.iter().map(nesting).max().unwrap_or(0),
            _ => 0,
        }
    }

    /// A small xorshift generator: deterministic, no dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self, below: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % below as u64) as usize
        }
    }

    fn random_value(rng: &mut Rng, depth: u8, out: &mut String) {
        if depth < MAX_DEPTH && rng.next(3) > 0 {
            out.push('[');
            for i in 0..rng.next(4) {
                if i > 0 {
                    out.push_str([",", ", ", " ,\n"][rng.next(3)]);
                }
                random_value(rng, depth + 1, out);
            }
            out.push(']');
        } else {
            let numbers = [
                "0",
                "-0.5",
                "12",
                "3.25e-4",
                "-7E+2",
                "0.000001",
                "1e9",
                "-0.0123456789012345678",
                "123456789012345678901234567890",
            ];
            out.push_str(numbers[rng.next(numbers.len())]);
        }
    }

    /// Generated answers, valid and then broken one byte at a time: whatever `scan`
    /// accepts, serde_json reads as an array of the same shape, with the same items.
    #[test]
    fn agrees_with_serde_json() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let alphabet = b"[]-+,.0123456789eE \"xn";
        let (mut accepted, mut rejected) = (0, 0);
        for round in 0..20_000 {
            let mut text = String::new();
            random_value(&mut rng, 0, &mut text);
            let mut bytes = text.into_bytes();
            if round % 2 == 1 && !bytes.is_empty() {
                let at = rng.next(bytes.len());
                let c = alphabet[rng.next(alphabet.len())];
                match rng.next(3) {
                    0 => bytes[at] = c,
                    1 => bytes.insert(at, c),
                    _ => {
                        bytes.remove(at);
                    }
                }
            }
            let text = String::from_utf8(bytes).unwrap();
            let parsed = serde_json::from_str::<Value>(&text).ok();
            let Some(scanned) = scan(text.as_bytes()) else {
                rejected += 1;
                // Generated JSON holds only numbers and arrays: refusing it is right only
                // when it is not an array or is nested too deep.
                if let Some(value @ Value::Array(_)) = &parsed {
                    assert!(
                        nesting(value) > MAX_DEPTH || long_exponent(&text),
                        "{text:?} was refused"
                    );
                }
                continue;
            };
            accepted += 1;
            let value = parsed.unwrap_or_else(|| panic!("{text:?} was accepted but is not JSON"));
            let items = value.as_array().expect("an array");
            assert_eq!(scanned.shape, shape_of(&value), "{text:?}");
            assert_eq!(scanned.len, items.len(), "{text:?}");
            let arrays: Vec<&Value> = items.iter().filter(|i| i.is_array()).collect();
            assert_eq!(scanned.items.len(), arrays.len(), "{text:?}");
            for ((shape, range), item) in scanned.items.iter().zip(arrays) {
                let copied: Value = serde_json::from_str(&text[range.clone()]).unwrap();
                assert_eq!(&copied, item, "{text:?}");
                assert_eq!(*shape, shape_of(item), "{text:?}");
            }
        }
        assert!(
            accepted > 5_000 && rejected > 2_000,
            "accepted {accepted}, rejected {rejected}"
        );
    }
}
