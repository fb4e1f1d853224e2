//! A query planned once and run again on frame after frame of the same schema.
//!
//! Why: an evaluation runs the same queries on every piece of the extract (the rule
//! layers, each rule's missing inputs), and Polars plans a query anew at every
//! `collect`: converting the expressions, resolving their types, optimising
//! (common-subexpression elimination among others). For the shipped rules that cost
//! about 110 ms per evaluation whatever the piece's size: 260–290 ms became 150 ms on
//! 1,000 foyers (benches/src/bin/piece_cost.rs, docs/performance.md). Here the
//! optimised plan of the first frame is kept, and each later frame of the same schema
//! takes the place of the first in a copy of it: only the physical plan is built again.
//!
//! The plan is Polars' own (its optimised IR and in-memory executors), so the results
//! are those of a plain `collect`; the tests compare them on frames of the same schema
//! and on a frame of another schema, which is planned afresh. What the optimiser reads
//! of a frame besides its schema is which columns are flagged sorted: a frame that
//! differs there is planned afresh too. (It also reads the row count, to replace an
//! unread frame by placeholders of that length; the frame put in takes their place.)

use std::sync::{Arc, Mutex};

use polars::prelude::*;
use polars::series::IsSorted;
use polars_expr::state::ExecutionState;
use polars_plan::plans::{AExpr, IR};
use polars_utils::arena::{Arena, Node};

/// An optimised plan, with the frame it read taken out.
#[derive(Clone)]
struct Template {
    /// What of the frames it can run on the optimiser read: their schema, and which
    /// columns are flagged sorted (it may plan on sortedness).
    schema: SchemaRef,
    sorted: Vec<IsSorted>,
    top: Node,
    plans: Arena<IR>,
    exprs: Arena<AExpr>,
    /// The one node that scans the input frame.
    scan: Node,
}

/// The optimised plan of one query over one input frame, kept between runs.
#[derive(Default, Clone)]
pub struct PlanCache {
    template: Arc<Mutex<Option<Template>>>,
    /// How many times the query was planned (tests).
    plannings: Arc<std::sync::atomic::AtomicUsize>,
}

impl std::fmt::Debug for PlanCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PlanCache")
    }
}

impl PlanCache {
    /// `query` applied to `df` and collected. `query` must build the same query
    /// whatever the frame (it is called only when no plan is kept for `df`'s schema).
    pub fn collect(&self, df: DataFrame, query: impl FnOnce(LazyFrame) -> LazyFrame) -> PolarsResult<DataFrame> {
        let (schema, sorted) = (df.schema().clone(), sortedness(&df));
        let kept = self
            .template
            .lock()
            .ok()
            .and_then(|t| t.as_ref().filter(|t| t.schema == schema && t.sorted == sorted).cloned());
        let mut template = match kept {
            Some(t) => t,
            None => {
                self.plannings.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                match plan(&df, query)? {
                    Planned::Template(t) => {
                        if let Ok(mut slot) = self.template.lock() {
                            *slot = Some(t.clone());
                        }
                        t
                    }
                    // A plan this module cannot re-aim: run as planned, not kept.
                    Planned::Once(mut plan) => {
                        return run(plan.lp_top, &mut plan.lp_arena, &mut plan.expr_arena);
                    }
                }
            }
        };
        aim(&mut template.plans, template.scan, Arc::new(df));
        run(template.top, &mut template.plans, &mut template.exprs)
    }
}

/// An optimised plan's physical plan, built and executed (the in-memory engine, as
/// `collect` runs it). The arenas are consumed in part.
fn run(top: Node, plans: &mut Arena<IR>, exprs: &mut Arena<AExpr>) -> PolarsResult<DataFrame> {
    polars_mem_engine::create_physical_plan(top, plans, exprs, None)?.execute(&mut ExecutionState::new())
}

enum Planned {
    Template(Template),
    Once(polars_plan::plans::IRPlan),
}

/// The optimised plan of `query` over `df`, as a template when exactly one node scans
/// `df`, with an empty frame in its place (the template does not hold `df`).
fn plan(df: &DataFrame, query: impl FnOnce(LazyFrame) -> LazyFrame) -> PolarsResult<Planned> {
    let names: Vec<PlSmallStr> = df.get_column_names_owned();
    let plan = query(df.clone().lazy()).to_alp_optimized()?;
    // The optimiser may replace the frame of a scan by one whose unread columns are
    // placeholders, but keeps their names and the row count.
    let scans: Vec<Node> = (0..plan.lp_arena.len())
        .map(Node)
        .filter(|n| match plan.lp_arena.get(*n) {
            IR::DataFrameScan { df: scanned, .. } => {
                scanned.height() == df.height() && scanned.get_column_names_owned() == names
            }
            _ => false,
        })
        .collect();
    let [scan] = scans[..] else { return Ok(Planned::Once(plan)) };
    // Reached from the top? A node left in the arena by an optimisation is not.
    if !reaches(&plan.lp_arena, plan.lp_top, scan) {
        return Ok(Planned::Once(plan));
    }
    let mut template = Template {
        schema: df.schema().clone(),
        sorted: sortedness(df),
        top: plan.lp_top,
        plans: plan.lp_arena,
        exprs: plan.expr_arena,
        scan,
    };
    aim(&mut template.plans, scan, Arc::new(DataFrame::empty_with_schema(df.schema())));
    Ok(Planned::Template(template))
}

/// The sorted flag of each column of `df`.
fn sortedness(df: &DataFrame) -> Vec<IsSorted> {
    df.columns().iter().map(|c| c.is_sorted_flag()).collect()
}

/// Whether `node` is `top` or one of its inputs, at any depth.
fn reaches(plans: &Arena<IR>, top: Node, node: Node) -> bool {
    let mut todo = vec![top];
    let mut inputs = Vec::new();
    while let Some(n) = todo.pop() {
        if n == node {
            return true;
        }
        inputs.clear();
        plans.get(n).copy_inputs(&mut inputs);
        todo.extend(inputs.iter().copied());
    }
    false
}

/// Points the scan `node` at `df`. Its projection, if the optimiser set one, is kept:
/// the executor reads only the projected columns of the frame it is given.
fn aim(plans: &mut Arena<IR>, node: Node, df: Arc<DataFrame>) {
    if let IR::DataFrameScan { df: scanned, schema, .. } = plans.get_mut(node) {
        *schema = df.schema().clone();
        *scanned = df;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A query with what the evaluation's have: columns added in layers, a repeated
    /// subexpression (for CSE), a row index, a filter, a projection.
    fn query(lf: LazyFrame) -> LazyFrame {
        let twice = (col("a") * lit(2.0)).alias("twice");
        lf.with_comm_subexpr_elim(true)
            .with_row_index("row", None)
            .with_columns([twice, (col("a") * lit(2.0) + col("b")).alias("sum")])
            .with_columns([(col("sum") * col("twice")).alias("product")])
            .filter(col("b").is_not_null())
            .select([col("row"), col("product"), col("s")])
    }

    fn frame(a: &[f64], b: &[Option<f64>]) -> DataFrame {
        let s: Vec<String> = a.iter().map(|x| format!("s{x}")).collect();
        df!("a" => a, "b" => b, "s" => s, "unread" => a).expect("frame")
    }

    #[test]
    fn a_kept_plan_runs_on_each_frame_its_own_rows() {
        let cache = PlanCache::default();
        let first = frame(&[1.0, 2.0, 3.0], &[Some(1.0), None, Some(3.0)]);
        let second = frame(&[10.0, 20.0], &[None, Some(0.5)]);
        for df in [&first, &second, &first] {
            let kept = cache.collect(df.clone(), query).expect("runs");
            let fresh = query(df.clone().lazy()).collect().expect("collects");
            assert_eq!(kept, fresh);
        }
        assert_eq!(cache.plannings.load(std::sync::atomic::Ordering::Relaxed), 1, "planned once for one schema");
        // The second frame's values, not the first's: row 1, (20 * 2 + 0.5) * 40.
        let out = cache.collect(second, query).expect("runs");
        assert_eq!(out.column("product").expect("column").f64().expect("f64").get(0), Some(1620.0));
        assert_eq!(out.column("row").expect("column").idx().expect("idx").get(0), Some(1));
    }

    #[test]
    fn a_frame_of_another_schema_is_planned_afresh() {
        let cache = PlanCache::default();
        cache.collect(frame(&[1.0], &[Some(1.0)]), query).expect("runs");
        let other = df!("a" => [1.0, 2.0], "b" => [Some(1.0), Some(2.0)], "s" => ["x", "y"]).expect("frame");
        let kept = cache.collect(other.clone(), query).expect("runs");
        assert_eq!(kept, query(other.lazy()).collect().expect("collects"));
        assert_eq!(cache.plannings.load(std::sync::atomic::Ordering::Relaxed), 2);
    }

    #[test]
    fn a_frame_whose_columns_are_flagged_sorted_otherwise_is_planned_afresh() {
        let cache = PlanCache::default();
        let plain = frame(&[1.0, 2.0], &[Some(1.0), Some(2.0)]);
        let mut a = plain.column("a").expect("column").clone();
        a.set_sorted_flag(IsSorted::Ascending);
        let mut sorted = plain.clone();
        sorted.with_column(a).expect("replaced");
        cache.collect(plain, query).expect("runs");
        let kept = cache.collect(sorted.clone(), query).expect("runs");
        assert_eq!(kept, query(sorted.lazy()).collect().expect("collects"));
        assert_eq!(cache.plannings.load(std::sync::atomic::Ordering::Relaxed), 2);
    }

    #[test]
    fn the_kept_plan_does_not_hold_the_frame_it_was_made_with() {
        let cache = PlanCache::default();
        cache.collect(frame(&[1.0, 2.0], &[Some(1.0), Some(2.0)]), query).expect("runs");
        let slot = cache.template.lock().expect("lock");
        let template = slot.as_ref().expect("a plan is kept");
        let IR::DataFrameScan { df, .. } = template.plans.get(template.scan) else { panic!("the scan node") };
        assert_eq!(df.height(), 0);
    }

    #[test]
    fn a_query_whose_scan_the_optimiser_removes_is_collected_as_planned() {
        // A filter that is always false: the optimiser replaces the scan by an empty one.
        let cache = PlanCache::default();
        let never = |lf: LazyFrame| lf.filter(lit(false)).select([col("a")]);
        let df = frame(&[1.0], &[Some(1.0)]);
        let out = cache.collect(df.clone(), never).expect("runs");
        assert_eq!(out, never(df.lazy()).collect().expect("collects"));
        assert!(cache.template.lock().expect("lock").is_none(), "nothing kept");
    }
}
