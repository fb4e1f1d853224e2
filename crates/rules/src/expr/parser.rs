//! Tokenizer and recursive-descent parser for rule expressions.
//!
//! Grammar, loosest binding first:
//! ```text
//! expr    := or
//! or      := and (("ou" | "or") and)*
//! and     := not (("et" | "and") not)*
//! not     := ("non" | "not") not | cmp
//! cmp     := sum (("==" | "!=" | "<" | "<=" | ">" | ">=") sum | ("dans" | "in") "(" list ")")?
//! sum     := product (("+" | "-") product)*
//! product := unary (("*" | "/") unary)*
//! unary   := "-" unary | primary
//! primary := number | string | "vrai" | "faux" | name | name "(" list ")" | "(" expr ")"
//! name    := ident ("." ident)*
//! ```
//! Comparisons do not chain (`a < b < c` is an error): it is almost always a mistake.

use super::ast::{BinOp, Expr, ExprKind, Span, UnOp};

#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub message: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Number(f64),
    Text(String),
    Ident(String),
    Op(&'static str),
    LParen,
    RParen,
    Comma,
    Dot,
    End,
}

struct Lexer<'a> {
    src: &'a str,
    pos: usize,
}

const OPERATORS: [&str; 10] = ["==", "!=", "<=", ">=", "<", ">", "+", "-", "*", "/"];

impl<'a> Lexer<'a> {
    fn next(&mut self) -> Result<(Tok, Span), ParseError> {
        let bytes = self.src.as_bytes();
        while self.pos < bytes.len() && (bytes[self.pos] as char).is_ascii_whitespace() {
            self.pos += 1;
        }
        let start = self.pos;
        let Some(&b) = bytes.get(self.pos) else {
            return Ok((Tok::End, start..start));
        };
        let c = b as char;
        if c.is_ascii_digit() {
            while self.pos < bytes.len() && (bytes[self.pos].is_ascii_digit() || bytes[self.pos] == b'_') {
                self.pos += 1;
            }
            if bytes.get(self.pos) == Some(&b'.') && bytes.get(self.pos + 1).is_some_and(|b| b.is_ascii_digit()) {
                self.pos += 1;
                while self.pos < bytes.len() && bytes[self.pos].is_ascii_digit() {
                    self.pos += 1;
                }
            }
            let text: String = self.src[start..self.pos].chars().filter(|&c| c != '_').collect();
            let value = text.parse::<f64>().map_err(|_| ParseError {
                message: format!("invalid number `{}`", &self.src[start..self.pos]),
                span: start..self.pos,
            })?;
            return Ok((Tok::Number(value), start..self.pos));
        }
        if c.is_ascii_alphabetic() || c == '_' {
            while self.pos < bytes.len() && (bytes[self.pos].is_ascii_alphanumeric() || bytes[self.pos] == b'_') {
                self.pos += 1;
            }
            return Ok((Tok::Ident(self.src[start..self.pos].to_string()), start..self.pos));
        }
        if c == '"' || c == '\'' {
            let quote = b;
            self.pos += 1;
            let content_start = self.pos;
            while self.pos < bytes.len() && bytes[self.pos] != quote {
                self.pos += 1;
            }
            if self.pos >= bytes.len() {
                return Err(ParseError { message: "unterminated text literal".into(), span: start..self.src.len() });
            }
            let text = self.src[content_start..self.pos].to_string();
            self.pos += 1;
            return Ok((Tok::Text(text), start..self.pos));
        }
        let simple = match c {
            '(' => Some(Tok::LParen),
            ')' => Some(Tok::RParen),
            ',' => Some(Tok::Comma),
            '.' => Some(Tok::Dot),
            _ => None,
        };
        if let Some(tok) = simple {
            self.pos += 1;
            return Ok((tok, start..self.pos));
        }
        for op in OPERATORS {
            if self.src[self.pos..].starts_with(op) {
                self.pos += op.len();
                return Ok((Tok::Op(op), start..self.pos));
            }
        }
        let ch = self.src[self.pos..].chars().next().unwrap_or('?');
        let hint = match ch {
            '=' => " (comparison is `==`)",
            '&' => " (write `et`)",
            '|' => " (write `ou`)",
            '!' => " (write `non`)",
            _ if !ch.is_ascii() => " (names are written without accents)",
            _ => "",
        };
        Err(ParseError { message: format!("unexpected character `{ch}`{hint}"), span: start..start + ch.len_utf8() })
    }
}

struct Parser<'a> {
    lexer: Lexer<'a>,
    tok: Tok,
    span: Span,
}

fn keyword(tok: &Tok, words: &[&str]) -> bool {
    matches!(tok, Tok::Ident(w) if words.contains(&w.as_str()))
}

const KEYWORDS: [&str; 15] =
    ["et", "and", "ou", "or", "non", "not", "dans", "in", "vrai", "faux", "true", "false", "inconnu", "si", "param"];

impl<'a> Parser<'a> {
    fn bump(&mut self) -> Result<(Tok, Span), ParseError> {
        let (tok, span) = self.lexer.next()?;
        let prev_tok = std::mem::replace(&mut self.tok, tok);
        let prev_span = std::mem::replace(&mut self.span, span);
        Ok((prev_tok, prev_span))
    }

    fn error<T>(&self, message: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError { message: message.into(), span: self.span.clone() })
    }

    fn describe(&self) -> String {
        match &self.tok {
            Tok::End => "the end of the expression".into(),
            _ => format!("`{}`", &self.lexer.src[self.span.clone()]),
        }
    }

    fn expr(&mut self) -> Result<Expr, ParseError> {
        self.binary_level(0)
    }

    /// Levels 0 (`ou`) and 1 (`et`) are left-associative chains.
    fn binary_level(&mut self, level: u8) -> Result<Expr, ParseError> {
        let (words, op): (&[&str], BinOp) = match level {
            0 => (&["ou", "or"], BinOp::Or),
            _ => (&["et", "and"], BinOp::And),
        };
        let mut left = if level == 0 { self.binary_level(1)? } else { self.not()? };
        while keyword(&self.tok, words) {
            self.bump()?;
            let right = if level == 0 { self.binary_level(1)? } else { self.not()? };
            let span = left.span.start..right.span.end;
            left = Expr { kind: ExprKind::Binary(op, Box::new(left), Box::new(right)), span };
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, ParseError> {
        if keyword(&self.tok, &["non", "not"]) {
            let (_, span) = self.bump()?;
            let inner = self.not()?;
            let span = span.start..inner.span.end;
            return Ok(Expr { kind: ExprKind::Unary(UnOp::Not, Box::new(inner)), span });
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, ParseError> {
        let left = self.sum()?;
        if keyword(&self.tok, &["dans", "in"]) {
            self.bump()?;
            if self.tok != Tok::LParen {
                return self.error(format!("expected `(` after `dans`, found {}", self.describe()));
            }
            self.bump()?;
            let items = self.list()?;
            let end = self.span.end;
            self.expect_rparen()?;
            let span = left.span.start..end;
            return Ok(Expr { kind: ExprKind::In(Box::new(left), items), span });
        }
        let op = match &self.tok {
            Tok::Op("==") => BinOp::Eq,
            Tok::Op("!=") => BinOp::Ne,
            Tok::Op("<") => BinOp::Lt,
            Tok::Op("<=") => BinOp::Le,
            Tok::Op(">") => BinOp::Gt,
            Tok::Op(">=") => BinOp::Ge,
            _ => return Ok(left),
        };
        self.bump()?;
        let right = self.sum()?;
        if matches!(self.tok, Tok::Op("==" | "!=" | "<" | "<=" | ">" | ">=")) {
            return self.error("comparisons do not chain: combine them with `et`");
        }
        let span = left.span.start..right.span.end;
        Ok(Expr { kind: ExprKind::Binary(op, Box::new(left), Box::new(right)), span })
    }

    fn sum(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.product()?;
        loop {
            let op = match self.tok {
                Tok::Op("+") => BinOp::Add,
                Tok::Op("-") => BinOp::Sub,
                _ => return Ok(left),
            };
            self.bump()?;
            let right = self.product()?;
            let span = left.span.start..right.span.end;
            left = Expr { kind: ExprKind::Binary(op, Box::new(left), Box::new(right)), span };
        }
    }

    fn product(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.unary()?;
        loop {
            let op = match self.tok {
                Tok::Op("*") => BinOp::Mul,
                Tok::Op("/") => BinOp::Div,
                _ => return Ok(left),
            };
            self.bump()?;
            let right = self.unary()?;
            let span = left.span.start..right.span.end;
            left = Expr { kind: ExprKind::Binary(op, Box::new(left), Box::new(right)), span };
        }
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        if self.tok == Tok::Op("-") {
            let (_, span) = self.bump()?;
            let inner = self.unary()?;
            let span = span.start..inner.span.end;
            return Ok(Expr { kind: ExprKind::Unary(UnOp::Neg, Box::new(inner)), span });
        }
        self.primary()
    }

    fn list(&mut self) -> Result<Vec<Expr>, ParseError> {
        let mut items = Vec::new();
        if self.tok == Tok::RParen {
            return Ok(items);
        }
        loop {
            items.push(self.expr()?);
            if self.tok != Tok::Comma {
                return Ok(items);
            }
            self.bump()?;
        }
    }

    fn expect_rparen(&mut self) -> Result<(), ParseError> {
        if self.tok != Tok::RParen {
            return self.error(format!("expected `)` or `,`, found {}", self.describe()));
        }
        self.bump()?;
        Ok(())
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        match self.tok.clone() {
            Tok::Number(n) => {
                let (_, span) = self.bump()?;
                Ok(Expr { kind: ExprKind::Number(n), span })
            }
            Tok::Text(t) => {
                let (_, span) = self.bump()?;
                Ok(Expr { kind: ExprKind::Text(t), span })
            }
            Tok::LParen => {
                self.bump()?;
                let inner = self.expr()?;
                self.expect_rparen()?;
                Ok(inner)
            }
            Tok::Ident(word) => {
                let (_, span) = self.bump()?;
                match word.as_str() {
                    "vrai" | "true" => return Ok(Expr { kind: ExprKind::Bool(true), span }),
                    "faux" | "false" => return Ok(Expr { kind: ExprKind::Bool(false), span }),
                    "inconnu" => return Ok(Expr { kind: ExprKind::Unknown, span }),
                    _ => {}
                }
                if self.tok == Tok::LParen {
                    self.bump()?;
                    let args = self.list()?;
                    let end = self.span.end;
                    self.expect_rparen()?;
                    let whole = span.start..end;
                    return Ok(Expr { kind: ExprKind::Call(word, span, args), span: whole });
                }
                if KEYWORDS.contains(&word.as_str()) && word != "param" {
                    return Err(ParseError { message: format!("`{word}` is a keyword and cannot stand here"), span });
                }
                let mut path = vec![word];
                let mut end = span.end;
                while self.tok == Tok::Dot {
                    self.bump()?;
                    match self.tok.clone() {
                        Tok::Ident(part) => {
                            let (_, s) = self.bump()?;
                            end = s.end;
                            path.push(part);
                        }
                        _ => return self.error(format!("expected a name after `.`, found {}", self.describe())),
                    }
                }
                Ok(Expr { kind: ExprKind::Name(path), span: span.start..end })
            }
            _ => self.error(format!("expected a value, a name or `(`, found {}", self.describe())),
        }
    }
}

/// Parses one expression; the whole text must be consumed.
pub fn parse(src: &str) -> Result<Expr, ParseError> {
    let mut lexer = Lexer { src, pos: 0 };
    let (tok, span) = lexer.next()?;
    let mut parser = Parser { lexer, tok, span };
    let expr = parser.expr()?;
    if parser.tok != Tok::End {
        return parser.error(format!("unexpected {} after a complete expression", parser.describe()));
    }
    Ok(expr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(e: &Expr) -> String {
        match &e.kind {
            ExprKind::Number(n) => format!("{n}"),
            ExprKind::Bool(b) => format!("{b}"),
            ExprKind::Unknown => "inconnu".to_string(),
            ExprKind::Text(t) => format!("{t:?}"),
            ExprKind::Name(p) => p.join("."),
            ExprKind::Unary(UnOp::Neg, e) => format!("(-{})", show(e)),
            ExprKind::Unary(UnOp::Not, e) => format!("(non {})", show(e)),
            ExprKind::Binary(op, a, b) => format!("({} {} {})", show(a), op.symbol(), show(b)),
            ExprKind::In(e, items) => {
                format!("({} dans {})", show(e), items.iter().map(show).collect::<Vec<_>>().join(","))
            }
            ExprKind::Call(f, _, args) => {
                format!("{f}({})", args.iter().map(show).collect::<Vec<_>>().join(","))
            }
        }
    }

    #[test]
    fn precedence_and_associativity() {
        let e = parse("a + b * c - d / 2 >= 3 et non x ou y").unwrap();
        assert_eq!(show(&e), "(((((a + (b * c)) - (d / 2)) >= 3) et (non x)) ou y)");
        let e = parse("1 - 2 - 3").unwrap();
        assert_eq!(show(&e), "((1 - 2) - 3)");
        let e = parse("-a * 2").unwrap();
        assert_eq!(show(&e), "((-a) * 2)");
    }

    #[test]
    fn names_calls_and_lists() {
        let e = parse("max(0, param.rsa.montant_forfaitaire - rsa.ressources_3m) ").unwrap();
        assert_eq!(show(&e), "max(0,(param.rsa.montant_forfaitaire - rsa.ressources_3m))");
        let e = parse("statut_logement dans (\"proprietaire\", 'accedant')").unwrap();
        assert_eq!(show(&e), "(statut_logement dans \"proprietaire\",\"accedant\")");
        assert_eq!(show(&parse("1_000.50").unwrap()), "1000.5");
        // `inconnu` is a literal, not a name: it reads no input.
        let e = parse("si(x, inconnu, vrai)").unwrap();
        assert_eq!(show(&e), "si(x,inconnu,true)");
        assert_eq!(e.names().len(), 1);
    }

    #[test]
    fn spans_cover_the_source() {
        let src = "age >= 25 et nb_enfants > 0";
        let e = parse(src).unwrap();
        assert_eq!(e.span, 0..src.len());
        let names: Vec<_> = e.names().into_iter().map(|(p, s)| (p.join("."), s.clone())).collect();
        assert_eq!(names, vec![("age".into(), 0..3), ("nb_enfants".into(), 13..23)]);
    }

    #[test]
    fn errors_have_positions() {
        let err = parse("age >= ").unwrap_err();
        assert_eq!(err.span.start, 7);
        let err = parse("a = 1").unwrap_err();
        assert_eq!(err.span, 2..3);
        assert!(err.message.contains("=="), "{}", err.message);
        let err = parse("(a + 1").unwrap_err();
        assert!(err.message.contains("expected `)`"), "{}", err.message);
        let err = parse("a < b < c").unwrap_err();
        assert!(err.message.contains("do not chain"));
        let err = parse("a b").unwrap_err();
        assert_eq!(err.span, 2..3);
        let err = parse("âge > 1").unwrap_err();
        assert!(err.message.contains("accents"));
        let err = parse("\"abc").unwrap_err();
        assert!(err.message.contains("unterminated"));
    }
}
