//! `cargo +nightly fuzz run parse` (from `crates/alarm-expr`): feeds arbitrary text to
//! `alarm_expr::parse`; whatever parses must print to text that parses back to the same tree,
//! and print the same again. Errors must point inside the text.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match alarm_expr::parse(text) {
        Ok(expr) => {
            let printed = expr.to_string();
            let again = match alarm_expr::parse(&printed) {
                Ok(again) => again,
                Err(err) => panic!("{text:?} printed as {printed:?}, which fails: {err}"),
            };
            assert_eq!(again, expr, "{text:?} printed as {printed:?}");
            assert_eq!(again.to_string(), printed);
            for sub in expr.sub_expressions() {
                let _ = sub.fmtd_sub_expr_str();
                let _ = sub.sub_alarm_definition_expression();
            }
        }
        Err(err) => {
            assert!(err.position <= text.chars().count(), "{text:?}: {err}");
            let _ = err.render(text);
        }
    }
});
