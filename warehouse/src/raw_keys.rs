//! Analysts' joins, groups and distinct counts on learner ids, computed on the raw ids beneath
//! their views.
//!
//! An analyst's views replace every learner id by its keyed pseudonym ([`crate::privacy`]), so a
//! join of marks to enrolments by learner would hash every id of both tables before matching
//! them: at 10 million marks that is most of the query. The pseudonym is injective (128 bits of
//! a keyed hash), so `pseudonym(a) = pseudonym(b)` exactly when `a = b`, grouping by pseudonym
//! makes the groups grouping by id makes, and a distinct count is the same count. This optimizer
//! rule moves such joins, groups and distinct counts onto the ids beneath the views, and hashes
//! only what the query outputs (a group's key); the optimizer's later passes then drop the
//! pseudonyms nothing reads any more.
//!
//! The raw id only travels inside the plan: every rewritten node is wrapped in a projection whose
//! output has exactly the columns (qualifier, name and type) the node had, with the pseudonym
//! where the analyst's query reads a learner id. A rewrite that would change them is not made.

use std::any::Any;
use std::sync::Arc;

use deltalake::datafusion::common::alias::AliasGenerator;
use deltalake::datafusion::common::tree_node::Transformed;
use deltalake::datafusion::common::{Column, DFSchema, ExprSchema, Result};
use deltalake::datafusion::logical_expr::expr::{AggregateFunction, ScalarFunction};
use deltalake::datafusion::logical_expr::{
    Aggregate, Expr, Join, JoinType, LogicalPlan, Projection, ScalarUDF, SubqueryAlias, Window,
};
use deltalake::datafusion::optimizer::{ApplyOrder, OptimizerConfig, OptimizerRule};

use crate::privacy::PseudonymUdf;

/// The optimizer rule; added to every session (it changes nothing where no view pseudonymises).
#[derive(Debug, Default)]
pub(crate) struct RawLearnerKeys;

impl OptimizerRule for RawLearnerKeys {
    fn name(&self) -> &str {
        "raw_learner_keys"
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        Some(ApplyOrder::BottomUp)
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        config: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        let names = Names(config.alias_generator());
        let rewritten = match &plan {
            LogicalPlan::Join(join) => join_on_raw_ids(join, &names),
            LogicalPlan::Aggregate(aggregate) => aggregate_on_raw_ids(aggregate, &names),
            _ => Ok(None),
        };
        // A rewrite that fails, or would change the node's columns, is not made: the query runs
        // on the pseudonyms as written.
        Ok(match rewritten {
            Ok(Some(new)) if same_columns(new.schema(), plan.schema()) => Transformed::yes(new),
            _ => Transformed::no(plan),
        })
    }
}

/// A raw id made visible beneath a pseudonymised column: the plan with the raw id as one more
/// output column, that column, and the pseudonym function that hid it.
struct Exposed {
    plan: LogicalPlan,
    raw: Column,
    udf: Arc<ScalarUDF>,
}

/// Internal names of raw id columns, from the query's own generator (so that a plan tells
/// nothing of other sessions' queries). A query cannot refer to them (the optimizer runs after
/// its names are resolved); one that names a column the same way is left as written.
struct Names<'a>(&'a Arc<AliasGenerator>);

impl Names<'_> {
    /// A name not among `schema`'s columns.
    fn fresh(&self, schema: &DFSchema) -> Option<String> {
        let name = self.0.next("__raw_learner_id");
        (!schema.iter().any(|(_, f)| f.name() == &name)).then_some(name)
    }
}

fn pseudonym_call(expr: &Expr) -> Option<&ScalarFunction> {
    match expr {
        Expr::ScalarFunction(f)
            if f.args.len() == 1 && (f.func.inner().as_ref() as &dyn Any).is::<PseudonymUdf>() =>
        {
            Some(f)
        }
        _ => None,
    }
}

fn without_alias(expr: &Expr) -> &Expr {
    match expr {
        Expr::Alias(alias) => &alias.expr,
        other => other,
    }
}

fn column_at(schema: &DFSchema, i: usize) -> Column {
    let (qualifier, field) = schema.qualified_field(i);
    Column::from((qualifier, field))
}

/// When `column` of `plan` is a learner id's pseudonym (computed in a view below, and passed up
/// unchanged), the plan with the raw id beside it. Only nodes that keep their input's rows and
/// columns as they are (projections of the column itself, aliases, filters, sorts, limits, the
/// sides of a join, windows) are looked through.
fn expose(plan: &LogicalPlan, column: &Column, names: &Names) -> Result<Option<Exposed>> {
    Ok(match plan {
        LogicalPlan::Projection(projection) => {
            let Some(i) = projection.schema.maybe_index_of_column(column) else { return Ok(None) };
            let expr = without_alias(&projection.expr[i]);
            let (raw_expr, input, udf) = if let Some(call) = pseudonym_call(expr) {
                (call.args[0].clone(), projection.input.clone(), call.func.clone())
            } else if let Expr::Column(inner) = expr {
                let Some(below) = expose(&projection.input, inner, names)? else {
                    return Ok(None);
                };
                (Expr::Column(below.raw), Arc::new(below.plan), below.udf)
            } else {
                return Ok(None);
            };
            let Some(name) = names.fresh(&projection.schema) else { return Ok(None) };
            let mut exprs = projection.expr.clone();
            exprs.push(raw_expr.alias(&name));
            let plan = LogicalPlan::Projection(Projection::try_new(exprs, input)?);
            Some(Exposed { plan, raw: Column::new_unqualified(name), udf })
        }
        LogicalPlan::SubqueryAlias(alias) => {
            let Some(i) = alias.schema.maybe_index_of_column(column) else { return Ok(None) };
            let inner = column_at(alias.input.schema(), i);
            let Some(below) = expose(&alias.input, &inner, names)? else { return Ok(None) };
            let raw = Column::new(Some(alias.alias.clone()), below.raw.name);
            let plan = LogicalPlan::SubqueryAlias(SubqueryAlias::try_new(
                Arc::new(below.plan),
                alias.alias.clone(),
            )?);
            Some(Exposed { plan, raw, udf: below.udf })
        }
        LogicalPlan::Filter(_) | LogicalPlan::Sort(_) | LogicalPlan::Limit(_) => {
            let [input] = plan.inputs()[..] else { return Ok(None) };
            let Some(below) = expose(input, column, names)? else { return Ok(None) };
            let plan = plan.clone().with_new_exprs(plan.expressions(), vec![below.plan])?;
            Some(Exposed { plan, ..below })
        }
        LogicalPlan::Window(window) if window.input.schema().has_column(column) => {
            let Some(below) = expose(&window.input, column, names)? else { return Ok(None) };
            let plan = LogicalPlan::Window(Window::try_new(
                window.window_expr.clone(),
                Arc::new(below.plan),
            )?);
            Some(Exposed { plan, ..below })
        }
        LogicalPlan::Join(join)
            if matches!(
                join.join_type,
                JoinType::Inner | JoinType::Left | JoinType::Right | JoinType::Full
            ) =>
        {
            let from_left = match (
                join.left.schema().has_column(column),
                join.right.schema().has_column(column),
            ) {
                (true, false) => true,
                (false, true) => false,
                _ => return Ok(None),
            };
            let side = if from_left { &join.left } else { &join.right };
            let Some(below) = expose(side, column, names)? else { return Ok(None) };
            let Exposed { plan: side, raw, udf } = below;
            let (left, right) = if from_left {
                (Arc::new(side), join.right.clone())
            } else {
                (join.left.clone(), Arc::new(side))
            };
            let plan =
                LogicalPlan::Join(Join { left, right, ..join.clone() }).recompute_schema()?;
            Some(Exposed { plan, raw, udf })
        }
        _ => None,
    })
}

/// A join whose equal keys are pseudonyms on both sides, joined on the raw ids instead.
fn join_on_raw_ids(join: &Join, names: &Names) -> Result<Option<LogicalPlan>> {
    if join.null_aware {
        return Ok(None);
    }
    let mut left = (*join.left).clone();
    let mut right = (*join.right).clone();
    let mut on = join.on.clone();
    let mut changed = false;
    for (l, r) in &mut on {
        let (Expr::Column(lc), Expr::Column(rc)) = (&*l, &*r) else { continue };
        let (Some(le), Some(re)) = (expose(&left, lc, names)?, expose(&right, rc, names)?) else {
            continue;
        };
        // The same function (the same key) on both sides, over ids of the same type.
        if le.udf != re.udf {
            continue;
        }
        let left_type = le.plan.schema().field_from_column(&le.raw)?.data_type().clone();
        if &left_type != re.plan.schema().field_from_column(&re.raw)?.data_type() {
            continue;
        }
        *l = Expr::Column(le.raw);
        *r = Expr::Column(re.raw);
        left = le.plan;
        right = re.plan;
        changed = true;
    }
    if !changed {
        return Ok(None);
    }
    let joined = LogicalPlan::Join(Join {
        left: Arc::new(left),
        right: Arc::new(right),
        on,
        ..join.clone()
    })
    .recompute_schema()?;
    // The join's own columns, in its order; the raw ids stop here.
    let columns =
        (0..join.schema.fields().len()).map(|i| Expr::Column(column_at(&join.schema, i))).collect();
    Ok(Some(LogicalPlan::Projection(Projection::try_new(columns, Arc::new(joined))?)))
}

/// An aggregate grouped by pseudonyms, or counting them, done on the raw ids; the groups' keys
/// are hashed after it, one per group.
fn aggregate_on_raw_ids(aggregate: &Aggregate, names: &Names) -> Result<Option<LogicalPlan>> {
    if aggregate.group_expr.iter().any(|e| matches!(e, Expr::GroupingSet(_))) {
        return Ok(None);
    }
    let mut input = (*aggregate.input).clone();
    let mut groups = aggregate.group_expr.clone();
    // Per group column rewritten: the pseudonym function to apply to its raw key.
    let mut hashed: Vec<Option<Arc<ScalarUDF>>> = vec![None; groups.len()];
    for (group, hash) in groups.iter_mut().zip(&mut hashed) {
        // A group key may carry an alias (a distinct count's inner groups do).
        let Expr::Column(column) = without_alias(group) else { continue };
        let Some(below) = expose(&input, column, names)? else { continue };
        *group = Expr::Column(below.raw);
        *hash = Some(below.udf);
        input = below.plan;
    }
    let mut aggregates = aggregate.aggr_expr.clone();
    let mut counted = false;
    for (i, expr) in aggregates.iter_mut().enumerate() {
        let Expr::AggregateFunction(AggregateFunction { func, params }) = &*expr else { continue };
        let [Expr::Column(column)] = params.args.as_slice() else { continue };
        // A count, distinct or not, is the same over ids as over their pseudonyms (a pseudonym
        // is null exactly where its id is).
        if func.name() != "count" {
            continue;
        }
        let Some(below) = expose(&input, column, names)? else { continue };
        let name = aggregate.schema.field(aggregate.group_expr.len() + i).name().clone();
        let mut raw = AggregateFunction { func: func.clone(), params: params.clone() };
        raw.params.args = vec![Expr::Column(below.raw)];
        *expr = Expr::AggregateFunction(raw).alias(name);
        input = below.plan;
        counted = true;
    }
    if !counted && hashed.iter().all(Option::is_none) {
        return Ok(None);
    }
    let grouped = LogicalPlan::Aggregate(Aggregate::try_new(Arc::new(input), groups, aggregates)?);
    let mut columns = Vec::with_capacity(aggregate.schema.fields().len());
    for i in 0..aggregate.schema.fields().len() {
        let (qualifier, field) = aggregate.schema.qualified_field(i);
        let column = Expr::Column(column_at(grouped.schema(), i));
        let expr = match hashed.get(i) {
            Some(Some(udf)) => udf.call(vec![column]),
            _ => column,
        };
        columns.push(expr.alias_qualified(qualifier.cloned(), field.name()));
    }
    Ok(Some(LogicalPlan::Projection(Projection::try_new(columns, Arc::new(grouped))?)))
}

/// The same columns: qualifiers, names and types, in order.
fn same_columns(a: &DFSchema, b: &DFSchema) -> bool {
    a.fields().len() == b.fields().len()
        && a.iter().zip(b.iter()).all(|((qa, fa), (qb, fb))| {
            qa == qb && fa.name() == fb.name() && fa.data_type() == fb.data_type()
        })
}
