//! A cursor that turns fuzzer bytes into structured choices (numbers, short texts,
//! keys), so a target can build nested inputs without a derive crate. Running out of
//! bytes yields zeros and empty texts: every byte string maps to some input.

/// Reads choices from the front of the fuzzer's input.
pub(crate) struct Bytes<'a> {
    rest: &'a [u8],
}

impl<'a> Bytes<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Bytes { rest: data }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    pub(crate) fn byte(&mut self) -> u8 {
        match self.rest.split_first() {
            Some((first, rest)) => {
                self.rest = rest;
                *first
            }
            None => 0,
        }
    }

    pub(crate) fn i64(&mut self) -> i64 {
        let mut value = [0_u8; 8];
        for slot in &mut value {
            *slot = self.byte();
        }
        i64::from_le_bytes(value)
    }

    /// Up to `max` bytes, as many as the next byte says.
    pub(crate) fn slice(&mut self, max: usize) -> &'a [u8] {
        let wanted = usize::from(self.byte()).min(max).min(self.rest.len());
        let (taken, rest) = self.rest.split_at(wanted);
        self.rest = rest;
        taken
    }

    /// A short text, any characters (invalid UTF-8 replaced).
    pub(crate) fn text(&mut self, max: usize) -> String {
        String::from_utf8_lossy(self.slice(max)).into_owned()
    }

    /// A parameter name from a safe alphabet (letters, digits, `_`), 1 to 8 long: the
    /// names billbridge sends never hold brackets.
    pub(crate) fn key(&mut self) -> String {
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789_";
        let length = 1 + usize::from(self.byte() % 8);
        (0..length)
            .map(|_| char::from(ALPHABET[usize::from(self.byte()) % ALPHABET.len()]))
            .collect()
    }

    /// Everything left.
    pub(crate) fn remainder(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.rest)
    }
}
