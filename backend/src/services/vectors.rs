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
    let mut s = Scanner { b: bytes, i: 0 };
    s.ws();
    if s.peek()? != b'[' {
        return None;
    }
    s.i += 1;
    let mut items = Vec::new();
    let mut acc = Acc::default();
    s.ws();
    if s.peek()? == b']' {
        s.i += 1;
    } else {
        loop {
            s.ws();
            let start = s.i;
            let shape = s.value(1)?;
            if shape != Shape::Number {
                items.push((shape, start..s.i));
            }
            acc.add(shape);
            s.ws();
            match s.peek()? {
                b',' => s.i += 1,
                b']' => {
                    s.i += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    s.ws();
    if s.i != bytes.len() {
        return None;
    }
    Some(Scanned {
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

struct Scanner<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.i += 1;
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
        self.i - start
    }

    /// A number or an array at nesting `depth` (the top-level array's items are at 1).
    fn value(&mut self, depth: u8) -> Option<Shape> {
        match self.peek()? {
            b'[' if depth < MAX_DEPTH => self.array(depth + 1),
            b'-' | b'0'..=b'9' => self.number(),
            _ => None,
        }
    }

    fn array(&mut self, depth: u8) -> Option<Shape> {
        self.i += 1;
        let mut acc = Acc::default();
        self.ws();
        if self.peek()? == b']' {
            self.i += 1;
            return Some(Shape::Empty);
        }
        loop {
            self.ws();
            acc.add(self.value(depth)?);
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    return Some(acc.shape());
                }
                _ => return None,
            }
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`, JSON's number grammar.
    fn number(&mut self) -> Option<Shape> {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => {
                self.digits();
            }
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return None;
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if self.digits() == 0 {
                return None;
            }
        }
        Some(Shape::Number)
    }
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
            out.push_str(["0", "-0.5", "12", "3.25e-4", "-7E+2", "0.000001", "1e9"][rng.next(7)]);
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
                    assert!(nesting(value) > MAX_DEPTH, "{text:?} was refused");
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
