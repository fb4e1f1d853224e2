//! A query planned once and run again on frames after frames of the same schemas.
//!
//! Why: an evaluation runs the same queries on every piece of the extract (the
//! situation, the rule layers, each rule's missing inputs), and Polars plans a query
//! anew at every `collect`: converting the expressions, resolving their types,
//! optimising (common-subexpression elimination among others). For the shipped rules
//! that cost about 110 ms per evaluation whatever the piece's size: 260–290 ms became
//! 150 ms on 1,000 foyers (benches/src/bin/piece_cost.rs, docs/performance.md). Here the
//! optimised plan of the first frames is kept, and later frames of the same schemas take
//! the place of the first in a copy of it: only the physical plan is built again.
//!
//! Each input frame carries a marker column (`__reperage_entree_<k>`), dropped before
//! the query sees it: the optimiser replaces the columns a scan does not read by
//! placeholders but keeps their names, so every scan of input `k` in the optimised plan
//! is the one whose frame has that name.
//!
//! The plan is Polars' own (its optimised IR and in-memory executors), so the results
//! are those of a plain `collect`; the tests compare them on frames of the same schemas
//! and on frames of other schemas, which are planned afresh. What the optimiser reads
//! of a frame besides its schema is which columns are flagged sorted: frames that
//! differ there are planned afresh too. (It also reads the row count, to replace an
//! unread frame by placeholders of that length; the frame put in takes their place.)

use std::sync::{Arc, Mutex};

use polars::prelude::*;
use polars::series::IsSorted;
use polars_expr::state::ExecutionState;
use polars_plan::plans::{AExpr, IR};
use polars_utils::arena::{Arena, Node};

/// What the optimiser read of an input frame: its schema, and which columns are flagged
/// sorted (it may plan on sortedness).
type Shape = (SchemaRef, Vec<IsSorted>);

/// An optimised plan, with the frames it read taken out.
#[derive(Clone)]
struct Template {
    /// The inputs it can run on.
    shapes: Vec<Shape>,
    top: Node,
    plans: Arena<IR>,
    exprs: Arena<AExpr>,
    /// The nodes that scan each input (none when the optimiser found it need not be read).
    scans: Vec<Vec<Node>>,
}

/// The optimised plan of one query, kept between runs.
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
    /// How many times the query was planned: once per schema (and sortedness) of its
    /// inputs when the plan is kept.
    pub fn plannings(&self) -> usize {
        self.plannings.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// `query` applied to `df` and collected ([`PlanCache::collect_all`] of one frame).
    pub fn collect(&self, df: DataFrame, query: impl FnOnce(LazyFrame) -> LazyFrame) -> PolarsResult<DataFrame> {
        self.collect_all(vec![df], |mut lfs| query(lfs.remove(0)))
    }

    /// `query` applied to `frames` (as lazy frames, in the same order) and collected.
    /// `query` must build the same query whatever the frames (it is called only when no
    /// plan is kept for their schemas).
    pub fn collect_all(
        &self,
        frames: Vec<DataFrame>,
        query: impl FnOnce(Vec<LazyFrame>) -> LazyFrame,
    ) -> PolarsResult<DataFrame> {
        let shapes: Vec<Shape> = frames.iter().map(|df| (df.schema().clone(), sortedness(df))).collect();
        let marked = frames.into_iter().enumerate().map(|(k, df)| marked(df, k)).collect::<PolarsResult<Vec<_>>>()?;
        let kept = self.template.lock().ok().and_then(|t| t.as_ref().filter(|t| t.shapes == shapes).cloned());
        let mut template = match kept {
            Some(t) => t,
            None => {
                self.plannings.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let t = plan(&marked, shapes, query)?;
                if let Ok(mut slot) = self.template.lock() {
                    *slot = Some(t.clone());
                }
                t
            }
        };
        for (df, nodes) in marked.into_iter().zip(&template.scans) {
            let df = Arc::new(df);
            for node in nodes {
                aim(&mut template.plans, *node, df.clone());
            }
        }
        polars_mem_engine::create_physical_plan(template.top, &mut template.plans, &mut template.exprs, None)?
            .execute(&mut ExecutionState::new())
    }
}

/// The name of input `k`'s marker column.
fn marker(k: usize) -> PlSmallStr {
    format!("__reperage_entree_{k}").into()
}

/// `df` with the marker column of input `k` (one null repeated: no data).
fn marked(mut df: DataFrame, k: usize) -> PolarsResult<DataFrame> {
    let height = df.height();
    df.with_column(Column::new_scalar(marker(k), Scalar::null(DataType::Boolean), height))?;
    Ok(df)
}

/// The optimised plan of `query` over the `marked` frames, with every scan of an input
/// found, and an empty frame in its place (the template holds none of the frames).
fn plan(
    marked: &[DataFrame],
    shapes: Vec<Shape>,
    query: impl FnOnce(Vec<LazyFrame>) -> LazyFrame,
) -> PolarsResult<Template> {
    let lazy = marked.iter().enumerate().map(|(k, df)| df.clone().lazy().drop(cols([marker(k)]))).collect();
    let plan = query(lazy).to_alp_optimized()?;
    let markers: Vec<PlSmallStr> = (0..marked.len()).map(marker).collect();
    let mut scans = vec![Vec::new(); marked.len()];
    for node in reached(&plan.lp_arena, plan.lp_top) {
        if let IR::DataFrameScan { df, .. } = plan.lp_arena.get(node) {
            for (k, name) in markers.iter().enumerate() {
                if df.schema().contains(name) {
                    scans[k].push(node);
                }
            }
        }
    }
    let mut template = Template { shapes, top: plan.lp_top, plans: plan.lp_arena, exprs: plan.expr_arena, scans };
    for (df, nodes) in marked.iter().zip(&template.scans) {
        let empty = Arc::new(DataFrame::empty_with_schema(df.schema()));
        for node in nodes {
            aim(&mut template.plans, *node, empty.clone());
        }
    }
    Ok(template)
}

/// The sorted flag of each column of `df`.
fn sortedness(df: &DataFrame) -> Vec<IsSorted> {
    df.columns().iter().map(|c| c.is_sorted_flag()).collect()
}

/// `top` and every node it reads, at any depth, each once (a node left in the arena by
/// an optimisation is not among them).
fn reached(plans: &Arena<IR>, top: Node) -> Vec<Node> {
    let mut seen = std::collections::BTreeSet::new();
    let mut todo = vec![top];
    let mut inputs = Vec::new();
    while let Some(n) = todo.pop() {
        if !seen.insert(n.0) {
            continue;
        }
        inputs.clear();
        plans.get(n).copy_inputs(&mut inputs);
        todo.extend(inputs.iter().copied());
    }
    seen.into_iter().map(Node).collect()
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
        assert_eq!(cache.plannings(), 1, "planned once for one schema");
        // The second frame's values, not the first's: row 1, (20 * 2 + 0.5) * 40.
        let out = cache.collect(second, query).expect("runs");
        assert_eq!(out.column("product").expect("column").f64().expect("f64").get(0), Some(1620.0));
        assert_eq!(out.column("row").expect("column").idx().expect("idx").get(0), Some(1));
    }

    /// `second`, run after `first` on one cache, is planned afresh and gives its own rows.
    fn assert_planned_afresh(first: DataFrame, second: DataFrame) {
        let cache = PlanCache::default();
        cache.collect(first, query).expect("runs");
        let kept = cache.collect(second.clone(), query).expect("runs");
        assert_eq!(kept, query(second.lazy()).collect().expect("collects"));
        assert_eq!(cache.plannings(), 2);
    }

    #[test]
    fn a_frame_of_another_schema_is_planned_afresh() {
        let other = df!("a" => [1.0, 2.0], "b" => [Some(1.0), Some(2.0)], "s" => ["x", "y"]).expect("frame");
        assert_planned_afresh(frame(&[1.0], &[Some(1.0)]), other);
    }

    #[test]
    fn a_frame_whose_columns_are_flagged_sorted_otherwise_is_planned_afresh() {
        let plain = frame(&[1.0, 2.0], &[Some(1.0), Some(2.0)]);
        let mut a = plain.column("a").expect("column").clone();
        a.set_sorted_flag(IsSorted::Ascending);
        let mut sorted = plain.clone();
        sorted.with_column(a).expect("replaced");
        assert_planned_afresh(plain, sorted);
    }

    #[test]
    fn the_kept_plan_does_not_hold_the_frames_it_was_made_with() {
        let cache = PlanCache::default();
        cache.collect(frame(&[1.0, 2.0], &[Some(1.0), Some(2.0)]), query).expect("runs");
        let slot = cache.template.lock().expect("lock");
        let template = slot.as_ref().expect("a plan is kept");
        assert_eq!(template.scans[0].len(), 1, "the input's scan found");
        for node in &template.scans[0] {
            let IR::DataFrameScan { df, .. } = template.plans.get(*node) else { panic!("a scan node") };
            assert_eq!(df.height(), 0);
        }
    }

    #[test]
    fn a_query_whose_scan_the_optimiser_removes_runs_without_it() {
        // A filter that is always false: the optimiser replaces the scan by an empty one,
        // and the plan reads no input.
        let cache = PlanCache::default();
        let never = |lf: LazyFrame| lf.filter(lit(false)).select([col("a")]);
        for df in [frame(&[1.0], &[Some(1.0)]), frame(&[2.0, 3.0], &[None, None])] {
            let out = cache.collect(df.clone(), never).expect("runs");
            assert_eq!(out, never(df.lazy()).collect().expect("collects"));
        }
    }

    /// A query over three frames, two of them of the same schema, each read several
    /// times (joins, a group-by, a union): each scan must be given its own frame.
    fn joined(mut lfs: Vec<LazyFrame>) -> LazyFrame {
        let (people, before, foyers) = (lfs.remove(0), lfs.remove(0), lfs.remove(0));
        let sums = people.clone().group_by([col("f")]).agg([col("x").sum().alias("now")]);
        let sums_before = before.group_by([col("f")]).agg([col("x").sum().alias("before")]);
        let oldest = people.filter(col("x").gt(lit(1.0))).group_by([col("f")]).agg([len().alias("over_one")]);
        let left = || JoinArgs::new(JoinType::Left);
        foyers
            .join(sums, [col("f")], [col("f")], left())
            .join(sums_before, [col("f")], [col("f")], left())
            .join(oldest, [col("f")], [col("f")], left())
            .sort(["f"], SortMultipleOptions::default())
    }

    #[test]
    fn several_inputs_of_the_same_schema_each_get_their_own_frame() {
        let cache = PlanCache::default();
        let inputs = |shift: f64| {
            vec![
                df!("f" => ["a", "a", "b"], "x" => [1.0 + shift, 2.0, 3.0]).expect("frame"),
                df!("f" => ["a", "b", "b"], "x" => [10.0, 20.0 + shift, 30.0]).expect("frame"),
                df!("f" => ["b", "a", "c"]).expect("frame"),
            ]
        };
        for shift in [0.0, 5.0, 100.0] {
            let frames = inputs(shift);
            let kept = cache.collect_all(frames.clone(), joined).expect("runs");
            let fresh = joined(frames.into_iter().map(DataFrame::lazy).collect()).collect().expect("collects");
            assert_eq!(kept, fresh, "shift {shift}");
        }
        assert_eq!(cache.plannings(), 1);
        // The second input's own values: b sums to 20 + 100 + 30 there.
        let out = cache.collect_all(inputs(100.0), joined).expect("runs");
        let before = out.column("before").expect("column").f64().expect("f64");
        assert_eq!(before.get(1), Some(150.0));
    }
}
