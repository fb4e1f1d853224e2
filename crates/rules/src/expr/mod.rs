//! The expression language used inside rule files.
//!
//! Small on purpose: arithmetic, comparisons, three-valued `et` / `ou` / `non`, `dans`,
//! and a fixed set of functions. Every node keeps its byte span in the expression text,
//! so the checker can point at the exact character of an error.

mod ast;
mod parser;

pub use ast::{BinOp, Expr, ExprKind, Span, UnOp};
pub use parser::{ParseError, parse};
