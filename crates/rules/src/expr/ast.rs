//! The syntax tree of an expression.

/// Byte range within the expression text.
pub type Span = std::ops::Range<usize>;

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Number(f64),
    Bool(bool),
    /// `inconnu`: a boolean the rule author states is unknown (a case the rule does not
    /// model), so that the result is undetermined rather than a silent `faux`.
    Unknown,
    Text(String),
    /// A dotted name (`age_allocataire_mois`, `rsa.forfait_logement`,
    /// `param.rsa.montant_forfaitaire`), resolved by the checker.
    Name(Vec<String>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `x dans ("a", "b")`
    In(Box<Expr>, Vec<Expr>),
    /// `f(a, b)`; the span of the function name is kept for error messages.
    Call(String, Span, Vec<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "et",
            BinOp::Or => "ou",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(self, BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge)
    }

    pub fn is_arithmetic(self) -> bool {
        matches!(self, BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div)
    }
}

impl Expr {
    /// Every name the expression refers to, with its span, in source order.
    pub fn names(&self) -> Vec<(&[String], &Span)> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let ExprKind::Name(path) = &e.kind {
                out.push((path.as_slice(), &e.span));
            }
        });
        out
    }

    /// Calls `f` on this node and every node below it, in source order.
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Expr)) {
        f(self);
        match &self.kind {
            ExprKind::Unary(_, e) => e.walk(f),
            ExprKind::Binary(_, a, b) => {
                a.walk(f);
                b.walk(f);
            }
            ExprKind::In(e, items) => {
                e.walk(f);
                items.iter().for_each(|i| i.walk(f));
            }
            ExprKind::Call(_, _, args) => args.iter().for_each(|a| a.walk(f)),
            ExprKind::Name(_) | ExprKind::Number(_) | ExprKind::Bool(_) | ExprKind::Unknown | ExprKind::Text(_) => {}
        }
    }
}
