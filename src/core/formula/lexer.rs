//! Tokens of a formula. Columns are 1-based and count characters (Unicode scalar values), so `π` is one
//! column wide, as it looks in a text field.

use super::error::{FormulaError, FormulaErrorKind};

/// One token's meaning.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Tok {
    Num(f64),
    Ident(String),
    Plus,
    Minus,
    Star,
    Slash,
    /// `^` or `**`.
    Caret,
    LParen,
    RParen,
    Comma,
    /// After the last character.
    End,
}

/// A token and where it stands.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Token {
    pub tok: Tok,
    /// 1-based column of its first character.
    pub col: usize,
    /// Length in characters.
    pub len: usize,
    /// Its text, for messages.
    pub text: String,
}

impl Token {
    /// How a message names it: `'*'`, or `the end of the formula`.
    pub fn describe(&self) -> String {
        match self.tok {
            Tok::End => "the end of the formula".to_owned(),
            _ => format!("'{}'", self.text),
        }
    }
}

/// The characters of a formula with a cursor; every read is bounds-checked.
struct Cursor {
    chars: Vec<char>,
    i: usize,
}

impl Cursor {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    fn peek_at(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.i + ahead).copied()
    }

    /// Advances while `keep` holds; returns the characters passed.
    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> String {
        let mut text = String::new();
        while let Some(c) = self.peek().filter(|&c| keep(c)) {
            text.push(c);
            self.i += 1;
        }
        text
    }
}

/// Splits `src` into tokens, ending with [`Tok::End`].
pub(super) fn tokenize(src: &str) -> Result<Vec<Token>, FormulaError> {
    let mut cur = Cursor {
        chars: src.chars().collect(),
        i: 0,
    };
    let mut toks = Vec::new();
    while let Some(c) = cur.peek() {
        let col = cur.i + 1;
        if c.is_whitespace() {
            cur.i += 1;
            continue;
        }
        let token = if c.is_ascii_digit() || c == '.' {
            number(&mut cur)?
        } else if c.is_ascii_alphabetic() || c == '_' {
            let text = cur.take_while(|c| c.is_ascii_alphanumeric() || c == '_');
            Token {
                tok: Tok::Ident(text.clone()),
                col,
                len: text.chars().count(),
                text,
            }
        } else {
            symbol(&mut cur, c)?
        };
        toks.push(token);
    }
    toks.push(Token {
        tok: Tok::End,
        col: cur.chars.len() + 1,
        len: 1,
        text: String::new(),
    });
    Ok(toks)
}

/// `12`, `.5`, `3.`, `1e-3`, `2.5E+2`. An `e` not followed by digits is not an exponent: `2e` is `2`
/// then the name `e` (and then a missing operator).
fn number(cur: &mut Cursor) -> Result<Token, FormulaError> {
    let col = cur.i + 1;
    let mut text = cur.take_while(|c| c.is_ascii_digit() || c == '.');
    if matches!(cur.peek(), Some('e' | 'E')) {
        let sign = usize::from(matches!(cur.peek_at(1), Some('+' | '-')));
        if cur.peek_at(1 + sign).is_some_and(|c| c.is_ascii_digit()) {
            for _ in 0..=sign {
                if let Some(c) = cur.peek() {
                    text.push(c);
                    cur.i += 1;
                }
            }
            text.push_str(&cur.take_while(|c| c.is_ascii_digit()));
        }
    }
    let len = text.chars().count();
    match text.parse::<f64>() {
        Ok(v) if text != "." => Ok(Token {
            tok: Tok::Num(v),
            col,
            len,
            text,
        }),
        _ => Err(FormulaError::new(
            FormulaErrorKind::InvalidNumber(text),
            col,
            len,
        )),
    }
}

/// Operators, parentheses and commas.
fn symbol(cur: &mut Cursor, c: char) -> Result<Token, FormulaError> {
    let col = cur.i + 1;
    let tok = match c {
        '+' => Tok::Plus,
        '-' => Tok::Minus,
        '/' => Tok::Slash,
        '^' => Tok::Caret,
        '(' => Tok::LParen,
        ')' => Tok::RParen,
        ',' => Tok::Comma,
        '*' if cur.peek_at(1) == Some('*') => {
            cur.i += 2;
            return Ok(Token {
                tok: Tok::Caret,
                col,
                len: 2,
                text: "**".to_owned(),
            });
        }
        '*' => Tok::Star,
        other => {
            return Err(FormulaError::new(
                FormulaErrorKind::UnexpectedChar(other),
                col,
                1,
            ));
        }
    };
    cur.i += 1;
    Ok(Token {
        tok,
        col,
        len: 1,
        text: c.to_string(),
    })
}
