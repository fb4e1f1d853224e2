//! The expression parser of the rule language, on any text.
fn main() {
    afl::fuzz!(|data: &[u8]| {
        if let Ok(text) = std::str::from_utf8(data) {
            let _ = reperage_rules::expr::parse(text);
        }
    });
}
