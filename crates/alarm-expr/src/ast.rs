//! The syntax tree and its printers.

use std::fmt::{self, Display, Write as _};

use crate::pyfloat;

/// The period a sub-expression has when none is written (seconds).
pub const DEFAULT_PERIOD: u32 = 60;
/// The number of periods (`times N`) a sub-expression has when none is written.
pub const DEFAULT_PERIODS: u32 = 1;
/// Every period must be a positive multiple of this many seconds.
pub const PERIOD_MULTIPLE: u32 = 60;
/// The longest metric name, dimension name or dimension value, in characters.
pub const MAX_NAME_CHARS: usize = 255;
/// The largest period or number of periods accepted. monasca-api's parser takes any integer,
/// but its database columns (`sub_alarm_definition.period`, `.periods`) are 32-bit signed.
pub const MAX_PERIOD_VALUE: u32 = i32::MAX as u32;
/// The Java monasca-api (and monasca-thresh) limit on `period × periods`: two weeks in seconds.
/// The Python monasca-api does not check it; see [`SubExpr::window_seconds`].
pub const JAVA_MAX_WINDOW_SECONDS: u64 = 1_209_600;

/// The statistic a sub-expression computes over each period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    /// `avg`
    Avg,
    /// `min`
    Min,
    /// `max`
    Max,
    /// `sum`
    Sum,
    /// `count`
    Count,
    /// `last`: the most recent value (period and periods are ignored by the threshold engine).
    Last,
}

impl Function {
    /// Every function, in the order the grammar tries them.
    pub const ALL: [Function; 6] = [
        Function::Max,
        Function::Min,
        Function::Avg,
        Function::Count,
        Function::Sum,
        Function::Last,
    ];

    /// Upper-case name, as monasca-api stores and prints it (`normalized_func`): `AVG`.
    pub fn as_upper(self) -> &'static str {
        match self {
            Function::Avg => "AVG",
            Function::Min => "MIN",
            Function::Max => "MAX",
            Function::Sum => "SUM",
            Function::Count => "COUNT",
            Function::Last => "LAST",
        }
    }

    /// Lower-case name, as written in expressions: `avg`.
    pub fn as_lower(self) -> &'static str {
        match self {
            Function::Avg => "avg",
            Function::Min => "min",
            Function::Max => "max",
            Function::Sum => "sum",
            Function::Count => "count",
            Function::Last => "last",
        }
    }
}

impl Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_upper())
    }
}

/// A relational operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `<` or `lt`
    Lt,
    /// `<=` or `lte`
    Lte,
    /// `>` or `gt`
    Gt,
    /// `>=` or `gte`
    Gte,
}

impl Operator {
    /// monasca-api's `normalized_operator`, stored in `sub_alarm_definition.operator`: `LT`,
    /// `LTE`, `GT` or `GTE`.
    pub fn normalized(self) -> &'static str {
        match self {
            Operator::Lt => "LT",
            Operator::Lte => "LTE",
            Operator::Gt => "GT",
            Operator::Gte => "GTE",
        }
    }

    /// The operator as written in the given style, lower case (`<=` or `lte`).
    pub fn spelled(self, style: OperatorStyle) -> &'static str {
        match (style, self) {
            (OperatorStyle::Symbol, Operator::Lt) => "<",
            (OperatorStyle::Symbol, Operator::Lte) => "<=",
            (OperatorStyle::Symbol, Operator::Gt) => ">",
            (OperatorStyle::Symbol, Operator::Gte) => ">=",
            (OperatorStyle::Word, Operator::Lt) => "lt",
            (OperatorStyle::Word, Operator::Lte) => "lte",
            (OperatorStyle::Word, Operator::Gt) => "gt",
            (OperatorStyle::Word, Operator::Gte) => "gte",
        }
    }

    /// Whether `value OP threshold` holds.
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            Operator::Lt => value < threshold,
            Operator::Lte => value <= threshold,
            Operator::Gt => value > threshold,
            Operator::Gte => value >= threshold,
        }
    }

    /// The function a sub-expression without one gets: `max` for `>`/`>=`, `min` for `<`/`<=`
    /// (a bare `metric > 5` alarms when the largest value exceeds 5).
    pub fn default_function(self) -> Function {
        match self {
            Operator::Gt | Operator::Gte => Function::Max,
            Operator::Lt | Operator::Lte => Function::Min,
        }
    }
}

/// Which of the two spellings of an operator was written. monasca-api keeps it: its
/// `fmtd_sub_expr_str` prints `gte` for `gte` (and `GtE`) and `>=` for `>=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OperatorStyle {
    /// `<`, `<=`, `>`, `>=`
    #[default]
    Symbol,
    /// `lt`, `lte`, `gt`, `gte` (any case)
    Word,
}

/// One comparison: `function(metric{dimensions}, deterministic, period) operator threshold
/// times periods`.
#[derive(Debug, Clone, PartialEq)]
pub struct SubExpr {
    /// The statistic. A sub-expression written without one (`cpu > 5`) gets
    /// [`Operator::default_function`], as upstream does; which of the two was written is not kept.
    pub function: Function,
    /// The metric name, exactly as written (case kept).
    pub metric_name: String,
    /// `(name, value)` pairs in the order written, duplicates kept. Leading blanks are never part
    /// of a name or value, but blanks before `=`, `,` or `}` are (upstream keeps them: `{a = b }`
    /// is name `"a "`, value `"b "`). `{}` and no braces at all are the same thing.
    pub dimensions: Vec<(String, String)>,
    /// `, deterministic` was given.
    pub deterministic: bool,
    /// The comparison.
    pub operator: Operator,
    /// How the comparison was spelled.
    pub operator_style: OperatorStyle,
    /// The threshold (finite).
    pub threshold: f64,
    /// Seconds per period: a positive multiple of 60, [`DEFAULT_PERIOD`] when not written.
    pub period: u32,
    /// How many consecutive periods must match (`times N`), [`DEFAULT_PERIODS`] when not written.
    pub periods: u32,
}

impl SubExpr {
    /// A sub-expression with no dimensions, default period and periods, not deterministic.
    pub fn new(
        function: Function,
        metric_name: impl Into<String>,
        operator: Operator,
        threshold: f64,
    ) -> SubExpr {
        SubExpr {
            function,
            metric_name: metric_name.into(),
            dimensions: Vec::new(),
            deterministic: false,
            operator,
            operator_style: OperatorStyle::Symbol,
            threshold,
            period: DEFAULT_PERIOD,
            periods: DEFAULT_PERIODS,
        }
    }

    /// upstream's `dimensions_str`: `name=value` pairs joined by `,` (empty without dimensions).
    pub fn dimensions_str(&self) -> String {
        let mut out = String::new();
        for (i, (name, value)) in self.dimensions.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(name);
            out.push('=');
            out.push_str(value);
        }
        out
    }

    /// `period × periods`: how far back the sub-expression looks, in seconds. The Java
    /// monasca-api refused definitions where this exceeds [`JAVA_MAX_WINDOW_SECONDS`]; the
    /// Python one (which this crate follows) does not.
    pub fn window_seconds(&self) -> u64 {
        u64::from(self.period) * u64::from(self.periods)
    }

    /// Exactly monasca-api's `SubExpr.fmtd_sub_expr_str` (the `expression` of each sub-expression
    /// in its `alarm-definition-created` event), e.g. `MAX(cpu.idle_perc{hostname=fred}) <=
    /// 3.0 times 4`, `AVG(CPU.PERCENT{}) < 5.0`.
    ///
    /// Its quirks are kept: `{}` is printed even without dimensions, the period only when it is
    /// not 60, `times` only when not 1, `deterministic` never, and the threshold as Python prints
    /// a float (`1e+16`), so this text does not always parse back to the same sub-expression;
    /// [`Display`] does.
    pub fn fmtd_sub_expr_str(&self) -> String {
        let mut out = String::new();
        self.write_text(&mut out, false, pyfloat::python_repr(self.threshold))
            .unwrap_or(());
        out
    }

    /// Exactly monasca-api's `SubAlarmDefinition.expression` (the `expression` of each
    /// sub-expression in its `alarm-definition-updated` event), e.g. `avg(darth.vader{over=9000},
    /// deterministic, 60) GT 10.0 times 1`: lower-case function, braces only with dimensions,
    /// period and periods always, the normalized operator.
    pub fn sub_alarm_definition_expression(&self) -> String {
        let mut out = String::new();
        out.push_str(self.function.as_lower());
        out.push('(');
        out.push_str(&self.metric_name);
        if !self.dimensions.is_empty() {
            out.push('{');
            out.push_str(&self.dimensions_str());
            out.push('}');
        }
        if self.deterministic {
            out.push_str(", deterministic");
        }
        let _ = write!(
            out,
            ", {}) {} {} times {}",
            self.period,
            self.operator.normalized(),
            pyfloat::python_repr(self.threshold),
            self.periods
        );
        out
    }

    fn write_text(
        &self,
        out: &mut impl fmt::Write,
        with_deterministic: bool,
        threshold: String,
    ) -> fmt::Result {
        out.write_str(self.function.as_upper())?;
        out.write_char('(')?;
        out.write_str(&self.metric_name)?;
        out.write_char('{')?;
        for (i, (name, value)) in self.dimensions.iter().enumerate() {
            if i > 0 {
                out.write_char(',')?;
            }
            out.write_str(name)?;
            out.write_char('=')?;
            out.write_str(value)?;
        }
        out.write_char('}')?;
        if with_deterministic && self.deterministic {
            out.write_str(", deterministic")?;
        }
        if self.period != DEFAULT_PERIOD {
            write!(out, ", {}", self.period)?;
        }
        write!(
            out,
            ") {} {}",
            self.operator.spelled(self.operator_style),
            threshold
        )?;
        if self.periods != DEFAULT_PERIODS {
            write!(out, " times {}", self.periods)?;
        }
        Ok(())
    }
}

/// upstream's `fmtd_sub_expr_str` with two changes so that the text always parses back to an
/// equal [`SubExpr`]: `, deterministic` is printed (where upstream's
/// `SubAlarmDefinition.expression` and the Java `AlarmSubExpression` put it, before the period),
/// and a threshold Python would print with an exponent is spelled out (`10000000000000000.0`,
/// not `1e+16`). Anything else is character for character upstream's.
impl Display for SubExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let threshold = if pyfloat::repr_is_positional(self.threshold) {
            pyfloat::python_repr(self.threshold)
        } else {
            pyfloat::positional(self.threshold)
        };
        self.write_text(f, true, threshold)
    }
}

/// An alarm expression: sub-expressions joined by `and` (binds tighter) and `or`.
///
/// `And` and `Or` hold two or more operands. A chain of the same operator is one node
/// (`a and b and c` is `And([a, b, c])`); a parenthesised group stays a node of its own
/// (`(a and b) and c` is `And([And([a, b]), c])`), as in upstream's parse tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// One comparison.
    Sub(SubExpr),
    /// All operands hold.
    And(Vec<Expr>),
    /// At least one operand holds.
    Or(Vec<Expr>),
}

impl Expr {
    /// The sub-expressions from left to right, the order of upstream's `sub_expr_list` (which is
    /// the order monasca-api stores them in and numbers them for its events).
    pub fn sub_expressions(&self) -> Vec<&SubExpr> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<&'a SubExpr>) {
        match self {
            Expr::Sub(sub) => out.push(sub),
            Expr::And(operands) | Expr::Or(operands) => {
                for operand in operands {
                    operand.collect(out);
                }
            }
        }
    }

    /// upstream's `is_definition_deterministic`: every sub-expression is deterministic.
    pub fn is_deterministic(&self) -> bool {
        match self {
            Expr::Sub(sub) => sub.deterministic,
            Expr::And(operands) | Expr::Or(operands) => operands.iter().all(Expr::is_deterministic),
        }
    }

    /// Evaluates the expression, given whether each sub-expression holds (by reference).
    pub fn evaluate(&self, holds: &mut impl FnMut(&SubExpr) -> bool) -> bool {
        match self {
            Expr::Sub(sub) => holds(sub),
            Expr::And(operands) => operands.iter().all(|e| e.evaluate(holds)),
            Expr::Or(operands) => operands.iter().any(|e| e.evaluate(holds)),
        }
    }

    fn fmt_operand(&self, f: &mut fmt::Formatter<'_>, parent_is_and: bool) -> fmt::Result {
        let needs_parens = match self {
            Expr::Sub(_) => false,
            Expr::And(_) => parent_is_and,
            Expr::Or(_) => true,
        };
        if needs_parens {
            write!(f, "({self})")
        } else {
            write!(f, "{self}")
        }
    }
}

/// Each sub-expression as [`SubExpr`]'s `Display`, joined by ` and ` / ` or `, with parentheses
/// only where the tree needs them. upstream never prints a whole expression (it stores the text
/// it was given), so this is this crate's normal form; it parses back to an equal `Expr`.
impl Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (operands, is_and, joiner) = match self {
            Expr::Sub(sub) => return Display::fmt(sub, f),
            Expr::And(operands) => (operands, true, " and "),
            Expr::Or(operands) => (operands, false, " or "),
        };
        for (i, operand) in operands.iter().enumerate() {
            if i > 0 {
                f.write_str(joiner)?;
            }
            operand.fmt_operand(f, is_and)?;
        }
        Ok(())
    }
}

impl From<SubExpr> for Expr {
    fn from(sub: SubExpr) -> Expr {
        Expr::Sub(sub)
    }
}
